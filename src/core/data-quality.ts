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
//     +5 / +10 points of rows, as for missing values;
//   - categories the reference never saw (`newCategoryShare`, a share of present values): 10 % →
//     warning, 30 % → critical. Higher than the missing-share steps because a new category is
//     also a legitimate change of the world (a new market, a new device) that the drift tests
//     judge; past these shares it looks like a broken upstream (a new spelling, a garbage code).
// And for the window as a whole (summarizeDataQuality, withVolume):
//   - the dataset's missing share (missing cells over all compared cells), for conditions;
//   - event volume against the reference rate, when one is known: fewer than half or more than
//     twice the expected events → warning, fewer than a fifth or more than five times → critical;
//   - `incident`: the window's quality is critical (any critical finding, or the volume): such a
//     window is a data-quality incident, diagnosed before any drift (core/diagnosis.ts).
// Type and schema violations: in `check`, a numerical column's text or booleans are the
// typeChanged finding. In the stream, an event whose value has the wrong kind (a string in a
// numerical feature, an object as a category, a bad prediction or latency) is not profiled: it
// goes to the dead-letter topic with its reason. When its model and event time are readable it is
// also counted in its window (withTypeViolations): the share of the window's events (valid ones
// plus these) that broke a type, 5 % → warning, 10 % → critical as for out-of-range values, and
// per feature at fault a `typeViolation` finding at the same steps, so the diagnosis names it.
// Pure: numbers in, findings out.

import type { FeatureProfile } from './profile/index.js'
import type { FeatureMetrics, Severity } from './report.js'

export const dataQualityChecks = [
  'missingShare',
  'emptyColumn',
  'typeChanged',
  'outOfRange',
  'unseenCategory',
  'typeViolation',
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
  /** Missing cells over all compared cells of the current data (absent in older reports). */
  readonly missingShare?: number
  /** Event volume against the reference rate; absent when no rate is known (or in `check`). */
  readonly volume?: VolumeCheck
  /** The window's quality is critical: a data-quality incident (absent in older reports). */
  readonly incident?: boolean
  /** Stream only: the window's events dead-lettered for a type or schema violation. */
  readonly typeViolations?: TypeViolationsCheck
}

export interface TypeViolationsCheck {
  readonly severity: Severity
  /** Events of the window's time that broke a type or the schema (dead-lettered). */
  readonly nEvents: number
  /** nEvents over the window's events: the valid ones and these. */
  readonly share: number
  /** The features at fault, most violations first; events at fault as a whole are not listed. */
  readonly features: ReadonlyArray<{ readonly feature: string; readonly nEvents: number }>
  readonly reason: string
}

export interface VolumeCheck {
  readonly severity: Severity
  /** Events in the window (all model versions). */
  readonly nEvents: number
  /** Events the reference rate predicts for a window this long. */
  readonly expected: number
  /** nEvents / expected. */
  readonly ratio: number
  /** Where the rate came from: the config's expectedRate, or the reference's capture range. */
  readonly rateSource: 'config' | 'reference'
  readonly reason: string
}

export interface DataQualityThresholds {
  /** Increase of the missing share, in share units (0.05 = +5 points). */
  readonly missingIncrease: { readonly warning: number; readonly critical: number }
  /** Share of rows outside the reference's range. */
  readonly outOfRange: { readonly warning: number; readonly critical: number }
  /** Share of present values of another type above which the column counts as retyped. */
  readonly typeChanged: number
  /** Share of present values in categories the reference never saw. */
  readonly unseenCategory: { readonly warning: number; readonly critical: number }
  /** Share of the window's events that broke a type or the schema (stream). */
  readonly typeViolations: { readonly warning: number; readonly critical: number }
  /** Window events over expected events: below `low` or above `high`. */
  readonly volume: {
    readonly warning: { readonly low: number; readonly high: number }
    readonly critical: { readonly low: number; readonly high: number }
  }
}

export const defaultDataQualityThresholds: DataQualityThresholds = {
  missingIncrease: { warning: 0.05, critical: 0.1 },
  outOfRange: { warning: 0.05, critical: 0.1 },
  typeChanged: 0.5,
  unseenCategory: { warning: 0.1, critical: 0.3 },
  typeViolations: { warning: 0.05, critical: 0.1 },
  volume: { warning: { low: 0.5, high: 2 }, critical: { low: 0.2, high: 5 } },
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

  const newCategoryShare = metrics.newCategoryShare
  // Against an empty reference every category is new: the emptyColumn warning already says so.
  if (newCategoryShare !== undefined && !currentEmpty && present(reference) > 0) {
    const unseenSeverity = bySeverity(newCategoryShare, thresholds.unseenCategory)
    if (unseenSeverity !== 'ok') {
      const count = metrics.newCategoryCount ?? 0
      findings.push({
        check: 'unseenCategory',
        severity: unseenSeverity,
        reason: `${pct(newCategoryShare)} of values in ${count} ${count === 1 ? 'category' : 'categories'} the reference never saw`,
        value: newCategoryShare,
      })
    }
  }

  return { severity: worst(findings.map((f) => f.severity)), findings }
}

export function summarizeDataQuality(
  features: readonly {
    readonly dataQuality?: FeatureDataQuality
    readonly nCurrent?: number
    readonly metrics?: { readonly missingShare: number }
  }[],
): DataQualitySummary {
  let nWarning = 0
  let nCritical = 0
  let cells = 0
  let missing = 0
  for (const feature of features) {
    const severity = feature.dataQuality?.severity
    if (severity === 'warning') nWarning++
    else if (severity === 'critical') nCritical++
    if (feature.nCurrent !== undefined && feature.metrics !== undefined) {
      cells += feature.nCurrent
      missing += feature.metrics.missingShare * feature.nCurrent
    }
  }
  const severity = nCritical > 0 ? 'critical' : nWarning > 0 ? 'warning' : 'ok'
  return {
    severity,
    nWarning,
    nCritical,
    missingShare: cells === 0 ? 0 : missing / cells,
    incident: severity === 'critical',
  }
}

/**
 * The report with the window's type violations counted (stream): `counts` is feature → events
 * at fault ('' for events at fault as a whole), `rows` the window's valid events. Each feature
 * at fault gets a typeViolation finding (its share of the window's events), and the summary the
 * window's check, its severity folded in. Features the report does not have (not watched)
 * count in the window's share only.
 */
export function withTypeViolations<
  R extends {
    readonly features: ReadonlyArray<{
      readonly name: string
      readonly dataQuality?: FeatureDataQuality
      readonly nCurrent?: number
      readonly metrics?: { readonly missingShare: number }
    }>
    readonly dataQuality?: DataQualitySummary
  },
>(
  report: R,
  counts: ReadonlyMap<string, number>,
  rows: number,
  thresholds: DataQualityThresholds = defaultDataQualityThresholds,
): R {
  const nEvents = [...counts.values()].reduce((a, b) => a + b, 0)
  const total = rows + nEvents
  const share = total === 0 ? 0 : nEvents / total
  const features = [...counts]
    .filter(([feature, n]) => feature !== '' && n > 0)
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([feature, n]) => ({ feature, nEvents: n }))
  const judged = report.features.map((f) => {
    const n = counts.get(f.name) ?? 0
    if (n === 0) return f
    const featureShare = n / total
    const severity = bySeverity(featureShare, thresholds.typeViolations)
    if (severity === 'ok') return f
    const findings = [
      ...(f.dataQuality?.findings ?? []),
      {
        check: 'typeViolation' as const,
        severity,
        reason: `${pct(featureShare)} of the window's events had a value of the wrong type here (${n} of ${total}, dead-lettered)`,
        value: featureShare,
      },
    ]
    return { ...f, dataQuality: { severity: worst(findings.map((x) => x.severity)), findings } }
  })
  const severity = bySeverity(share, thresholds.typeViolations)
  const check: TypeViolationsCheck = {
    severity,
    nEvents,
    share,
    features,
    reason: `${nEvents} of ${total} events (${pct(share)}) broke a type or the schema and went to the dead-letter topic`,
  }
  const summary = summarizeDataQuality(judged)
  const overall = worst([summary.severity, severity])
  return {
    ...report,
    features: judged,
    dataQuality: {
      ...report.dataQuality,
      ...summary,
      severity: overall,
      incident: overall === 'critical',
      typeViolations: check,
    },
  }
}

/**
 * The window's event volume against the reference rate (events per hour): a pipeline that
 * drops most events, or replays them twice, is a data-quality incident even when every value
 * looks fine. Null when no rate is known.
 */
export function assessVolume(
  nEvents: number,
  windowMs: number,
  rate: { readonly perHour: number; readonly source: 'config' | 'reference' } | null,
  thresholds: DataQualityThresholds = defaultDataQualityThresholds,
): VolumeCheck | null {
  if (rate === null || !(rate.perHour > 0) || !(windowMs > 0)) return null
  const expected = (rate.perHour * windowMs) / 3_600_000
  const ratio = nEvents / expected
  const { warning, critical } = thresholds.volume
  const severity: Severity =
    ratio < critical.low || ratio > critical.high
      ? 'critical'
      : ratio < warning.low || ratio > warning.high
        ? 'warning'
        : 'ok'
  const round = (x: number): number => Number(x.toPrecision(4))
  return {
    severity,
    nEvents,
    expected: round(expected),
    ratio: round(ratio),
    rateSource: rate.source,
    reason: `${nEvents} events, ${round(ratio)}× the ${round(expected)} the ${rate.source === 'config' ? 'configured rate' : "reference's rate"} predicts`,
  }
}

/** The summary with the window's volume check folded into its severity and incident flag. */
export function withVolume(
  summary: DataQualitySummary,
  volume: VolumeCheck | null,
): DataQualitySummary {
  if (volume === null) return summary
  const severity = worst([summary.severity, volume.severity])
  return { ...summary, severity, volume, incident: severity === 'critical' }
}

/**
 * The reference's event rate, per hour: the config's `expectedRate` when set, else a snapshot
 * captured from Kafka over a known range (`reference capture` records `from` and `to`): its rows
 * over that span. A reference built from a file has no time, so no rate.
 */
export function referenceRate(
  expectedRate: number | undefined,
  source: Readonly<Record<string, string | number>>,
  rows: number,
): { perHour: number; source: 'config' | 'reference' } | null {
  if (expectedRate !== undefined) return { perHour: expectedRate, source: 'config' }
  const from = typeof source['from'] === 'string' ? Date.parse(source['from']) : Number.NaN
  const to = typeof source['to'] === 'string' ? Date.parse(source['to']) : Number.NaN
  if (!(to > from) || rows <= 0) return null
  return { perHour: (rows * 3_600_000) / (to - from), source: 'reference' }
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
