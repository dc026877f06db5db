// Latency per model version and window: P50, P95 and P99 of the events' `latencyMs`, judged
// against two baselines, the reference's latency (when the snapshot has one) and the previous
// model version's latest window.
//
// Quantiles are exact while the profile keeps its values (a window merges them up to
// bucket-codec's windowExactLimit, 100,000), computed as numpy.quantile's default ('linear')
// does; past that they come from the profile's t-digest (rank error below 1e-3 at the tails for
// compression 300, see BENCHMARKS.md).
//
// Severity is on P99, the tail users page on: the ratio of the current P99 to the baseline's,
// warning at +50 % (ratio >= 1.5) and critical at +100 % (ratio >= 2). P50 and P95 are reported
// for people, not judged: a slower median with an unchanged tail is rarely an incident, and a
// regression of the median shows in the tail as well. A window with fewer than
// `latencyMinCount` latencies is not judged (its P99 would be one of its last few values).
//
// A version whose latency is critical against the previous version is a regression tied to the
// release: the evaluation (core/stream/evaluation.ts) advises rolling back to that version.

import { sortedValues, type NumericalProfile } from './profile/numerical.js'
import type { Severity } from './report.js'
import { quantileSorted } from './stats/quantile.js'

export const latencyQuantileLevels = { p50: 0.5, p95: 0.95, p99: 0.99 } as const
/** P99 ratio (current / baseline) at or above which latency is a warning: +50 %. */
export const latencyWarningRatio = 1.5
/** P99 ratio at or above which latency is critical: +100 %. */
export const latencyCriticalRatio = 2
/** Fewer latencies than this in a window: quantiles are reported, not judged. */
export const latencyMinCount = 100

export interface LatencyQuantiles {
  readonly p50: number
  readonly p95: number
  readonly p99: number
}

export interface LatencySummary extends LatencyQuantiles {
  /** Events with a latency. */
  readonly n: number
  /** True when computed from every value, false when from the t-digest. */
  readonly exact: boolean
}

/** One baseline's quantiles and how the current P99 compares with its P99. */
export interface LatencyComparison extends LatencyQuantiles {
  /** current P99 / baseline P99; null when the baseline's P99 is 0. */
  readonly p99Ratio: number | null
  readonly severity: Severity
}

export interface PreviousVersionLatency extends LatencyComparison {
  /** End of the previous version's window the comparison used, ISO-8601 UTC. */
  readonly windowEnd: string
}

/** The `latency` section of a window report. */
export interface LatencyReport extends LatencySummary {
  /** The model version reported on (null for events without one). */
  readonly version: string | null
  /** The version before it in the order versions first appeared; null for the first. */
  readonly previousVersion: string | null
  readonly reference: LatencyComparison | null
  readonly previous: PreviousVersionLatency | null
  /** The worse of the two comparisons; ok when neither could be made. */
  readonly severity: Severity
  /** Present when the window has too few latencies to be judged. */
  readonly insufficientData?: { readonly reason: string }
}

/** P50/P95/P99 of a latency profile, or null when it holds no finite value. */
export function latencySummary(profile: NumericalProfile | undefined): LatencySummary | null {
  if (profile === undefined || profile.count === 0) return null
  const sorted = sortedValues(profile)
  const at = (q: number): number =>
    sorted === null ? profile.digest.quantile(q) : quantileSorted(sorted, q)
  return {
    n: profile.count,
    exact: sorted !== null,
    p50: at(latencyQuantileLevels.p50),
    p95: at(latencyQuantileLevels.p95),
    p99: at(latencyQuantileLevels.p99),
  }
}

/** The severity of a P99 ratio (see the file header). */
export function latencySeverity(p99Ratio: number | null): Severity {
  if (p99Ratio === null) return 'ok'
  if (p99Ratio >= latencyCriticalRatio) return 'critical'
  if (p99Ratio >= latencyWarningRatio) return 'warning'
  return 'ok'
}

export function compareLatency(
  current: LatencyQuantiles,
  baseline: LatencyQuantiles,
): LatencyComparison {
  const p99Ratio = baseline.p99 > 0 ? current.p99 / baseline.p99 : null
  return {
    p50: baseline.p50,
    p95: baseline.p95,
    p99: baseline.p99,
    p99Ratio,
    severity: latencySeverity(p99Ratio),
  }
}

export interface LatencyInput {
  readonly version: string | null
  readonly current: LatencySummary | null
  readonly reference: LatencySummary | null
  readonly previous: {
    readonly version: string
    readonly summary: LatencySummary | null
    readonly windowEnd: string
  } | null
}

/** The window's latency section, or null when the window has no latency at all. */
export function assessLatency(input: LatencyInput): LatencyReport | null {
  const current = input.current
  if (current === null) return null
  const previousVersion = input.previous?.version ?? null
  if (current.n < latencyMinCount) {
    return {
      ...current,
      version: input.version,
      previousVersion,
      reference: null,
      previous: null,
      severity: 'ok',
      insufficientData: {
        reason: `${current.n} latencies, fewer than ${latencyMinCount}`,
      },
    }
  }
  const reference =
    input.reference === null || input.reference.n < latencyMinCount
      ? null
      : compareLatency(current, input.reference)
  const before = input.previous?.summary ?? null
  const previous =
    before === null || before.n < latencyMinCount || input.previous === null
      ? null
      : { ...compareLatency(current, before), windowEnd: input.previous.windowEnd }
  return {
    ...current,
    version: input.version,
    previousVersion,
    reference,
    previous,
    severity: worse(reference?.severity ?? 'ok', previous?.severity ?? 'ok'),
  }
}

const rank = { ok: 0, warning: 1, critical: 2 } as const

function worse(a: Severity, b: Severity): Severity {
  return rank[a] >= rank[b] ? a : b
}

/** The quantiles of a latency section, as a summary another window can be compared with. */
export function summaryOfReport(report: LatencyReport): LatencySummary {
  return { n: report.n, exact: report.exact, p50: report.p50, p95: report.p95, p99: report.p99 }
}
