// One window's evaluation as a pure step: merged bucket profiles and the previous alert state in,
// reports, alert transitions, retrain requests and the next state out. The evaluator loop (app/)
// does the reading, fencing and publishing around it.

import { createHash } from 'node:crypto'
import type { NoiseFloors } from '../drift-tests/noise-floor.js'
import type { DriftTestRegistry } from '../drift-tests/registry.js'
import type { DriftSettings } from '../drift-tests/thresholds.js'
import { evaluateDrift, type EvaluateOptions } from '../evaluate.js'
import {
  evaluateLabelDrift,
  evaluatePerformance,
  type DegradationSettings,
} from '../performance/degradation.js'
import type { PerformanceSettings } from '../performance/summary.js'
import type { DatasetProfile } from '../profile/dataset.js'
import type { DriftReport, Severity } from '../report.js'
import {
  initialAlertState,
  stepAlert,
  type AlertEvent,
  type AlertPolicy,
  type AlertState,
} from './alerts.js'
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
  /** A model with `performance:`: the window's labelled predictions and the baseline. */
  readonly performance?: WindowPerformance
}

export interface WindowPerformance {
  readonly settings: PerformanceSettings
  readonly degradation: DegradationSettings
  /** The reference data's summary (prediction and label columns); null without one. */
  readonly baseline: ReadonlyMap<string, number> | null
  /** Model version ('' for none) → summary of the window's joined pairs. */
  readonly current: ReadonlyMap<string, ReadonlyMap<string, number>>
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
    const perf = input.performance
    const performanceSections =
      perf === undefined
        ? {}
        : performanceSectionsOf(perf, version, {
            settings: input.settings,
            registry: input.registry,
            ...(input.floors === undefined ? {} : { floors: input.floors }),
          })
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
      ...performanceSections,
    }
    reports.push(report)
    lastReports[version] = report
    const observations = [
      ...drift.features.map((f) => ({
        kind: 'feature_drift',
        feature: f.name,
        drifted: f.drifted,
        severity: f.severity,
        summary: `${f.name} drifted: ${f.test} ${formatStat(f.statistic)} (threshold ${f.threshold})`,
      })),
      {
        kind: 'dataset_drift',
        feature: '',
        drifted: drift.datasetDrift,
        severity: drift.datasetDrift ? ('critical' as const) : ('ok' as const),
        summary: `${drift.nDrifted} of ${drift.nFeatures} features drifted (share ${drift.driftShare.toFixed(2)})`,
      },
      // A window votes on the performance alert once it has a verdict (enough labels): one still
      // waiting for its labels is neither degraded nor clean. Its vote may come with a revision
      // (judgePerformanceLate).
      ...(performanceSections.performance === undefined ||
      performanceSections.performance.insufficientData !== undefined
        ? []
        : [
            {
              kind: 'performance_degradation',
              feature: '',
              drifted: performanceSections.performance.degraded,
              severity: performanceSections.performance.severity,
              summary: performanceSummary(performanceSections.performance),
            },
          ]),
    ]
    for (const o of observations) {
      const alert = stepObservation(input, version, reportId, o, nextAlerts, at)
      if (alert !== null) alerts.push(alert)
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
    state: { alerts: nextAlerts, retrainRequested: [...retrainRequested], lastReports },
  }
}

interface Observation {
  readonly kind: string
  readonly feature: string
  readonly drifted: boolean
  readonly severity: Severity
  readonly summary: string
}

type AlertContext = Pick<WindowInput, 'model' | 'referenceId' | 'alertPolicy' | 'statusUrl'>

/** Steps one observation's alert state in `nextAlerts`; the alert event of a transition. */
function stepObservation(
  input: AlertContext,
  version: string,
  reportId: string,
  o: Observation,
  nextAlerts: Record<string, AlertState>,
  at: number,
): { key: string; alert: AlertEvent } | null {
  const key = [input.model, version, o.kind, o.feature].join('|')
  const before = nextAlerts[key] ?? initialAlertState
  const { state, transition } = stepAlert(
    before,
    { drifted: o.drifted, severity: o.severity, at },
    input.alertPolicy,
  )
  nextAlerts[key] = state
  if (transition === null) return null
  const labels: Record<string, string> = {
    alertname: alertNames[o.kind] ?? 'DriftwatchFeatureDrift',
    model: input.model,
    model_version: version,
    ...(o.feature === '' ? {} : { feature: o.feature }),
  }
  const startsAt = transition === 'firing' ? at : (before.since ?? at)
  return {
    key,
    alert: {
      status: transition,
      labels: {
        ...labels,
        severity:
          transition === 'firing' ? state.severity : (before.firedSeverity ?? before.severity),
      },
      annotations: { summary: o.summary, report_id: reportId, reference_id: input.referenceId },
      startsAt: new Date(startsAt).toISOString(),
      endsAt: transition === 'resolved' ? new Date(at).toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: input.statusUrl,
      fingerprint: fingerprint(labels),
    },
  }
}

/**
 * The performance vote of a window whose labels came after its first report: a revised report
 * that has a performance verdict for the first time steps the performance alert (once per window
 * and version; the evaluator remembers which in its window records). Labels come late by nature,
 * so this is how a performance degradation fires at all when they trail the predictions.
 */
export function judgePerformanceLate(
  input: AlertContext,
  report: WindowReport,
  alerts: Readonly<Record<string, AlertState>>,
): { alert: { key: string; alert: AlertEvent } | null; alerts: Record<string, AlertState> } {
  const next: Record<string, AlertState> = { ...alerts }
  const p = report.performance
  if (p === undefined || p.insufficientData !== undefined) return { alert: null, alerts: next }
  const alert = stepObservation(
    input,
    report.modelVersion ?? '',
    report.reportId,
    {
      kind: 'performance_degradation',
      feature: '',
      drifted: p.degraded,
      severity: p.severity,
      summary: performanceSummary(p),
    },
    next,
    Date.parse(report.window.end),
  )
  return { alert, alerts: next }
}

const alertNames: Readonly<Record<string, string>> = {
  dataset_drift: 'DriftwatchDatasetDrift',
  feature_drift: 'DriftwatchFeatureDrift',
  performance_degradation: 'DriftwatchPerformanceDegradation',
}

function performanceSectionsOf(
  perf: WindowPerformance,
  version: string,
  options: EvaluateOptions,
): Pick<DriftReport, 'performance' | 'labelDrift'> {
  const current = perf.current.get(version) ?? new Map<string, number>()
  const performance = evaluatePerformance(perf.baseline, current, perf.settings, perf.degradation)
  const labelDrift =
    performance.nLabels === 0
      ? null
      : evaluateLabelDrift(perf.baseline, current, perf.settings, options)
  return { performance, ...(labelDrift === null ? {} : { labelDrift }) }
}

function performanceSummary(p: NonNullable<DriftReport['performance']>): string {
  const drop =
    p.drop === null
      ? 'n/a'
      : p.dropIs === 'absolute'
        ? `${(p.drop * 100).toFixed(1)} points`
        : `${(p.drop * 100).toFixed(1)} %`
  return `${p.metric} ${formatStat(p.value)} vs baseline ${formatStat(p.baseline)} (drop ${drop}, ${p.nLabels} labels)`
}

function formatStat(x: number | null): string {
  return x === null ? 'n/a' : Number(x.toPrecision(4)).toString()
}

function fingerprint(labels: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}
