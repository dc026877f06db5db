// Late events and revised reports: pure rules (the evaluator does the reading and publishing).
//
// A window's report counts the events stored for it when it was evaluated (`nCurrent`). Events
// stored for it afterwards (a partition taken as idle that had more to say, a backlog that
// reached a window out of order) are late for that report. Each flush bumps a per-bucket row
// counter in the same atomic step as the data, so the evaluator sees cheaply that a window it
// evaluated has grown. It then re-reads the window and:
//   - always counts the growth as late (driftwatch_events_late_total, and the window record);
//   - publishes a revised report, same window id, revision + 1, only if a verdict changed: a
//     feature's drifted flag or severity, or the dataset drift. A late event that changes nothing
//     a pager or a retraining pipeline acts on does not re-publish the window (Flink and Kafka
//     Streams emit an update per late record; we emit one per changed verdict).
// Revisions do not step the alert state machine: it runs once per window, in window order; the
// late events are in every later window that covers their buckets anyway.

import { createHash } from 'node:crypto'
import type { DriftReport } from '../report.js'
import type { WindowReport } from './evaluation.js'

/** What the evaluator remembers of a window it published, while late events may still come. */
export interface WindowRecord {
  readonly end: number
  /** Sum of the window's bucket row counters when last read (before its buckets were read). */
  readonly stored: number
  /** Model version ('' for none) → events counted by the window's first report. */
  readonly first: Readonly<Record<string, number>>
  /** Model version → late events counted so far. */
  readonly late: Readonly<Record<string, number>>
  /** Model version → verdicts of the latest published revision (verdictKey). */
  readonly verdicts: Readonly<Record<string, string>>
  readonly revision: number
  /** The reference the window was judged on: after a reference change verdicts do not compare. */
  readonly referenceId?: string
  /**
   * A model with `performance`: labels joined into the window's buckets when last read. Labels
   * come long after their predictions, so the window is looked at again when they grow, and a
   * changed performance verdict is revised like a late event's.
   */
  readonly labels?: number
  /** Versions whose performance verdict has stepped the alert state (judgePerformanceLate). */
  readonly judged?: Readonly<Record<string, true>>
}

/**
 * The verdicts a revision is published for, as one short comparable digest (the window records
 * live in the evaluation state, rewritten on every commit: a digest keeps them small).
 */
export function verdictKey(report: DriftReport): string {
  const features = report.features
    .map((f) => `${f.name}=${f.drifted ? 'drifted' : 'ok'}/${f.severity}`)
    .sort()
  // Only when present, so the digests of reports without them stay what they were.
  const performance =
    report.performance === undefined
      ? []
      : [
          `performance=${report.performance.severity}/${report.performance.insufficientData === undefined}`,
        ]
  const labels =
    report.labelDrift === undefined
      ? []
      : [`label=${report.labelDrift.drifted ? 'drifted' : 'ok'}/${report.labelDrift.severity}`]
  return createHash('sha256')
    .update([`dataset=${report.datasetDrift}`, ...features, ...performance, ...labels].join(','))
    .digest('hex')
    .slice(0, 16)
}

export function recordOf(
  end: number,
  stored: number,
  reports: readonly WindowReport[],
): WindowRecord {
  const first: Record<string, number> = {}
  const verdicts: Record<string, string> = {}
  const judged: Record<string, true> = {}
  for (const r of reports) {
    const version = r.modelVersion ?? ''
    first[version] = r.nCurrent
    verdicts[version] = verdictKey(r)
    if (r.performance !== undefined && r.performance.insufficientData === undefined)
      judged[version] = true
  }
  return {
    end,
    stored,
    first,
    late: {},
    verdicts,
    revision: 0,
    ...(Object.keys(judged).length > 0 ? { judged } : {}),
  }
}

export interface Revision {
  /** Revised reports to publish (empty when no verdict changed). */
  readonly reports: readonly WindowReport[]
  /** Late events newly counted by this look, over versions. */
  readonly newlyLate: number
  readonly record: WindowRecord
}

/**
 * A second look at a published window: `reports` are the window evaluated again on what is
 * stored now, `stored` the counters read before it.
 */
export function reviseWindow(
  record: WindowRecord,
  stored: number,
  reports: readonly WindowReport[],
): Revision {
  const late: Record<string, number> = { ...record.late }
  const verdicts: Record<string, string> = { ...record.verdicts }
  let newlyLate = 0
  let changed = false
  for (const r of reports) {
    const version = r.modelVersion ?? ''
    const nLate = Math.max(0, r.nCurrent - (record.first[version] ?? 0))
    newlyLate += Math.max(0, nLate - (late[version] ?? 0))
    late[version] = Math.max(nLate, late[version] ?? 0)
    const key = verdictKey(r)
    if (verdicts[version] !== key) changed = true
  }
  const revision = changed ? record.revision + 1 : record.revision
  const published: WindowReport[] = []
  if (changed) {
    for (const r of reports) {
      const version = r.modelVersion ?? ''
      verdicts[version] = verdictKey(r)
      published.push({
        ...r,
        reportId: `${r.windowId}:r${revision}`,
        revision,
        lateness: { nLate: late[version] ?? 0, nAtEvaluation: record.first[version] ?? 0 },
      })
    }
  }
  return {
    reports: published,
    newlyLate,
    record: { ...record, stored: Math.max(stored, record.stored), late, verdicts, revision },
  }
}

/** Keeps the records of windows ending within `horizonMs` of the newest, at most `max` of them. */
export function pruneRecords(
  records: readonly WindowRecord[],
  newestEnd: number,
  horizonMs: number,
  max: number,
): WindowRecord[] {
  return records.filter((r) => r.end > newestEnd - horizonMs).slice(-max)
}
