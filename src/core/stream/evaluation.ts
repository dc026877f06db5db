// One window's evaluation as a pure step: merged bucket profiles and the previous alert state in,
// reports, alert transitions, retrain requests and the next state out. The evaluator loop (app/)
// does the reading, fencing and publishing around it.

import { createHash } from 'node:crypto'
import type { Condition } from '../conditions.js'
import { assessVolume, withTypeViolations } from '../data-quality.js'
import type { NoiseFloors } from '../drift-tests/noise-floor.js'
import type { DriftTestRegistry } from '../drift-tests/registry.js'
import type { DriftSettings } from '../drift-tests/thresholds.js'
import { evaluateDrift } from '../evaluate.js'
import { driftScore } from '../diagnosis.js'
import {
  modelLayerInputs,
  performanceLayerInputs,
  performanceSections,
  withLayers,
  type LayerInputs,
} from '../layers.js'
import {
  assessLatency,
  latencySummary,
  summaryOfReport,
  type LatencyReport,
  type LatencySummary,
} from '../latency.js'
import type { DegradationSettings } from '../performance/degradation.js'
import type { PerformanceSettings } from '../performance/summary.js'
import { evaluatePredictionDrift } from '../prediction-drift.js'
import type { DatasetProfile } from '../profile/dataset.js'
import type { DriftReport, FeatureResult, Severity } from '../report.js'
import {
  initialAlertState,
  stepAlert,
  type AlertEvent,
  type AlertPolicy,
  type AlertState,
} from './alerts.js'
import { recordWindow, type VerdictHistory } from './history.js'
import {
  defaultGradualDriftPolicy,
  recordTrend,
  type GradualDriftPolicy,
  type GradualDriftSection,
  type TrendHistory,
} from './trend.js'
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
  /**
   * Model versions in the order they first appeared (core/latency.ts: a version's latency is
   * compared with the one before it). Absent in states stored before it existed.
   */
  readonly versions?: readonly string[]
  /**
   * Each feature's drift scores over the last days of event time, per version, for gradual drift
   * (core/stream/trend.ts). Absent in states stored before it existed.
   */
  readonly trends?: TrendHistory
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
  /** Test-suite conditions of the model (core/conditions.ts); each failure is an alert. */
  readonly conditions?: readonly Condition[]
  /** Feature importance for impact (core/diagnosis.ts); equal weights when absent. */
  readonly importance?: Readonly<Record<string, number>>
  /**
   * The reference's event rate, for the volume check of data quality (config `expectedRate`, or
   * a captured reference's span); no volume check when absent or null.
   */
  readonly referenceRate?: {
    readonly perHour: number
    readonly source: 'config' | 'reference'
  } | null
  /** A model with `performance:`: the window's labelled predictions and the baseline. */
  readonly performance?: WindowPerformance
  /** Gradual drift over days of event time (core/stream/trend.ts); its defaults when absent. */
  readonly gradualDrift?: GradualDriftPolicy
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
  let history = previous.history
  let trends = previous.trends
  const gradualPolicy = input.gradualDrift ?? defaultGradualDriftPolicy
  const reports: WindowReport[] = []
  const at = input.windowEnd
  // Volume is the model's, over all its versions: a canary taking a share of the traffic is not a
  // drop in volume.
  const volume = assessVolume(
    [...input.current.values()].reduce((n, p) => n + p.rows, 0),
    input.windowEnd - input.windowStart,
    input.referenceRate ?? null,
  )
  const present = [...input.current].sort(([a], [b]) => a.localeCompare(b))
  const versions = versionOrder(
    previous.versions ?? [],
    present.filter(([, p]) => p.rows > 0).map(([v]) => v),
  )
  const latencies = new Map(present.map(([v, p]) => [v, latencySummary(p.latency)] as const))
  const referenceLatency = latencySummary(input.reference.latency)
  for (const [version, current] of present) {
    if (current.rows === 0) continue
    const options = {
      settings: input.settings,
      registry: input.registry,
      features: input.features,
      ...(input.floors === undefined ? {} : { floors: input.floors }),
    }
    const perf = input.performance
    const performanceReport =
      perf === undefined
        ? {}
        : performanceSections(
            perf.baseline,
            perf.current.get(version) ?? new Map<string, number>(),
            perf,
            options,
          )
    const predictionDrift = evaluatePredictionDrift(input.reference, current, options)
    const previousVersion = previousVersionOf(versions, version)
    const latency = assessLatency({
      version: version === '' ? null : version,
      current: latencies.get(version) ?? null,
      reference: referenceLatency,
      previous:
        previousVersion === null
          ? null
          : previousLatency(previousVersion, latencies, previous.lastReports, at),
    })
    const outputs = {
      ...(predictionDrift === undefined ? {} : { predictionDrift }),
      ...(latency === null ? {} : { latency }),
    }
    const performanceInputs = performanceLayerInputs(performanceReport)
    const outputInputs = modelLayerInputs(outputs)
    // Events of the window dead-lettered for a type violation count in its data quality.
    const base = withTypeViolations(
      evaluateDrift(input.reference, current, options),
      current.typeViolations ?? new Map<string, number>(),
      current.rows,
    )
    const trend = recordTrend(
      trends,
      input.referenceId,
      version,
      at,
      new Map(base.features.map((f) => [f.name, driftScore(f)] as const)),
      gradualPolicy,
    )
    trends = trend.history
    const gradualDrift: GradualDriftSection = {
      threshold: gradualPolicy.threshold,
      spanMs: gradualPolicy.spanMs,
      features: trend.trends,
    }
    const drift = withLayers(
      {
        ...base,
        ...performanceReport,
        ...outputs,
        ...(gradualPolicy.enabled ? { gradualDrift } : {}),
      },
      {
        gradualDrift: gradualPolicy.enabled ? gradualLayer(gradualDrift) : undefined,
        conditions: input.conditions,
        importance: input.importance,
        volume,
        ...performanceInputs,
        ...outputInputs,
        metrics: new Map([...(performanceInputs.metrics ?? []), ...(outputInputs.metrics ?? [])]),
      },
    )
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
    for (const o of observationsOf(report, input.model, version)) {
      const alert = stepObservation(input, version, reportId, o, nextAlerts, at, report.diagnosis)
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
    state: {
      alerts: nextAlerts,
      retrainRequested: [...retrainRequested],
      lastReports,
      versions,
      ...(history === undefined ? {} : { history }),
      ...(trends === undefined ? {} : { trends }),
    },
  }
}

/** What the trend tells the diagnosis: the gradually drifting features, steepest first. */
function gradualLayer(section: GradualDriftSection): NonNullable<LayerInputs['gradualDrift']> {
  const gradual = section.features
    .filter((f) => f.gradual)
    .sort((a, b) => (b.slope ?? 0) - (a.slope ?? 0) || a.feature.localeCompare(b.feature))
  return {
    features: gradual.map((f) => f.feature),
    slopes: gradual.map((f) => f.slope ?? 0),
    spanMs: section.spanMs,
  }
}

/** The `alertname` label per alert kind (the key's kind). */
const alertNames: Readonly<Record<AlertObservation['kind'], string>> = {
  feature_drift: 'DriftwatchFeatureDrift',
  dataset_drift: 'DriftwatchDatasetDrift',
  data_quality_incident: 'DriftwatchDataQualityIncident',
  condition_failed: 'DriftwatchConditionFailed',
  performance_degradation: 'DriftwatchPerformanceDegradation',
  prediction_drift: 'DriftwatchPredictionDrift',
  latency: 'DriftwatchLatencyRegression',
  rollback_advice: 'DriftwatchRollbackAdvice',
  // The same name as the Prometheus rule that watches the same criterion (deploy/prometheus/
  // rules.yml): one alert, whichever path raises it (README, "Gradual drift").
  gradual_drift: 'DriftwatchFeatureDriftGradual',
}

type AlertContext = Pick<WindowInput, 'model' | 'referenceId' | 'alertPolicy' | 'statusUrl'>

/** Steps one observation's alert state in `nextAlerts`; the alert event of a transition. */
function stepObservation(
  input: AlertContext,
  version: string,
  reportId: string,
  o: AlertObservation,
  nextAlerts: Record<string, AlertState>,
  at: number,
  diagnosis: DriftReport['diagnosis'],
): { key: string; alert: AlertEvent } | null {
  const key = alertKey(input.model, version, o)
  const before = nextAlerts[key] ?? initialAlertState
  const { state, transition } = stepAlert(
    before,
    { drifted: o.drifted, severity: o.severity, at },
    input.alertPolicy,
  )
  nextAlerts[key] = state
  if (transition === null) return null
  return {
    key,
    alert: alertEventOf(
      {
        model: input.model,
        version,
        observation: o,
        reportId,
        referenceId: input.referenceId,
        diagnosis,
      },
      {
        status: transition,
        severity:
          transition === 'firing' ? state.severity : (before.firedSeverity ?? before.severity),
        startsAt: transition === 'firing' ? at : (before.since ?? at),
        endsAt: transition === 'resolved' ? new Date(at).toISOString() : openEnd,
      },
      input.statusUrl,
    ),
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
  const o = performanceObservation(report)
  if (o === null) return { alert: null, alerts: next }
  const alert = stepObservation(
    input,
    report.modelVersion ?? '',
    report.reportId,
    o,
    next,
    Date.parse(report.window.end),
    report.diagnosis,
  )
  return { alert, alerts: next }
}

/**
 * A window votes on the performance alert once it has a verdict (enough labels): one still
 * waiting for its labels is neither degraded nor clean. Its vote may come with a revision
 * (judgePerformanceLate).
 */
function performanceObservation(report: DriftReport): AlertObservation | null {
  const p = report.performance
  if (p === undefined || p.insufficientData !== undefined) return null
  return {
    kind: 'performance_degradation',
    feature: '',
    drifted: p.degraded,
    severity: p.severity,
    summary: performanceSummary(p),
  }
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

/**
 * The model layers' alert observations (each through the same alert policy as features):
 * prediction drift; latency against the reference or the previous version; and rollback advice,
 * when the version's P99 is critical against the previous version's (core/latency.ts). The
 * advice names the version to roll back to in its `rollback_to` label.
 */
function modelLayerObservations(
  model: string,
  version: string,
  predictionDrift: FeatureResult | undefined,
  latency: LatencyReport | null,
): AlertObservation[] {
  const out: AlertObservation[] = []
  if (predictionDrift !== undefined && predictionDrift.insufficientData === undefined) {
    out.push({
      kind: 'prediction_drift',
      feature: '',
      drifted: predictionDrift.drifted,
      severity: predictionDrift.severity,
      summary: `prediction drifted: ${predictionDrift.test} ${formatStat(predictionDrift.statistic)} (threshold ${predictionDrift.threshold})`,
    })
  }
  if (latency !== null && latency.insufficientData === undefined) {
    out.push({
      kind: 'latency',
      feature: '',
      drifted: latency.severity !== 'ok',
      severity: latency.severity,
      summary: `latency P99 ${formatStat(latency.p99)} ms: ${latencyChanges(latency)}`,
    })
    const previous = latency.previous
    const to = latency.previousVersion
    if (to !== null) {
      const regressed = previous?.severity === 'critical'
      out.push({
        kind: 'rollback_advice',
        feature: '',
        drifted: regressed,
        severity: regressed ? 'critical' : 'ok',
        summary: `roll ${model} back from ${version} to ${to}: ${latencyChanges(latency)}`,
        labels: { rollback_to: to },
        annotations: {
          from_version: version,
          to_version: to,
          reason: `latency P99 ${formatStat(latency.p99)} ms vs ${formatStat(previous?.p99 ?? null)} ms on ${to}`,
        },
      })
    }
  }
  return out
}

function latencyChanges(latency: LatencyReport): string {
  const parts: string[] = []
  if (latency.reference !== null)
    parts.push(`×${formatStat(latency.reference.p99Ratio)} the reference's`)
  if (latency.previous !== null)
    parts.push(`×${formatStat(latency.previous.p99Ratio)} ${latency.previousVersion ?? ''}'s`)
  return parts.length === 0 ? 'no baseline' : parts.join(', ')
}

/** The known order with this window's new versions appended (sorted among themselves). */
function versionOrder(known: readonly string[], present: readonly string[]): string[] {
  const order = [...known]
  for (const version of present) if (version !== '' && !order.includes(version)) order.push(version)
  return order
}

function previousVersionOf(order: readonly string[], version: string): string | null {
  const i = order.indexOf(version)
  return i > 0 ? (order[i - 1] as string) : null
}

/**
 * The previous version's latest latency: this window's when it served events in it, else that of
 * its last reported window.
 */
function previousLatency(
  version: string,
  thisWindow: ReadonlyMap<string, LatencySummary | null>,
  lastReports: Readonly<Record<string, WindowReport>>,
  at: number,
): { version: string; summary: LatencySummary | null; windowEnd: string } | null {
  const now = thisWindow.get(version) ?? null
  if (now !== null) return { version, summary: now, windowEnd: new Date(at).toISOString() }
  const last = lastReports[version]
  if (last?.latency === undefined) return { version, summary: null, windowEnd: '' }
  return { version, summary: summaryOfReport(last.latency), windowEnd: last.window.end }
}

function formatStat(x: number | null): string {
  return x === null ? 'n/a' : Number(x.toPrecision(4)).toString()
}

/** The `endsAt` of a firing alert event on the alerts topic: no end known (Go's zero time). */
const openEnd = '0001-01-01T00:00:00Z'

/**
 * What one window says about one alert: a feature's drift, the dataset's, a data-quality incident,
 * or one test-suite condition (core/conditions.ts).
 */
interface AlertObservation {
  readonly kind:
    | 'feature_drift'
    | 'dataset_drift'
    | 'data_quality_incident'
    | 'condition_failed'
    | 'performance_degradation'
    | 'prediction_drift'
    | 'latency'
    | 'rollback_advice'
    | 'gradual_drift'
  /** The feature, or the condition's text; '' for the dataset, the incident and the model layers. */
  readonly feature: string
  readonly drifted: boolean
  readonly severity: Severity
  readonly summary: string
  /** Labels beyond the identity every alert has (a rollback advice's `rollback_to`). */
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
}

function observationsOf(drift: DriftReport, model: string, version: string): AlertObservation[] {
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
    {
      kind: 'data_quality_incident' as const,
      feature: '',
      drifted: drift.dataQuality?.incident === true,
      severity: drift.dataQuality?.incident === true ? ('critical' as const) : ('ok' as const),
      summary:
        drift.dataQuality?.incident === true && drift.diagnosis !== undefined
          ? drift.diagnosis.summary
          : 'data quality acceptable',
    },
    // One alert per configured condition: its key names the condition, so each fires and
    // resolves on its own. An unknown value (no layer measured it) is not a failure.
    ...(drift.conditions ?? []).map((c) => ({
      kind: 'condition_failed' as const,
      feature: c.condition,
      drifted: c.passed === false,
      severity: c.passed === false ? ('critical' as const) : ('ok' as const),
      summary: `condition failed: ${c.condition} (${c.metric} = ${formatStat(c.value)})`,
    })),
    ...[performanceObservation(drift)].filter((o) => o !== null),
    ...modelLayerObservations(model, version, drift.predictionDrift, drift.latency ?? null),
    ...gradualObservations(drift.gradualDrift),
  ]
}

/**
 * One gradual-drift alert per feature (a warning: nothing has drifted yet). A feature without a
 * slope yet (a young series) counts as clean.
 */
function gradualObservations(section: GradualDriftSection | undefined): AlertObservation[] {
  if (section === undefined) return []
  const days = Number((section.spanMs / 86_400_000).toPrecision(3))
  return section.features.map((f) => ({
    kind: 'gradual_drift' as const,
    feature: f.feature,
    drifted: f.gradual,
    severity: f.gradual ? ('warning' as const) : ('ok' as const),
    summary: `${f.feature} drifts slowly: its drift score rose ${formatStat(f.slope)} over ${days} days (threshold ${section.threshold}) while no window of the last ${Number((days / 7).toPrecision(3))} days drifted (highest ${formatStat(f.recentMax)})`,
    annotations: { slope: formatStat(f.slope), windows: String(f.windows) },
  }))
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
    readonly diagnosis?: { readonly kind: string; readonly action: string } | undefined
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
    alertname: alertNames[o.kind],
    model: source.model,
    model_version: source.version,
    ...(o.feature === ''
      ? {}
      : o.kind === 'condition_failed'
        ? { condition: o.feature }
        : { feature: o.feature }),
    ...o.labels,
  }
  return {
    status: when.status,
    labels: { ...labels, severity: when.severity },
    annotations: {
      summary: o.summary,
      report_id: source.reportId,
      reference_id: source.referenceId,
      // Every alert says what the window's diagnosis is and what to do (core/diagnosis.ts).
      ...(source.diagnosis === undefined
        ? {}
        : { diagnosis: source.diagnosis.kind, action: source.diagnosis.action }),
      ...o.annotations,
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
    for (const o of observationsOf(report, model, version)) {
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
            diagnosis: report.diagnosis,
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
