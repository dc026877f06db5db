// Completeness, lateness and backlog rules of the stream, as pure functions: the watermark judged
// from fresh end offsets, which windows are due (never one ending in the wall-clock future; a
// replay from its first window), and when late events revise a report.

import { describe, expect, it } from 'vitest'
import type { DriftReport } from '../../../../src/core/report.js'
import type { WindowReport } from '../../../../src/core/stream/evaluation.js'
import {
  pruneRecords,
  recordOf,
  reviseWindow,
  verdictKey,
} from '../../../../src/core/stream/lateness.js'
import { completeWatermarkOf } from '../../../../src/core/stream/watermark.js'
import { dueWindows, type WindowSpec } from '../../../../src/core/stream/windows.js'

const S = 1000
const M = 60 * S

describe('completeWatermarkOf: judged from fresh end offsets', () => {
  const idleAfter = 5 * M
  it('is the slowest partition that carried the model', () => {
    expect(
      completeWatermarkOf(
        [
          { id: 'p0', watermark: 50 * M, unread: false },
          { id: 'p1', watermark: 48 * M, unread: true },
          { id: 'p2', watermark: Number.NEGATIVE_INFINITY, unread: false },
        ],
        idleAfter,
      ),
    ).toEqual({ watermark: 48 * M, waitingFor: [], idle: [] })
  })

  it('never takes a partition with unread events as idle, however far behind (the burst)', () => {
    const c = completeWatermarkOf(
      [
        { id: 'p0', watermark: 120 * M, unread: false },
        { id: 'p1', watermark: 60 * M, unread: true },
      ],
      idleAfter,
    )
    expect(c.watermark).toBe(60 * M)
    expect(c.idle).toEqual([])
  })

  it('leaves out a partition read to its fresh end that lags by more than idleAfter', () => {
    const partitions = [
      { id: 'p0', watermark: 120 * M, unread: true },
      { id: 'p1', watermark: 60 * M, unread: false },
    ]
    expect(completeWatermarkOf(partitions, idleAfter)).toEqual({
      watermark: 120 * M,
      waitingFor: [],
      idle: ['p1'],
    })
    // lagging exactly idleAfter: not idle
    expect(
      completeWatermarkOf(
        [partitions[0]!, { id: 'p1', watermark: 115 * M, unread: false }],
        idleAfter,
      ).watermark,
    ).toBe(115 * M)
  })

  it('waits for a partition nobody has read yet that holds events', () => {
    expect(
      completeWatermarkOf(
        [
          { id: 'p0', watermark: 120 * M, unread: false },
          { id: 'p1', watermark: null, unread: true },
          { id: 'p2', watermark: null, unread: false },
        ],
        idleAfter,
      ),
    ).toEqual({ watermark: null, waitingFor: ['p1'], idle: [] })
  })

  it('is null before any event of the model', () => {
    expect(
      completeWatermarkOf([{ id: 'p0', watermark: Number.NEGATIVE_INFINITY, unread: false }], 1)
        .watermark,
    ).toBeNull()
  })
})

describe('dueWindows', () => {
  // 1-minute buckets, 10-minute windows every 5 minutes, 1 minute of allowed lateness.
  const spec: WindowSpec = { bucket: M, size: 10 * M, hop: 5 * M, allowedLateness: M }
  const live = { earliestEvent: null, from: null, replay: false }
  const farFuture = 1e15

  it('after an evaluation: every window since, in order', () => {
    expect(dueWindows(10 * M, 31 * M, farFuture, spec, live)).toEqual({
      ends: [15 * M, 20 * M, 25 * M, 30 * M],
      skipped: null,
    })
  })

  it('never a window ending after the wall clock, whatever the watermark says', () => {
    expect(dueWindows(10 * M, 600 * M, 22 * M, spec, live).ends).toEqual([15 * M, 20 * M])
    expect(dueWindows(null, 600 * M, 22 * M, spec, live).ends).toEqual([20 * M])
  })

  it('a live start judges the newest window and says how many older ones holding events it skips', () => {
    expect(dueWindows(null, 31 * M, farFuture, spec, { ...live, earliestEvent: 3 * M })).toEqual({
      ends: [30 * M],
      skipped: { count: 5, reason: 'before_first_evaluation' },
    })
    expect(dueWindows(null, 31 * M, farFuture, spec, { ...live, earliestEvent: 28 * M })).toEqual({
      ends: [30 * M],
      skipped: null,
    })
  })

  it('a replay starts at the first window holding an event and skips none', () => {
    expect(
      dueWindows(null, 31 * M, farFuture, spec, { earliestEvent: 3 * M, from: null, replay: true }),
    ).toEqual({ ends: [5 * M, 10 * M, 15 * M, 20 * M, 25 * M, 30 * M], skipped: null })
  })

  it('--from T starts at the first window starting at or after T, and says which it skips', () => {
    // T = 7 min: windows ending 10 and 15 start before it; 20 (10..20) is the first complete one.
    expect(
      dueWindows(null, 31 * M, farFuture, spec, {
        earliestEvent: 7 * M,
        from: 7 * M,
        replay: true,
      }),
    ).toEqual({
      ends: [20 * M, 25 * M, 30 * M],
      skipped: { count: 2, reason: 'starts_before_from' },
    })
  })
})

function report(version: string | null, n: number, drifted: boolean): WindowReport {
  const windowId = `m:${version ?? ''}:600000`
  const base: Partial<DriftReport> = {
    nCurrent: n,
    datasetDrift: drifted,
    features: [
      {
        name: 'x',
        drifted,
        severity: drifted ? 'critical' : 'ok',
      } as DriftReport['features'][number],
    ],
  }
  return {
    ...(base as DriftReport),
    reportId: windowId,
    windowId,
    revision: 0,
    lateness: { nLate: 0, nAtEvaluation: n },
    model: 'm',
    modelVersion: version,
    window: { start: '', end: '' },
    referenceId: 'r',
    generatedAt: '',
    criticalFeatures: [],
  }
}

describe('late events and revisions', () => {
  it('keys verdicts on drifted/severity per feature and the dataset drift', () => {
    expect(verdictKey(report(null, 10, false))).not.toBe(verdictKey(report(null, 10, true)))
    expect(verdictKey(report(null, 10, false))).toBe(verdictKey(report(null, 99, false)))
  })

  it('counts late events without publishing when no verdict changed', () => {
    const record = recordOf(600_000, 100, [report(null, 100, false)])
    const r = reviseWindow(record, 130, [report(null, 130, false)])
    expect(r.reports).toEqual([])
    expect(r.newlyLate).toBe(30)
    expect(r.record).toMatchObject({ stored: 130, late: { '': 30 }, revision: 0 })
    // counted once: a second look at the same numbers adds nothing
    expect(reviseWindow(r.record, 130, [report(null, 130, false)]).newlyLate).toBe(0)
  })

  it('publishes a revision, same window id, when late events change a verdict', () => {
    const record = recordOf(600_000, 100, [report(null, 100, false)])
    const first = reviseWindow(record, 400, [report(null, 400, true)])
    expect(first.reports).toHaveLength(1)
    expect(first.reports[0]).toMatchObject({
      windowId: 'm::600000',
      reportId: 'm::600000:r1',
      revision: 1,
      nCurrent: 400,
      lateness: { nLate: 300, nAtEvaluation: 100 },
    })
    expect(first.newlyLate).toBe(300)
    // more late events, same verdict: counted, no new revision
    const second = reviseWindow(first.record, 450, [report(null, 450, true)])
    expect(second.reports).toEqual([])
    expect(second.newlyLate).toBe(50)
    // back to ok: revision 2
    const third = reviseWindow(second.record, 2000, [report(null, 2000, false)])
    expect(third.reports.map((r) => r.revision)).toEqual([2])
  })

  it('a version first seen late counts all its events as late', () => {
    const record = recordOf(600_000, 100, [report('v1', 100, false)])
    const r = reviseWindow(record, 150, [report('v1', 100, false), report('v2', 50, true)])
    expect(r.newlyLate).toBe(50)
    expect(r.reports.map((x) => x.lateness.nLate)).toEqual([0, 50])
  })

  it('keeps the records of windows within the horizon, at most max', () => {
    const records = [1, 2, 3, 4].map((i) => recordOf(i * M, 0, []))
    expect(pruneRecords(records, 4 * M, 2 * M, 10).map((r) => r.end)).toEqual([3 * M, 4 * M])
    expect(pruneRecords(records, 4 * M, 100 * M, 3).map((r) => r.end)).toEqual([
      2 * M,
      3 * M,
      4 * M,
    ])
  })
})
