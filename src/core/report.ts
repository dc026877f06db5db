// The drift report: what `driftwatch check --format json` prints and what the stream publishes
// per window. Plain data, JSON-serializable, so every sink (file, Kafka, HTTP) shows the same thing.

import type { GradualDriftSection } from './stream/trend.js'
import type { ConditionResult } from './conditions.js'
import type { DataQualitySummary, FeatureDataQuality } from './data-quality.js'
import type { Diagnosis, Impact } from './diagnosis.js'
import type { DriftMode } from './drift-tests/modes.js'
import type { PerformanceResult } from './performance/degradation.js'
import type { LatencyReport } from './latency.js'

export const featureKinds = ['numerical', 'categorical'] as const
export type FeatureKind = (typeof featureKinds)[number]

export const severities = ['ok', 'warning', 'critical'] as const
export type Severity = (typeof severities)[number]

/** Every metric that applies to the feature's kind, whichever test decided the verdict. */
export interface FeatureMetrics {
  readonly missingShare: number
  readonly referenceMissingShare: number
  readonly psi?: number
  readonly ks?: number
  readonly ksPValue?: number
  readonly wasserstein?: number
  readonly wassersteinNormed?: number
  readonly jensenShannon?: number
  readonly chiSquare?: number
  readonly chiSquarePValue?: number
  readonly klDiv?: number
  readonly hellinger?: number
  readonly zPValue?: number
  readonly mean?: number
  readonly referenceMean?: number
  readonly std?: number
  readonly p05?: number
  readonly p50?: number
  readonly p95?: number
  readonly min?: number
  readonly max?: number
  readonly nonFiniteShare?: number
  /**
   * Finite current values far outside the reference (more than 10 reference standard deviations
   * beyond its min or max), as a share of all current rows and as a count. Absent when the
   * reference predates range tracking.
   */
  readonly outOfRangeShare?: number
  readonly outOfRangeCount?: number
  readonly newCategoryShare?: number
  /** Distinct new categories counted by name (`newCategories` lists at most 100 of them). */
  readonly newCategoryCount?: number
  readonly newCategories?: readonly string[]
}

/** One histogram bar pair for pictures: shares of reference and current in the same bin. */
export interface DistributionBin {
  readonly label: string
  /** Numerical bins: [lower, upper) with ±Infinity for the open outer edges. */
  readonly lower?: number
  readonly upper?: number
  readonly reference: number
  readonly current: number
}

export interface FeatureResult {
  readonly name: string
  readonly kind: FeatureKind
  readonly test: string
  readonly statistic: number | null
  readonly pValue: number | null
  readonly threshold: number
  readonly drifted: boolean
  readonly severity: Severity
  /** Present when the test could not be computed (e.g. no values on one side). */
  readonly insufficientData?: { readonly reason: string }
  /**
   * Calibrated mode: how far the statistic goes with no drift at this sample size (see
   * `noiseFloorOn` for its scale); a feature drifts only past both `threshold` and this. Null in evidently mode, without data, or for a test with no
   * floor model.
   */
  readonly noiseFloor?: number | null
  /** What the floor bounds: the p-value (p < floor: ks, z) or the statistic (statistic > floor). */
  readonly noiseFloorOn?: 'pValue' | 'statistic'
  /** The per-feature false-alarm rate the floor was set at (the window's rate / features). */
  readonly falseAlarmRate?: number | null
  readonly nReference: number
  readonly nCurrent: number
  readonly metrics: FeatureMetrics
  readonly distribution: readonly DistributionBin[]
  /**
   * What is wrong with the column's values, judged before drift (core/data-quality.ts). Always
   * set by evaluateDrift; optional only so reports from older versions still type-check.
   */
  readonly dataQuality?: FeatureDataQuality
  /**
   * Present when a categorical feature hit a category cap (core/profile/categorical.ts): values
   * beyond it are folded into one `__other__` category, so its distances are approximate and
   * `newCategoryShare` / `newCategories` may miss categories (README, "Caps").
   */
  readonly categoryCap?: CategoryCapNote
}

export interface CategoryCapNote {
  /** Categories the reference keeps by name (its cap, when reached). */
  readonly referenceCategories: number
  /** Share of the reference's values folded into `__other__`. */
  readonly referenceFoldedShare: number
  /** Share of the current values folded into `__other__` (reference tail or unseen past the cap). */
  readonly currentFoldedShare: number
  /** The current side saw more new categories than it keeps by name. */
  readonly unseenCapReached: boolean
}

export interface DriftReport {
  readonly datasetDrift: boolean
  /** Share of features that drifted. */
  readonly driftShare: number
  /** The configured share at or above which the dataset counts as drifted. */
  readonly driftShareThreshold: number
  readonly nDrifted: number
  readonly nFeatures: number
  readonly nReference: number
  readonly nCurrent: number
  /** 'calibrated' (sample-size-aware) or 'evidently' (Evidently's fixed thresholds). */
  readonly mode?: DriftMode
  /** Features with fewer current values than this were insufficientData. */
  readonly minCount?: number
  /** Calibrated mode: the configured false-alarm rate per window, over all features. */
  readonly falseAlarmRate?: number | null
  /** Features reported as insufficientData (not in the drift share). */
  readonly nInsufficient?: number
  readonly features: readonly FeatureResult[]
  /** The features' data-quality findings, summed up; a critical one fails `check` (exit 1). */
  readonly dataQuality?: DataQualitySummary
  /** The configured test-suite conditions, each with its value and verdict (core/conditions.ts). */
  readonly conditions?: readonly ConditionResult[]
  /** Feature importance × drift score, ranked (core/diagnosis.ts). */
  readonly impact?: Impact
  /** The likely kind of problem and what to do about it (core/diagnosis.ts). */
  readonly diagnosis?: Diagnosis
  /**
   * The window's predictions scored against their labels, vs the baseline (a model with
   * `performance:`; core/performance/degradation.ts).
   */
  readonly performance?: PerformanceResult
  /** Prior shift: the window's label distribution vs the baseline's, tested as a feature. */
  readonly labelDrift?: FeatureResult
  /**
   * The model's prediction against the reference's (core/prediction-drift.ts), when both have
   * one; not counted in the drift share.
   */
  readonly predictionDrift?: FeatureResult
  /** Latency quantiles and their verdict (core/latency.ts), when the events carry `latencyMs`. */
  readonly latency?: LatencyReport
  /**
   * Stream only: each feature's drift-score trend over the last days of event time, and whether
   * it is a gradual drift (core/stream/trend.ts).
   */
  readonly gradualDrift?: GradualDriftSection
}
