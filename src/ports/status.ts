// What the HTTP API and the on-call page read about the running service, and the admin actions
// they may take, in the domain's words. The app implements both over its live state and the
// sketch store; src/adapters/http only renders them. Times are ms since epoch.

import type { ConditionResult } from '../core/conditions.js'
import type { DataQualitySummary } from '../core/data-quality.js'
import type { Diagnosis, Impact } from '../core/diagnosis.js'
import type { LatencyReport } from '../core/latency.js'
import type { PerformanceResult } from '../core/performance/degradation.js'
import type {
  DistributionBin,
  DriftReport,
  FeatureKind,
  FeatureResult,
  Severity,
} from '../core/report.js'

export interface Health {
  /** False only when the process should be restarted (a loop died, a fatal error). */
  readonly live: boolean
}

export interface ReadinessCheck {
  readonly ok: boolean
  /** Why not, for operators; never a secret (no URLs with passwords, no tokens). */
  readonly detail?: string
}

export interface Readiness {
  readonly ready: boolean
  /** By name: 'kafka', 'redis', and 'reference:<model>' for each model's loaded reference. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>
}

export interface WindowBounds {
  readonly startMs: number
  readonly endMs: number
}

/** One feature's latest verdict, small enough for the model list and the on-call page. */
export interface FeatureVerdict {
  readonly name: string
  readonly kind: FeatureKind
  readonly test: string
  readonly statistic: number | null
  readonly pValue: number | null
  readonly threshold: number
  readonly drifted: boolean
  readonly severity: Severity
  readonly missingShare: number
}

export interface ModelSummary {
  readonly model: string
  /** null for a model without versions. */
  readonly version: string | null
  readonly referenceId: string | null
  /** The latest evaluated window; null (and no verdicts) before the first evaluation. */
  readonly window: WindowBounds | null
  readonly datasetDrift: boolean | null
  readonly driftShare: number | null
  /** The worst feature severity of the latest window. */
  readonly severity: Severity | null
  readonly features: readonly FeatureVerdict[]
}

export interface ModelStatus {
  readonly model: string
  readonly version: string | null
  readonly referenceId: string | null
  readonly window: WindowBounds | null
  readonly evaluatedAtMs: number | null
  /** The latest window's report; null before the first evaluation. */
  readonly report: DriftReport | null
  /**
   * What the reports do not show on their own: windows holding events that will never be
   * evaluated (and why), and late events counted in the windows still watched, with how many of
   * those windows had a revised report. Absent before the first evaluation.
   */
  readonly completeness?: {
    readonly skippedWindows: { readonly count: number; readonly reason: string } | null
    readonly lateEvents: number
    readonly revisedWindows: number
  }
  /**
   * The model's layers in the latest window, as the evaluator stored them with its report, in the
   * users' diagnosis order (quality, drift, impact, decision); with each version's latency.
   * Absent before the first evaluation.
   */
  readonly layers?: ModelLayers
}

/**
 * One model version's layers in its latest evaluated window: read from the stored report, never
 * recomputed. A layer is null when the window has none (no prediction in the reference, no
 * `performance:` section, no latencies).
 */
export interface VersionLayers {
  readonly version: string | null
  readonly reportId: string
  readonly window: WindowBounds
  readonly dataQuality: DataQualitySummary | null
  readonly predictionDrift: FeatureVerdict | null
  readonly performance: PerformanceResult | null
  /** Prior shift: the labels' distribution against the baseline's. */
  readonly labelDrift: FeatureVerdict | null
  readonly latency: LatencyReport | null
  readonly diagnosis: Diagnosis | null
}

export interface ModelLayers extends VersionLayers {
  /** Each version's latency in its latest window, newest window first (null: no latencies). */
  readonly latencyByVersion: ReadonlyArray<{
    readonly version: string | null
    readonly window: WindowBounds
    readonly latency: LatencyReport | null
  }>
}

/** Reference vs current shares of one feature over the latest window's bins. */
export interface FeatureDistribution {
  readonly model: string
  readonly feature: string
  readonly kind: FeatureKind
  readonly referenceId: string | null
  readonly window: WindowBounds | null
  readonly bins: readonly DistributionBin[]
}

/** The latest diagnosis of one model version (core/diagnosis.ts), with what it was made from. */
export interface VersionDiagnosis {
  readonly version: string | null
  readonly reportId: string
  readonly window: WindowBounds
  readonly diagnosis: Diagnosis | null
  readonly impact: Impact | null
  readonly dataQuality: DataQualitySummary | null
  readonly conditions: readonly ConditionResult[]
}

export interface ModelDiagnosis {
  readonly model: string
  /** One per model version with a report, newest window first; empty before the first window. */
  readonly versions: readonly VersionDiagnosis[]
}

/** One window's verdict of one feature, for the on-call page's sparklines. */
export interface FeatureHistoryPoint {
  readonly startMs: number
  readonly endMs: number
  readonly statistic: number | null
  readonly pValue: number | null
  readonly threshold: number
  readonly drifted: boolean
  readonly severity: Severity
}

export interface OnCallFeature extends FeatureVerdict {
  /** The last windows' verdicts, oldest first (at most the history's length). */
  readonly history: readonly FeatureHistoryPoint[]
  /**
   * Where the current drifted streak starts (the first drifted window's start) and how many
   * windows it spans; `complete` false when it began before the oldest window kept. null when
   * the latest window has the feature not drifted.
   */
  readonly drifting: {
    readonly sinceMs: number
    readonly windows: number
    readonly complete: boolean
  } | null
}

export interface OnCallAlert {
  readonly alertname:
    | 'DriftwatchFeatureDrift'
    | 'DriftwatchDatasetDrift'
    | 'DriftwatchDataQualityIncident'
    | 'DriftwatchConditionFailed'
    | 'DriftwatchPerformanceDegradation'
    | 'DriftwatchPredictionDrift'
    | 'DriftwatchLatencyRegression'
    | 'DriftwatchRollbackAdvice'
  /** The feature, or the condition's text for a failed condition; null for the others. */
  readonly feature: string | null
  readonly firing: boolean
  /** Firing: its current severity; resolved: 'ok'. */
  readonly severity: Severity
  /** When it fired (window end); null for an alert resolved before start times were kept. */
  readonly startedAtMs: number | null
  /** null while firing. */
  readonly resolvedAtMs: number | null
}

/** One model (version) as the on-call page shows it. */
export interface OnCallModel extends Omit<ModelSummary, 'features'> {
  readonly features: readonly OnCallFeature[]
  /** Firing alerts, and alerts resolved within the windows the history covers. */
  readonly alerts: readonly OnCallAlert[]
  /** The version's layers in its latest window; null before the first evaluation. */
  readonly layers: VersionLayers | null
}

/** A published report document, as sent to the report topic (JSON-serializable). */
export type PublishedReport = Readonly<Record<string, unknown>>

export interface StatusSource {
  health(): Health
  /** Ready when Kafka and Redis answer and every model has its reference loaded. */
  readiness(): Promise<Readiness>
  models(): Promise<readonly ModelSummary[]>
  /** null for a model that is not configured. */
  modelStatus(model: string): Promise<ModelStatus | null>
  /** The latest published report of `model`; null when unknown or none yet. */
  report(model: string): Promise<PublishedReport | null>
  /** The latest diagnosis per version; null for a model that is not configured. */
  diagnosis?(model: string): Promise<ModelDiagnosis | null>
  /**
   * The latest window's bins of one feature: of `version` ('' for a model without versions)
   * when given, else of the newest report. null when the model, version or feature is unknown,
   * or nothing was evaluated yet.
   */
  distributions(
    model: string,
    feature: string,
    version?: string,
  ): Promise<FeatureDistribution | null>
  /** Every model (version) with its features' recent history and its alerts, for the page at /. */
  onCall(): Promise<readonly OnCallModel[]>
}

export interface AdminActions {
  /**
   * Validates `snapshot` (parsed JSON, any shape) as a reference snapshot for `model` and
   * makes it the one windows are compared with. Throws DriftwatchError REFERENCE_INVALID for
   * bad input and NOT_FOUND for a model that is not configured.
   */
  replaceReference(model: string, snapshot: unknown): Promise<{ readonly id: string }>
}

const severityRank: Readonly<Record<Severity, number>> = { ok: 0, warning: 1, critical: 2 }

/** A feature's (or the prediction's, or the labels') verdict, as the model list shows it. */
export function verdictOf(feature: FeatureResult): FeatureVerdict {
  return {
    name: feature.name,
    kind: feature.kind,
    test: feature.test,
    statistic: feature.statistic,
    pValue: feature.pValue,
    threshold: feature.threshold,
    drifted: feature.drifted,
    severity: feature.severity,
    missingShare: feature.metrics.missingShare,
  }
}

/** The verdict part of a ModelSummary, taken from a report (for StatusSource implementers). */
export function summarizeReport(
  report: DriftReport,
): Pick<ModelSummary, 'datasetDrift' | 'driftShare' | 'severity' | 'features'> {
  let severity: Severity = 'ok'
  const features = report.features.map((feature): FeatureVerdict => {
    if (severityRank[feature.severity] > severityRank[severity]) severity = feature.severity
    return verdictOf(feature)
  })
  return { datasetDrift: report.datasetDrift, driftShare: report.driftShare, severity, features }
}
