// A window's performance against the reference's baseline, and its label drift.
//
// Degradation is measured on one metric (`metric`, accuracy by default; rmse for regression):
//   higher-is-better metrics (accuracy, precision, recall, f1, rocAuc, all in [0, 1]):
//     drop = baseline - current, in absolute points (0.02 = 2 points of accuracy)
//   lower-is-better metrics (logLoss, mae, rmse, mape, unbounded):
//     drop = (current - baseline) / baseline, the relative increase (0.02 = 2 % worse)
// drop >= warningDrop is a warning, >= criticalDrop critical (defaults 0.02 and 0.05, the users'
// table for accuracy). Fewer than `minLabels` joined pairs in the window give no verdict
// (insufficientData), as features with fewer than minCount values.
//
// Label drift (prior shift) compares the window's label distribution with the reference's with the
// same test and settings as a categorical feature (evaluateFeature in core/evaluate.ts), so it
// has the same calibrated or Evidently thresholds. Classification only: a summary keeps no
// distribution of regression labels.

import { evaluateFeature, type EvaluateOptions } from '../evaluate.js'
import { createCategoricalProfile, type CategoricalProfile } from '../profile/categorical.js'
import type { FeatureResult, Severity } from '../report.js'
import {
  computePerformance,
  labelCounts,
  lowerIsBetter,
  type PerformanceMetricName,
  type PerformanceMetrics,
} from './metrics.js'
import type { PerformanceSettings } from './summary.js'

export interface DegradationSettings {
  readonly metric: PerformanceMetricName
  readonly warningDrop: number
  readonly criticalDrop: number
  readonly minLabels: number
}

export const defaultDegradation: Omit<DegradationSettings, 'metric'> = {
  warningDrop: 0.02,
  criticalDrop: 0.05,
  minLabels: 30,
}

/** The `performance` section of a report. */
export interface PerformanceResult {
  readonly metric: PerformanceMetricName
  /** The metric in this window; null without enough labels or when it does not apply. */
  readonly value: number | null
  /** The metric on the reference's prediction and label columns; null without them. */
  readonly baseline: number | null
  /** How much worse than the baseline (see the file comment); null without both values. */
  readonly drop: number | null
  readonly dropIs: 'absolute' | 'relative'
  readonly degraded: boolean
  readonly severity: Severity
  readonly warningDrop: number
  readonly criticalDrop: number
  /** Labels joined with their prediction in this window. */
  readonly nLabels: number
  readonly current: PerformanceMetrics
  readonly reference: PerformanceMetrics | null
  readonly insufficientData?: { readonly reason: string }
}

export function evaluatePerformance(
  baseline: ReadonlyMap<string, number> | null,
  current: ReadonlyMap<string, number>,
  settings: PerformanceSettings,
  degradation: DegradationSettings,
): PerformanceResult {
  const now = computePerformance(current, settings)
  const before = baseline === null ? null : computePerformance(baseline, settings)
  const metric = degradation.metric
  const relative = lowerIsBetter.has(metric)
  const base = {
    metric,
    dropIs: relative ? ('relative' as const) : ('absolute' as const),
    warningDrop: degradation.warningDrop,
    criticalDrop: degradation.criticalDrop,
    nLabels: now.n,
    current: now,
    reference: before,
  }
  const value = now[metric] ?? null
  const reference = before?.[metric] ?? null
  const none = { ...base, degraded: false, severity: 'ok' as const, drop: null }
  if (now.n < degradation.minLabels)
    return {
      ...none,
      value: null,
      baseline: reference,
      insufficientData: {
        reason: `${now.n} labelled predictions, fewer than minLabels ${degradation.minLabels}`,
      },
    }
  if (value === null)
    return {
      ...none,
      value,
      baseline: reference,
      insufficientData: { reason: `${metric} does not apply to these predictions` },
    }
  if (reference === null)
    return {
      ...none,
      value,
      baseline: null,
      insufficientData: {
        reason: `the reference has no baseline ${metric} (prediction and label columns)`,
      },
    }
  const drop = relative
    ? reference === 0
      ? value > 0
        ? Number.POSITIVE_INFINITY
        : 0
      : (value - reference) / reference
    : reference - value
  const severity: Severity =
    drop >= degradation.criticalDrop
      ? 'critical'
      : drop >= degradation.warningDrop
        ? 'warning'
        : 'ok'
  return {
    ...base,
    value,
    baseline: reference,
    drop: Number.isFinite(drop) ? drop : null,
    degraded: severity !== 'ok',
    severity,
  }
}

/** Label drift of a classification window, or null for regression / no baseline labels. */
export function evaluateLabelDrift(
  baseline: ReadonlyMap<string, number> | null,
  current: ReadonlyMap<string, number>,
  settings: PerformanceSettings,
  options: EvaluateOptions,
): FeatureResult | null {
  if (settings.task === 'regression' || baseline === null) return null
  const reference = labelReference(baseline, settings)
  if (reference === null) return null
  const vocabulary = reference.vocabulary
  const window = profileOf(createCategoricalProfile(vocabulary), labelCounts(current, settings))
  return evaluateFeature('label', reference, window, options)
}

/**
 * The baseline's labels as a reference profile, one object per baseline: calibrated mode caches
 * its noise floors per reference profile object (core/drift-tests/noise-floor.ts), so a new one
 * every window would compute them again every window.
 */
const labelReferences = new WeakMap<ReadonlyMap<string, number>, CategoricalProfile | null>()

function labelReference(
  baseline: ReadonlyMap<string, number>,
  settings: PerformanceSettings,
): CategoricalProfile | null {
  const known = labelReferences.get(baseline)
  if (known !== undefined) return known
  const counts = labelCounts(baseline, settings)
  const reference =
    counts.size === 0 ? null : profileOf(createCategoricalProfile(new Set(counts.keys())), counts)
  labelReferences.set(baseline, reference)
  return reference
}

function profileOf(
  profile: CategoricalProfile,
  counts: ReadonlyMap<string, number>,
): CategoricalProfile {
  for (const [category, n] of counts) {
    profile.counts.set(category, (profile.counts.get(category) ?? 0) + n)
    profile.count += n
  }
  return profile
}

/** The metric degradation is judged on when the config names none. */
export function defaultMetricOf(settings: PerformanceSettings): PerformanceMetricName {
  return settings.task === 'regression' ? 'rmse' : 'accuracy'
}
