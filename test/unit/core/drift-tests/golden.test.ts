// Our statistics against scipy and Evidently on committed fixtures
// (test/fixtures/drift/generate.py made them; its README gives the definitions and versions).
// Every pair is checked twice: profiles built straight from the raw values, and profiles that
// went through JSON and were merged from four chunks, as the stream builds them.

import { readFileSync } from 'node:fs'
import { describe, expect, it as vitestIt } from 'vitest'
import { autoTest } from '../../../../src/core/drift-tests/auto.js'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import { evaluateDrift } from '../../../../src/core/evaluate.js'
import {
  mergeDatasets,
  type CellValue,
  type DatasetProfile,
} from '../../../../src/core/profile/dataset.js'
import { decodeProfile, encodeProfile } from '../../../../src/core/profile/index.js'
import { chunkedCurrentOf, currentOf, referenceOf } from '../../../helpers/profiles.js'

interface Golden {
  readonly [metric: string]: unknown
  readonly evidently: {
    readonly autoTest: string
    readonly autoDrifted: boolean
    readonly autoScore: number
  }
}
interface Pair {
  readonly name: string
  readonly kind: 'numerical' | 'categorical'
  readonly reference: readonly (number | string | null)[]
  readonly current: readonly (number | string | null)[]
  readonly golden: Golden
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/drift/pairs.json', import.meta.url), 'utf8'),
) as {
  pairs: Pair[]
}
const registry = createDefaultRegistry()

/**
 * Where we knowingly differ from the generator, per pair and metric, with the reason. A column
 * holding one value on both sides has no degrees of freedom: scipy's chi-square and Evidently's
 * z-test return NaN (and Evidently reads NaN as "not drifted"); we report p = 1, the same verdict
 * said as a number a threshold can compare.
 */
const departures: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  constant_same: { chiSquarePValue: 1, zPValue: 1 },
}

function cells(pair: Pair, values: readonly (number | string | null)[]): CellValue[] {
  if (pair.kind === 'categorical') return [...values]
  return values.map((v) =>
    v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
  )
}

function throughJson(profile: DatasetProfile): DatasetProfile {
  const features = new Map(
    [...profile.features].map(([n, p]) => [
      n,
      decodeProfile(JSON.parse(JSON.stringify(encodeProfile(p)))),
    ]),
  )
  return { rows: profile.rows, features }
}

const paths = ['raw', 'serialized and merged'] as const

describe.each(fixture.pairs)('$name ($kind)', (pair) => {
  const refValues = cells(pair, pair.reference)
  const curValues = cells(pair, pair.current)
  const golden = pair.golden

  describe.each(paths)('%s', (path) => {
    const direct = referenceOf('x', pair.kind, refValues)
    const reference = path === 'raw' ? direct : throughJson(direct)
    const current =
      path === 'raw'
        ? currentOf(reference, 'x', curValues)
        : chunkedCurrentOf(reference, 'x', curValues, 4)
            .map(throughJson)
            .reduce((a, b) => mergeDatasets(a, b))
    // Evidently's verdicts, exactly: the compatible mode (calibrated verdicts are tested elsewhere)
    const report = evaluateDrift(reference, current, {
      registry,
      settings: { driftShare: 0.5, mode: 'evidently' },
    })
    const feature = report.features[0]
    if (feature === undefined) throw new Error('no feature evaluated')
    const m = feature.metrics as unknown as Record<string, number | undefined>

    // Every golden shape asserts something: a number is compared within the tolerance; a
    // non-finite golden ('NaN', 'Infinity', or null where the generator had no finite value)
    // means ours must be absent too (reports drop non-finite metrics); a metric the generator
    // did not compute for this pair (e.g. chi-square on a column with more than 5 values) must
    // be absent from ours as well. Any other shape is a broken fixture and fails loudly.
    const near = (
      metric: string,
      actual: number | undefined,
      tolerance: { abs?: number; rel?: number },
    ): void => {
      const departure = departures[pair.name]?.[metric]
      if (departure !== undefined) {
        expect(actual, `${metric}: documented departure from the golden value`).toBe(departure)
        return
      }
      const expected = golden[metric]
      if (expected === undefined) {
        expect(actual, `${metric}: no golden value, so ours must be absent`).toBeUndefined()
        return
      }
      if (
        expected === null ||
        expected === 'NaN' ||
        expected === 'Infinity' ||
        expected === '-Infinity'
      ) {
        expect(
          actual === undefined || Number.isNaN(actual),
          `${metric}: golden ${String(expected)}, ours ${actual}`,
        ).toBe(true)
        return
      }
      if (typeof expected !== 'number') {
        throw new Error(
          `golden ${metric} of ${pair.name} has an unexpected shape: ${JSON.stringify(expected)}`,
        )
      }
      expect(actual, `${metric} missing`).toBeTypeOf('number')
      const bound = Math.max(tolerance.abs ?? 0, (tolerance.rel ?? 0) * Math.abs(expected))
      expect(
        Math.abs((actual as number) - expected),
        `${metric}: ours ${actual}, scipy ${expected}`,
      ).toBeLessThanOrEqual(bound)
    }

    // Each case must assert at least once: a golden case that checks nothing is a silent pass.
    const it = (name: string, body: () => void): void => {
      vitestIt(name, () => {
        expect.hasAssertions()
        body()
      })
    }

    it('PSI within 0.005 (exact bins: 1e-9)', () => near('psi', m.psi, { abs: 1e-9 }))
    it('binned distances (JS, KL, Hellinger) exact', () => {
      near('jensenShannon', m.jensenShannon, { abs: 1e-9 })
      near('klDiv', m.klDiv, { abs: 1e-9 })
      near('hellinger', m.hellinger, { abs: 1e-9 })
    })
    it('chi-square within 2 % relative', () => {
      if (golden.chiSquareInfinite === true) {
        expect(m.chiSquarePValue).toBe(0)
        return
      }
      near('chiSquare', m.chiSquare, { rel: 0.02, abs: 1e-9 })
      near('chiSquarePValue', m.chiSquarePValue, { rel: 0.02, abs: 1e-9 })
    })
    it('z-test p-value within 1e-9 (two-valued columns only)', () =>
      near('zPValue', m.zPValue, { rel: 1e-9, abs: 1e-12 }))
    if (pair.kind === 'numerical') {
      it('KS statistic within 0.01, p-value consistent', () => {
        near('ks', m.ks, { abs: 0.01 })
        near('ksPValue', m.ksPValue, { abs: 0.02, rel: 0.25 })
      })
      if (path === 'raw') {
        // Both sides keep their values (as `driftwatch check` does up to the reference's
        // in-memory limit): KS and Wasserstein are scipy's, to rounding.
        it('exact on files: KS statistic, p-value and Wasserstein equal scipy', () => {
          near('ks', m.ks, { abs: 1e-12 })
          near('ksPValue', m.ksPValue, { rel: 1e-6, abs: 1e-12 })
          // Values far outside the reference (> 10 sd beyond its extremes) are counted apart and
          // sit on that bound for Wasserstein: then, and only then, it differs from scipy's
          // (heavy_tails_student_t: 1 value, W1 1.5 % lower).
          if (m.outOfRangeCount !== 0) return
          near('wasserstein', m.wasserstein, { rel: 1e-9, abs: 1e-12 })
          near('wassersteinNormed', m.wassersteinNormed, { rel: 1e-9, abs: 1e-12 })
        })
      }
      it('Wasserstein (raw and normed) within 2 % relative', () => {
        near('wasserstein', m.wasserstein, { rel: 0.02, abs: 1e-9 })
        near('wassersteinNormed', m.wassersteinNormed, { rel: 0.02, abs: 1e-9 })
      })
      it('moments and quantiles', () => {
        near('mean', m.mean, { rel: 1e-9, abs: 1e-9 })
        near('std', m.std, { rel: 1e-6, abs: 1e-9 })
        // A sketch's median is a rank estimate: check its rank in the raw data, not its value
        // (numpy interpolates between the two middle values of a tiny sample; a digest picks one).
        const finite = curValues.filter(
          (v): v is number => typeof v === 'number' && Number.isFinite(v),
        )
        const p50 = m.p50 as number
        const tolerance = 1 / finite.length + 0.01
        expect(finite.filter((v) => v < p50).length / finite.length).toBeLessThanOrEqual(
          0.5 + tolerance,
        )
        expect(finite.filter((v) => v <= p50).length / finite.length).toBeGreaterThanOrEqual(
          0.5 - tolerance,
        )
      })
    }
    it('shares of missing and non-finite values', () => {
      near('missingShare', m.missingShare, { abs: 1e-12 })
      if (pair.kind === 'numerical') near('nonFiniteShare', m.nonFiniteShare, { abs: 1e-12 })
    })
    it("chooses Evidently's test and reaches Evidently's verdict", () => {
      const ref = reference.features.get('x')
      const cur = current.features.get('x')
      if (ref === undefined || cur === undefined) throw new Error('missing profile')
      expect(autoTest(ref, cur)).toBe(golden.evidently.autoTest)
      expect(feature.test).toBe(golden.evidently.autoTest)
      expect(feature.drifted).toBe(golden.evidently.autoDrifted)
    })
  })
})
