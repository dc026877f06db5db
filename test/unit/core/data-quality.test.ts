// Data-quality findings per feature and their summary: each rule of core/data-quality.ts on
// profiles built the way `check` and the stream build them.

import { describe, expect, it } from 'vitest'
import {
  assessFeatureQuality,
  assessVolume,
  referenceRate,
  withVolume,
} from '../../../src/core/data-quality.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { evaluateDrift } from '../../../src/core/evaluate.js'
import type { CellValue } from '../../../src/core/profile/dataset.js'
import { decodeProfile, encodeProfile } from '../../../src/core/profile/index.js'
import type { FeatureMetrics } from '../../../src/core/report.js'
import { currentOf, referenceOf } from '../../helpers/profiles.js'
import { mulberry32, normal } from '../../helpers/random.js'

const registry = createDefaultRegistry()

function normals(n: number, seed: number): number[] {
  const rng = mulberry32(seed)
  return Array.from({ length: n }, () => normal(rng))
}

/** `share` of the rows missing (null), spread evenly. */
function withMissing(values: readonly CellValue[], share: number): CellValue[] {
  const every = share === 0 ? Infinity : 1 / share
  let next = 0
  return values.map((v, i) => {
    if (i >= next) {
      next += every
      return null
    }
    return v
  })
}

function evaluate(kind: 'numerical' | 'categorical', ref: CellValue[], cur: CellValue[]) {
  const reference = referenceOf('x', kind, ref)
  const current = currentOf(reference, 'x', cur)
  const report = evaluateDrift(reference, current, { registry, settings: { driftShare: 0.5 } })
  const feature = report.features[0]
  if (feature === undefined) throw new Error('no feature')
  return { report, feature, quality: feature.dataQuality }
}

describe('missing share increase (users’ table: +5 warning, +10 critical)', () => {
  const ref = normals(2000, 1)
  it.each([
    [0, 'ok'],
    [0.04, 'ok'],
    [0.05, 'warning'],
    [0.09, 'warning'],
    [0.1, 'critical'],
    [0.61, 'critical'],
  ] as const)('0 %% → %s missing is %s', (share, severity) => {
    const cur = withMissing(normals(2000, 2), share)
    const { quality, report } = evaluate('numerical', ref, cur)
    expect(quality?.severity).toBe(severity)
    expect(report.dataQuality?.severity).toBe(severity)
    if (severity !== 'ok') {
      expect(quality?.findings.map((f) => f.check)).toEqual(['missingShare'])
      expect(quality?.findings[0]?.value).toBeCloseTo(share, 3)
    }
  })

  it('judges the increase in points, not the level', () => {
    // 20 % → 24 % is +4 points: ok, although 24 % is well above 10 %
    const { quality } = evaluate(
      'categorical',
      withMissing(
        Array.from({ length: 1000 }, (_, i) => `c${i % 7}`),
        0.2,
      ),
      withMissing(
        Array.from({ length: 1000 }, (_, i) => `c${i % 7}`),
        0.24,
      ),
    )
    expect(quality?.severity).toBe('ok')
  })
})

describe('emptied and retyped columns are findings, never ok', () => {
  it('a current column with no value is critical, and so is the dataset', () => {
    const { quality, report, feature } = evaluate(
      'numerical',
      normals(500, 3),
      Array.from({ length: 100 }, () => null),
    )
    expect(feature.insufficientData).toBeDefined()
    expect(quality?.severity).toBe('critical')
    expect(quality?.findings.map((f) => f.check)).toEqual(['emptyColumn'])
    // Every cell missing, and a critical window is a data-quality incident.
    expect(report.dataQuality).toEqual({
      severity: 'critical',
      nWarning: 0,
      nCritical: 1,
      missingShare: 1,
      incident: true,
    })
  })

  it('a categorical column emptied in current is critical', () => {
    const { quality } = evaluate('categorical', ['a', 'b', 'a', 'c'], [null, null, null])
    expect(quality?.findings.map((f) => [f.check, f.severity])).toEqual([
      ['emptyColumn', 'critical'],
    ])
  })

  it('a reference column with no value is a warning (drift cannot be judged)', () => {
    const { quality } = evaluate('categorical', [null, null, null, null], ['a', 'b'])
    expect(quality?.findings.map((f) => [f.check, f.severity])).toEqual([
      ['emptyColumn', 'warning'],
    ])
  })

  it('numbers that turned to text are a type change, counted once', () => {
    // the numbers left stay inside the reference's range (an index would be far outside it: a
    // finding of its own)
    const cur: CellValue[] = Array.from({ length: 300 }, (_, i) =>
      i % 5 === 0 ? (i % 3) - 1 : `id-${i}`,
    )
    const { quality, feature } = evaluate('numerical', normals(500, 4), cur)
    expect(feature.metrics.missingShare).toBeCloseTo(0.8, 12)
    expect(quality?.severity).toBe('critical')
    expect(quality?.findings.map((f) => f.check)).toEqual(['typeChanged'])
    expect(quality?.findings[0]?.value).toBeCloseTo(0.8, 12)
    expect(quality?.findings[0]?.reason).toMatch(/type changed: 80 % of present values/)
  })

  it('a few text values are missing data, and the finding says how many are text', () => {
    const cur: CellValue[] = normals(1000, 5).map((v, i) => (i % 10 === 0 ? 'oops' : v))
    const { quality } = evaluate('numerical', normals(1000, 6), cur)
    expect(quality?.findings.map((f) => [f.check, f.severity])).toEqual([
      ['missingShare', 'critical'],
    ])
    expect(quality?.findings[0]?.reason).toMatch(/100 of them are values of another type/)
  })

  it('the count of text values survives JSON and merging, as stream buckets do', () => {
    const reference = referenceOf('x', 'numerical', normals(100, 7))
    const a = currentOf(reference, 'x', ['t', 1, 't'])
    const b = currentOf(reference, 'x', [true, 2])
    const pa = a.features.get('x')
    const pb = b.features.get('x')
    if (pa?.kind !== 'numerical' || pb?.kind !== 'numerical') throw new Error('kind')
    const decoded = decodeProfile(JSON.parse(JSON.stringify(encodeProfile(pa))))
    if (decoded.kind !== 'numerical') throw new Error('kind')
    expect(decoded.mismatched).toBe(2)
    expect(decoded.missing).toBe(2)
    // typed data keeps its encoded shape
    expect('mismatched' in encodeProfile(reference.features.get('x')!)).toBe(false)
  })
})

describe('values outside the reference range, when measured', () => {
  const reference = referenceOf('x', 'numerical', [1, 2, 3])
  const profile = reference.features.get('x')!
  const base: FeatureMetrics = { missingShare: 0, referenceMissingShare: 0 }
  it.each([
    [0.01, 'ok'],
    [0.05, 'warning'],
    [0.2, 'critical'],
  ] as const)('outOfRangeShare %s is %s', (share, severity) => {
    const metrics = { ...base, outOfRangeShare: share } as FeatureMetrics
    expect(assessFeatureQuality(profile, profile, metrics).severity).toBe(severity)
  })
  it('is no finding when the profile does not measure it', () => {
    expect(assessFeatureQuality(profile, profile, base)).toEqual({ severity: 'ok', findings: [] })
  })
})

describe('categories the reference never saw', () => {
  const ref = Array.from({ length: 1000 }, (_, i) => ['a', 'b', 'c'][i % 3] as string)
  const withUnseen = (share: number): CellValue[] =>
    Array.from({ length: 1000 }, (_, i) => (i < share * 1000 ? `new-${i % 7}` : (ref[i] ?? 'a')))

  it('under 10 % of values: no finding (a new market or device is for the drift tests)', () => {
    expect(evaluate('categorical', ref, withUnseen(0.09)).quality?.findings).toEqual([])
  })

  it('10 % is a warning, 30 % critical, with the share and the number of categories', () => {
    const warning = evaluate('categorical', ref, withUnseen(0.1)).quality
    expect(warning?.severity).toBe('warning')
    expect(warning?.findings[0]).toMatchObject({
      check: 'unseenCategory',
      severity: 'warning',
      reason: '10 % of values in 7 categories the reference never saw',
    })
    expect(warning?.findings[0]?.value).toBeCloseTo(0.1, 12)
    const critical = evaluate('categorical', ref, withUnseen(0.3)).quality
    expect(critical?.findings.map((f) => [f.check, f.severity])).toEqual([
      ['unseenCategory', 'critical'],
    ])
  })
})

describe('event volume against the reference rate', () => {
  const hour = 3_600_000
  const rate = { perHour: 1000, source: 'config' } as const

  it('no rate, no check', () => {
    expect(assessVolume(10, hour, null)).toBeNull()
  })

  it.each([
    [1000, 'ok'],
    [500, 'ok'],
    [499, 'warning'],
    [2000, 'ok'],
    [2001, 'warning'],
    [200, 'warning'],
    [199, 'critical'],
    [5001, 'critical'],
    [0, 'critical'],
  ])('%d events in an hour at 1000/h: %s', (n, severity) => {
    expect(assessVolume(n, hour, rate)?.severity).toBe(severity)
  })

  it('scales the expected count to the window and says where the rate came from', () => {
    expect(assessVolume(50, hour / 10, rate)).toEqual({
      severity: 'ok',
      nEvents: 50,
      expected: 100,
      ratio: 0.5,
      rateSource: 'config',
      reason: '50 events, 0.5× the 100 the configured rate predicts',
    })
  })

  it('a critical volume makes the window an incident', () => {
    const summary = withVolume(
      { severity: 'ok', nWarning: 0, nCritical: 0, missingShare: 0, incident: false },
      assessVolume(10, hour, rate),
    )
    expect(summary).toMatchObject({ severity: 'critical', incident: true })
    expect(summary.volume?.ratio).toBe(0.01)
  })

  it('the rate: the config first, else a captured reference’s rows over its range', () => {
    const captured = { kind: 'kafka', from: '2024-01-01T00:00:00Z', to: '2024-01-01T02:00:00Z' }
    expect(referenceRate(500, captured, 4000)).toEqual({ perHour: 500, source: 'config' })
    expect(referenceRate(undefined, captured, 4000)).toEqual({ perHour: 2000, source: 'reference' })
    expect(referenceRate(undefined, { kind: 'file', file: 'train.csv' }, 4000)).toBeNull()
  })
})
