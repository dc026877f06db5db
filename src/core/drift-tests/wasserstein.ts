// Wasserstein-1 (earth mover's) distance, as scipy.stats.wasserstein_distance computes it:
//   W1  = ∫ |F_ref(x) − F_cur(x)| dx
// and normed as Evidently's wasserstein test does: W1 / max(std_ref, 0.001), std with ddof 0.
// Values far outside the reference count as sitting on the edge of its widened range
// (profile/binning.ts, widenedRange): the integral runs over that range only. Inside it nothing
// changes; one value of 1e308 among thousands then adds at most (range width)/n instead of
// 1e308/n, and the report counts such values apart (outOfRangeShare).
// While both profiles keep their values, W1 is computed from the sorted values as scipy does.
// Otherwise it is the same integral in quantile form, W1 = ∫₀¹ |Q_ref(u) − Q_cur(u)| du, between
// point masses: kept values, or each digest's centroids split into two halves around their
// means (TDigest.massPoints). Centroid means are exact weighted means, so the sketched W1 keeps
// its exact lower bound |mean_cur − mean_ref|, which interpolating the digests' CDFs did not
// (measured 0.529 against a bound of 0.789); near the threshold it is within about 1 % of the
// exact value on lognormal(σ = 2) data (benchmarks/sketch-accuracy.bench.js).
// Distance test on the normed value: drift at >= 0.1 (Evidently's default), critical at >= 0.2.

import { widenedRange, type ValueRange } from '../profile/binning.js'
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

/**
 * The last distance computed for a pair of profiles, with both counts at the time. A report asks
 * for the same pair up to three times (the test, the distance, the normed distance), and each
 * exact W1 walks both sorted samples (~0.1 s a column at 1M values a side). A profile's values,
 * range and extremes change only when its count does, so equal counts mean the same distance.
 */
const lastDistance = new WeakMap<
  NumericalProfile,
  WeakMap<NumericalProfile, { referenceCount: number; currentCount: number; distance: number }>
>()

export function wassersteinDistance(
  reference: NumericalProfile,
  current: NumericalProfile,
): number {
  const known = lastDistance.get(reference)?.get(current)
  if (
    known !== undefined &&
    known.referenceCount === reference.count &&
    known.currentCount === current.count
  )
    return known.distance
  const distance = computeDistance(reference, current)
  let byCurrent = lastDistance.get(reference)
  if (byCurrent === undefined) {
    byCurrent = new WeakMap()
    lastDistance.set(reference, byCurrent)
  }
  byCurrent.set(current, {
    referenceCount: reference.count,
    currentCount: current.count,
    distance,
  })
  return distance
}

function computeDistance(reference: NumericalProfile, current: NumericalProfile): number {
  const range = integrationRange(reference, current)
  const refSorted = sortedValues(reference)
  const curSorted = sortedValues(current)
  if (refSorted !== null && curSorted !== null) return exactW1(refSorted, curSorted, range)
  return massPointW1(massPointsOf(reference, refSorted), massPointsOf(current, curSorted), range)
}

interface MassPoints {
  readonly means: Float64Array
  readonly weights: Float64Array | null
  readonly total: number
}

/** Kept values as unit masses, else the digest's centroids split in mean-preserving halves. */
function massPointsOf(profile: NumericalProfile, sorted: Float64Array | null): MassPoints {
  if (sorted !== null) return { means: sorted, weights: null, total: sorted.length }
  const { means, weights } = profile.digest.massPoints()
  let total = 0
  for (const w of weights) total += w
  return { means, weights, total }
}

/**
 * W1 = ∫₀¹ |Q_a(u) − Q_b(u)| du between two sets of point masses, each point clamped into the
 * range. Each side's points have the side's exact mean, so the result is never below
 * |mean_a − mean_b| of the clamped values, the bound a CDF interpolation can break.
 */
export function massPointW1(a: MassPoints, b: MassPoints, range: ValueRange): number {
  const clamp = (x: number): number => Math.min(range.upper, Math.max(range.lower, x))
  const na = a.means.length
  const nb = b.means.length
  if (na === 0 || nb === 0) return Number.NaN
  const weight = (side: MassPoints, i: number): number =>
    side.weights === null ? 1 : (side.weights[i] as number)
  // cumulative weights compared by cross-multiplication: exact for integer weights
  let i = 0
  let j = 0
  let ca = weight(a, 0)
  let cb = weight(b, 0)
  let u = 0
  let area = 0
  while (i < na && j < nb) {
    const next = Math.min(ca / a.total, cb / b.total)
    area += Math.abs(clamp(a.means[i] as number) - clamp(b.means[j] as number)) * (next - u)
    u = next
    const aDone = ca * b.total <= cb * a.total
    const bDone = cb * a.total <= ca * b.total
    if (aDone && ++i < na) ca += weight(a, i)
    if (bDone && ++j < nb) cb += weight(b, j)
  }
  return area
}

/**
 * The reference's widened range, cut down to where either side has values (so that the sum
 * of widths cannot overflow when the range itself does).
 */
function integrationRange(reference: NumericalProfile, current: NumericalProfile): ValueRange {
  const widened =
    reference.binning.range ?? widenedRange(reference.min, reference.max, std(reference))
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
