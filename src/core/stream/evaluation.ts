// One window's evaluation as a pure step: merged bucket profiles and the previous alert state in,
// reports, alert transitions, retrain requests and the next state out. The evaluator loop (app/)
// does the reading, fencing and publishing around it.

import { createHash } from 'node:crypto'
import type { NoiseFloors } from '../drift-tests/noise-floor.js'
import type { DriftTestRegistry } from '../drift-tests/registry.js'
import type { DriftSettings } from '../drift-tests/thresholds.js'
import { evaluateDrift } from '../evaluate.js'
import type { DatasetProfile } from '../profile/dataset.js'
import type { DriftReport, Severity } from '../report.js'
import {
  initialAlertState,
  stepAlert,
  type AlertEvent,
  type AlertPolicy,
  type AlertState,
} from './alerts.js'
import { recordWindow, type VerdictHistory } from './history.js'
import type { WindowRecord } from './lateness.js'
import type { SkipReason } from './windows.js'

export interface WindowReport extends DriftReport {
  /** Unique per publication: the window id, then `:r<revision>` for revisions. */
  readonly reportId: string
  /** `model:version:windowEndMs`, the same on every revision of the window's report. */
  readonly windowId: string
  /** 0 for the window's first report; each revised report (late events changed a verdict) +1. */
  readonly revision: number
  /**
   * Events of the window stored after it was first evaluated, included in this revision's numbers
   * (`nCurrent`); `nAtEvaluation` is what the first report counted. 0 / = nCurrent at revision 0.
   */
  readonly lateness: { readonly nLate: number; readonly nAtEvaluation: number }
  readonly model: string
  readonly modelVersion: string | null
  readonly window: { readonly start: string; readonly end: string }
  readonly referenceId: string
  readonly generatedAt: string
  readonly criticalFeatures: readonly string[]
}

export interface RetrainRequest {
  readonly model: string
  readonly modelVersion: string | null
  readonly reportId: string
  readonly windowEnd: string
  readonly criticalFeatures: readonly string[]
  readonly reason: string
}

export interface EvaluationState {
  readonly alerts: Readonly<Record<string, AlertState>>
  /** Versions whose retrain request was sent and whose critical count has not dropped since. */
  readonly retrainRequested: readonly string[]
  readonly lastReports: Readonly<Record<string, WindowReport>>
  /** Reported windows still watched for late events (core/stream/lateness.ts). */
  readonly windows?: readonly WindowRecord[]
  /** Windows holding events that the first evaluation passed over, and why (windows.ts). */
  readonly skipped?: { readonly count: number; readonly reason: SkipReason } | null
  /** The last windows' verdicts per version, for the on-call page (history.ts). */
  readonly history?: VerdictHistory
}

export const initialEvaluationState: EvaluationState = {
  alerts: {},
  retrainRequested: [],
  lastReports: {},
}

export interface WindowInput {
  readonly model: string
  readonly windowStart: number
  readonly windowEnd: number
  readonly referenceId: string
  readonly reference: DatasetProfile
  /** Model version ('' for none) → the window's merged profile. */
  readonly current: ReadonlyMap<string, DatasetProfile>
  readonly features: readonly string[]
  readonly settings: DriftSettings
  readonly registry: DriftTestRegistry
  /** Noise floors cached across windows (calibrated mode); computed afresh when absent. */
  readonly floors?: NoiseFloors
  readonly alertPolicy: AlertPolicy
  readonly minCriticalFeatures: number
  readonly generatedAt: string
  readonly statusUrl: string
}

export interface WindowOutcome {
  readonly reports: readonly WindowReport[]
  readonly alerts: ReadonlyArray<{ readonly key: string; readonly alert: AlertEvent }>
  readonly retrain: readonly RetrainRequest[]
  readonly state: EvaluationState
}

export function evaluateWindow(input: WindowInput, previous: EvaluationState): WindowOutcome {
  const alerts: Array<{ key: string; alert: AlertEvent }> = []
  const retrain: RetrainRequest[] = []
  const nextAlerts: Record<string, AlertState> = { ...previous.alerts }
  const retrainRequested = new Set(previous.retrainRequested)
  const lastReports: Record<string, WindowReport> = { ...previous.lastReports }
  let history = previous.history
  const reports: WindowReport[] = []
  const at = input.windowEnd
  for (const [version, current] of [...input.current].sort(([a], [b]) => a.localeCompare(b))) {
    if (current.rows === 0) continue
    const drift = evaluateDrift(input.reference, current, {
      settings: input.settings,
      registry: input.registry,
      features: input.features,
      ...(input.floors === undefined ? {} : { floors: input.floors }),
    })
    const reportId = `${input.model}:${version}:${at}`
    const criticalFeatures = drift.features
      .filter((f) => f.severity === 'critical')
      .map((f) => f.name)
    const report: WindowReport = {
      reportId,
      windowId: reportId,
      revision: 0,
      lateness: { nLate: 0, nAtEvaluation: current.rows },
      model: input.model,
      modelVersion: version === '' ? null : version,
      window: { start: new Date(input.windowStart).toISOString(), end: new Date(at).toISOString() },
      referenceId: input.referenceId,
      generatedAt: input.generatedAt,
      criticalFeatures,
      ...drift,
    }
    reports.push(report)
    lastReports[version] = report
    history = recordWindow(history, report)
    const observations = observationsOf(drift)
    for (const o of observations) {
      const key = alertKey(input.model, version, o)
      const before = nextAlerts[key] ?? initialAlertState
      const { state, transition } = stepAlert(
        before,
        { drifted: o.drifted, severity: o.severity, at },
        input.alertPolicy,
      )
      nextAlerts[key] = state
      if (transition === null) continue
      alerts.push({
        key,
        alert: alertEventOf(
          { model: input.model, version, observation: o, reportId, referenceId: input.referenceId },
          {
            status: transition,
            severity:
              transition === 'firing' ? state.severity : (before.firedSeverity ?? before.severity),
            startsAt: transition === 'firing' ? at : (before.since ?? at),
            endsAt: transition === 'resolved' ? new Date(at).toISOString() : openEnd,
          },
          input.statusUrl,
        ),
      })
    }
    if (criticalFeatures.length >= input.minCriticalFeatures) {
      if (!retrainRequested.has(version)) {
        retrainRequested.add(version)
        retrain.push({
          model: input.model,
          modelVersion: version === '' ? null : version,
          reportId,
          windowEnd: report.window.end,
          criticalFeatures,
          reason: `${criticalFeatures.length} critical features (policy: at least ${input.minCriticalFeatures})`,
        })
      }
    } else {
      retrainRequested.delete(version)
    }
  }
  return {
    reports,
    alerts,
    retrain,
    state: {
      alerts: nextAlerts,
      retrainRequested: [...retrainRequested],
      lastReports,
      ...(history === undefined ? {} : { history }),
    },
  }
}

function formatStat(x: number | null): string {
  return x === null ? 'n/a' : Number(x.toPrecision(4)).toString()
}

/** The `endsAt` of a firing alert event on the alerts topic: no end known (Go's zero time). */
const openEnd = '0001-01-01T00:00:00Z'

/** What one window says about one alert: a feature's drift, or the dataset's. */
interface AlertObservation {
  readonly kind: 'feature_drift' | 'dataset_drift'
  /** '' for the dataset. */
  readonly feature: string
  readonly drifted: boolean
  readonly severity: Severity
  readonly summary: string
}

function observationsOf(drift: DriftReport): AlertObservation[] {
  return [
    ...drift.features.map((f) => ({
      kind: 'feature_drift' as const,
      feature: f.name,
      drifted: f.drifted,
      severity: f.severity,
      summary: `${f.name} drifted: ${f.test} ${formatStat(f.statistic)} (threshold ${f.threshold})`,
    })),
    {
      kind: 'dataset_drift' as const,
      feature: '',
      drifted: drift.datasetDrift,
      severity: drift.datasetDrift ? ('critical' as const) : ('ok' as const),
      summary: `${drift.nDrifted} of ${drift.nFeatures} features drifted (share ${drift.driftShare.toFixed(2)})`,
    },
  ]
}

/** The key of an alert's state in EvaluationState.alerts. */
function alertKey(model: string, version: string, o: AlertObservation): string {
  return [model, version, o.kind, o.feature].join('|')
}

function alertEventOf(
  source: {
    readonly model: string
    readonly version: string
    readonly observation: AlertObservation
    readonly reportId: string
    readonly referenceId: string
  },
  when: {
    readonly status: 'firing' | 'resolved'
    readonly severity: Severity
    readonly startsAt: number
    readonly endsAt: string
  },
  statusUrl: string,
): AlertEvent {
  const o = source.observation
  const labels: Record<string, string> = {
    alertname: o.kind === 'dataset_drift' ? 'DriftwatchDatasetDrift' : 'DriftwatchFeatureDrift',
    model: source.model,
    model_version: source.version,
    ...(o.feature === '' ? {} : { feature: o.feature }),
  }
  return {
    status: when.status,
    labels: { ...labels, severity: when.severity },
    annotations: {
      summary: o.summary,
      report_id: source.reportId,
      reference_id: source.referenceId,
    },
    startsAt: new Date(when.startsAt).toISOString(),
    endsAt: when.endsAt,
    generatorURL: statusUrl,
    fingerprint: fingerprint(labels),
  }
}

/**
 * The alerts of `model` firing in `state`, as alert events (endsAt open), for a receiver that must
 * hear them again while they fire (Alertmanager forgets an alert that is not re-sent). Read from
 * the last report of each version, as the transition that fired them was built: a firing alert
 * whose feature the last report no longer has (the reference changed) is left out.
 */
export function firingAlerts(
  model: string,
  state: EvaluationState,
  statusUrl: string,
): Array<{ readonly key: string; readonly alert: AlertEvent }> {
  const firing: Array<{ key: string; alert: AlertEvent }> = []
  for (const version of Object.keys(state.lastReports).sort()) {
    const report = state.lastReports[version]
    if (report === undefined) continue
    for (const o of observationsOf(report)) {
      const key = alertKey(model, version, o)
      const alert = state.alerts[key]
      if (alert?.firing !== true) continue
      firing.push({
        key,
        alert: alertEventOf(
          {
            model,
            version,
            observation: o,
            reportId: report.reportId,
            referenceId: report.referenceId,
          },
          {
            status: 'firing',
            severity: alert.firedSeverity ?? alert.severity,
            startsAt: alert.since ?? Date.parse(report.window.end),
            endsAt: openEnd,
          },
          statusUrl,
        ),
      })
    }
  }
  return firing
}

function fingerprint(labels: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}
