import { describe, expect, it } from 'vitest'
import { TDigest, type TDigestJSON } from '../../../../src/core/sketch/tdigest.js'
import { mulberry32, normal, type Rng } from '../../../helpers/random.js'

// The accuracy bound the digest documents for δ = 100: max |cdf(x) − ECDF(x)| on 1e6 values.
const RANK_BOUND = 2e-3

function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function countBelow(sorted: Float64Array, x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

// Data values at evenly spaced ranks, the largest value below each (the ECDF's left limit at a
// tie), and an even grid over [min, max] for the long stretches of heavy tails.
function evaluationGrid(sorted: Float64Array, points = 2000): number[] {
  const n = sorted.length
  const grid: number[] = []
  for (let i = 0; i <= points; i++) {
    const x = sorted[Math.floor((i * (n - 1)) / points)]!
    grid.push(x)
    const below = countBelow(sorted, x)
    if (below > 0) grid.push(sorted[below - 1]!)
  }
  const lo = sorted[0]!
  const hi = sorted[n - 1]!
  for (let i = 0; i <= points; i++) grid.push(lo + ((hi - lo) * i) / points)
  return grid
}

function maxRankError(digest: TDigest, sorted: Float64Array, grid: readonly number[]): number {
  let worst = 0
  for (const x of grid) {
    const err = Math.abs(digest.cdf(x) - countAtMost(sorted, x) / sorted.length)
    if (err > worst) worst = err
  }
  return worst
}

// How far q lies from the ranks the data gives to the estimate: [#(< x), #(<= x)] / n.
function quantileRankError(sorted: Float64Array, q: number, x: number): number {
  const n = sorted.length
  const lower = countBelow(sorted, x) / n
  const upper = countAtMost(sorted, x) / n
  return q < lower ? lower - q : q > upper ? q - upper : 0
}

function digestOf(values: ArrayLike<number>, compression?: number): TDigest {
  const digest = new TDigest(compression)
  for (let i = 0; i < values.length; i++) digest.add(values[i]!)
  return digest
}

function sample(n: number, draw: () => number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = draw()
  return out
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}

function expectSameState(a: TDigest, b: TDigest): void {
  const ca = a.centroids()
  const cb = b.centroids()
  expect(Array.from(cb.means)).toEqual(Array.from(ca.means))
  expect(Array.from(cb.weights)).toEqual(Array.from(ca.weights))
  expect(b.min).toBe(a.min)
  expect(b.max).toBe(a.max)
  expect(b.count).toBe(a.count)
  expect(b.compression).toBe(a.compression)
}

const distributions: ReadonlyArray<readonly [string, (rng: Rng) => number]> = [
  ['uniform', (rng) => rng()],
  ['normal', (rng) => normal(rng, 0, 1)],
  ['lognormal(0, 1)', (rng) => Math.exp(normal(rng, 0, 1))],
  ['40% zeros + normal', (rng) => (rng() < 0.4 ? 0 : normal(rng, 0, 1))],
  ['40% zeros + exponential', (rng) => (rng() < 0.4 ? 0 : -Math.log(1 - rng()))],
]

describe('TDigest basics', () => {
  it('defaults to compression 100 and rejects unusable compressions', () => {
    expect(new TDigest().compression).toBe(100)
    expect(new TDigest(50).compression).toBe(50)
    for (const bad of [0, -1, 5, Number.NaN, Number.POSITIVE_INFINITY, 1e9]) {
      expect(() => new TDigest(bad)).toThrow(RangeError)
    }
  })

  it('answers NaN and infinities when empty', () => {
    const d = new TDigest()
    expect(d.count).toBe(0)
    expect(d.min).toBe(Number.POSITIVE_INFINITY)
    expect(d.max).toBe(Number.NEGATIVE_INFINITY)
    expect(d.quantile(0.5)).toBeNaN()
    expect(d.quantile(0)).toBeNaN()
    expect(d.cdf(0)).toBeNaN()
    expect(d.centroids().means.length).toBe(0)
  })

  it('rejects non-finite values and non-positive weights without changing state', () => {
    const d = new TDigest()
    d.add(1)
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => d.add(bad)).toThrow(RangeError)
    }
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => d.add(2, bad)).toThrow(RangeError)
    }
    expect(d.count).toBe(1)
    expect(d.min).toBe(1)
    expect(d.max).toBe(1)
  })

  it('rejects q outside [0, 1]', () => {
    const d = digestOf([1, 2, 3])
    for (const bad of [-0.01, 1.01, Number.NaN]) expect(() => d.quantile(bad)).toThrow(RangeError)
  })

  it('counts weight, flushing the buffer as needed', () => {
    const d = new TDigest()
    for (let i = 0; i < 12_345; i++) d.add(i % 7)
    expect(d.count).toBe(12_345)
    d.add(3, 2.5)
    expect(d.count).toBe(12_347.5)
    expect(d.min).toBe(0)
    expect(d.max).toBe(6)
  })

  it('keeps min and max exact at q = 0 and q = 1', () => {
    const rng = mulberry32(7)
    const values = sample(100_000, () => normal(rng, 3, 2))
    const d = digestOf(values)
    const sorted = values.slice().sort()
    expect(d.quantile(0)).toBe(sorted[0])
    expect(d.quantile(1)).toBe(sorted[sorted.length - 1])
    expect(d.cdf(sorted[0]! - 1e-9)).toBe(0)
    expect(d.cdf(sorted[sorted.length - 1]!)).toBe(1)
    expect(d.cdf(Number.NEGATIVE_INFINITY)).toBe(0)
    expect(d.cdf(Number.POSITIVE_INFINITY)).toBe(1)
    expect(d.cdf(Number.NaN)).toBeNaN()
  })

  it('compresses to a bounded number of centroids', () => {
    const rng = mulberry32(8)
    const d = digestOf(sample(200_000, () => normal(rng)))
    const k = d.centroids().means.length
    expect(k).toBeGreaterThanOrEqual(50)
    expect(k).toBeLessThanOrEqual(100)
  })
})

describe('small samples and ties are exact', () => {
  it('keeps every point a singleton while k1 allows less than weight 2 (n <= 60)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = mulberry32(seed)
      const n = 1 + Math.floor(rng() * 60)
      const d = digestOf(sample(n, () => normal(rng)))
      const { weights } = d.centroids()
      expect(weights.length).toBe(n)
      expect(Array.from(weights).every((w) => w === 1)).toBe(true)
    }
    const bigger = digestOf(sample(500, mulberry32(3)))
    expect(bigger.centroids().means.length).toBeLessThan(500)
  })

  it('answers the exact ECDF and inverted-CDF quantiles, with repeated values', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rng = mulberry32(seed)
      const n = 1 + Math.floor(rng() * 50)
      // Half the cases draw from six values, so ties of every size occur.
      const discrete = seed % 2 === 0
      const values = sample(n, () => (discrete ? Math.floor(rng() * 6) - 2 : normal(rng)))
      const d = digestOf(values)
      const sorted = values.slice().sort()
      const probes = new Set<number>()
      for (const v of sorted) {
        probes.add(v)
        probes.add(v - 0.25)
        probes.add(v + 0.25)
        probes.add(v - 1e-9)
      }
      for (const x of probes) expect(d.cdf(x)).toBe(countAtMost(sorted, x) / n)
      const qs = [0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]
      for (let j = 1; j <= n; j++) qs.push(j / n)
      for (const q of qs) {
        // Smallest x with #(<= x)/n >= q, computed with the same division as cdf().
        let j = 0
        while ((j + 1) / n < q) j++
        expect(d.quantile(q)).toBe(sorted[j])
      }
      expect(d.quantile(0)).toBe(sorted[0])
      expect(d.quantile(1)).toBe(sorted[n - 1])
    }
  })

  it('keeps a tie heavier than a centroid as an exact point mass', () => {
    const rng = mulberry32(11)
    const values = sample(100_000, () => (rng() < 0.3 ? 2.5 : normal(rng, 2.5, 1)))
    const d = digestOf(values)
    const sorted = values.slice().sort()
    const below = sorted[countBelow(sorted, 2.5) - 1]!
    expect(Math.abs(d.cdf(2.5) - countAtMost(sorted, 2.5) / sorted.length)).toBeLessThan(1e-3)
    expect(Math.abs(d.cdf(below) - countAtMost(sorted, below) / sorted.length)).toBeLessThan(1e-3)
    // The quantile function is flat across the jump.
    const lo = countBelow(sorted, 2.5) / sorted.length
    const hi = countAtMost(sorted, 2.5) / sorted.length
    expect(d.quantile(lo + 0.01)).toBe(2.5)
    expect(d.quantile((lo + hi) / 2)).toBe(2.5)
    expect(d.quantile(hi - 0.01)).toBe(2.5)
  })

  it('treats a weighted point as a point mass', () => {
    const d = new TDigest()
    d.add(5, 1000)
    d.add(6, 1000)
    expect(d.count).toBe(2000)
    expect(d.cdf(5)).toBe(0.5)
    expect(d.cdf(5.5)).toBe(0.5)
    expect(d.cdf(4.99)).toBe(0)
    expect(d.quantile(0.25)).toBe(5)
    expect(d.quantile(0.5)).toBe(5)
    expect(d.quantile(0.75)).toBe(6)

    const f = new TDigest()
    f.add(1, 0.25)
    f.add(2, 0.75)
    expect(f.count).toBe(1)
    expect(f.cdf(1)).toBeCloseTo(0.25, 12)
    expect(f.quantile(0.2)).toBe(1)
    expect(f.quantile(0.3)).toBe(2)
  })

  it('equals the weighted ECDF for mixed unit and weighted points', () => {
    const d = new TDigest()
    const pts: Array<[number, number]> = [
      [3, 1],
      [1, 4],
      [2, 1],
      [3, 2],
      [0, 1],
    ]
    for (const [v, w] of pts) d.add(v, w)
    const total = 9
    for (const x of [-1, 0, 0.5, 1, 1.5, 2, 2.5, 3, 4]) {
      const atMost = pts.filter(([v]) => v <= x).reduce((s, [, w]) => s + w, 0)
      expect(d.cdf(x)).toBe(atMost / total)
    }
  })
})

describe('monotonicity and range with many duplicates', () => {
  for (const [name, draw] of distributions) {
    it(`cdf stays in [0, 1] and is monotone; quantile is monotone (${name})`, () => {
      const rng = mulberry32(21)
      const values = sample(200_000, () => draw(rng))
      const sorted = values.slice().sort()
      const lo = sorted[0]!
      const hi = sorted[sorted.length - 1]!
      const xs = evaluationGrid(sorted, 1000)
      for (let i = 0; i <= 5000; i++) xs.push(lo - 1 + ((hi - lo + 2) * i) / 5000)
      xs.push(0, -Number.MIN_VALUE, Number.MIN_VALUE)
      xs.sort((a, b) => a - b)
      // Checked both for one digest and for a merge, whose centroids come from spreading.
      const parts = [0, 1, 2, 3].map((p) => digestOf(values.subarray(p * 50_000, (p + 1) * 50_000)))
      for (const d of [digestOf(values), new TDigest().merge(...parts)]) {
        const problems: string[] = []
        let prev = 0
        for (const x of xs) {
          const p = d.cdf(x)
          if (!(p >= 0 && p <= 1 && p >= prev)) problems.push(`cdf(${x}) = ${p} after ${prev}`)
          prev = p
        }
        let prevX = Number.NEGATIVE_INFINITY
        for (let i = 0; i <= 10_000; i++) {
          const x = d.quantile(i / 10_000)
          if (!(x >= prevX && x >= lo && x <= hi)) problems.push(`quantile(${i / 10_000}) = ${x}`)
          prevX = x
        }
        expect(problems).toEqual([])
      }
    })
  }
})

describe('values of any magnitude', () => {
  it('orders signed zeros, subnormals and extremes exactly', () => {
    // Each value holds about 1/12 of the weight, more than a centroid may, so every one is
    // an atom and the digest must reproduce the ECDF exactly; a mis-sorted value would split
    // a run and show.
    const support = [
      -Number.MAX_VALUE,
      -1e300,
      -1,
      -Number.MIN_VALUE,
      -0,
      0,
      Number.MIN_VALUE,
      1e-300,
      2.5,
      1e10,
      1e300,
      Number.MAX_VALUE,
    ]
    const rng = mulberry32(31)
    const values = sample(20_000, () => support[Math.floor(rng() * support.length)]!)
    const d = digestOf(values)
    const sorted = values.slice().sort()
    const n = values.length
    for (const x of support) expect(d.cdf(x)).toBe(countAtMost(sorted, x) / n)
    for (let i = 0; i + 1 < support.length; i++) {
      const between = support[i]! / 2 + support[i + 1]! / 2
      expect(d.cdf(between)).toBe(countAtMost(sorted, between) / n)
    }
    // The run of -0 and +0 answers with the sign of its first value; +0 compares the values.
    for (let j = 1; j <= n; j += 37) expect(d.quantile(j / n) + 0).toBe(sorted[j - 1]! + 0)
  })

  it('stays accurate when values differ only in their last bits', () => {
    // The radix keys (high 32 bits) tie throughout, so the fallback sort does the work.
    const rng = mulberry32(33)
    const values = sample(50_000, () => 1000 + rng() * 1e-9)
    const d = digestOf(values)
    const sorted = values.slice().sort()
    expect(maxRankError(d, sorted, evaluationGrid(sorted, 500))).toBeLessThan(RANK_BOUND)
  })

  it('stays monotone for values spread over hundreds of orders of magnitude', () => {
    const rng = mulberry32(34)
    const values = sample(50_000, () => (rng() < 0.5 ? -1 : 1) * Math.exp(normal(rng, 0, 100)))
    const d = digestOf(values)
    const sorted = values.slice().sort()
    let prev = 0
    const problems: number[] = []
    for (const x of evaluationGrid(sorted, 2000).sort((a, b) => a - b)) {
      const p = d.cdf(x)
      if (!(p >= prev && p <= 1)) problems.push(x)
      prev = p
    }
    expect(problems).toEqual([])
    expect(d.quantile(0)).toBe(sorted[0])
    expect(d.quantile(1)).toBe(sorted[sorted.length - 1])
  })

  it('keeps the weighted ECDF within the bound for many weighted points', () => {
    const rng = mulberry32(32)
    const n = 200_000
    const values = sample(n, () => normal(rng))
    const weights = sample(n, () => (rng() < 0.5 ? 1 : 0.25 + 10 * rng()))
    const d = new TDigest()
    for (let i = 0; i < n; i++) d.add(values[i]!, weights[i])
    const order = Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!)
    let total = 0
    const cumulative = order.map((i) => (total += weights[i]!))
    expect(d.count).toBeCloseTo(total, 6)
    for (let k = 0; k < n; k += 97) {
      const exact = cumulative[k]! / total
      expect(Math.abs(d.cdf(values[order[k]!]!) - exact)).toBeLessThan(RANK_BOUND)
    }
  })
})

describe('rank error on 1e6 values', () => {
  for (const [index, [name, draw]] of distributions.entries()) {
    it(`stays below ${RANK_BOUND} for one digest and after 100-way merges in any order (${name})`, () => {
      const rng = mulberry32(1000 + index)
      const values = sample(1_000_000, () => draw(rng))
      const sorted = values.slice().sort()
      const grid = evaluationGrid(sorted)

      expect(maxRankError(digestOf(values), sorted, grid)).toBeLessThan(RANK_BOUND)

      const parts: TDigest[] = []
      for (let p = 0; p < 100; p++)
        parts.push(digestOf(values.subarray(p * 10_000, (p + 1) * 10_000)))
      const fresh = (): TDigest[] => parts.map((p) => p.clone())

      const allAtOnce = new TDigest().merge(...fresh())
      const leftFold = fresh().reduce((acc, p) => acc.merge(p))
      const rightFold = fresh().reduceRight((acc, p) => acc.merge(p))
      const shuffled = shuffle(fresh(), mulberry32(5)).reduce((acc, p) => acc.merge(p))
      const pairwise = (level: TDigest[]): TDigest => {
        while (level.length > 1) {
          const next: TDigest[] = []
          for (let i = 0; i < level.length; i += 2) {
            const right = level[i + 1]
            next.push(right === undefined ? level[i]! : level[i]!.merge(right))
          }
          level = next
        }
        return level[0]!
      }
      const tree = pairwise(fresh())
      for (const merged of [allAtOnce, leftFold, rightFold, shuffled, tree]) {
        expect(merged.count).toBe(1_000_000)
        expect(merged.min).toBe(sorted[0])
        expect(merged.max).toBe(sorted[sorted.length - 1])
        expect(maxRankError(merged, sorted, grid)).toBeLessThan(RANK_BOUND)
      }
    })
  }

  it('quantile estimates sit within the bound of their data rank', () => {
    const rng = mulberry32(77)
    const values = sample(1_000_000, () => Math.exp(normal(rng, 0, 1)))
    const sorted = values.slice().sort()
    const d = digestOf(values)
    for (let i = 0; i <= 1000; i++) {
      const q = i / 1000
      expect(quantileRankError(sorted, q, d.quantile(q))).toBeLessThan(RANK_BOUND)
    }
  })
})

describe('merge', () => {
  for (const [name, draw] of [distributions[1]!, distributions[3]!]) {
    it(`is associative up to the rank error bound (${name}, uneven split of one sample)`, () => {
      const rng = mulberry32(99)
      const all = sample(600_000, () => draw(rng))
      const [da, db, dc] = [
        digestOf(all.subarray(0, 300_000)),
        digestOf(all.subarray(300_000, 500_000)),
        digestOf(all.subarray(500_000)),
      ]
      const left = da.clone().merge(db.clone().merge(dc.clone()))
      const right = da.clone().merge(db.clone()).merge(dc.clone())
      const sorted = all.slice().sort()
      for (let i = 0; i <= 1000; i++) {
        const q = i / 1000
        expect(quantileRankError(sorted, q, left.quantile(q))).toBeLessThan(RANK_BOUND)
        expect(quantileRankError(sorted, q, right.quantile(q))).toBeLessThan(RANK_BOUND)
      }
      for (const x of evaluationGrid(sorted, 1000)) {
        expect(Math.abs(left.cdf(x) - right.cdf(x))).toBeLessThan(RANK_BOUND)
      }
    })
  }

  it('is associative up to the rank error bound (parts from different distributions)', () => {
    const rng = mulberry32(99)
    const a = sample(300_000, () => normal(rng, 0, 1))
    const b = sample(200_000, () => normal(rng, 1, 2))
    const c = sample(100_000, () => Math.exp(normal(rng)))
    const [da, db, dc] = [digestOf(a), digestOf(b), digestOf(c)]
    const left = da.clone().merge(db.clone().merge(dc.clone()))
    const right = da.clone().merge(db.clone()).merge(dc.clone())
    const all = new Float64Array(a.length + b.length + c.length)
    all.set(a)
    all.set(b, a.length)
    all.set(c, a.length + b.length)
    const sorted = all.sort()
    for (let i = 0; i <= 1000; i++) {
      const q = i / 1000
      expect(quantileRankError(sorted, q, left.quantile(q))).toBeLessThan(RANK_BOUND)
      expect(quantileRankError(sorted, q, right.quantile(q))).toBeLessThan(RANK_BOUND)
    }
  })

  it('merges in place, returns this, and leaves the arguments intact', () => {
    const a = digestOf([1, 2, 3])
    const b = digestOf([4, 5])
    const before = b.toJSON()
    expect(a.merge(b)).toBe(a)
    expect(a.count).toBe(5)
    expect(a.min).toBe(1)
    expect(a.max).toBe(5)
    expect(b.toJSON()).toEqual(before)
    expect(a.cdf(3)).toBe(0.6)
  })

  it('handles empty digests on either side and merging with itself', () => {
    const empty = new TDigest()
    const d = digestOf([1, 2, 3, 4])
    expect(new TDigest().merge(empty).count).toBe(0)
    expect(d.clone().merge(empty).toJSON()).toEqual(d.toJSON())
    expect(new TDigest().merge(d).toJSON().means).toEqual(d.toJSON().means)
    const twice = d.clone().merge(d.clone())
    const self = d.clone()
    self.merge(self)
    expect(self.count).toBe(8)
    expect(self.toJSON()).toEqual(twice.toJSON())
    expect(self.cdf(2)).toBe(0.5)
  })

  it('copies the single input exactly when merging into an empty digest', () => {
    const d = digestOf(sample(100_000, mulberry32(41)))
    const copy = new TDigest().merge(new TDigest(), d)
    expectSameState(d, copy)
  })

  it('merges digests of a different compression into its own', () => {
    const rng = mulberry32(42)
    const values = sample(200_000, () => normal(rng))
    const sorted = values.slice().sort()
    const coarse = digestOf(values.subarray(0, 100_000), 20)
    const fine = digestOf(values.subarray(100_000), 500)
    const merged = new TDigest(100).merge(coarse, fine)
    expect(merged.compression).toBe(100)
    expect(merged.count).toBe(200_000)
    expect(merged.centroids().means.length).toBeLessThanOrEqual(100)
    // The coarse half limits accuracy: its centroids hold up to π/20 of its weight.
    expect(maxRankError(merged, sorted, evaluationGrid(sorted, 500))).toBeLessThan(0.02)
  })

  it('includes points still in the buffer of either digest', () => {
    const a = new TDigest()
    const b = new TDigest()
    a.add(1)
    b.add(2)
    b.add(3)
    a.merge(b)
    expect(a.count).toBe(3)
    expect(a.quantile(0.5)).toBe(2)
  })

  it('rejects arguments that are not digests', () => {
    expect(() => new TDigest().merge({} as TDigest)).toThrow(TypeError)
  })
})

describe('clone', () => {
  it('copies state, including unflushed points, independently', () => {
    const d = new TDigest()
    for (let i = 0; i < 1234; i++) d.add(i)
    const c = d.clone()
    expectSameState(d, c)
    c.add(1e6)
    expect(c.max).toBe(1e6)
    expect(d.max).toBe(1233)
    expect(d.count).toBe(1234)
  })
})

describe('serialization', () => {
  const cases: ReadonlyArray<readonly [string, () => TDigest]> = [
    ['empty', () => new TDigest()],
    ['one point', () => digestOf([42])],
    ['small', () => digestOf([3, 1, 2, 2, 5])],
    [
      '1e5 normal',
      () =>
        digestOf(
          sample(
            100_000,
            (
              (rng) => () =>
                normal(rng)
            )(mulberry32(4)),
          ),
        ),
    ],
    [
      'weighted and fractional',
      () => {
        const d = new TDigest(40)
        const rng = mulberry32(6)
        for (let i = 0; i < 20_000; i++) d.add(normal(rng), 0.5 + rng())
        return d
      },
    ],
  ]

  for (const [name, make] of cases) {
    it(`round-trips through toJSON/fromJSON and JSON text (${name})`, () => {
      const d = make()
      expectSameState(d, TDigest.fromJSON(d.toJSON()))
      const text = JSON.stringify(d)
      expectSameState(d, TDigest.fromJSON(JSON.parse(text) as TDigestJSON))
    })

    it(`round-trips through encode/decode (${name})`, () => {
      const d = make()
      const bytes = d.encode()
      const back = TDigest.decode(bytes)
      expectSameState(d, back)
      expect(back.encode()).toEqual(bytes)
      // A view into a larger buffer at an odd offset decodes the same.
      const padded = new Uint8Array(bytes.length + 3)
      padded.set(bytes, 1)
      expectSameState(d, TDigest.decode(padded.subarray(1, 1 + bytes.length)))
    })
  }

  it('answers the same after a round trip', () => {
    const rng = mulberry32(12)
    const d = digestOf(sample(50_000, () => Math.exp(normal(rng))))
    const back = TDigest.decode(d.encode())
    for (let i = 0; i <= 100; i++) {
      expect(back.quantile(i / 100)).toBe(d.quantile(i / 100))
      expect(back.cdf(i / 10)).toBe(d.cdf(i / 10))
    }
  })

  it('keeps accepting values after a round trip', () => {
    const rng = mulberry32(13)
    const values = sample(20_000, () => normal(rng))
    const restored = TDigest.decode(digestOf(values.subarray(0, 10_000)).encode())
    for (let i = 10_000; i < 20_000; i++) restored.add(values[i]!)
    const sorted = values.slice().sort()
    expect(restored.count).toBe(20_000)
    expect(maxRankError(restored, sorted, evaluationGrid(sorted, 500))).toBeLessThan(RANK_BOUND)
  })

  it('stores integer weights as u32 and others as f64', () => {
    const ints = digestOf(sample(10_000, mulberry32(1)))
    const k = ints.centroids().means.length
    expect(ints.encode().length).toBe(36 + 12 * k)
    const frac = new TDigest()
    frac.add(1, 0.5)
    frac.add(2, 0.5)
    const kf = frac.centroids().means.length
    expect(frac.encode().length).toBe(36 + 16 * kf)
  })

  it('fromJSON rejects malformed input with a TypeError naming the problem', () => {
    const good: TDigestJSON = {
      compression: 100,
      min: 0,
      max: 2,
      means: [0, 1, 2],
      weights: [1, 2, 1],
    }
    expect(TDigest.fromJSON(good).count).toBe(4)
    const bad: Array<[unknown, RegExp]> = [
      [null, /object/],
      [42, /object/],
      [{ ...good, means: 'x' }, /means/],
      [{ ...good, weights: undefined }, /weights/],
      [{ ...good, means: [0, 1] }, /length/],
      [{ ...good, means: [0, Number.NaN, 2] }, /means\[1\]/],
      [{ ...good, means: [0, '1', 2] }, /means\[1\]/],
      [{ ...good, means: [1, 0, 2] }, /sorted/],
      [{ ...good, weights: [1, 0, 1] }, /weights\[1\]/],
      [{ ...good, weights: [1, -2, 1] }, /weights\[1\]/],
      [{ ...good, min: 0.5 }, /outside/],
      [{ ...good, max: 1.5 }, /outside/],
      [{ ...good, min: 3, max: 2 }, /min/],
      [{ ...good, min: null }, /min/],
      [{ ...good, compression: 'big' }, /compression/],
      [{ ...good, compression: 0 }, /compression/],
    ]
    for (const [input, message] of bad) {
      expect(() => TDigest.fromJSON(input as TDigestJSON)).toThrow(TypeError)
      expect(() => TDigest.fromJSON(input as TDigestJSON)).toThrow(message)
    }
  })

  it('decode rejects truncated, padded and garbage input with a TypeError', () => {
    const bytes = digestOf([1, 2, 3, 4, 5, 6]).encode()
    for (let len = 0; len < bytes.length; len++) {
      expect(() => TDigest.decode(bytes.subarray(0, len))).toThrow(TypeError)
    }
    const padded = new Uint8Array(bytes.length + 1)
    padded.set(bytes)
    expect(() => TDigest.decode(padded)).toThrow(/trailing/)

    const corrupt = (at: number, value: number): Uint8Array => {
      const copy = bytes.slice()
      copy[at] = value
      return copy
    }
    expect(() => TDigest.decode(corrupt(0, 0))).toThrow(/magic/)
    expect(() => TDigest.decode(corrupt(4, 9))).toThrow(/version/)
    expect(() => TDigest.decode(corrupt(5, 0x80))).toThrow(/flags/)
    // Count field claims more centroids than the bytes hold.
    expect(() => TDigest.decode(corrupt(32, 200))).toThrow(/truncated/)
    // A NaN mean (exponent all ones, mantissa non-zero) in the first centroid.
    const nan = bytes.slice()
    new DataView(nan.buffer).setFloat64(36, Number.NaN, true)
    expect(() => TDigest.decode(nan)).toThrow(/means\[0\]/)
    expect(() => TDigest.decode('nope' as unknown as Uint8Array)).toThrow(TypeError)

    const rng = mulberry32(3)
    for (let trial = 0; trial < 200; trial++) {
      const junk = new Uint8Array(Math.floor(rng() * 80))
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rng() * 256)
      expect(() => TDigest.decode(junk)).toThrow(TypeError)
    }
  })
})

describe('merging digests full of ties keeps every unit of weight', () => {
  // A merge pass over many short runs of equal values emits more centroids than the digest held
  // before; growing the output mid-pass once dropped the centroids written so far (14 of 500
  // values lost when merging 10 digests of 50 resampled real values, at δ = 300).
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'seed %i: 10 parts of 50 values from 300 distinct ones',
    (seed) => {
      const rng = mulberry32(seed)
      const distinct = Array.from({ length: 300 }, () => Math.exp(2 * normal(rng)))
      const values = Array.from({ length: 500 }, () => distinct[Math.floor(rng() * 300)] as number)
      let whole: TDigest | undefined
      for (let i = 0; i < values.length; i += 50) {
        const part = new TDigest(300)
        for (const v of values.slice(i, i + 50)) part.add(v)
        whole = whole === undefined ? part : whole.merge(part)
      }
      const { means, weights } = (whole as TDigest).centroids()
      let total = 0
      let sum = 0
      for (let c = 0; c < means.length; c++) {
        total += weights[c] as number
        sum += (means[c] as number) * (weights[c] as number)
      }
      expect(total).toBe(500)
      expect((whole as TDigest).count).toBe(500)
      const exactMean = values.reduce((a, b) => a + b, 0) / values.length
      expect(Math.abs(sum / total - exactMean) / exactMean).toBeLessThan(1e-12)
    },
  )
})
