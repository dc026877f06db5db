// Impact and diagnosis (core/diagnosis.ts): the drift score's scale, importance × score, and the
// decision order of the users' flow — quality first, then drift, then the other layers.

import { describe, expect, it } from 'vitest'
import type { DataQualitySummary } from '../../../src/core/data-quality.js'
import {
  computeImpact,
  diagnose,
  driftScore,
  type DiagnosisInput,
} from '../../../src/core/diagnosis.js'
import type { FeatureResult, Severity } from '../../../src/core/report.js'

function feature(
  name: string,
  options: {
    statistic?: number | null
    pValue?: number | null
    threshold?: number
    noiseFloor?: number | null
    drifted?: boolean
    severity?: Severity
    quality?: Severity
    insufficient?: boolean
  } = {},
): FeatureResult {
  const drifted = options.drifted ?? false
  return {
    name,
    kind: 'numerical',
    test: options.pValue === undefined || options.pValue === null ? 'wasserstein' : 'ks',
    statistic: options.statistic === undefined ? 0.05 : options.statistic,
    pValue: options.pValue ?? null,
    threshold: options.threshold ?? 0.1,
    drifted,
    severity: options.severity ?? (drifted ? 'critical' : 'ok'),
    ...(options.noiseFloor === undefined ? {} : { noiseFloor: options.noiseFloor }),
    ...(options.insufficient === true ? { insufficientData: { reason: 'few values' } } : {}),
    nReference: 1000,
    nCurrent: 1000,
    metrics: { missingShare: 0, referenceMissingShare: 0 },
    distribution: [],
    dataQuality: { severity: options.quality ?? 'ok', findings: [] },
  }
}

const okQuality: DataQualitySummary = { severity: 'ok', nWarning: 0, nCritical: 0 }
const criticalQuality: DataQualitySummary = {
  severity: 'critical',
  nWarning: 0,
  nCritical: 1,
  incident: true,
}

function input(
  features: FeatureResult[],
  extra: Partial<DiagnosisInput> = {},
  importance?: Record<string, number>,
): DiagnosisInput {
  return {
    features,
    dataQuality: okQuality,
    impact: computeImpact(features, importance),
    ...extra,
  }
}

describe('driftScore', () => {
  it('distance tests: statistic over the larger of threshold and noise floor', () => {
    expect(driftScore(feature('a', { statistic: 0.25, threshold: 0.1 }))).toBeCloseTo(2.5, 12)
    expect(
      driftScore(feature('a', { statistic: 0.25, threshold: 0.1, noiseFloor: 0.2 })),
    ).toBeCloseTo(1.25, 12)
  })

  it('p-value tests: ln p over ln of the smaller of threshold and floor; 1 at the boundary', () => {
    expect(driftScore(feature('a', { pValue: 0.05, threshold: 0.05 }))).toBeCloseTo(1, 12)
    expect(driftScore(feature('a', { pValue: 0.0025, threshold: 0.05 }))).toBeCloseTo(2, 12)
    expect(
      driftScore(feature('a', { pValue: 1e-4, threshold: 0.05, noiseFloor: 1e-2 })),
    ).toBeCloseTo(2, 12)
    expect(driftScore(feature('a', { pValue: 0, threshold: 0.05 }))).toBe(100)
    expect(driftScore(feature('a', { pValue: 1, threshold: 0.05 }))).toBe(0)
  })

  it('no statistic, no score', () => {
    expect(driftScore(feature('a', { insufficient: true }))).toBeNull()
    expect(driftScore(feature('a', { statistic: null }))).toBeNull()
  })
})

describe('computeImpact', () => {
  const features = [
    feature('a', { statistic: 0.5, drifted: true }),
    feature('b', { statistic: 0.3, drifted: true }),
    feature('c', { statistic: 0.02 }),
    feature('d', { insufficient: true }),
  ]

  it('equal weights without importance: ranks by drift score', () => {
    const impact = computeImpact(features)
    expect(impact.importanceSource).toBe('equal')
    expect(impact.ranked.map((e) => e.feature)).toEqual(['a', 'b', 'c', 'd'])
    expect(impact.ranked[0]).toEqual({
      feature: 'a',
      importance: 0.25,
      driftScore: 5,
      impact: 1.25,
      drifted: true,
    })
    expect(impact.driftedImportance).toBeCloseTo(0.5, 12)
    expect(impact.score).toBeCloseTo(1.25 + 0.75, 12)
  })

  it('configured importance reorders: a heavy feature with less drift ranks first', () => {
    const impact = computeImpact(features, { a: 1, b: 8, c: 1 })
    expect(impact.importanceSource).toBe('config')
    expect(impact.ranked.map((e) => e.feature)).toEqual(['b', 'a', 'c', 'd'])
    expect(impact.ranked[0]?.importance).toBeCloseTo(0.8, 12)
    expect(impact.ranked[0]?.impact).toBeCloseTo(0.8 * 3, 12)
    // d is not listed: weight 0.
    expect(impact.ranked.find((e) => e.feature === 'd')?.importance).toBe(0)
    expect(impact.driftedImportance).toBeCloseTo(0.9, 12)
  })
})

describe('diagnose: quality first, then drift, then the other layers', () => {
  it('a critical data-quality window is a data-quality incident, even with drifted features', () => {
    const features = [
      feature('a', { statistic: 5, drifted: true, quality: 'critical' }),
      feature('b', { statistic: 0.3, drifted: true }),
    ]
    const d = diagnose(input(features, { dataQuality: criticalQuality }))
    expect(d.kind).toBe('data-quality')
    expect(d.topCauses).toEqual(['a'])
    expect(d.alsoSeen).toEqual(['covariate-shift'])
    expect(d.action).toMatch(/Fix the data pipeline/)
  })

  it('a warning-level quality finding does not stop the drift diagnosis', () => {
    const features = [feature('a', { statistic: 0.5, drifted: true, quality: 'warning' })]
    const d = diagnose(
      input(features, { dataQuality: { severity: 'warning', nWarning: 1, nCritical: 0 } }),
    )
    expect(d.kind).toBe('covariate-shift')
  })

  it('drifted features are covariate shift; causes ranked by impact', () => {
    const features = [
      feature('a', { statistic: 0.5, drifted: true }),
      feature('b', { statistic: 0.3, drifted: true }),
      feature('c'),
    ]
    const d = diagnose(input(features, {}, { a: 1, b: 8, c: 1 }))
    expect(d.kind).toBe('covariate-shift')
    expect(d.topCauses).toEqual(['b', 'a'])
    expect(d.action).toMatch(/^Retrain/)
  })

  it('drift on unimportant features only: monitor, unless performance dropped', () => {
    const features = [feature('a', { statistic: 0.5, drifted: true }), feature('b')]
    const weights = { a: 1, b: 99 }
    expect(diagnose(input(features, {}, weights)).action).toMatch(/^Monitor/)
    expect(
      diagnose(
        input(
          features,
          { performance: { severity: 'warning', metric: 'accuracy', drop: 0.03 } },
          weights,
        ),
      ).action,
    ).toMatch(/^Retrain/)
  })

  it('labels or predictions drifting without feature drift: prior shift', () => {
    const features = [feature('a')]
    expect(diagnose(input(features, { labelDrift: { drifted: true } })).kind).toBe('prior-shift')
    expect(
      diagnose(input(features, { predictionDrift: { drifted: true, severity: 'warning' } })).kind,
    ).toBe('prior-shift')
  })

  it('performance down with no feature or label drift: concept drift', () => {
    const d = diagnose(
      input([feature('a')], {
        performance: { severity: 'critical', metric: 'precision', drop: 0.2 },
        labelDrift: { drifted: false },
      }),
    )
    expect(d.kind).toBe('concept-drift')
    expect(d.summary).toMatch(/precision dropped by 0.2/)
  })

  it('performance down with feature drift is covariate shift, not concept drift', () => {
    const d = diagnose(
      input([feature('a', { statistic: 0.5, drifted: true })], {
        performance: { severity: 'critical', metric: 'ctr', drop: 0.1 },
      }),
    )
    expect(d.kind).toBe('covariate-shift')
    expect(d.alsoSeen).toEqual([])
  })

  it('a latency regression names the version and advises rolling back to the previous one', () => {
    const d = diagnose(
      input([feature('a')], {
        latency: { severity: 'critical', version: 'v4', previousVersion: 'v3' },
      }),
    )
    expect(d.kind).toBe('latency-regression')
    expect(d.summary).toMatch(/v4/)
    expect(d.action).toBe('Roll back to version v3.')
  })

  it('nothing wrong: none', () => {
    const d = diagnose(
      input([feature('a')], {
        latency: { severity: 'ok', version: 'v4', previousVersion: 'v3' },
        performance: { severity: 'ok', metric: 'accuracy', drop: 0 },
      }),
    )
    expect(d).toMatchObject({ kind: 'none', topCauses: [], alsoSeen: [] })
  })
})
