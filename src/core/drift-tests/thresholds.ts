// Which test and thresholds apply to a feature. Each setting resolves on its own, most specific
// first: per feature → per kind → global → the test's defaults (Evidently's data_drift_utils
// resolves stattest and threshold the same way). The test 'auto' defers to Evidently's choice.

import type { FeatureKind } from '../report.js'
import { autoTestName } from './auto.js'

export interface TestChoice {
  readonly test?: string | undefined
  readonly threshold?: number | undefined
  readonly critical?: number | undefined
}

export interface DriftSettings {
  /** Dataset drift when the share of drifted features is >= this. */
  readonly driftShare: number
  readonly global?: TestChoice
  readonly byKind?: Partial<Record<FeatureKind, TestChoice>>
  readonly byFeature?: Readonly<Record<string, TestChoice>>
}

export const defaultDriftShare = 0.5

export interface ResolvedChoice {
  readonly test: string
  readonly threshold: number | undefined
  readonly critical: number | undefined
}

export function resolveChoice(
  feature: string,
  kind: FeatureKind,
  settings: DriftSettings,
): ResolvedChoice {
  const levels = [settings.byFeature?.[feature], settings.byKind?.[kind], settings.global]
  const first = <K extends keyof TestChoice>(key: K): TestChoice[K] | undefined =>
    levels.find((level) => level?.[key] !== undefined)?.[key]
  return {
    test: first('test') ?? autoTestName,
    threshold: first('threshold'),
    critical: first('critical'),
  }
}
