// Noise floors: how large a test's statistic gets with no drift at all, at a window's sample size,
// estimated from the reference snapshot alone (its bins, categories and digest; no raw data).
//
// Calibrated mode flags a feature only when its statistic clears both its threshold and its floor
// at the per-feature false-alarm rate α' = falseAlarmRate / m (Bonferroni over the m features of
// a window). Two kinds of floor:
//   ks, z (and chisquare on a numerical feature's few values)   their p-values already account
//       for both sample sizes (ks is a two-sample test), so the floor is α' itself: p < α'.
//   distances (psi, jensenshannon, kl_div, hellinger, wasserstein) and the 2 × k chisquare on
//       categories: parametric bootstrap. Draw a reference of n_ref and a current of n_cur from the
//       reference's own shares — its percentile bins or its categories plus the ones it likely
//       missed (Good–Turing share, Chao1 count; see unseenCategories), multinomially, or for
//       wasserstein its digest's quantile function (values) — and score the test on the two
//       samples. Both sides are drawn because a reference is itself a sample. Wasserstein draws at
//       most `valueDrawCap` values a side and rescales W1 by √((1/n_ref + 1/n_cur) / (1/a + 1/b))
//       (W1 of two samples shrinks as √(1/n_ref + 1/n_cur)), so a floor costs ~1 M draws whatever
//       the sizes: a window of 23 features must not hold the evaluator past its lease. Chi-square is simulated because its chi2(k − 1)
//       p-value runs anti-conservative on sparse tables (hundreds of categories, 100 events).
// α' is ~1e-4, beyond what 500 draws (1,000 for wasserstein) show, so the floor extrapolates an exponential tail fitted
// to the top 10 % of the draws of the statistic. Measured against 20,000 draws on real flight data
// (BENCHMARKS.md): at 1e-3 it gives 0.1–2.3× the nominal exceedances, where a gamma fitted to 200
// draws' mean and variance gave up to 11× (Wasserstein of heavy-tailed delays) and the same tail
// fitted on the squared statistic up to 3×.
//
// Floors are deterministic (a seeded PRNG per feature, test and size) and cached per reference
// profile, test, rate and current-size bucket (buckets 2^(1/8) ≈ 9 % wide; a window is scored
// with the floor of its bucket's lower edge, which is the more conservative one).

import { std, type NumericalProfile } from '../profile/numerical.js'
import type { CategoricalProfile } from '../profile/categorical.js'
import type { FeatureProfile } from '../profile/index.js'
import { createNumericalProfile } from '../profile/numerical.js'
import { deriveSeed, mulberry32 } from '../simulate/random.js'
import type { DriftTest } from './types.js'
import { wassersteinNormFloor } from './wasserstein.js'

export const floorReplicates = 500
/** Wasserstein's tail is heavier on heavy-tailed features: twice the draws to see it. */
export const wassersteinReplicates = 1000
export const valueDrawCap = 1000
/** The share of the draws whose excesses fit the exponential tail. */
export const tailShare = 0.1
const quantileGridSize = 1024

const binnedTests = new Set(['psi', 'jensenshannon', 'kl_div', 'hellinger'])

export interface NoiseFloor {
  readonly value: number
  /** What the floor bounds: the p-value (p < value) or the statistic (statistic > value). */
  readonly on: 'pValue' | 'statistic'
}

/**
 * Where the floor comes from. The 2 × k chi-square on categories is simulated like the distances:
 * its chi2(k − 1) p-value runs anti-conservative on sparse tables (hundreds of categories, a
 * window of 100), exactly where calibration matters. ks and z keep their p-values.
 */
function simulated(test: DriftTest, reference: FeatureProfile): boolean {
  if (test.scoreKind === 'distance') return true
  return test.name === 'chisquare' && reference.kind === 'categorical'
}

/** The lower edge of n's size bucket: the largest 2^(k/8) <= n, rounded down. */
export function sizeBucket(n: number): number {
  if (n <= 1) return Math.max(0, Math.floor(n))
  const k = Math.floor(8 * Math.log2(n) + 1e-9)
  return Math.max(1, Math.min(n, Math.floor(2 ** (k / 8))))
}

export class NoiseFloors {
  readonly #byReference = new WeakMap<FeatureProfile, Map<string, number | null>>()
  /** Set while `missing` runs: misses are recorded here instead of computed. */
  #recording: Map<string, () => void> | undefined

  /**
   * The floors `evaluate` needs that are not cached yet, as jobs computing one floor each.
   * `evaluate` runs once with misses recorded rather than computed (each answered with no floor,
   * so its result stands only when nothing is missing). A new size bucket costs ~2 s of floors for 23
   * features; the stream runs these jobs one at a time between I/O turns, so its probes and
   * consumers are never held for longer than one floor, then evaluates with every floor cached.
   */
  missing(evaluate: () => void): Array<() => void> {
    const recording = new Map<string, () => void>()
    this.#recording = recording
    try {
      evaluate()
    } finally {
      this.#recording = undefined
    }
    return [...recording.values()]
  }

  /**
   * The floor for `test` on a feature with this reference and `nCurrent` current values, at the
   * per-feature false-alarm rate `alpha`; null when the test has no floor model.
   */
  floor(
    feature: string,
    test: DriftTest,
    reference: FeatureProfile,
    nCurrent: number,
    alpha: number,
  ): NoiseFloor | null {
    if (!simulated(test, reference)) return { value: alpha, on: 'pValue' }
    let cached = this.#byReference.get(reference)
    if (cached === undefined) {
      cached = new Map()
      this.#byReference.set(reference, cached)
    }
    const bucket = sizeBucket(nCurrent)
    const key = `${feature}\u0000${test.name}\u0000${alpha}\u0000${bucket}`
    const hit = cached.get(key)
    if (hit !== undefined) return hit === null ? null : { value: hit, on: 'statistic' }
    if (this.#recording !== undefined) {
      const table = cached
      this.#recording.set(key, () =>
        table.set(key, distanceFloor(feature, test, reference, bucket, alpha)),
      )
      return null
    }
    const value = distanceFloor(feature, test, reference, bucket, alpha)
    cached.set(key, value)
    return value === null ? null : { value, on: 'statistic' }
  }
}

/** The no-drift draws of a distance test's statistic (exported for tests and benchmarks). */
export function nullDraws(
  feature: string,
  test: DriftTest,
  reference: FeatureProfile,
  nCurrent: number,
  replicates = test.name === 'wasserstein' ? wassersteinReplicates : floorReplicates,
): Float64Array | null {
  const nReference = reference.count
  if (nReference === 0 || nCurrent === 0) return null
  const next = mulberry32(deriveSeed(hashString(`${feature}\u0000${test.name}`), nCurrent))
  const draws = new Float64Array(replicates)
  if (test.name === 'wasserstein') {
    if (reference.kind !== 'numerical') return null
    const q = quantileGrid(reference)
    const a = Math.min(nReference, valueDrawCap)
    const b = Math.min(nCurrent, valueDrawCap)
    // W1 of two samples scales as √(1/n_ref + 1/n_cur): draws at capped sizes, rescaled
    const rescale = Math.sqrt((1 / nReference + 1 / nCurrent) / (1 / a + 1 / b))
    const scale = rescale / Math.max(std(reference), wassersteinNormFloor)
    // one pair of buffers for all replicates: a floor would otherwise allocate 4,000 arrays
    const scratch = new Float64Array(Math.max(a, b) + 1)
    const left = new Float64Array(a)
    const right = new Float64Array(b)
    for (let r = 0; r < replicates; r++) {
      sortedDraws(q, left, scratch, next)
      sortedDraws(q, right, scratch, next)
      draws[r] = wassersteinSorted(left, right) * scale
    }
    return draws
  }
  if (!binnedTests.has(test.name) && !simulated(test, reference)) return null
  const weights = binWeights(reference)
  for (let r = 0; r < replicates; r++) {
    const ref = withCounts(reference, multinomial(nReference, weights, next))
    const cur = withCounts(reference, multinomial(nCurrent, weights, next))
    const score = test.score(ref, cur)
    draws[r] = score.status === 'ok' ? score.statistic : 0
  }
  return draws
}

function distanceFloor(
  feature: string,
  test: DriftTest,
  reference: FeatureProfile,
  nCurrent: number,
  alpha: number,
): number | null {
  const draws = nullDraws(feature, test, reference, nCurrent)
  if (draws === null) return null
  return exponentialTailQuantile(draws, alpha)
}

/**
 * The 1 − alpha quantile with an exponential tail fitted above the draws' 1 − tailShare quantile
 * u (peaks over a threshold): q = u + β·ln(tailShare / alpha), β the mean excess over u. Exact for
 * chi-square-like tails, conservative for lighter ones; alpha at or above tailShare reads the
 * draws directly.
 */
export function exponentialTailQuantile(values: Float64Array, alpha: number): number {
  const sorted = Float64Array.from(values).sort()
  const n = sorted.length
  if (n === 0) return Number.NaN
  const at = (p: number): number =>
    sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number
  if (alpha >= tailShare) return at(1 - alpha)
  const u = at(1 - tailShare)
  let excess = 0
  let count = 0
  for (const v of sorted) {
    if (v > u) {
      excess += v - u
      count++
    }
  }
  if (count === 0) return u
  return u + (excess / count) * Math.log(tailShare / alpha)
}

/** Shares a sample of the reference falls in: its percentile bins, or its categories and other. */
function binWeights(reference: FeatureProfile): Float64Array {
  if (reference.kind === 'numerical') return reference.bins.slice()
  const { categories, weight } = unseenCategories(reference)
  return Float64Array.from([
    ...reference.counts.values(),
    reference.other,
    ...Array.from({ length: categories }, () => weight),
  ])
}

/**
 * The categories a reference sample missed, which a window will show (a reference of 800 rows
 * over 220 airports misses dozens): Good–Turing puts their total share at f1 / n (f1: categories
 * seen once), and Chao1 their number at f1² / (2·f2) (f2: seen twice). Drawing from the
 * reference's shares alone would never produce a new category and set floors far too low on
 * sparse categoricals. Weights are in counts, like the reference's.
 */
export function unseenCategories(reference: CategoricalProfile): {
  categories: number
  weight: number
} {
  let f1 = 0
  let f2 = 0
  for (const n of reference.counts.values()) {
    if (n === 1) f1++
    else if (n === 2) f2++
  }
  if (f1 === 0) return { categories: 0, weight: 0 }
  const chao1 = f2 > 0 ? (f1 * f1) / (2 * f2) : (f1 * (f1 - 1)) / 2
  const categories = Math.min(maxUnseenCategories, Math.max(1, Math.ceil(chao1)))
  return { categories, weight: f1 / categories }
}

const maxUnseenCategories = 1000

/** A profile shaped like `reference` holding the given bin or category counts (binned tests only). */
function withCounts(reference: FeatureProfile, counts: Float64Array): FeatureProfile {
  let total = 0
  for (const n of counts) total += n
  if (reference.kind === 'numerical') {
    const profile: NumericalProfile = createNumericalProfile(reference.binning, 10, 0)
    profile.bins.set(counts)
    profile.count = total
    profile.smallValues = null
    return profile
  }
  const keys = [...reference.counts.keys()]
  const map = new Map(keys.map((key, i) => [key, counts[i] as number]))
  // the unseen categories follow `other` (binWeights' order)
  for (let i = keys.length + 1; i < counts.length; i++) {
    const n = counts[i] as number
    if (n > 0) map.set(`\u0000unseen ${i}`, n)
  }
  const profile: CategoricalProfile = {
    kind: 'categorical',
    vocabulary: reference.vocabulary,
    unseenCap: reference.unseenCap,
    count: total,
    missing: 0,
    counts: map,
    other: counts[keys.length] as number,
  }
  return profile
}

/** Multinomial(n, weights) by conditional binomials: O(bins), whatever n. */
function multinomial(n: number, weights: Float64Array, next: () => number): Float64Array {
  let remainingWeight = 0
  for (const w of weights) remainingWeight += w
  const out = new Float64Array(weights.length)
  let remaining = n
  for (let i = 0; i < weights.length && remaining > 0; i++) {
    const w = weights[i] as number
    if (w <= 0) continue
    const p = Math.min(1, w / remainingWeight)
    const k = p >= 1 ? remaining : binomial(remaining, p, next)
    out[i] = k
    remaining -= k
    remainingWeight -= w
  }
  return out
}

/**
 * Binomial(n, p): inversion while the mean of the rarer outcome is small, the normal
 * approximation (continuity-rounded, clipped) beyond, where its error is far below the
 * floor's own sampling error.
 */
function binomial(n: number, p: number, next: () => number): number {
  if (p > 0.5) return n - binomial(n, 1 - p, next)
  const mean = n * p
  if (mean < 30) {
    const u = next()
    let x = 0
    let prob = Math.exp(n * Math.log1p(-p))
    let cumulative = prob
    const ratio = p / (1 - p)
    while (cumulative < u && x < n) {
      prob *= ((n - x) / (x + 1)) * ratio
      x++
      cumulative += prob
      if (prob < 1e-300 && x > mean) break
    }
    return x
  }
  const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * z)))
}

/** The reference digest's quantile function on a grid of 1025 points, min and max at the ends. */
function quantileGrid(reference: NumericalProfile): Float64Array {
  const grid = new Float64Array(quantileGridSize + 1)
  for (let i = 0; i <= quantileGridSize; i++) {
    grid[i] = reference.digest.quantile(i / quantileGridSize)
  }
  grid[0] = reference.min
  grid[quantileGridSize] = reference.max
  return grid
}

/**
 * Fills `out` with draws from the grid's distribution, ascending: sorted uniforms by exponential
 * spacings (`gaps` holds at least out.length + 1 of them).
 */
function sortedDraws(
  grid: Float64Array,
  out: Float64Array,
  gaps: Float64Array,
  next: () => number,
): void {
  const n = out.length
  let total = 0
  for (let i = 0; i <= n; i++) {
    total += -Math.log(1 - next())
    gaps[i] = total
  }
  const last = grid.length - 1
  for (let i = 0; i < n; i++) {
    const position = ((gaps[i] as number) / total) * last
    const j = Math.min(last - 1, Math.floor(position))
    const t = position - j
    out[i] = (grid[j] as number) * (1 - t) + (grid[j + 1] as number) * t
  }
}

/** W1 between two ascending samples: ∫ |F_a − F_b| dx over the merged points. */
function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  let i = 0
  let j = 0
  let area = 0
  let previous = Math.min(a[0] as number, b[0] as number)
  while (i < a.length || j < b.length) {
    const x =
      j >= b.length || (i < a.length && (a[i] as number) <= (b[j] as number))
        ? (a[i] as number)
        : (b[j] as number)
    area += Math.abs(i / a.length - j / b.length) * (x - previous)
    previous = x
    if (i < a.length && a[i] === x) i++
    else j++
  }
  return area
}

function hashString(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
