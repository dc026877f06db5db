// The recent verdicts of each feature, window after window: a bounded ring kept in the evaluation
// state (beside the latest report) so the on-call page can draw each feature's statistic over the
// last windows and tell since when it has been drifting, on any instance, after any restart.
// The state is rewritten with every window, so an entry keeps only what the page draws: per
// feature the statistic, its threshold and the verdict, not the report's distributions.

import type { Severity } from '../report.js'
import type { WindowReport } from './evaluation.js'

/** Windows kept per model version: a day of hourly windows, two hours of 5-minute ones. */
export const historyLength = 24

export interface FeaturePoint {
  /** null when the test had too little data to score. */
  readonly statistic: number | null
  readonly pValue: number | null
  readonly threshold: number
  readonly drifted: boolean
  readonly severity: Severity
}

export interface WindowVerdicts {
  /** The report's window id: a revision of the window replaces its entry. */
  readonly windowId: string
  readonly revision: number
  readonly startMs: number
  readonly endMs: number
  readonly datasetDrift: boolean
  /** Feature name → its verdict in this window. */
  readonly features: Readonly<Record<string, FeaturePoint>>
}

/** Model version ('' for none) → its recent windows, oldest first. */
export type VerdictHistory = Readonly<Record<string, readonly WindowVerdicts[]>>

/**
 * Six significant digits, plenty for a sparkline and a third of the bytes of a full double
 * (the latest report keeps the exact value). JSON has no NaN or ±Infinity: those become null,
 * as in `check --format json`.
 */
function stored(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? Number(x.toPrecision(6)) : null
}

export function verdictsOf(report: WindowReport): WindowVerdicts {
  const features: Record<string, FeaturePoint> = {}
  for (const f of report.features) {
    features[f.name] = {
      statistic: stored(f.statistic),
      pValue: stored(f.pValue),
      threshold: f.threshold,
      drifted: f.drifted,
      severity: f.severity,
    }
  }
  return {
    windowId: report.windowId,
    revision: report.revision,
    startMs: Date.parse(report.window.start),
    endMs: Date.parse(report.window.end),
    datasetDrift: report.datasetDrift,
    features,
  }
}

/**
 * The history with `report`'s window recorded: its entry replaced when the window is there
 * already (a re-evaluation after a crash between publish and commit), else added in window
 * order; then only the newest `limit` windows of that version are kept.
 */
export function recordWindow(
  history: VerdictHistory | undefined,
  report: WindowReport,
  limit: number = historyLength,
): VerdictHistory {
  const version = report.modelVersion ?? ''
  const entry = verdictsOf(report)
  const windows = (history?.[version] ?? []).filter((w) => w.windowId !== entry.windowId)
  windows.push(entry)
  windows.sort((a, b) => a.endMs - b.endMs)
  return { ...history, [version]: windows.slice(Math.max(0, windows.length - limit)) }
}

/**
 * The history with a revised report's verdicts in place of its window's, when that window is
 * still in the ring (an older one has left it: nothing to change).
 */
export function reviseWindow(
  history: VerdictHistory | undefined,
  report: WindowReport,
): VerdictHistory | undefined {
  const version = report.modelVersion ?? ''
  const windows = history?.[version]
  if (history === undefined || windows === undefined) return history
  if (!windows.some((w) => w.windowId === report.windowId)) return history
  const entry = verdictsOf(report)
  return {
    ...history,
    [version]: windows.map((w) => (w.windowId === entry.windowId ? entry : w)),
  }
}

/**
 * Where the feature's current drifted streak starts, read from the newest window back: null when
 * the newest window has it not drifted (or has no verdict for it). `complete` is false when the
 * streak fills a full ring, so it may have begun before `startMs` (the oldest window kept).
 */
export function driftedStreak(
  windows: readonly WindowVerdicts[],
  feature: string,
  limit: number = historyLength,
): { readonly startMs: number; readonly windows: number; readonly complete: boolean } | null {
  let first: WindowVerdicts | undefined
  let count = 0
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i] as WindowVerdicts
    if (w.features[feature]?.drifted !== true) break
    first = w
    count++
  }
  if (first === undefined) return null
  return {
    startMs: first.startMs,
    windows: count,
    complete: count < windows.length || windows.length < limit,
  }
}
