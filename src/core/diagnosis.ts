// Impact and diagnosis: what a window's findings mean, in the order of our users' diagnosis flow
// (issue 9): data quality first, then drift, then impact (feature importance × drift score),
// then a decision — fix the pipeline, retrain, recalibrate, redesign, roll back.
//
// Impact. Each feature's drift score says how far its statistic went past what counts as drift:
//   distance tests:  statistic / max(threshold, noise floor)          (1 = just drifting)
//   p-value tests:   ln(p) / ln(min(threshold, noise floor))          (1 = just drifting)
// so a score ≥ 1 is what the verdict calls drift, whatever the test, and scores of different
// tests can be ranked together. Capped at 100 (a p-value of 0 would be infinite). A feature
// without a statistic (insufficient data) scores null and has no impact.
// Importance comes from the config (`importance: {feature: weight}`, normalised to sum 1 over
// the reported features; a feature not listed weighs 0). Without it every feature weighs the same:
// driftwatch sees no model, so an equal weight is the honest default (computing importance from
// the reference would need the model or its labels, which a reference does not hold).
// impact = weight × score; `topCauses` are the drifted features ranked by impact.
//
// Diagnosis, first match wins (the other matches are listed in `alsoSeen`):
//   1. data-quality incident — the window's data quality is critical (an emptied, retyped or
//      mostly-missing column, garbage values, the volume collapsing): drift computed on broken
//      data means nothing, so nothing else is judged until the pipeline is fixed;
//   2. covariate shift — features drifted (any feature with drifted = true);
//   3. prior shift — the labels' or the predictions' distribution drifted while the features
//      did not (labelDrift, predictionDrift from the other layers);
//   4. concept drift — performance degraded while neither features nor labels drifted: the
//      relation between inputs and target changed;
//   5. latency regression — latency is warning or critical, tied to a model version;
//   6. gradual drift — no window drifted, but features' drift scores have been climbing for days
//      (core/stream/trend.ts, stream only): an early warning, last because every other finding
//      is a problem today;
//   7. none.
// The other layers' inputs are optional (their branches feed them in); without them the
// diagnosis is made from data quality and feature drift alone.
// Pure: a report's sections in, a diagnosis out.

import type { DataQualitySummary } from './data-quality.js'
import type { FeatureResult } from './report.js'

export const diagnosisKinds = [
  'data-quality',
  'covariate-shift',
  'prior-shift',
  'concept-drift',
  'latency-regression',
  'gradual-drift',
  'none',
] as const
export type DiagnosisKind = (typeof diagnosisKinds)[number]

/** Prediction drift (model-layers): a FeatureResult-like verdict on the prediction. */
export interface PredictionDriftInput {
  readonly drifted: boolean
  readonly severity: 'ok' | 'warning' | 'critical'
}
/** Label drift (performance): prior shift of the ground truth. */
export interface LabelDriftInput {
  readonly drifted: boolean
}
/** Performance against the reference's baseline (performance). */
export interface PerformanceInput {
  readonly severity: 'ok' | 'warning' | 'critical'
  readonly metric: string
  readonly drop: number
}
/** Latency against the reference and the previous version (model-layers). */
export interface LatencyInput {
  readonly severity: 'ok' | 'warning' | 'critical'
  readonly version: string | null
  readonly previousVersion: string | null
}

export interface ImpactEntry {
  readonly feature: string
  /** Normalised weight (sums to 1 over the reported features). */
  readonly importance: number
  readonly driftScore: number | null
  /** importance × driftScore (0 without a score). */
  readonly impact: number
  readonly drifted: boolean
}

export interface Impact {
  /** Where the weights came from: the config's `importance`, or equal weights. */
  readonly importanceSource: 'config' | 'equal'
  /** Sum of the drifted features' importance: the share of the model's inputs that moved. */
  readonly driftedImportance: number
  /** Sum of the drifted features' impact. */
  readonly score: number
  /** The features ranked by impact, highest first, at most `impactListed`. */
  readonly ranked: readonly ImpactEntry[]
}

export interface Diagnosis {
  readonly kind: DiagnosisKind
  readonly summary: string
  readonly action: string
  /** The features behind it, most important first (quality: the failing ones; drift: by impact). */
  readonly topCauses: readonly string[]
  /** Other kinds that also matched, in decision order. */
  readonly alsoSeen: readonly DiagnosisKind[]
}

export interface DiagnosisInput {
  readonly features: readonly FeatureResult[]
  readonly dataQuality?: DataQualitySummary | undefined
  readonly impact: Impact
  readonly predictionDrift?: PredictionDriftInput | undefined
  readonly labelDrift?: LabelDriftInput | undefined
  readonly performance?: PerformanceInput | undefined
  readonly latency?: LatencyInput | undefined
  /** Features whose drift score climbs slowly while no window drifted (core/stream/trend.ts). */
  readonly gradualDrift?: GradualDriftInput | undefined
}

/** The gradual-drift verdicts of the stream's trend (core/stream/trend.ts). */
export interface GradualDriftInput {
  /** The features that drift gradually, steepest first. */
  readonly features: readonly string[]
  /** Their rise of the drift score over the span, in the same order. */
  readonly slopes: readonly number[]
  readonly spanMs: number
}

/** Features listed in `impact.ranked`, and causes named by a diagnosis. */
export const impactListed = 10
export const causesListed = 5
/** Drifted features carrying less than this share of the importance: monitor, do not retrain. */
export const materialImportance = 0.2
const maxScore = 100

/** How far the feature's statistic went past drift (≥ 1 drifts); null without a statistic. */
export function driftScore(feature: FeatureResult): number | null {
  if (feature.insufficientData !== undefined) return null
  const floor = feature.noiseFloor ?? null
  if (feature.pValue !== null) {
    const alpha = Math.min(feature.threshold, floor ?? Number.POSITIVE_INFINITY)
    if (!(alpha > 0 && alpha < 1)) return null
    const score = feature.pValue <= 0 ? maxScore : Math.log(feature.pValue) / Math.log(alpha)
    return Math.min(maxScore, Math.max(0, score))
  }
  if (feature.statistic === null) return null
  const bound = Math.max(feature.threshold, floor ?? 0)
  if (!(bound > 0)) return null
  return Math.min(maxScore, Math.max(0, feature.statistic / bound))
}

export function computeImpact(
  features: readonly FeatureResult[],
  importance?: Readonly<Record<string, number>>,
): Impact {
  const fromConfig = importance !== undefined && Object.keys(importance).length > 0
  const raw = features.map((f) => (fromConfig ? Math.max(0, importance[f.name] ?? 0) : 1))
  const total = raw.reduce((a, b) => a + b, 0)
  const entries: ImpactEntry[] = features.map((f, i) => {
    const weight = total === 0 ? 0 : (raw[i] as number) / total
    const score = driftScore(f)
    return {
      feature: f.name,
      importance: round(weight),
      driftScore: score === null ? null : round(score),
      impact: round(score === null ? 0 : weight * score),
      drifted: f.drifted,
    }
  })
  const drifted = entries.filter((e) => e.drifted)
  return {
    importanceSource: fromConfig ? 'config' : 'equal',
    driftedImportance: round(drifted.reduce((s, e) => s + e.importance, 0)),
    score: round(drifted.reduce((s, e) => s + e.impact, 0)),
    ranked: [...entries]
      .sort(
        (a, b) =>
          b.impact - a.impact ||
          Number(b.drifted) - Number(a.drifted) ||
          a.feature.localeCompare(b.feature),
      )
      .slice(0, impactListed),
  }
}

export function diagnose(input: DiagnosisInput): Diagnosis {
  const matches: Array<Omit<Diagnosis, 'alsoSeen'>> = []
  const drifted = input.features.filter((f) => f.drifted)

  if (input.dataQuality?.severity === 'critical') {
    const failing = input.features
      .filter((f) => f.dataQuality?.severity === 'critical')
      .map((f) => f.name)
    const volume =
      input.dataQuality.volume?.severity === 'critical' ? input.dataQuality.volume : undefined
    const violations =
      input.dataQuality.typeViolations?.severity === 'critical'
        ? input.dataQuality.typeViolations
        : undefined
    const what = [
      ...(failing.length > 0 ? [`critical data-quality findings on ${list(failing)}`] : []),
      ...(volume === undefined ? [] : [`event volume: ${volume.reason}`]),
      ...(violations === undefined ? [] : [`type violations: ${violations.reason}`]),
    ]
    matches.push({
      kind: 'data-quality',
      summary: `Data-quality incident: ${what.join('; ') || 'critical data-quality findings'}. Drift verdicts on this data are not trustworthy.`,
      action:
        'Fix the data pipeline (upstream job, schema, feature store) before judging drift; do not retrain on this data.',
      topCauses: failing.slice(0, causesListed),
    })
  }

  if (drifted.length > 0) {
    const byImpact = input.impact.ranked.filter((e) => e.drifted).map((e) => e.feature)
    // Drifted features beyond the ranked list, in report order.
    const causes = [...byImpact, ...drifted.map((f) => f.name).filter((n) => !byImpact.includes(n))]
    const material =
      input.impact.driftedImportance >= materialImportance ||
      (input.performance !== undefined && input.performance.severity !== 'ok')
    const share =
      input.impact.importanceSource === 'config'
        ? ` (carrying ${Math.round(input.impact.driftedImportance * 100)} % of the configured importance)`
        : ''
    matches.push({
      kind: 'covariate-shift',
      summary: `Covariate shift: ${drifted.length} of ${input.features.length} features drifted${share}; most impact: ${list(causes.slice(0, 3))}.`,
      action: material
        ? `Retrain on recent data; check first whether the change in ${list(causes.slice(0, 3))} is expected (a new segment, a campaign) or an upstream change.`
        : 'Monitor: the drifted features carry little importance; retrain only if performance drops.',
      topCauses: causes.slice(0, causesListed),
    })
  }

  const priorShift = input.labelDrift?.drifted === true || input.predictionDrift?.drifted === true
  if (priorShift && drifted.length === 0) {
    const which = input.labelDrift?.drifted === true ? 'labels' : 'predictions'
    matches.push({
      kind: 'prior-shift',
      summary: `Prior shift: the ${which}' distribution drifted while the features did not.`,
      action:
        'Recalibrate the decision threshold or the class priors; retrain with reweighted classes if performance drops.',
      topCauses: [],
    })
  }

  if (
    input.performance !== undefined &&
    input.performance.severity !== 'ok' &&
    drifted.length === 0 &&
    input.labelDrift?.drifted !== true
  ) {
    matches.push({
      kind: 'concept-drift',
      summary: `Concept drift: ${input.performance.metric} dropped by ${round(input.performance.drop)} while neither features nor labels drifted.`,
      action:
        'Retrain on recent labelled data; if it keeps happening, redesign the features or add a rule for the new pattern.',
      topCauses: [],
    })
  }

  if (input.latency !== undefined && input.latency.severity !== 'ok') {
    const { version, previousVersion } = input.latency
    matches.push({
      kind: 'latency-regression',
      summary: `Latency regression${version === null ? '' : ` in version ${version}`}.`,
      action:
        previousVersion === null
          ? 'Profile the serving path (model size, hardware, dependencies); no previous version to roll back to.'
          : `Roll back to version ${previousVersion}.`,
      topCauses: [],
    })
  }

  const gradual = input.gradualDrift
  if (gradual !== undefined && gradual.features.length > 0) {
    const days = Number((gradual.spanMs / 86_400_000).toPrecision(3))
    const rises = gradual.features
      .slice(0, causesListed)
      .map((f, i) => `${f} +${round(gradual.slopes[i] ?? 0).toFixed(2)}`)
    matches.push({
      kind: 'gradual-drift',
      summary: `Gradual drift: the drift score of ${list(gradual.features.slice(0, 3))} has been climbing over ${days} days (${rises.join(', ')}) though no window drifted yet.`,
      action:
        'Plan a retrain on recent data before the windows start to drift; check whether the change is a population moving or a slow upstream change (a sensor ageing, a default value spreading).',
      topCauses: gradual.features.slice(0, causesListed),
    })
  }

  const [first, ...rest] = matches
  if (first === undefined) {
    return {
      kind: 'none',
      summary: 'Nothing to diagnose: data quality is acceptable and no feature drifted.',
      action: 'None.',
      topCauses: [],
      alsoSeen: [],
    }
  }
  return { ...first, alsoSeen: rest.map((m) => m.kind) }
}

function list(names: readonly string[]): string {
  return names.join(', ')
}

function round(x: number): number {
  return Number(x.toPrecision(6))
}
