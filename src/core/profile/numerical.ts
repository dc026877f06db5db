// A mergeable summary of one numerical feature over some rows: moments, a t-digest for
// quantiles/KS/Wasserstein, exact counts on the reference's breakpoints (so PSI and the other
// binned tests are exact, not estimated), and the exact value counts while the feature has at most
// `smallValueLimit` distinct values (Evidently treats such columns like categories).
//
// Missing (null, NaN) and non-finite (±Infinity) values are counted apart and enter no test.
//
// Moments cannot overflow: the mean and the sum of squared deviations (Welford's update, Chan et
// al.'s merge) are kept in units of `scale`, a power of two near the largest magnitude seen, so
// one value of 1e308 gives a finite mean and standard deviation instead of Infinity or 0.
// Rescaling by a power of two is exact, so ordinary data gets plain Welford arithmetic.
//
// While a profile holds at most `exactLimit` finite values it also keeps them all (`values`), so
// KS and Wasserstein on small windows, and on files up to the reference's in-memory limit, are
// computed exactly (as scipy does) instead of from the digest.

import { TDigest } from '../sketch/tdigest.js'
import { sortedCopy, sortInPlace } from '../stats/sort.js'
import { binIndex, lookupBin, sameBinning, type BinTable, type Binning } from './binning.js'

export const smallValueLimit = 5
/**
 * t-digest compression for feature profiles. 300 rather than the customary 100: Wasserstein on
 * heavy tails (lognormal σ = 2) needs it to stay within 2 % of scipy; see BENCHMARKS.md.
 */
export const profileCompression = 300
/**
 * Values a profile keeps exactly unless told otherwise: stream buckets and windows up to this
 * size score KS and Wasserstein exactly. At 1000 values the kept array is about the size of a
 * δ = 300 digest, so a bucket's stored size stays bounded.
 */
export const defaultExactLimit = 1000

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
  /** Mean of the finite values (0 while there are none). */
  mean: number
  /** Sum of squared deviations from the mean, divided by scale². */
  m2: number
  /** A power of two: the largest magnitude seen rounded down to one, or 1 while empty or 0. */
  scale: number
  /** Finite values beyond the binning's widened reference range. */
  outOfRange: number
  min: number
  max: number
  readonly digest: TDigest
  /** bins[i] counts values in [edges[i-1], edges[i]) with open outer bins; length edges+1. */
  readonly bins: Float64Array
  /** atEdge[i] counts values exactly equal to edges[i]: gives the CDF's jump at each edge. */
  readonly atEdge: Float64Array
  /** Exact counts per distinct value, or null once more than smallValueLimit were seen. */
  smallValues: Map<number, number> | null
  /** The most finite values kept exactly; past it `values` becomes null for good. */
  readonly exactLimit: number
  /** The finite values in arrival order (the first `count` entries), or null past exactLimit. */
  values: Float64Array | null
  /**
   * The kept values, sorted, held outside the profile (`storeValues`): `values` is then null and
   * `sortedValues` asks for them when a test needs them.
   */
  stored?: StoredValues
}

/**
 * Sorted values kept elsewhere than in memory: `driftwatch check` writes each column's values to
 * a temporary file and reads them back one column at a time (app/check-columns.ts), so exact KS
 * and Wasserstein do not need every column of both files in memory at once.
 */
export interface StoredValues {
  /** How many values: the profile's `count` when they were stored. */
  readonly count: number
  /** The values, sorted ascending (a fresh array or a shared one the caller must not change). */
  sorted(): Float64Array
}

export function createNumericalProfile(
  binning: Binning,
  compression = profileCompression,
  exactLimit = defaultExactLimit,
  /**
   * Finite values the caller knows will come (a file already read once): the kept array starts at
   * that size instead of growing by doubling, which left a trail of freed arrays behind.
   */
  expectedValues = 0,
): NumericalProfile {
  return {
    kind: 'numerical',
    binning,
    count: 0,
    missing: 0,
    nonFinite: 0,
    mismatched: 0,
    mean: 0,
    m2: 0,
    scale: 1,
    outOfRange: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    digest: new TDigest(compression),
    bins: new Float64Array(binning.edges.length + 1),
    atEdge: new Float64Array(binning.edges.length),
    smallValues: new Map(),
    exactLimit,
    values:
      exactLimit > 0 ? new Float64Array(Math.min(exactLimit, Math.max(64, expectedValues))) : null,
  }
}

/** 2^floor(log2 |x|), or 1 for 0: exact, and never Infinity for a finite x. */
export function scaleOf(x: number): number {
  const a = Math.abs(x)
  if (a === 0 || !Number.isFinite(a)) return 1
  // log2(Number.MAX_VALUE) rounds to 1024, and 2^1024 is Infinity
  let s = 2 ** Math.min(1023, Math.floor(Math.log2(a)))
  // log2 may round across a power of two; step back onto the right one.
  if (s > a) s /= 2
  else if (s * 2 <= a) s *= 2
  return s
}

/**
 * Adds one observation; anything that is not a finite number is missing or non-finite. `table`:
 * the binning's lookup table (binTableOf), for callers that add many values.
 */
export function addNumber(
  profile: NumericalProfile,
  value: number | null | undefined,
  table?: BinTable,
): void {
  if (value === null || value === undefined || Number.isNaN(value)) {
    profile.missing++
    return
  }
  if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) {
    profile.nonFinite++
    return
  }
  const n = ++profile.count
  if (value < profile.min || value > profile.max) {
    if (value < profile.min) profile.min = value
    if (value > profile.max) profile.max = value
    const scale = Math.max(scaleOf(profile.min), scaleOf(profile.max))
    if (scale !== profile.scale) {
      const ratio = profile.scale / scale
      profile.m2 *= ratio * ratio
      profile.scale = scale
    }
  }
  // Welford in units of scale: every quantity here is below 4 in magnitude.
  const s = profile.scale
  const meanScaled = profile.mean / s
  const delta = value / s - meanScaled
  const nextMean = meanScaled + delta / n
  profile.m2 += delta * (value / s - nextMean)
  profile.mean = nextMean * s
  const range = profile.binning.range
  if (range !== undefined && (value < range.lower || value > range.upper)) profile.outOfRange++
  const kept = profile.values
  if (kept !== null) {
    if (n > profile.exactLimit) profile.values = null
    else {
      let store = kept
      if (n > kept.length) {
        store = new Float64Array(Math.min(profile.exactLimit, kept.length * 2))
        store.set(kept)
        profile.values = store
      }
      store[n - 1] = value
    }
  }
  profile.digest.add(value)
  const edges = profile.binning.edges
  const bin = table === undefined ? binIndex(edges, value) : lookupBin(table, value)
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
  into.values = mergeValues(into, other)
  mergeMoments(into, other)
  into.count += other.count
  into.missing += other.missing
  into.nonFinite += other.nonFinite
  into.mismatched += other.mismatched
  into.outOfRange += other.outOfRange
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

// Chan, Golub & LeVeque's pairwise update, in units of the larger scale.
function mergeMoments(into: NumericalProfile, other: NumericalProfile): void {
  if (other.count === 0) return
  if (into.count === 0) {
    into.mean = other.mean
    into.m2 = other.m2
    into.scale = other.scale
    return
  }
  const s = Math.max(into.scale, other.scale)
  const ra = into.scale / s
  const rb = other.scale / s
  const na = into.count
  const nb = other.count
  const n = na + nb
  const meanA = into.mean / s
  const delta = other.mean / s - meanA
  into.m2 = into.m2 * ra * ra + other.m2 * rb * rb + ((delta * delta * na) / n) * nb
  into.mean = (meanA + (delta * nb) / n) * s
  into.scale = s
}

function mergeValues(into: NumericalProfile, other: NumericalProfile): Float64Array | null {
  const a = into.values
  const b = other.values
  if (a === null || b === null) return null
  const n = into.count + other.count
  if (n > into.exactLimit) return null
  const out = a.length >= n ? a : new Float64Array(n)
  if (out !== a) out.set(a.subarray(0, into.count))
  out.set(b.subarray(0, other.count), into.count)
  return out
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
    values: profile.values === null ? null : profile.values.slice(),
    smallValues: profile.smallValues === null ? null : new Map(profile.smallValues),
  }
}

export function rows(profile: NumericalProfile): number {
  return profile.count + profile.missing + profile.nonFinite
}

export function mean(profile: NumericalProfile): number {
  return profile.count === 0 ? Number.NaN : profile.mean
}

/** Population standard deviation (ddof 0, as numpy.std and Evidently use); finite for any input. */
export function std(profile: NumericalProfile): number {
  if (profile.count === 0) return Number.NaN
  if (profile.min === profile.max) return 0
  return Math.sqrt(Math.max(0, profile.m2) / profile.count) * profile.scale
}

const sortedCache = new WeakMap<NumericalProfile, { count: number; sorted: Float64Array }>()

/** The kept values, sorted (cached per profile until it changes), or null past exactLimit. */
export function sortedValues(profile: NumericalProfile): Float64Array | null {
  if (profile.values === null) {
    const stored = profile.stored
    return stored !== undefined && stored.count === profile.count ? stored.sorted() : null
  }
  const cached = sortedCache.get(profile)
  if (cached !== undefined && cached.count === profile.count) return cached.sorted
  const sorted = sortedCopy(profile.values, profile.count)
  sortedCache.set(profile, { count: profile.count, sorted })
  return sorted
}

/**
 * Keeps the values sorted instead of in arrival order, for a profile that is only scored from now
 * on (`driftwatch check` once its file is read): nothing reads the order but `sortedValues`, and
 * holding both orders of 20 columns of a million values took 160 MB more per side.
 */
export function sortKeptValues(profile: NumericalProfile): void {
  if (profile.values === null) return
  const cached = sortedCache.get(profile)
  // The arrival order is given up, so it is sorted where it lies (no copy to hold besides).
  const sorted =
    cached !== undefined && cached.count === profile.count
      ? cached.sorted
      : sortInPlace(profile.values, profile.count)
  profile.values = sorted
  sortedCache.set(profile, { count: profile.count, sorted })
}

/**
 * `sortKeptValues` when the caller already holds the kept values sorted (the reference builder,
 * which sorted them to place the breakpoints): `sorted` must be exactly those values, sorted.
 */
export function keepSortedValues(profile: NumericalProfile, sorted: Float64Array): void {
  if (profile.values === null || sorted.length !== profile.count) return
  profile.values = sorted
  sortedCache.set(profile, { count: profile.count, sorted })
}

/**
 * Moves the kept values out of the profile (see `StoredValues`): `stored` must give exactly the
 * kept values, sorted. A profile past its exact limit has nothing to store and stays as it is.
 */
export function storeValues(profile: NumericalProfile, stored: StoredValues): void {
  if (profile.values === null || stored.count !== profile.count) return
  profile.values = null
  profile.stored = stored
  sortedCache.delete(profile)
}
