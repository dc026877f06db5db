import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  chi2Sf,
  gammaincc,
  lgamma,
  normalCdf,
  normalSf,
} from '../../../../src/core/stats/special.js'

// Golden values: scipy.stats / scipy.special, written by test/fixtures/stats/generate_special.py
// (scipy / numpy versions are recorded in the JSON).
interface SpecialGolden {
  readonly versions: { readonly scipy: string; readonly numpy: string }
  readonly norm: readonly (readonly [z: number, sf: number, cdf: number])[]
  readonly chi2: readonly (readonly [x: number, df: number, sf: number])[]
  readonly lgamma: readonly (readonly [x: number, value: number])[]
  readonly gammaincc: readonly (readonly [a: number, x: number, q: number])[]
}

const golden = JSON.parse(
  readFileSync(new URL('../../../fixtures/stats/special-golden.json', import.meta.url), 'utf8'),
) as SpecialGolden

// Relative 1e-9 where the reference exceeds 1e-300, absolute 1e-12 below that.
const REL = 1e-9
const TINY = 1e-300
const ABS = 1e-12

function withinTolerance(actual: number, expected: number): boolean {
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return Object.is(actual, expected)
  const diff = Math.abs(actual - expected)
  return Math.abs(expected) < TINY ? diff <= ABS : diff <= REL * Math.abs(expected)
}

interface Outcome {
  readonly input: string
  readonly actual: number
  readonly expected: number
}

// Every case is run; failures are gathered so that one assertion lists them all.
function mismatches<T>(cases: readonly T[], run: (c: T) => Outcome): Outcome[] {
  return cases
    .map(run)
    .filter((r) => !withinTolerance(r.actual, r.expected))
    .slice(0, 20)
}

describe('normalSf / normalCdf against scipy.stats.norm', () => {
  it(`matches norm.sf on ${golden.norm.length} points in [-37.6, 40]`, () => {
    const bad = mismatches(golden.norm, ([z, sf]) => ({
      input: `z=${z}`,
      actual: normalSf(z),
      expected: sf,
    }))
    expect(bad).toEqual([])
  })

  it(`matches norm.cdf on the same points`, () => {
    const bad = mismatches(golden.norm, ([z, , cdf]) => ({
      input: `z=${z}`,
      actual: normalCdf(z),
      expected: cdf,
    }))
    expect(bad).toEqual([])
  })

  it('keeps relative precision in the far tail and underflows where scipy does', () => {
    // scipy: norm.sf(37.6) is subnormal, norm.sf(38) is exactly 0.
    expect(normalSf(37.6)).toBeGreaterThan(0)
    expect(normalSf(38)).toBe(0)
    expect(normalSf(Infinity)).toBe(0)
    expect(normalSf(-Infinity)).toBe(1)
    expect(normalSf(0)).toBe(0.5)
    expect(normalSf(NaN)).toBeNaN()
  })
})

describe('chi2Sf against scipy.stats.chi2.sf', () => {
  it(`matches on ${golden.chi2.length} (x, df) pairs, df 0.5..200, x 1e-3..1e3`, () => {
    const bad = mismatches(golden.chi2, ([x, df, sf]) => ({
      input: `x=${x} df=${df}`,
      actual: chi2Sf(x, df),
      expected: sf,
    }))
    expect(bad).toEqual([])
  })

  it('follows scipy at the edges of the support and for invalid df', () => {
    expect(chi2Sf(0, 3)).toBe(1)
    expect(chi2Sf(-1, 3)).toBe(1)
    expect(chi2Sf(Infinity, 3)).toBe(0)
    expect(chi2Sf(1, 0)).toBeNaN()
    expect(chi2Sf(1, -2)).toBeNaN()
    expect(chi2Sf(NaN, 2)).toBeNaN()
    // df = 2 is an exponential: sf = exp(-x/2).
    expect(chi2Sf(3, 2)).toBeCloseTo(Math.exp(-1.5), 15)
  })
})

describe('gammaincc against scipy.special.gammaincc', () => {
  it(`matches on ${golden.gammaincc.length} (a, x) pairs incl. small a and small x`, () => {
    const bad = mismatches(golden.gammaincc, ([a, x, q]) => ({
      input: `a=${a} x=${x}`,
      actual: gammaincc(a, x),
      expected: q,
    }))
    expect(bad).toEqual([])
  })
})

describe('lgamma against scipy.special.gammaln', () => {
  it(`matches on ${golden.lgamma.length} points incl. near 1, 2 and negative x`, () => {
    const bad = mismatches(golden.lgamma, ([x, v]) => ({
      input: `x=${x}`,
      actual: lgamma(x),
      expected: v,
    }))
    expect(bad).toEqual([])
  })

  it('is exactly 0 at 1 and 2 and +Infinity at the poles', () => {
    expect(lgamma(1)).toBe(0)
    expect(lgamma(2)).toBe(0)
    expect(lgamma(0)).toBe(Infinity)
    expect(lgamma(-3)).toBe(Infinity)
  })
})
