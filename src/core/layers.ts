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
