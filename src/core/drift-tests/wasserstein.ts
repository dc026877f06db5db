// Wasserstein-1 (earth mover's) distance, as scipy.stats.wasserstein_distance computes it:
//   W1  = ∫ |F_ref(x) − F_cur(x)| dx
// and normed as Evidently's wasserstein test does: W1 / max(std_ref, 0.001), std with ddof 0.
// Values far outside the reference count as sitting on the edge of its widened range
// (profile/binning.ts, widenedRange): the integral runs over that range only. Inside it nothing
// changes; one value of 1e308 among thousands then adds at most (range width)/n instead of
// 1e308/n, and the report counts such values apart (outOfRangeShare).
// While both profiles keep their values, W1 is computed from the sorted values as scipy does.
// Otherwise the integral runs over the knots of both CDFs (profile/cdf.ts), each interval taken
// at its midpoint: exact where both CDFs are step functions, otherwise within the digests' rank
// error times the range.
// Distance test on the normed value: drift at >= 0.1 (Evidently's default), critical at >= 0.2.

import { widenedRange, type ValueRange } from '../profile/binning.js'
import { sideCdf, unionPoints } from '../profile/cdf.js'
import { sortedValues, std, type NumericalProfile } from '../profile/numerical.js'
import { insufficient, type DriftTest } from './types.js'

export const wassersteinNormFloor = 0.001

export const wasserstein: DriftTest = {
  name: 'wasserstein',
  description: 'Wasserstein distance normed by the reference standard deviation',
  featureKinds: ['numerical'],
  scoreKind: 'distance',
  severityOn: 'verdict',
  defaults: { threshold: 0.1, critical: 0.2 },
  score(reference, current) {
    if (reference.kind !== 'numerical' || current.kind !== 'numerical') {
      return insufficient('wasserstein needs numerical values')
    }
    if (reference.count === 0 || current.count === 0) return insufficient('no values on one side')
    return { status: 'ok', statistic: wassersteinNormed(reference, current), pValue: null }
  },
}

export function wassersteinDistance(
  reference: NumericalProfile,
  current: NumericalProfile,
): number {
  const range = integrationRange(reference, current)
  const refSorted = sortedValues(reference)
  const curSorted = sortedValues(current)
  if (refSorted !== null && curSorted !== null) return exactW1(refSorted, curSorted, range)
  const a = sideCdf(reference, refSorted)
  const b = sideCdf(current, curSorted)
  const knots = unionPoints(a, b)
  let area = 0
  let lo = range.lower
  for (let i = 0; i <= knots.length; i++) {
    const hi = i < knots.length ? Math.min(knots[i] as number, range.upper) : range.upper
    if (hi > lo) {
      const mid = lo / 2 + hi / 2
      area += Math.abs(a.at(mid) - b.at(mid)) * (hi - lo)
    }
    if (hi >= range.upper) break
    lo = Math.max(lo, hi)
  }
  return area
}

/**
 * The reference's widened range, cut down to where either side has values (so that the sum
 * of widths cannot overflow when the range itself does).
 */
function integrationRange(reference: NumericalProfile, current: NumericalProfile): ValueRange {
  const widened = reference.binning.range ?? widenedRange(reference.min, reference.max)
  return {
    lower: Math.max(widened.lower, Math.min(reference.min, current.min)),
    upper: Math.min(widened.upper, Math.max(reference.max, current.max)),
  }
}

/** ∫ |F_a − F_b| dx over the range, of two sorted samples (scipy's value inside the range). */
export function exactW1(a: Float64Array, b: Float64Array, range: ValueRange): number {
  const clamp = (x: number): number => Math.min(range.upper, Math.max(range.lower, x))
  let i = 0
  let j = 0
  let area = 0
  let x = clamp(Math.min(a[0] as number, b[0] as number))
  while (i < a.length || j < b.length) {
    const next =
      j >= b.length || (i < a.length && (a[i] as number) <= (b[j] as number))
        ? (a[i] as number)
        : (b[j] as number)
    const at = clamp(next)
    area += Math.abs(i / a.length - j / b.length) * (at - x)
    x = at
    while (i < a.length && a[i] === next) i++
    while (j < b.length && b[j] === next) j++
  }
  return area
}

export function wassersteinNormed(reference: NumericalProfile, current: NumericalProfile): number {
  return wassersteinDistance(reference, current) / Math.max(std(reference), wassersteinNormFloor)
}
