// One event cannot flip the verdict of a window of thousands: for every drift test that applies
// to numerical features, a window of n >= 1000 values drawn from the reference's distribution
// (or from a clearly shifted one) keeps its verdict and severity when one arbitrary finite value
// is added, however extreme (up to ±Number.MAX_VALUE). Windows whose statistic sits near a
// threshold are skipped: there one value may legitimately tip the balance.
//
// And the moments cannot overflow: the report's std stays finite and close to the true one.

import { describe, expect, it } from 'vitest'
import { createDefaultRegistry, verdict } from '../../../../src/core/drift-tests/registry.js'
import type { DriftTest, TestScore } from '../../../../src/core/drift-tests/types.js'
import { evaluateDrift } from '../../../../src/core/evaluate.js'
import {
  addRow,
  createDatasetProfile,
  layoutOf,
  mergeDatasets,
  type CellValue,
  type DatasetProfile,
} from '../../../../src/core/profile/dataset.js'
import { mulberry32, normal, type Rng } from '../../../helpers/random.js'
import { currentOf, referenceOf } from '../../../helpers/profiles.js'

const registry = createDefaultRegistry()
const numericalTests = registry
  .names()
  .map((name) => registry.get(name))
  .filter((test) => test.featureKinds.includes('numerical'))

const distributions: ReadonlyArray<{ name: string; draw: (rng: Rng, shift: number) => number }> = [
  { name: 'normal', draw: (rng, shift) => normal(rng, 10 + shift, 3) },
  { name: 'uniform', draw: (rng, shift) => rng() * 4 + shift * (4 / Math.sqrt(12)) },
  { name: 'lognormal(0, 1)', draw: (rng, shift) => Math.exp(normal(rng, shift, 1)) },
]

const extremes = [Number.MAX_VALUE, -Number.MAX_VALUE, 1e308, -1e308, 1e300, 1e12, -1e12, 1e-300, 0]

function sample(draw: (rng: Rng, shift: number) => number, n: number, seed: number, shift = 0) {
  const rng = mulberry32(seed)
  return Array.from({ length: n }, () => draw(rng, shift))
}

/** True when the score is clearly on one side of both of the test's cut points. */
function clearOfThresholds(test: DriftTest, score: TestScore): boolean {
  if (score.status !== 'ok') return true
  const away = (x: number, cut: number, factor: number): boolean =>
    x < cut / factor || x > cut * factor
  if (test.scoreKind === 'pValue') {
    const p = score.pValue ?? 1
    if (!away(p, test.defaults.threshold, 4)) return false
    if (test.severityOn === 'statistic')
      return away(Math.abs(score.statistic), test.defaults.critical, 1.25)
    return away(p, test.defaults.critical, 4)
  }
  return (
    away(score.statistic, test.defaults.threshold, 1.5) &&
    away(score.statistic, test.defaults.critical, 1.5)
  )
}

function scoreOf(test: DriftTest, reference: DatasetProfile, current: DatasetProfile) {
  const ref = reference.features.get('x')
  const cur = current.features.get('x')
  if (ref === undefined || cur === undefined) throw new Error('no profile')
  const score = test.score(ref, cur)
  return { score, verdict: verdict(test, score, test.defaults.threshold, test.defaults.critical) }
}

describe.each(distributions)('one extreme value in a window of $name values', ({ draw }) => {
  const reference = referenceOf('x', 'numerical', sample(draw, 5000, 1))
  // windows of 1,000 and 3,000, unshifted and shifted by 1.5 sd; 3,000 is past the exact-values
  // limit of stream windows, so the sketched path is covered too
  const windows = [1000, 3000].flatMap((n) =>
    [0, 1.5].map((shift) => ({ n, shift, values: sample(draw, n, 100 + n + shift * 10, shift) })),
  )

  it.each(numericalTests.map((t) => t.name))('%s keeps its verdict', (name) => {
    const test = registry.get(name)
    let checked = 0
    for (const window of windows) {
      // the stream's way (a profile of at most 1000 kept values) and the file's way
      for (const build of ['stream', 'file'] as const) {
        const base = buildCurrent(reference, window.values, build)
        const before = scoreOf(test, reference, base)
        if (!clearOfThresholds(test, before.score)) continue
        for (const extreme of extremes) {
          const after = scoreOf(
            test,
            reference,
            buildCurrent(reference, [...window.values, extreme], build),
          )
          expect(
            after.verdict,
            `${name}, n = ${window.n}, shift ${window.shift}, ${build}, + ${extreme}: ` +
              `${JSON.stringify(before.score)} → ${JSON.stringify(after.score)}`,
          ).toEqual(before.verdict)
          checked++
        }
      }
    }
    // continuous data: the small-value tests (chisquare, z) do not apply and say so
    if (test.name !== 'chisquare' && test.name !== 'z') expect(checked).toBeGreaterThan(0)
  })
})

/** A current profile the stream's way (500-value buckets, merged) or the file's way. */
function buildCurrent(
  reference: DatasetProfile,
  values: readonly CellValue[],
  build: 'stream' | 'file',
): DatasetProfile {
  if (build === 'file') return currentOf(reference, 'x', values)
  const window = createDatasetProfile(layoutOf(reference))
  for (let i = 0; i < values.length; i += 500) {
    // createDatasetProfile's default exact limit, as the stream's bucket profiles use
    const bucket = createDatasetProfile(layoutOf(reference))
    for (const value of values.slice(i, i + 500)) addRow(bucket, { x: value })
    mergeDatasets(window, bucket)
  }
  return window
}

describe('moments cannot overflow', () => {
  const rng = mulberry32(5)
  const values = Array.from({ length: 140 }, () => normal(rng, 50, 5))
  const reference = referenceOf('x', 'numerical', values)

  it.each([1e308, -1e308, Number.MAX_VALUE])(
    'one value of %d among 140 gives a finite std and mean',
    (extreme) => {
      const current = currentOf(reference, 'x', [...values.slice(1), extreme])
      const report = evaluateDrift(reference, current, {
        registry,
        settings: { driftShare: 0.5 },
      })
      const m = report.features[0]?.metrics
      expect(m?.std).toBeTypeOf('number')
      expect(Number.isFinite(m?.std)).toBe(true)
      // population std of 139 values near 50 and one at x: ≈ |x| · sqrt(139) / 140
      const expected = (Math.abs(extreme) / 140) * Math.sqrt(139)
      expect(Math.abs((m?.std as number) - expected) / expected).toBeLessThan(1e-9)
      expect(m?.mean).toBeCloseTo(extreme / 140, -300)
      expect(m?.outOfRangeCount).toBe(1)
      expect(m?.outOfRangeShare).toBeCloseTo(1 / 140, 12)
    },
  )

  it('values opposite in sign at the ends of the double range', () => {
    const current = currentOf(reference, 'x', [Number.MAX_VALUE, -Number.MAX_VALUE])
    const report = evaluateDrift(reference, current, { registry, settings: { driftShare: 0.5 } })
    const m = report.features[0]?.metrics
    expect(m?.mean).toBe(0)
    expect(m?.std).toBe(Number.MAX_VALUE)
  })
})
