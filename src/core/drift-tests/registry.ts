// The drift-test registry: an instance, so two configurations never share state through a module
// global, and importing registers nothing (Evidently's `_registered_stat_tests` and prom-client's
// `globalRegistry` are the traps we avoid). The verdict rule lives here, in one place.

import { UnknownDriftTestError } from '../../errors.js'
import type { Severity } from '../report.js'
import { chiSquare } from './chi-square.js'
import { hellinger } from './hellinger.js'
import { jensenShannon } from './jensen-shannon.js'
import { klDiv } from './kl-div.js'
import { ks } from './ks.js'
import { psi } from './psi.js'
import type { DriftTest, TestScore } from './types.js'
import { wasserstein } from './wasserstein.js'
import { zTest } from './z-test.js'

export class DriftTestRegistry {
  readonly #tests = new Map<string, DriftTest>()

  register(test: DriftTest): this {
    if (this.#tests.has(test.name))
      throw new Error(`drift test '${test.name}' is already registered`)
    this.#tests.set(test.name, test)
    return this
  }

  get(name: string): DriftTest {
    const test = this.#tests.get(name)
    if (test === undefined) throw new UnknownDriftTestError(name, this.names())
    return test
  }

  has(name: string): boolean {
    return this.#tests.has(name)
  }

  names(): string[] {
    return [...this.#tests.keys()]
  }
}

/** A registry holding every built-in test. */
export function createDefaultRegistry(): DriftTestRegistry {
  const registry = new DriftTestRegistry()
  for (const test of [ks, chiSquare, zTest, psi, wasserstein, jensenShannon, klDiv, hellinger]) {
    registry.register(test)
  }
  return registry
}

export interface Verdict {
  readonly drifted: boolean
  readonly severity: Severity
}

/**
 * Decides drift and severity. p-value tests drift when p < threshold (as scipy users and Evidently
 * read them); distance tests when the statistic >= threshold (Evidently's rule for PSI,
 * Wasserstein and Jensen–Shannon). A drifted feature is critical past `critical`, else a warning.
 */
export function verdict(
  test: DriftTest,
  score: TestScore,
  threshold: number,
  critical: number,
): Verdict {
  if (score.status !== 'ok') return { drifted: false, severity: 'ok' }
  const drifted =
    test.scoreKind === 'pValue'
      ? score.pValue !== null && score.pValue < threshold
      : score.statistic >= threshold
  if (!drifted) return { drifted, severity: 'ok' }
  const isCritical =
    test.severityOn === 'statistic'
      ? Math.abs(score.statistic) >= critical
      : test.scoreKind === 'pValue'
        ? (score.pValue ?? 1) < critical
        : score.statistic >= critical
  return { drifted, severity: isCritical ? 'critical' : 'warning' }
}

/** Fails early, before any data is read, on a test name the registry does not know. */
export function assertKnownTests(
  registry: DriftTestRegistry,
  names: ReadonlyArray<string | undefined>,
): void {
  for (const name of names) if (name !== undefined && name !== 'auto') registry.get(name)
}
