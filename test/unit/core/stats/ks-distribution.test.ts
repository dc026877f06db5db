import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  kolmogorovSmirnovStatistic,
  ks2SampPValue,
  kstwoSf,
  smirnovSf,
} from '../../../../src/core/stats/ks-distribution.js'

// Golden values written by test/fixtures/stats/generate_special.py (scipy version in the JSON):
//  ks_samples: scipy.stats.ks_2samp(x, y, 'two-sided', method='auto') on
//              x = (arange(n1) + 0.5) / n1, y = (arange(n2) + 0.5) / n2 + shift, rebuilt here
//              with the same floating-point operations.
//  ks_grid:    the same ks_2samp code path from a given D (scipy's _attempt_exact_2kssamp and
//              kstwo.sf), checked by the generator against ks_2samp on every ks_samples case.
type Method = 'exact' | 'asymp'
interface KsGolden {
  readonly smirnov: readonly (readonly [n: number, x: number, sf: number])[]
  readonly kstwo: readonly (readonly [d: number, n: number, sf: number])[]
  readonly ks_samples: readonly (readonly [
    n1: number,
    n2: number,
    shift: number,
    dRaw: number,
    statistic: number,
    pvalue: number,
    method: Method,
  ])[]
  readonly ks_grid: readonly (readonly [d: number, n1: number, n2: number, p: number, m: Method])[]
  readonly ks_ties: readonly {
    readonly x: readonly number[]
    readonly y: readonly number[]
    readonly d_raw: number
    readonly pvalue: number
    readonly method: Method
  }[]
}

const golden = JSON.parse(
  readFileSync(new URL('../../../fixtures/stats/special-golden.json', import.meta.url), 'utf8'),
) as KsGolden

// KS p-values: relative 1e-6, absolute 1e-10 once p < 1e-10.
const REL = 1e-6
const TINY = 1e-10
const ABS = 1e-10

function withinTolerance(actual: number, expected: number): boolean {
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return Object.is(actual, expected)
  const diff = Math.abs(actual - expected)
  return Math.abs(expected) < TINY ? diff <= ABS : diff <= REL * Math.abs(expected)
}

interface Outcome {
  readonly input: string
  readonly actual: number
  readonly expected: number
  readonly methodOk?: boolean
}

// Every case is run; failures are gathered so that one assertion lists them all.
function mismatches<T>(cases: readonly T[], run: (c: T) => Outcome): Outcome[] {
  return cases
    .map(run)
    .filter((r) => r.methodOk === false || !withinTolerance(r.actual, r.expected))
    .slice(0, 20)
}

function evenGrid(n: number, shift: number): Float64Array {
  const a = new Float64Array(n)
  for (let i = 0; i < n; i++) a[i] = (i + 0.5) / n + shift
  return a
}

describe('ks2SampPValue against scipy.stats.ks_2samp (two-sided, auto)', () => {
  const samples = golden.ks_samples

  it(`reproduces ks_2samp's statistic and p-value on ${samples.length} constructed sample pairs`, () => {
    const grids = new Map<string, Float64Array>()
    const grid = (n: number, shift: number): Float64Array => {
      const key = `${n}:${shift}`
      let g = grids.get(key)
      if (g === undefined) {
        g = evenGrid(n, shift)
        if (shift === 0) grids.set(key, g)
      }
      return g
    }
    const bad = mismatches(samples, ([n1, n2, shift, dRaw, , pvalue, method]) => {
      const d = kolmogorovSmirnovStatistic(grid(n1, 0), grid(n2, shift))
      const r = ks2SampPValue(d, n1, n2)
      return {
        input: `n1=${n1} n2=${n2} shift=${shift} D=${d} (scipy ${dRaw}) ${r.method}`,
        actual: r.pValue,
        expected: pvalue,
        methodOk: r.method === method && d === dRaw,
      }
    })
    expect(bad).toEqual([])
  })

  it('gives the same p-value for the lattice-rounded statistic ks_2samp reports', () => {
    // Only where the rounding moved D: elsewhere this repeats the previous test.
    const rounded = samples.filter(([, , , dRaw, statistic]) => statistic !== dRaw)
    expect(rounded.length).toBeGreaterThan(0)
    const bad = mismatches(rounded, ([n1, n2, shift, , statistic, pvalue, method]) => {
      const r = ks2SampPValue(statistic, n1, n2)
      return {
        input: `n1=${n1} n2=${n2} shift=${shift} D=${statistic}`,
        actual: r.pValue,
        expected: pvalue,
        methodOk: r.method === method,
      }
    })
    expect(bad).toEqual([])
  })

  it(`matches on ${golden.ks_grid.length} (D, n1, n2) grid points, D from 0 to 1`, () => {
    const bad = mismatches(golden.ks_grid, ([d, n1, n2, p, method]) => {
      const r = ks2SampPValue(d, n1, n2)
      return {
        input: `D=${d} n1=${n1} n2=${n2} ${r.method}`,
        actual: r.pValue,
        expected: p,
        methodOk: r.method === method,
      }
    })
    expect(bad).toEqual([])
  })

  it("covers both methods and scipy's fallback from a failed exact computation", () => {
    const methods = golden.ks_grid.map(([, n1, n2, , m]) => [Math.max(n1, n2) <= 10000, m])
    expect(methods.some(([small, m]) => small === true && m === 'exact')).toBe(true)
    expect(methods.some(([small, m]) => small === false && m === 'asymp')).toBe(true)
    expect(methods.some(([small, m]) => small === true && m === 'asymp')).toBe(true)
    // n1 == n2 == 5, D = 1/5: the Horner sum rounds to 1 + 2^-52, scipy retries with kstwo.
    expect(ks2SampPValue(0.2, 5, 5)).toEqual({ pValue: 1, method: 'asymp' })
  })

  it('is symmetric in the two sample sizes', () => {
    for (const [d, n1, n2] of [
      [0.3, 7, 3],
      [0.05, 999, 5000],
      [0.02, 12345, 67890],
    ] as const) {
      expect(ks2SampPValue(d, n1, n2)).toEqual(ks2SampPValue(d, n2, n1))
    }
  })

  it('rejects invalid sizes and statistics, and propagates NaN', () => {
    expect(() => ks2SampPValue(0.1, 0, 5)).toThrow(RangeError)
    expect(() => ks2SampPValue(0.1, 5, 2.5)).toThrow(RangeError)
    expect(() => ks2SampPValue(-0.1, 5, 5)).toThrow(RangeError)
    expect(() => ks2SampPValue(1.5, 5, 5)).toThrow(RangeError)
    expect(ks2SampPValue(NaN, 5, 5).pValue).toBeNaN()
  })
})

describe('kolmogorovSmirnovStatistic (scipy ks_2samp statistic)', () => {
  it('matches ks_2samp on integer samples with many ties', () => {
    for (const c of golden.ks_ties) {
      const d = kolmogorovSmirnovStatistic(Float64Array.from(c.x), Float64Array.from(c.y))
      expect(d).toBe(c.d_raw)
      const r = ks2SampPValue(d, c.x.length, c.y.length)
      expect(withinTolerance(r.pValue, c.pvalue)).toBe(true)
      expect(r.method).toBe(c.method)
    }
  })

  it('is 0 for identical samples, 1 for disjoint ones, NaN with NaN, and rejects empty input', () => {
    const a = Float64Array.from([1, 2, 2, 3])
    expect(kolmogorovSmirnovStatistic(a, a)).toBe(0)
    expect(kolmogorovSmirnovStatistic(a, Float64Array.from([4, 5]))).toBe(1)
    expect(kolmogorovSmirnovStatistic(Float64Array.from([4, 5]), a)).toBe(1)
    expect(kolmogorovSmirnovStatistic(a, Float64Array.from([1, NaN]))).toBeNaN()
    expect(() => kolmogorovSmirnovStatistic(a, new Float64Array(0))).toThrow(RangeError)
  })
})

describe('kstwoSf against scipy.stats.kstwo.sf', () => {
  it(`matches on ${golden.kstwo.length} (D, n) points across every kolmogn regime`, () => {
    const bad = mismatches(golden.kstwo, ([d, n, sf]) => ({
      input: `D=${d} n=${n}`,
      actual: kstwoSf(d, n),
      expected: sf,
    }))
    expect(bad).toEqual([])
  })
})

describe('smirnovSf against scipy.special.smirnov', () => {
  it(`matches on ${golden.smirnov.length} (n, x) points, n up to 1e6`, () => {
    const bad = mismatches(golden.smirnov, ([n, x, sf]) => ({
      input: `n=${n} x=${x}`,
      actual: smirnovSf(n, x),
      expected: sf,
    }))
    expect(bad).toEqual([])
  })
})
