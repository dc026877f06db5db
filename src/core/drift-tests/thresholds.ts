// Which test and thresholds apply to a feature. Each setting resolves on its own, most specific
// first: per feature → per kind → global → the test's defaults (Evidently's data_drift_utils
// resolves stattest and threshold the same way). The test 'auto' defers to Evidently's choice.

import type { FeatureKind } from '../report.js'
import { autoTestName } from './auto.js'
import type { DriftMode } from './modes.js'

export { driftModes, type DriftMode } from './modes.js'

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
  /**
   * 'calibrated' (sample-size-aware verdicts, noise-floor.ts) or 'evidently' (Evidently's fixed
   * thresholds, exactly). Absent means 'evidently', so settings written before the modes existed
   * keep their verdicts; the config schema (config/drift.ts) defaults to 'calibrated'.
   */
  readonly mode?: DriftMode
  /**
   * A feature with fewer current values is insufficientData: reported, never drifted, not in the
   * drift share. Absent: defaultMinCount in calibrated mode, 0 (off) in evidently mode.
   */
  readonly minCount?: number
  /** Calibrated mode: the chance per window that a window with no drift flags any feature. */
  readonly falseAlarmRate?: number
}

/** What the config file gives when `drift.mode` is not set. */
export const defaultDriftMode: DriftMode = 'calibrated'
/**
 * Ten decile bins × five expected values a bin, the textbook floor for chi-square-like statistics:
 * below it neither the distances nor the asymptotic p-values mean much.
 */
export const defaultMinCount = 50
/** One false alarm in a thousand windows with no drift, whatever the number of features. */
export const defaultFalseAlarmRate = 0.001

export interface ResolvedCalibration {
  readonly mode: DriftMode
  readonly minCount: number
  readonly falseAlarmRate: number
}

export function resolveCalibration(settings: DriftSettings): ResolvedCalibration {
  const mode = settings.mode ?? 'evidently'
  return {
    mode,
    minCount: settings.minCount ?? (mode === 'calibrated' ? defaultMinCount : 0),
    falseAlarmRate: settings.falseAlarmRate ?? defaultFalseAlarmRate,
  }
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
