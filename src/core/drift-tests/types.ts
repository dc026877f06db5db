import type { FeatureProfile } from '../profile/index.js'
import type { FeatureKind } from '../report.js'

export const scoreKinds = ['pValue', 'distance'] as const
export type ScoreKind = (typeof scoreKinds)[number]

/** What a test returns. Data conditions are values, never exceptions. */
export type TestScore =
  | {
      readonly status: 'ok'
      readonly statistic: number
      /** The p-value, for tests whose verdict is a p-value; null otherwise. */
      readonly pValue: number | null
    }
  | { readonly status: 'insufficientData'; readonly reason: string }

export interface DriftTestDefaults {
  /** Drift when pValue < threshold (pValue tests) or statistic >= threshold (distance tests). */
  readonly threshold: number
  /** A drifted feature is critical past this; below it, a warning. Same scale as `severityOn`. */
  readonly critical: number
}

export interface DriftTest {
  /** The name used in config, metric labels and reports ('psi'). */
  readonly name: string
  readonly description: string
  readonly featureKinds: readonly FeatureKind[]
  readonly scoreKind: ScoreKind
  /**
   * Which number decides severity: the verdict number itself, or the statistic (KS: the users'
   * table grades the KS statistic 0.1 / 0.2, an effect size, while drift is decided by p-value).
   */
  readonly severityOn: 'verdict' | 'statistic'
  readonly defaults: DriftTestDefaults
  score(reference: FeatureProfile, current: FeatureProfile): TestScore
}

export function insufficient(reason: string): TestScore {
  return { status: 'insufficientData', reason }
}
