// Noise floors: how large a test's statistic gets with no drift at all, at a window's sample size,
// estimated from the reference snapshot alone (its bins, categories and digest; no raw data).
//
// Calibrated mode flags a feature only when its statistic clears both its threshold and its floor
// at the per-feature false-alarm rate α' = falseAlarmRate / m (Bonferroni over the m features of
// a window). The floor is on the verdict's own scale:
//   p-value tests (ks, chisquare, z)   their p-values already account for both sample sizes (ks
//       and the 2 × k chi-square are two-sample tests), so the floor is α' itself: p < α'.
//   binned distances (psi, jensenshannon, kl_div, hellinger)   parametric bootstrap: draw a
//       reference of n_ref and a current of n_cur from the reference's own bin (numerical: its
//       percentile bins) or category shares, multinomially, and score the test on the two
//       samples. Both sides are drawn because a reference is itself a sample.
//   wasserstein   the same with values: sorted uniforms mapped through the reference digest's
//       quantile function, W1 of the two samples, normed by the reference's std. Above
//       `valueDrawCap` values a side, both sizes are scaled down by the same factor s and W1 by
//       √s (W1 of two samples shrinks as √(1/n_ref + 1/n_cur)).
// Extreme quantiles (α' is ~1e-4) are beyond what a few hundred draws show, so a gamma is fitted to
// the draws' mean and variance (of the statistic for PSI and KL, which behave like scaled
// chi-squares, of its square for the square-root distances JS, Hellinger and Wasserstein) and the
// floor is its 1 − α' quantile. BENCHMARKS.md measures the false-alarm rate this gives.
//
// Floors are deterministic (a seeded PRNG per feature, test and size) and cached per reference
// profile, test, rate and current-size bucket (buckets 2^(1/8) ≈ 9 % wide; a window is scored
// with the floor of its bucket's lower edge, which is the more conservative one).

import { std, type NumericalProfile } from '../profile/numerical.js'
import type { CategoricalProfile } from '../profile/categorical.js'
import type { FeatureProfile } from '../profile/index.js'
import { createNumericalProfile } from '../profile/numerical.js'
import { deriveSeed, mulberry32 } from '../simulate/random.js'
import { gammaincc } from '../stats/special.js'
import type { DriftTest } from './types.js'
import { wassersteinNormFloor } from './wasserstein.js'

export const floorReplicates = 200
export const valueDrawCap = 4000
const quantileGridSize = 1024

const binnedTests = new Set(['psi', 'jensenshannon', 'kl_div', 'hellinger'])
/** Tests whose statistic is a square root of a chi-square-like quantity: fit on its square. */
const rootTests = new Set(['jensenshannon', 'hellinger', 'wasserstein'])

/** Whether a floor can be estimated for this test (built-in tests only). */
export function hasNoiseFloor(test: DriftTest): boolean {
  return test.scoreKind === 'pValue' || binnedTests.has(test.name) || test.name === 'wasserstein'
}

/** The lower edge of n's size bucket: the largest 2^(k/8) <= n, rounded down. */
export function sizeBucket(n: number): number {
  if (n <= 1) return Math.max(0, Math.floor(n))
  const k = Math.floor(8 * Math.log2(n) + 1e-9)
  return Math.max(1, Math.min(n, Math.floor(2 ** (k / 8))))
}

export class NoiseFloors {
  readonly #byReference = new WeakMap<FeatureProfile, Map<string, number | null>>()

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
  ): number | null {
    if (test.scoreKind === 'pValue') return alpha
    let cached = this.#byReference.get(reference)
    if (cached === undefined) {
      cached = new Map()
      this.#byReference.set(reference, cached)
    }
    const bucket = sizeBucket(nCurrent)
    const key = `${feature}\u0000${test.name}\u0000${alpha}\u0000${bucket}`
    const hit = cached.get(key)
    if (hit !== undefined) return hit
    const value = distanceFloor(feature, test, reference, bucket, alpha)
    cached.set(key, value)
    return value
  }
}

/** The no-drift draws of a distance test's statistic (exported for tests and benchmarks). */
export function nullDraws(
  feature: string,
  test: DriftTest,
  reference: FeatureProfile,
  nCurrent: number,
  replicates = floorReplicates,
): Float64Array | null {
  const nReference = reference.count
  if (nReference === 0 || nCurrent === 0) return null
  const next = mulberry32(deriveSeed(hashString(`${feature}\u0000${test.name}`), nCurrent))
  const draws = new Float64Array(replicates)
  if (test.name === 'wasserstein') {
    if (reference.kind !== 'numerical') return null
    const q = quantileGrid(reference)
    const s = Math.min(1, valueDrawCap / Math.max(nReference, nCurrent))
    const a = Math.max(1, Math.round(nReference * s))
    const b = Math.max(1, Math.round(nCurrent * s))
    const scale = Math.sqrt(s) / Math.max(std(reference), wassersteinNormFloor)
    for (let r = 0; r < replicates; r++) {
      draws[r] = wassersteinSorted(sortedDraws(q, a, next), sortedDraws(q, b, next)) * scale
    }
    return draws
  }
  if (!binnedTests.has(test.name)) return null
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
  const root = rootTests.has(test.name)
  const values = root ? draws.map((x) => x * x) : draws
  const q = gammaUpperQuantile(values, alpha)
  return root ? Math.sqrt(q) : q
}

/** The 1 − alpha quantile of a gamma fitted to the values' mean and variance (moments). */
export function gammaUpperQuantile(values: Float64Array, alpha: number): number {
  let sum = 0
  let max = 0
  for (const v of values) {
    sum += v
    if (v > max) max = v
  }
  const mean = sum / values.length
  let ss = 0
  for (const v of values) ss += (v - mean) ** 2
  const variance = ss / Math.max(1, values.length - 1)
  if (!(mean > 0) || !(variance > 0)) return max
  const shape = (mean * mean) / variance
  const scale = variance / mean
  // bisection on Q(shape, x / scale) = alpha; Q decreases in x
  let lo = 0
  let hi = mean + 10 * Math.sqrt(variance)
  while (gammaincc(shape, hi / scale) > alpha) hi *= 2
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2
    if (gammaincc(shape, mid / scale) > alpha) lo = mid
    else hi = mid
  }
  return hi
}

/** Shares a sample of the reference falls in: its percentile bins, or its categories and other. */
function binWeights(reference: FeatureProfile): Float64Array {
  if (reference.kind === 'numerical') return reference.bins.slice()
  return Float64Array.from([...reference.counts.values(), reference.other])
}

/** A profile shaped like `reference` holding the given bin or category counts (binned tests only). */
function withCounts(reference: FeatureProfile, counts: Float64Array): FeatureProfile {
  let total = 0
  for (const n of counts) total += n
  if (reference.kind === 'numerical') {
    const profile: NumericalProfile = createNumericalProfile(reference.binning, 10)
    profile.bins.set(counts)
    profile.count = total
    profile.smallValues = null
    return profile
  }
  const keys = [...reference.counts.keys()]
  const profile: CategoricalProfile = {
    kind: 'categorical',
    vocabulary: reference.vocabulary,
    unseenCap: reference.unseenCap,
    count: total,
    missing: 0,
    counts: new Map(keys.map((key, i) => [key, counts[i] as number])),
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

/** n draws from the grid's distribution, ascending: sorted uniforms by exponential spacings. */
function sortedDraws(grid: Float64Array, n: number, next: () => number): Float64Array {
  const gaps = new Float64Array(n + 1)
  let total = 0
  for (let i = 0; i <= n; i++) {
    total += -Math.log(1 - next())
    gaps[i] = total
  }
  const out = new Float64Array(n)
  const last = grid.length - 1
  for (let i = 0; i < n; i++) {
    const position = ((gaps[i] as number) / total) * last
    const j = Math.min(last - 1, Math.floor(position))
    const t = position - j
    out[i] = (grid[j] as number) * (1 - t) + (grid[j + 1] as number) * t
  }
  return out
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
