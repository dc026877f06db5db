import { describe, expect, it } from 'vitest'
import {
  createDefaultRegistry,
  DriftTestRegistry,
  verdict,
} from '../../../../src/core/drift-tests/registry.js'
import { resolveChoice } from '../../../../src/core/drift-tests/thresholds.js'
import { psi } from '../../../../src/core/drift-tests/psi.js'
import { ks } from '../../../../src/core/drift-tests/ks.js'
import { chiSquare } from '../../../../src/core/drift-tests/chi-square.js'
import { DriftwatchError, UnknownDriftTestError } from '../../../../src/errors.js'

describe('drift test registry', () => {
  it('holds every built-in test, each registry its own', () => {
    const a = createDefaultRegistry()
    expect(a.names().sort()).toEqual([
      'chisquare',
      'hellinger',
      'jensenshannon',
      'kl_div',
      'ks',
      'psi',
      'wasserstein',
      'z',
    ])
    const b = new DriftTestRegistry()
    expect(b.names()).toEqual([])
  })

  it('names the valid tests when asked for an unknown one', () => {
    const registry = createDefaultRegistry()
    let caught: unknown
    try {
      registry.get('psii')
    } catch (error: unknown) {
      caught = error
    }
    expect(caught).toBeInstanceOf(UnknownDriftTestError)
    expect(caught).toBeInstanceOf(DriftwatchError)
    expect((caught as DriftwatchError).code).toBe('UNKNOWN_DRIFT_TEST')
    expect((caught as Error).message).toBe(
      "unknown drift test 'psii'; available: ks, chisquare, z, psi, wasserstein, jensenshannon, kl_div, hellinger",
    )
  })

  it('refuses to register a name twice', () => {
    expect(() => createDefaultRegistry().register(psi)).toThrow(/already registered/)
  })
})

describe('verdict', () => {
  it.each([
    // distance tests: drift at statistic >= threshold, critical at >= critical
    [psi, 0.09, null, 'ok', false],
    [psi, 0.1, null, 'warning', true],
    [psi, 0.2, null, 'critical', true],
    // p-value tests: drift at p < threshold; KS severity from its statistic
    [ks, 0.15, 0.2, 'ok', false],
    [ks, 0.15, 0.01, 'warning', true],
    [ks, 0.25, 0.01, 'critical', true],
    [chiSquare, 10, 0.01, 'warning', true],
    [chiSquare, 40, 0.0001, 'critical', true],
  ] as const)('%s statistic %s p %s → %s', (test, statistic, pValue, severity, drifted) => {
    const v = verdict(
      test,
      { status: 'ok', statistic, pValue },
      test.defaults.threshold,
      test.defaults.critical,
    )
    expect(v).toEqual({ drifted, severity })
  })

  it('gives no verdict on insufficient data', () => {
    expect(verdict(psi, { status: 'insufficientData', reason: 'x' }, 0.1, 0.2)).toEqual({
      drifted: false,
      severity: 'ok',
    })
  })
})

describe('resolveChoice: feature → kind → global → default', () => {
  const settings = {
    driftShare: 0.5,
    global: { test: 'psi', threshold: 0.3 },
    byKind: { numerical: { test: 'ks' }, categorical: { threshold: 0.2 } },
    byFeature: { age: { threshold: 0.01 }, city: { test: 'jensenshannon', critical: 0.4 } },
  }
  it.each([
    ['age', 'numerical', { test: 'ks', threshold: 0.01, critical: undefined }],
    ['income', 'numerical', { test: 'ks', threshold: 0.3, critical: undefined }],
    ['city', 'categorical', { test: 'jensenshannon', threshold: 0.2, critical: 0.4 }],
    ['color', 'categorical', { test: 'psi', threshold: 0.2, critical: undefined }],
  ] as const)('%s (%s)', (feature, kind, expected) => {
    expect(resolveChoice(feature, kind, settings)).toEqual(expected)
  })

  it("defaults to 'auto'", () => {
    expect(resolveChoice('x', 'numerical', { driftShare: 0.5 })).toEqual({
      test: 'auto',
      threshold: undefined,
      critical: undefined,
    })
  })
})
