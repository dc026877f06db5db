// Data quality: what is wrong with a column's values before any drift test reads them. Reported
// per feature, ahead of drift, because a drift statistic on an emptied or retyped column is
// either n/a or meaningless, and either way says nothing an on-call engineer can act on.
//
// The rules (README, "Data quality"):
//   - missing share up by +5 points → warning, +10 points → critical (the users' threshold table;
//     "points" are percentage points of rows: 0 % → 61 % is +61);
//   - a column with rows but no value on the current side → critical; on the reference side →
//     warning (nothing to compare with, so drift cannot be judged);
//   - a numerical column whose present values are mostly of another type (text, booleans) →
//     critical "type changed"; such values also count as missing, so fewer of them show in the
//     missing-share rule;
//   - values outside the reference's range, when the profile measures them (`outOfRangeShare`):
//     +5 / +10 points of rows, as for missing values.
// Pure: numbers in, findings out.

import type { FeatureProfile } from './profile/index.js'
import type { FeatureMetrics, Severity } from './report.js'

export const dataQualityChecks = [
  'missingShare',
  'emptyColumn',
  'typeChanged',
  'outOfRange',
] as const
export type DataQualityCheck = (typeof dataQualityChecks)[number]

export interface DataQualityFinding {
  readonly check: DataQualityCheck
  readonly severity: Exclude<Severity, 'ok'>
  /** One sentence for a person: what is wrong, with the numbers. */
  readonly reason: string
  /** The measured value the thresholds apply to (a share or a share increase), when there is one. */
  readonly value?: number
}

export interface FeatureDataQuality {
  /** The worst finding's severity; 'ok' when there is none. */
  readonly severity: Severity
  readonly findings: readonly DataQualityFinding[]
}

export interface DataQualitySummary {
  readonly severity: Severity
  /** Features whose worst finding is a warning / critical. */
  readonly nWarning: number
  readonly nCritical: number
}

export interface DataQualityThresholds {
  /** Increase of the missing share, in share units (0.05 = +5 points). */
  readonly missingIncrease: { readonly warning: number; readonly critical: number }
  /** Share of rows outside the reference's range. */
  readonly outOfRange: { readonly warning: number; readonly critical: number }
  /** Share of present values of another type above which the column counts as retyped. */
  readonly typeChanged: number
}

export const defaultDataQualityThresholds: DataQualityThresholds = {
  missingIncrease: { warning: 0.05, critical: 0.1 },
  outOfRange: { warning: 0.05, critical: 0.1 },
  typeChanged: 0.5,
}

export function assessFeatureQuality(
  reference: FeatureProfile,
  current: FeatureProfile,
  metrics: FeatureMetrics,
  thresholds: DataQualityThresholds = defaultDataQualityThresholds,
): FeatureDataQuality {
  const findings: DataQualityFinding[] = []
  const refRows = rowsOf(reference)
  const curRows = rowsOf(current)

  // One finding per cause: a retyped column is also empty of numbers and "missing" (its text
  // counts as missing), an emptied column is also up in missing share; the first cause says it.
  const typed = typeChange(current)
  const retyped = typed !== null && typed.share > thresholds.typeChanged
  if (typed !== null && retyped) {
    findings.push({
      check: 'typeChanged',
      severity: 'critical',
      reason: `type changed: ${pct(typed.share)} of present values are not numbers (${typed.mismatched} of ${typed.present}), in a column numerical in the reference`,
      value: typed.share,
    })
  }

  const currentEmpty = curRows > 0 && present(current) === 0
  if (currentEmpty && !retyped) {
    findings.push({
      check: 'emptyColumn',
      severity: 'critical',
      reason: `all values missing in current (${curRows} rows)`,
    })
  }
  if (refRows > 0 && present(reference) === 0) {
    findings.push({
      check: 'emptyColumn',
      severity: 'warning',
      reason: `all values missing in the reference (${refRows} rows): drift cannot be judged`,
    })
  }

  const increase = metrics.missingShare - metrics.referenceMissingShare
  const missingSeverity = bySeverity(increase, thresholds.missingIncrease)
  if (missingSeverity !== 'ok' && !retyped && !currentEmpty) {
    const text =
      typed !== null && typed.mismatched > 0
        ? `; ${typed.mismatched} of them are values of another type`
        : ''
    findings.push({
      check: 'missingShare',
      severity: missingSeverity,
      reason: `missing share up ${points(increase)} (${pct(metrics.referenceMissingShare)} → ${pct(metrics.missingShare)})${text}`,
      value: increase,
    })
  }

  // Measured by the numerical profile when it keeps the reference range; absent otherwise.
  const outOfRangeShare = (metrics as { readonly outOfRangeShare?: number }).outOfRangeShare
  if (outOfRangeShare !== undefined) {
    const rangeSeverity = bySeverity(outOfRangeShare, thresholds.outOfRange)
    if (rangeSeverity !== 'ok') {
      findings.push({
        check: 'outOfRange',
        severity: rangeSeverity,
        reason: `${pct(outOfRangeShare)} of values outside the reference's range`,
        value: outOfRangeShare,
      })
    }
  }

  return { severity: worst(findings.map((f) => f.severity)), findings }
}

export function summarizeDataQuality(
  features: readonly { readonly dataQuality?: FeatureDataQuality }[],
): DataQualitySummary {
  let nWarning = 0
  let nCritical = 0
  for (const feature of features) {
    const severity = feature.dataQuality?.severity
    if (severity === 'warning') nWarning++
    else if (severity === 'critical') nCritical++
  }
  return {
    severity: nCritical > 0 ? 'critical' : nWarning > 0 ? 'warning' : 'ok',
    nWarning,
    nCritical,
  }
}

function typeChange(
  profile: FeatureProfile,
): { mismatched: number; present: number; share: number } | null {
  if (profile.kind !== 'numerical') return null
  const mismatched = profile.mismatched
  const presentValues = profile.count + profile.nonFinite + mismatched
  return {
    mismatched,
    present: presentValues,
    share: presentValues === 0 ? 0 : mismatched / presentValues,
  }
}

/** Values a test can read (finite numbers, or categories). */
function present(profile: FeatureProfile): number {
  return profile.kind === 'numerical' ? profile.count + profile.nonFinite : profile.count
}

function rowsOf(profile: FeatureProfile): number {
  return profile.kind === 'numerical'
    ? profile.count + profile.missing + profile.nonFinite
    : profile.count + profile.missing
}

function bySeverity(value: number, t: { warning: number; critical: number }): Severity {
  // A tiny tolerance so +10 points computed as 0.09999999999999998 is still +10.
  const eps = 1e-12
  if (value >= t.critical - eps) return 'critical'
  if (value >= t.warning - eps) return 'warning'
  return 'ok'
}

function worst(severities: readonly Severity[]): Severity {
  if (severities.includes('critical')) return 'critical'
  if (severities.includes('warning')) return 'warning'
  return 'ok'
}

function pct(share: number): string {
  return `${Number((share * 100).toFixed(1))} %`
}

function points(delta: number): string {
  return `${delta >= 0 ? '+' : ''}${Number((delta * 100).toFixed(1))} points`
}
