// Calibrated verdicts: the 2 × k chi-square against scipy, minCount, and noise floors that keep a
// no-drift window quiet at any sample size while a real drift still clears them.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { driftSectionSchema, driftSettingsOf } from '../../../../src/config/drift.js'
import { chiSquare } from '../../../../src/core/drift-tests/chi-square.js'
import { chiSquareContingency } from '../../../../src/core/drift-tests/chi-square-contingency.js'
import { jensenShannon } from '../../../../src/core/drift-tests/jensen-shannon.js'
import {
  exponentialTailQuantile,
  NoiseFloors,
  nullDraws,
  sizeBucket,
} from '../../../../src/core/drift-tests/noise-floor.js'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import type { DriftSettings } from '../../../../src/core/drift-tests/thresholds.js'
import { wasserstein } from '../../../../src/core/drift-tests/wasserstein.js'
import { evaluateDrift } from '../../../../src/core/evaluate.js'
import type { DatasetProfile } from '../../../../src/core/profile/dataset.js'
import type { FeatureProfile } from '../../../../src/core/profile/index.js'
import { currentOf, referenceOf } from '../../../helpers/profiles.js'
import { mulberry32, normal, type Rng } from '../../../helpers/random.js'

interface ContingencyCase {
  readonly name: string
  readonly categories: readonly string[]
  readonly reference: readonly number[]
  readonly current: readonly number[]
  readonly golden: { readonly statistic: number; readonly pValue: number; readonly dof: number }
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/contingency/contingency.json', import.meta.url), 'utf8'),
) as { cases: ContingencyCase[] }

const registry = createDefaultRegistry()
const calibrated: DriftSettings = driftSettingsOf(driftSectionSchema.parse({}))
const evidently: DriftSettings = driftSettingsOf(driftSectionSchema.parse({ mode: 'evidently' }))

function expand(categories: readonly string[], counts: readonly number[]): string[] {
  return categories.flatMap((c, i) => Array.from({ length: counts[i] ?? 0 }, () => c))
}

function feature(profile: DatasetProfile): FeatureProfile {
  const f = profile.features.get('x')
  if (f === undefined) throw new Error('no feature x')
  return f
}

/** Zipf shares over k categories named c000…, and a sampler of them. */
function zipfSampler(k: number, rng: Rng, moved = 0): () => string {
  const weights = Array.from({ length: k }, (_, i) => 1 / (i + 1) ** 1.1)
  const total = weights.reduce((a, b) => a + b, 0)
  const shares = weights.map((w) => w / total)
  // a share `moved` taken from category 0 to category 1
  shares[0] = (shares[0] as number) - moved
  shares[1] = (shares[1] as number) + moved
  return () => {
    let u = rng()
    for (let i = 0; i < k; i++) {
      u -= shares[i] as number
      if (u < 0) return `c${String(i).padStart(3, '0')}`
    }
    return `c${String(k - 1).padStart(3, '0')}`
  }
}

describe('chi-square, 2 × k contingency form (calibrated mode) against scipy.chi2_contingency', () => {
  it.each(fixture.cases)('$name', (c) => {
    const reference = referenceOf('x', 'categorical', expand(c.categories, c.reference))
    const current = currentOf(reference, 'x', expand(c.categories, c.current))
    const score = chiSquareContingency.score(feature(reference), feature(current))
    if (score.status !== 'ok') throw new Error(score.reason)
    expect(score.statistic).toBeCloseTo(c.golden.statistic, 9)
    expect(Math.abs((score.pValue as number) - c.golden.pValue)).toBeLessThanOrEqual(
      Math.max(1e-12, 1e-9 * c.golden.pValue),
    )
  })

  it('differs from the goodness-of-fit form, which treats the reference as exact', () => {
    const c = fixture.cases.find((x) => x.name === '150 zipf same') as ContingencyCase
    const reference = referenceOf('x', 'categorical', expand(c.categories, c.reference))
    const current = currentOf(reference, 'x', expand(c.categories, c.current))
    const contingency = chiSquareContingency.score(feature(reference), feature(current))
    const goodnessOfFit = chiSquare.score(feature(reference), feature(current))
    if (contingency.status !== 'ok' || goodnessOfFit.status !== 'ok') throw new Error('no score')
    // equal samples: the goodness-of-fit statistic counts the reference's noise twice over
    expect(goodnessOfFit.statistic).toBeGreaterThan(1.5 * contingency.statistic)
  })

  it('is what a calibrated report shows for chisquare, and the evidently report keeps the old one', () => {
    const c = fixture.cases.find((x) => x.name === 'ten shifted') as ContingencyCase
    const reference = referenceOf('x', 'categorical', expand(c.categories, c.reference))
    const current = currentOf(reference, 'x', expand(c.categories, c.current))
    const withTest = (settings: DriftSettings): DriftSettings => ({
      ...settings,
      global: { test: 'chisquare' },
    })
    const cal = evaluateDrift(reference, current, { registry, settings: withTest(calibrated) })
    const evi = evaluateDrift(reference, current, { registry, settings: withTest(evidently) })
    expect(cal.features[0]?.statistic).toBeCloseTo(c.golden.statistic, 9)
    expect(cal.features[0]?.metrics.chiSquare).toBeCloseTo(c.golden.statistic, 9)
    const old = chiSquare.score(feature(reference), feature(current))
    expect(evi.features[0]?.statistic).toBe(old.status === 'ok' ? old.statistic : NaN)
  })
})

describe('minCount', () => {
  const rng = mulberry32(7)
  const reference = referenceOf(
    'x',
    'numerical',
    Array.from({ length: 2000 }, () => normal(rng)),
  )
  // far off: any test flags it once it is evaluated
  const current = currentOf(
    reference,
    'x',
    Array.from({ length: 20 }, () => normal(rng, 5)),
  )

  it('makes a feature with fewer current values insufficientData: not drifted, not in the share', () => {
    const report = evaluateDrift(reference, current, { registry, settings: calibrated })
    const f = report.features[0]
    expect(report.minCount).toBe(50)
    expect(f?.insufficientData?.reason).toBe('20 current values, fewer than minCount 50')
    expect(f?.drifted).toBe(false)
    expect(report.nInsufficient).toBe(1)
    expect(report.driftShare).toBe(0)
    expect(report.datasetDrift).toBe(false)
  })

  it('is off in evidently mode unless configured, and applies there when it is', () => {
    const off = evaluateDrift(reference, current, { registry, settings: evidently })
    expect(off.minCount).toBe(0)
    expect(off.features[0]?.drifted).toBe(true)
    const on = evaluateDrift(reference, current, {
      registry,
      settings: { ...evidently, minCount: 21 },
    })
    expect(on.features[0]?.insufficientData).toBeDefined()
  })
})

describe('noise floors', () => {
  const rng = mulberry32(11)
  const k = 300
  const draw = zipfSampler(k, rng)
  const reference = referenceOf(
    'x',
    'categorical',
    Array.from({ length: 6400 }, () => draw()),
  )

  it('keep no-drift windows of a 300-category feature quiet, where fixed thresholds flag most', () => {
    const floors = new NoiseFloors()
    let calibratedAlarms = 0
    let evidentlyAlarms = 0
    const windows = 200
    for (let w = 0; w < windows; w++) {
      const current = currentOf(
        reference,
        'x',
        Array.from({ length: 100 }, () => draw()),
      )
      const cal = evaluateDrift(reference, current, { registry, settings: calibrated, floors })
      const evi = evaluateDrift(reference, current, { registry, settings: evidently })
      expect(cal.features[0]?.test).toBe('jensenshannon')
      if (cal.features[0]?.drifted === true) calibratedAlarms++
      if (evi.features[0]?.drifted === true) evidentlyAlarms++
    }
    expect(evidentlyAlarms).toBeGreaterThan(windows / 2)
    expect(calibratedAlarms).toBeLessThanOrEqual(1)
  })

  it('let a real drift through: 20 points of share moved between two categories, 1,000 events', () => {
    const shifted = zipfSampler(k, rng, 0.2 * 0.1)
    const moved = zipfSampler(k, rng, 0.1)
    const quiet = currentOf(
      reference,
      'x',
      Array.from({ length: 1000 }, () => shifted()),
    )
    const loud = currentOf(
      reference,
      'x',
      Array.from({ length: 1000 }, () => moved()),
    )
    const small = evaluateDrift(reference, quiet, { registry, settings: calibrated })
    const real = evaluateDrift(reference, loud, { registry, settings: calibrated })
    expect(small.features[0]?.drifted).toBe(false)
    expect(real.features[0]?.drifted).toBe(true)
    expect(real.features[0]?.statistic).toBeGreaterThan(real.features[0]?.noiseFloor as number)
  })

  it('fall as the window grows, and are the same on every run', () => {
    const ref = feature(reference)
    const at = (n: number): number =>
      new NoiseFloors().floor('x', jensenShannon, ref, n, 1e-3)?.value as number
    expect(at(100)).toBeGreaterThan(at(1000))
    expect(at(1000)).toBeGreaterThan(at(10000))
    expect(at(1000)).toBe(at(1000))
    // a window is scored at its size bucket's lower edge
    expect(sizeBucket(1000)).toBeLessThanOrEqual(1000)
    expect(sizeBucket(1000)).toBeGreaterThan(1000 / 2 ** (1 / 8))
  })

  it('are shown on every calibrated result, on the verdict scale; null in evidently mode', () => {
    const current = currentOf(
      reference,
      'x',
      Array.from({ length: 500 }, () => draw()),
    )
    const cal = evaluateDrift(reference, current, { registry, settings: calibrated })
    expect(cal.mode).toBe('calibrated')
    expect(cal.falseAlarmRate).toBe(0.001)
    expect(cal.features[0]?.noiseFloor).toBeGreaterThan(0)
    expect(cal.features[0]?.falseAlarmRate).toBe(0.001)
    const evi = evaluateDrift(reference, current, { registry, settings: evidently })
    expect(evi.features[0]?.noiseFloor).toBeNull()
    // p-value tests: the floor is the per-feature rate itself, the rate split over the features
    const numeric = referenceOf(
      'x',
      'numerical',
      Array.from({ length: 900 }, () => normal(rng)),
    )
    const ks = evaluateDrift(
      numeric,
      currentOf(
        numeric,
        'x',
        Array.from({ length: 300 }, () => normal(rng)),
      ),
      { registry, settings: calibrated },
    )
    expect(ks.features[0]?.test).toBe('ks')
    expect(ks.features[0]?.noiseFloor).toBe(0.001)
  })

  it('list the floors an evaluation lacks as jobs, which leave the same verdicts as computing inline', () => {
    const numeric = referenceOf(
      'x',
      'numerical',
      Array.from({ length: 2000 }, () => Math.exp(normal(rng))),
    )
    const windows = [300, 3000].map((n) =>
      currentOf(
        numeric,
        'x',
        Array.from({ length: n }, () => Math.exp(normal(rng) + 0.05)),
      ),
    )
    const settings = driftSettingsOf(driftSectionSchema.parse({ test: 'wasserstein' }))
    const floors = new NoiseFloors()
    for (const current of windows) {
      const evaluate = (): ReturnType<typeof evaluateDrift> =>
        evaluateDrift(numeric, current, { registry, settings, floors })
      const jobs = floors.missing(() => void evaluate())
      expect(jobs).toHaveLength(1)
      const started = performance.now()
      for (const job of jobs) job()
      console.log(
        `[calibration] one wasserstein floor at n = ${current.rows}: ${(performance.now() - started).toFixed(0)} ms`,
      )
      expect(floors.missing(() => void evaluate())).toEqual([])
      const inline = evaluateDrift(numeric, current, { registry, settings })
      expect(evaluate().features[0]?.noiseFloor).toBe(inline.features[0]?.noiseFloor)
      expect(evaluate().features[0]?.noiseFloor).toBeGreaterThan(0)
    }
  })

  it('model the tail: the extrapolated floor is exceeded about as often as it should be', () => {
    // the floor extrapolates the default draws' tail to alpha; 10,000 fresh draws count how often it is
    // exceeded (expected 20 at 2e-3) and give the quantile it estimates. An exponential tail is
    // conservative where the statistic is near-Gaussian (JS over hundreds of categories), so the
    // count may fall far below 20 while the floor stays close to the quantile.
    const alpha = 2e-3
    const numeric = referenceOf(
      'x',
      'numerical',
      Array.from({ length: 1000 }, () => Math.exp(2 * normal(rng))),
    )
    for (const [test, ref, n] of [
      [jensenShannon, feature(reference), 300],
      [wasserstein, feature(numeric), 200],
    ] as const) {
      const floor = exponentialTailQuantile(nullDraws('x', test, ref, n) as Float64Array, alpha)
      const many = nullDraws('other seed', test, ref, n, 10_000) as Float64Array
      const exceeded = many.filter((x) => x > floor).length / many.length
      const quantile = many.sort()[Math.ceil((1 - alpha) * many.length) - 1] as number
      expect(exceeded / alpha, test.name).toBeLessThan(2.5)
      expect(floor / quantile, test.name).toBeGreaterThan(0.9)
      expect(floor / quantile, test.name).toBeLessThan(1.3)
    }
  })
})

describe('drift config', () => {
  it('defaults to calibrated mode with a false-alarm rate of 1e-3 per window', () => {
    const section = driftSectionSchema.parse({})
    expect(section.mode).toBe('calibrated')
    expect(section.falseAlarmRate).toBe(0.001)
    expect(section.minCount).toBeUndefined()
  })

  it('names the field of a bad mode, minCount or falseAlarmRate', () => {
    for (const [key, value] of [
      ['mode', 'strict'],
      ['minCount', -1],
      ['falseAlarmRate', 1],
    ] as const) {
      const result = driftSectionSchema.safeParse({ [key]: value })
      expect(result.success).toBe(false)
      expect(result.error?.issues[0]?.path).toEqual([key])
    }
  })
})
