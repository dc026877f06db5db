// Puts the layers after drift onto a drift report, in the users' order: data quality (with the
// window's volume), impact, the test-suite conditions and the diagnosis. One function for the
// stream's windows and for `driftwatch check`, so both say the same about the same data.
// Other layers (prediction drift, labels, performance, latency) plug in through `layers`: their
// verdicts feed the diagnosis, and their metric values the conditions (`metrics`, by name).
// Pure.

import { evaluateConditions, metricValues, type Condition } from './conditions.js'
import { withVolume, type VolumeCheck } from './data-quality.js'
import {
  computeImpact,
  diagnose,
  driftScore,
  type GradualDriftInput,
  type LabelDriftInput,
  type LatencyInput,
  type PerformanceInput,
  type PredictionDriftInput,
} from './diagnosis.js'
import type { EvaluateOptions } from './evaluate.js'
import {
  evaluateLabelDrift,
  evaluatePerformance,
  type DegradationSettings,
} from './performance/degradation.js'
import type { PerformanceSettings } from './performance/summary.js'
import type { DriftReport } from './report.js'

export interface LayerInputs {
  readonly conditions?: readonly Condition[] | undefined
  /** feature → weight (any positive scale); equal weights when absent. */
  readonly importance?: Readonly<Record<string, number>> | undefined
  /** The window's event volume against the reference rate (stream only). */
  readonly volume?: VolumeCheck | null | undefined
  readonly predictionDrift?: PredictionDriftInput | undefined
  readonly labelDrift?: LabelDriftInput | undefined
  readonly performance?: PerformanceInput | undefined
  readonly latency?: LatencyInput | undefined
  readonly gradualDrift?: GradualDriftInput | undefined
  /** Metric values other layers measured (`precision`, `latencyP99`…), for the conditions. */
  readonly metrics?: ReadonlyMap<string, number> | undefined
}

export function withLayers<R extends DriftReport>(report: R, layers: LayerInputs = {}): R {
  const dataQuality =
    report.dataQuality === undefined
      ? undefined
      : withVolume(report.dataQuality, layers.volume ?? null)
  const judged: R = dataQuality === undefined ? report : { ...report, dataQuality }
  const impact = computeImpact(judged.features, layers.importance)
  const values = metricValues(judged)
  for (const [name, value] of layers.metrics ?? []) values.set(name, value)
  const conditions = evaluateConditions(layers.conditions ?? [], values)
  const diagnosis = diagnose({
    features: judged.features,
    dataQuality,
    impact,
    predictionDrift: layers.predictionDrift,
    labelDrift: layers.labelDrift,
    performance: layers.performance,
    latency: layers.latency,
    gradualDrift: layers.gradualDrift,
  })
  return { ...judged, conditions, impact, diagnosis }
}

/** Conditions that failed (unknown ones never fail). */
export function failedConditions(report: DriftReport): string[] {
  return (report.conditions ?? []).filter((c) => c.passed === false).map((c) => c.condition)
}

/**
 * What the model layers (core/prediction-drift.ts, core/latency.ts) tell the diagnosis — a
 * verdict each, latency only once judged — and the conditions (`latencyP99 <= 250`,
 * `predictionDriftScore < 1`).
 */
export function modelLayerInputs(
  report: Pick<DriftReport, 'predictionDrift' | 'latency'>,
): Pick<LayerInputs, 'predictionDrift' | 'latency' | 'metrics'> {
  const { predictionDrift, latency } = report
  const metrics = new Map<string, number>()
  if (latency !== undefined) {
    metrics.set('latencyP50', latency.p50)
    metrics.set('latencyP95', latency.p95)
    metrics.set('latencyP99', latency.p99)
  }
  const score = predictionDrift === undefined ? null : driftScore(predictionDrift)
  if (score !== null) metrics.set('predictionDriftScore', score)
  return {
    metrics,
    ...(predictionDrift === undefined || predictionDrift.insufficientData !== undefined
      ? {}
      : {
          predictionDrift: { drifted: predictionDrift.drifted, severity: predictionDrift.severity },
        }),
    ...(latency === undefined || latency.insufficientData !== undefined
      ? {}
      : {
          latency: {
            severity: latency.severity,
            version: latency.version,
            previousVersion: latency.previousVersion,
          },
        }),
  }
}

/**
 * The `performance` and `labelDrift` sections of a report: the labelled predictions' summary
 * (`current`) against the baseline's, as a stream window and `driftwatch check` both report them.
 * Label drift only once there are labels.
 */
export function performanceSections(
  baseline: ReadonlyMap<string, number> | null,
  current: ReadonlyMap<string, number>,
  perf: { readonly settings: PerformanceSettings; readonly degradation: DegradationSettings },
  options: EvaluateOptions,
): Pick<DriftReport, 'performance' | 'labelDrift'> {
  const performance = evaluatePerformance(baseline, current, perf.settings, perf.degradation)
  const labelDrift =
    performance.nLabels === 0 ? null : evaluateLabelDrift(baseline, current, perf.settings, options)
  return { performance, ...(labelDrift === null ? {} : { labelDrift }) }
}

/**
 * What the performance layer tells the diagnosis (a verdict, with enough labels) and the
 * conditions (`precision >= 0.85`: every metric measured, by name).
 */
export function performanceLayerInputs(
  sections: Pick<DriftReport, 'performance' | 'labelDrift'>,
): Pick<LayerInputs, 'performance' | 'labelDrift' | 'metrics'> {
  const p = sections.performance
  if (p === undefined) return {}
  const metrics = new Map<string, number>()
  for (const [name, value] of Object.entries(p.current))
    if (typeof value === 'number' && name !== 'n' && name !== 'unusable') metrics.set(name, value)
  return {
    metrics,
    ...(p.insufficientData === undefined
      ? { performance: { severity: p.severity, metric: p.metric, drop: p.drop ?? 0 } }
      : {}),
    ...(sections.labelDrift === undefined
      ? {}
      : { labelDrift: { drifted: sections.labelDrift.drifted } }),
  }
}
