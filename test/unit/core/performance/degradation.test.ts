// Degradation severities against the baseline, and label drift through the categorical tests.

import { describe, expect, it } from 'vitest'
import { driftSectionSchema, driftSettingsOf } from '../../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import {
  defaultDegradation,
  evaluateLabelDrift,
  evaluatePerformance,
} from '../../../../src/core/performance/degradation.js'
import {
  addPair,
  defaultPerformanceSettings,
  emptySummary,
  type PerformanceSettings,
} from '../../../../src/core/performance/summary.js'

const binary: PerformanceSettings = { ...defaultPerformanceSettings, task: 'binary' }

/** n pairs with label 1 for the first `positives`, predicted right for the first `correct`. */
function summary(n: number, correct: number, positives = n / 2): Map<string, number> {
  const s = emptySummary()
  for (let i = 0; i < n; i++) {
    const label = i < positives ? 1 : 0
    addPair(s, binary, { prediction: i < correct ? label : 1 - label }, label)
  }
  return s
}

describe('performance degradation', () => {
  const settings = { ...defaultDegradation, metric: 'accuracy' as const }
  it.each([
    [900, 'ok', 0.01],
    [870, 'warning', 0.04],
    [840, 'critical', 0.07],
  ])('accuracy %i/1000 against a baseline of 0.91 is %s', (correct, severity, drop) => {
    const result = evaluatePerformance(summary(1000, 910), summary(1000, correct), binary, settings)
    expect(result).toMatchObject({
      severity,
      metric: 'accuracy',
      baseline: 0.91,
      dropIs: 'absolute',
    })
    expect(result.drop).toBeCloseTo(drop, 12)
    expect(result.degraded).toBe(severity !== 'ok')
  })

  it('lower-is-better metrics degrade by their relative increase', () => {
    const regression: PerformanceSettings = { ...defaultPerformanceSettings, task: 'regression' }
    const of = (error: number): Map<string, number> => {
      const s = emptySummary()
      for (let i = 0; i < 100; i++) addPair(s, regression, { prediction: 10 + error }, 10)
      return s
    }
    const result = evaluatePerformance(of(1), of(1.03), regression, {
      ...defaultDegradation,
      metric: 'mae',
    })
    expect(result).toMatchObject({ severity: 'warning', dropIs: 'relative' })
    expect(result.drop).toBeCloseTo(0.03, 10)
  })

  it('gives no verdict below minLabels, or without a baseline', () => {
    const few = evaluatePerformance(summary(100, 90), summary(20, 0), binary, settings)
    expect(few).toMatchObject({ severity: 'ok', degraded: false, nLabels: 20, value: null })
    expect(few.insufficientData?.reason).toMatch(/fewer than minLabels 30/)
    const none = evaluatePerformance(null, summary(100, 0), binary, settings)
    expect(none).toMatchObject({ severity: 'ok', value: 0, baseline: null })
    expect(none.insufficientData?.reason).toMatch(/no baseline/)
  })
})

describe('label drift', () => {
  const options = {
    settings: driftSettingsOf(driftSectionSchema.parse({})),
    registry: createDefaultRegistry(),
  }
  it('flags a prior shift of the labels and not the same prior', () => {
    const reference = summary(2000, 2000, 1000)
    const same = evaluateLabelDrift(reference, summary(1000, 1000, 500), binary, options)
    const shifted = evaluateLabelDrift(reference, summary(1000, 1000, 800), binary, options)
    expect(same).toMatchObject({ name: 'label', kind: 'categorical', drifted: false })
    expect(shifted).toMatchObject({ name: 'label', drifted: true })
  })
})
