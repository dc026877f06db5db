// Where KS and Wasserstein are exact, and what the sketched paths guarantee. The exact values
// come from the sorted samples (kolmogorovSmirnovStatistic is scipy's statistic, checked against
// scipy in test/unit/core/stats; golden.test.ts checks the exact path against scipy's fixtures).

import { describe, expect, it } from 'vitest'
import { ksStatistic } from '../../../../src/core/drift-tests/ks.js'
import { exactW1, wassersteinDistance } from '../../../../src/core/drift-tests/wasserstein.js'
import { binningFromSorted } from '../../../../src/core/profile/binning.js'
import { layoutOf, createDatasetProfile, addRow } from '../../../../src/core/profile/dataset.js'
import { decodeProfile, encodeProfile, mergeProfiles } from '../../../../src/core/profile/index.js'
import {
  addNumber,
  createNumericalProfile,
  mean,
  std,
  type NumericalProfile,
} from '../../../../src/core/profile/numerical.js'
import {
  decodeBucket,
  encodeBucket,
  windowExactLimit,
} from '../../../../src/core/stream/bucket-codec.js'
import { kolmogorovSmirnovStatistic } from '../../../../src/core/stats/ks-distribution.js'
import { mulberry32, normal } from '../../../helpers/random.js'
import { referenceOf } from '../../../helpers/profiles.js'

function sample(n: number, seed: number, draw: (u: () => number) => number): Float64Array {
  const rng = mulberry32(seed)
  return Float64Array.from({ length: n }, () => draw(rng))
}

function profile(
  values: Float64Array,
  sortedRef: Float64Array,
  exactLimit: number,
): NumericalProfile {
  const p = createNumericalProfile(binningFromSorted(sortedRef), undefined, exactLimit)
  for (const v of values) addNumber(p, v)
  return p
}

const unbounded = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY }

describe('KS with one side exact and the other sketched', () => {
  it('stays close to the exact statistic on integer data with ties (no false alarm)', () => {
    // an age-like column: a snapshot reference (sketched) against an exact current window
    for (let seed = 1; seed <= 5; seed++) {
      const age = (u: () => number): number =>
        Math.round(Math.min(90, Math.max(18, normal(u, 45, 14))))
      const ref = sample(3000, seed, age)
      const cur = sample(2500, seed + 50, age)
      const sorted = ref.slice().sort()
      const reference = profile(ref, sorted, 0)
      const current = profile(cur, sorted, 10_000)
      const exact = kolmogorovSmirnovStatistic(sorted, cur.slice().sort())
      expect(Math.abs(ksStatistic(reference, current) - exact)).toBeLessThan(0.01)
    }
  })
})

describe('sketched Wasserstein', () => {
  it('is never below |mean_cur − mean_ref|, on heavy tails and after merges', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const ref = sample(20_000, seed, (u) => Math.exp(2 * normal(u)))
      const cur = sample(20_000, seed + 1000, (u) => Math.exp(0.02 * seed + 2 * normal(u)))
      const sorted = ref.slice().sort()
      const reference = profile(ref, sorted, 0)
      const current = profile(cur.subarray(0, 5000), sorted, 0)
      for (let part = 1; part < 4; part++)
        mergeProfiles(current, profile(cur.subarray(part * 5000, (part + 1) * 5000), sorted, 0))
      const sketched = wassersteinDistance(reference, current)
      const clamped = reference.binning.range ?? unbounded
      const exact = exactW1(sorted, cur.slice().sort(), {
        lower: Math.max(clamped.lower, Math.min(reference.min, current.min)),
        upper: Math.min(clamped.upper, Math.max(reference.max, current.max)),
      })
      if (current.outOfRange === 0)
        expect(sketched).toBeGreaterThanOrEqual(
          Math.abs(mean(current) - mean(reference)) * (1 - 1e-12),
        )
      expect(Math.abs(sketched - exact) / std(reference)).toBeLessThan(0.01)
    }
  })
})

describe('stream windows keep exact values', () => {
  const values = Array.from(sample(20_000, 3, (u) => normal(u, 5, 2)))
  const reference = referenceOf('x', 'numerical', values)

  it('buckets of at most 1000 values carry them; a window merged from them stays exact', () => {
    const layout = layoutOf(reference)
    const window = createDatasetProfile(layout, { exactLimit: 0 })
    const current = Array.from(sample(8000, 4, (u) => normal(u, 5.3, 2)))
    for (let i = 0; i < current.length; i += 800) {
      const bucket = createDatasetProfile(layout)
      for (const v of current.slice(i, i + 800)) addRow(bucket, { x: v })
      const decoded = decodeBucket(encodeBucket(new Map([['r|v', bucket]])), {
        exactLimit: windowExactLimit,
      }).get('r|v')
      if (decoded === undefined) throw new Error('bucket lost')
      if (i === 0) window.features.set('x', decoded.features.get('x') as NumericalProfile)
      else
        mergeProfiles(
          window.features.get('x') as NumericalProfile,
          decoded.features.get('x') as NumericalProfile,
        )
    }
    const merged = window.features.get('x') as NumericalProfile
    expect(merged.values).not.toBeNull()
    expect(merged.count).toBe(8000)
    const ref = reference.features.get('x') as NumericalProfile
    const exact = kolmogorovSmirnovStatistic(
      Float64Array.from(values).sort(),
      Float64Array.from(current).sort(),
    )
    expect(ksStatistic(ref, merged)).toBe(exact)
  })

  it('a bucket past 1000 values drops them for good, and so does its window', () => {
    const layout = layoutOf(reference)
    const bucket = createDatasetProfile(layout)
    for (const v of values.slice(0, 1001)) addRow(bucket, { x: v })
    expect((bucket.features.get('x') as NumericalProfile).values).toBeNull()
    const json = encodeProfile(bucket.features.get('x') as NumericalProfile)
    expect('values' in json).toBe(false)
  })
})

describe('stored moments', () => {
  it('profiles stored with sum and sumSq (before mean/m2/scale) decode to the same mean and std', () => {
    const values = sample(5000, 9, (u) => normal(u, 100, 7))
    const p = profile(values, values.slice().sort(), 0)
    const json = encodeProfile(p)
    if (json.kind !== 'numerical') throw new Error('numerical expected')
    let sum = 0
    let sumSq = 0
    for (const v of values) {
      sum += v
      sumSq += v * v
    }
    const { mean: _m, m2: _m2, scale: _s, ...rest } = json
    const old = decodeProfile({ ...rest, sum, sumSq }) as NumericalProfile
    expect(mean(old)).toBeCloseTo(mean(p), 9)
    expect(Math.abs(std(old) - std(p)) / std(p)).toBeLessThan(1e-9)
  })
})
