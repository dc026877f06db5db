// A mergeable summary of one numerical feature over some rows: moments, a t-digest for
// quantiles/KS/Wasserstein, exact counts on the reference's breakpoints (so PSI and the other
// binned tests are exact, not estimated), and the exact value counts while the feature has at most
// `smallValueLimit` distinct values (Evidently treats such columns like categories).
//
// Missing (null, NaN) and non-finite (±Infinity) values are counted apart and enter no test.

import { TDigest } from '../sketch/tdigest.js'
import { binIndex, sameBinning, type Binning } from './binning.js'

export const smallValueLimit = 5
/**
 * t-digest compression for feature profiles. 300 rather than the customary 100: Wasserstein on
 * heavy tails (lognormal σ = 2) needs it to stay within 2 % of scipy; see BENCHMARKS.md.
 */
export const profileCompression = 300

export interface NumericalProfile {
  readonly kind: 'numerical'
  readonly binning: Binning
  /** Finite values. */
  count: number
  missing: number
  nonFinite: number
  /**
   * Values of another type (text, booleans) in this numerical column: counted in `missing` too,
   * as pandas' to_numeric(errors='coerce') would make them, and apart here so a column whose
   * numbers turned to text is reported as a type change rather than as plain missing data.
   */
  mismatched: number
  sum: number
  sumSq: number
  min: number
  max: number
  readonly digest: TDigest
  /** bins[i] counts values in [edges[i-1], edges[i]) with open outer bins; length edges+1. */
  readonly bins: Float64Array
  /** atEdge[i] counts values exactly equal to edges[i]: gives the CDF's jump at each edge. */
  readonly atEdge: Float64Array
  /** Exact counts per distinct value, or null once more than smallValueLimit were seen. */
  smallValues: Map<number, number> | null
}

export function createNumericalProfile(
  binning: Binning,
  compression = profileCompression,
): NumericalProfile {
  return {
    kind: 'numerical',
    binning,
    count: 0,
    missing: 0,
    nonFinite: 0,
    mismatched: 0,
    sum: 0,
    sumSq: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    digest: new TDigest(compression),
    bins: new Float64Array(binning.edges.length + 1),
    atEdge: new Float64Array(binning.edges.length),
    smallValues: new Map(),
  }
}

/** Adds one observation; anything that is not a finite number is missing or non-finite. */
export function addNumber(profile: NumericalProfile, value: number | null | undefined): void {
  if (value === null || value === undefined || Number.isNaN(value)) {
    profile.missing++
    return
  }
  if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) {
    profile.nonFinite++
    return
  }
  profile.count++
  profile.sum += value
  profile.sumSq += value * value
  if (value < profile.min) profile.min = value
  if (value > profile.max) profile.max = value
  profile.digest.add(value)
  const edges = profile.binning.edges
  const bin = binIndex(edges, value)
  profile.bins[bin] = (profile.bins[bin] as number) + 1
  if (bin > 0 && edges[bin - 1] === value)
    profile.atEdge[bin - 1] = (profile.atEdge[bin - 1] as number) + 1
  const small = profile.smallValues
  if (small !== null) {
    const seen = small.get(value)
    if (seen !== undefined) small.set(value, seen + 1)
    else if (small.size < smallValueLimit) small.set(value, 1)
    else profile.smallValues = null
  }
}

/** Folds `other` into `into`. Both must share the reference's binning. */
export function mergeNumerical(into: NumericalProfile, other: NumericalProfile): NumericalProfile {
  if (!sameBinning(into.binning, other.binning)) {
    throw new RangeError('cannot merge numerical profiles built on different reference breakpoints')
  }
  into.count += other.count
  into.missing += other.missing
  into.nonFinite += other.nonFinite
  into.mismatched += other.mismatched
  into.sum += other.sum
  into.sumSq += other.sumSq
  if (other.min < into.min) into.min = other.min
  if (other.max > into.max) into.max = other.max
  into.digest.merge(other.digest)
  for (let i = 0; i < into.bins.length; i++)
    into.bins[i] = (into.bins[i] as number) + (other.bins[i] as number)
  for (let i = 0; i < into.atEdge.length; i++)
    into.atEdge[i] = (into.atEdge[i] as number) + (other.atEdge[i] as number)
  into.smallValues = mergeSmallValues(into.smallValues, other.smallValues)
  return into
}

function mergeSmallValues(
  a: Map<number, number> | null,
  b: Map<number, number> | null,
): Map<number, number> | null {
  if (a === null || b === null) return null
  const merged = new Map(a)
  for (const [value, n] of b) merged.set(value, (merged.get(value) ?? 0) + n)
  return merged.size > smallValueLimit ? null : merged
}

export function cloneNumerical(profile: NumericalProfile): NumericalProfile {
  return {
    ...profile,
    digest: profile.digest.clone(),
    bins: profile.bins.slice(),
    atEdge: profile.atEdge.slice(),
    smallValues: profile.smallValues === null ? null : new Map(profile.smallValues),
  }
}

export function rows(profile: NumericalProfile): number {
  return profile.count + profile.missing + profile.nonFinite
}

export function mean(profile: NumericalProfile): number {
  return profile.count === 0 ? Number.NaN : profile.sum / profile.count
}

/** Population standard deviation (ddof 0, as numpy.std and Evidently use). */
export function std(profile: NumericalProfile): number {
  if (profile.count === 0) return Number.NaN
  // sum-of-squares cancellation would turn a constant column's 0 into ~1e-9
  if (profile.min === profile.max) return 0
  const m = profile.sum / profile.count
  return Math.sqrt(Math.max(0, profile.sumSq / profile.count - m * m))
}
