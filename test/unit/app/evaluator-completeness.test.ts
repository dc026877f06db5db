// The evaluator loop over a store that passes the same contract suite as Redis: a window closes only
// once every partition that can hold its events is read past its end (judged from end offsets
// fetched on each tick), late events are counted and revise a report whose verdict they change,
// no window ending in the wall-clock future is judged, and a replay judges every window of its
// backlog in order.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics, type Metrics } from '../../../src/adapters/metrics/metrics.js'
import { Evaluator, type EvaluatedModel } from '../../../src/app/evaluator.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { addRow, createDatasetProfile, layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder, type ReferenceSnapshot } from '../../../src/core/reference.js'
import { encodeBucket, seriesKey } from '../../../src/core/stream/bucket-codec.js'
import type { EvaluationState } from '../../../src/core/stream/evaluation.js'
import type { InputBacklog } from '../../../src/ports/event-source.js'
import { partitionId, type PartitionRef } from '../../../src/ports/sketch-store.js'
import { RecordingSink } from '../../helpers/recording-ports.js'

const T0 = 1_700_000_000_000
const W = 10_000
const p0: PartitionRef = { topic: 'predictions', partition: 0 }
const p1: PartitionRef = { topic: 'predictions', partition: 1 }

const snapshot: ReferenceSnapshot = (() => {
  const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
  for (let i = 0; i < 1000; i++) builder.add({ x: i % 100 })
  return {
    id: 'ref-1',
    createdAt: new Date(0).toISOString(),
    source: { kind: 'test' },
    exactBreakpoints: true,
    kindReasons: new Map(),
    profile: builder.build(),
  }
})()

const model: EvaluatedModel = {
  name: 'fraud',
  spec: { bucket: W, size: W, hop: W, allowedLateness: 0 },
  settings: driftSettingsOf(driftSectionSchema.parse({})),
  features: undefined,
  alertPolicy: { fireAfter: 2, resolveAfter: 2, cooldown: 0 },
  minCriticalFeatures: 3,
  idleAfterMs: 5000,
  reference: () => snapshot,
}

/**
 * One partition as its consumer would flush it: its whole content per window so far (`rows[w]`
 * events of window w, x spread like the reference, or all 0 with `shifted`), checkpointed at the
 * number of events read, with the watermark of its newest event.
 */
class Partition {
  readonly rows: number[] = []
  readonly shifted: boolean[] = []
  offset = 0
  expected: string | null = null
  constructor(
    readonly ref: PartitionRef,
    readonly store: MemorySketchStore,
  ) {}

  async add(window: number, n: number, shifted = false): Promise<void> {
    const before = this.rows[window] ?? 0
    this.rows[window] = before + n
    this.shifted[window] = shifted
    this.offset += n
    const profile = createDatasetProfile(layoutOf(snapshot.profile))
    for (let i = 0; i < this.rows[window]; i++)
      addRow(profile, { x: i >= before && shifted ? 0 : (i * 7) % 100 })
    const filled = Array.from(this.rows, (r) => r ?? 0)
    const newest = T0 + (filled.length - 1) * W + W - 1
    const earliest = T0 + filled.findIndex((r) => r > 0) * W
    const next = { nextOffset: String(this.offset), watermark: newest, late: 0, earliest }
    const outcome = await this.store.applyFlush({
      model: 'fraud',
      partitions: [{ ref: this.ref, expected: this.expected, next }],
      buckets: [
        {
          bucketStart: T0 + window * W,
          ref: this.ref,
          blob: encodeBucket(new Map([[seriesKey(snapshot.id, ''), profile]])),
          rowsAdded: n,
        },
      ],
      retentionMs: 3_600_000,
    })
    expect(outcome.status).toBe('applied')
    this.expected = next.nextOffset
  }
}

function setUp(options: { now?: number; replay?: { from: number | null } } = {}): {
  store: MemorySketchStore
  sink: RecordingSink
  metrics: Metrics
  evaluator: Evaluator
  ends: Map<string, number>
  leases: MemoryLeaseStore
} {
  const store = new MemorySketchStore()
  const sink = new RecordingSink()
  const metrics = createMetrics({ defaultMetrics: false })
  // What Kafka says each partition's end is, as of the tick: tests move it to model producers.
  const ends = new Map<string, number>()
  const backlog: InputBacklog = {
    positions: () =>
      Promise.resolve(
        [p0, p1].map((ref) => ({
          ref,
          end: String(ends.get(partitionId(ref)) ?? 0),
          start: '0',
        })),
      ),
  }
  const leases = new MemoryLeaseStore()
  const evaluator = new Evaluator({
    owner: 'test',
    store,
    leases,
    sink,
    metrics,
    logger: pino({ level: 'silent' }),
    registry: createDefaultRegistry(),
    models: [model],
    intervalMs: 60_000,
    leaseTtlMs: 60_000,
    now: () => options.now ?? T0 + 3_600_000,
    backlog,
    ...(options.replay === undefined ? {} : { replay: options.replay }),
  })
  return { store, sink, metrics, evaluator, ends, leases }
}

async function counter(metrics: Metrics, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name)
  if (metric === undefined) throw new Error(`no metric ${name}`)
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0)
}

describe('completeness from fresh end offsets', () => {
  it('a partition with unread events holds windows back however far behind it is (the burst)', async () => {
    const { store, sink, evaluator, ends } = setUp({ replay: { from: null } })
    const a = new Partition(p0, store)
    const b = new Partition(p1, store)
    await a.add(0, 30)
    await b.add(0, 20)
    ends.set('predictions:0', a.offset)
    ends.set('predictions:1', b.offset)
    // Both read to their end: window 0 is complete only once a partition passes its end.
    await a.add(1, 30)
    await b.add(1, 20)
    ends.set('predictions:0', a.offset)
    ends.set('predictions:1', b.offset)
    expect(await evaluator.evaluateModel(model)).toBe(1)
    // The burst: partition 0 races 3 windows ahead; partition 1 has 20 more events for window 1
    // that its consumer has not fetched yet. It lags by far more than idleAfter, but it is not
    // read to its (fresh) end: it holds window 1 back.
    await a.add(2, 30)
    await a.add(3, 30)
    await a.add(4, 30)
    ends.set('predictions:0', a.offset)
    ends.set('predictions:1', b.offset + 20)
    expect(await evaluator.evaluateModel(model)).toBe(0)
    // Read now: window 1 holds both partitions' events, and partition 1 then goes quiet for good.
    await b.add(1, 20)
    expect(await evaluator.evaluateModel(model)).toBe(3)
    expect(sink.published.reports.map((r) => r.nCurrent)).toEqual([50, 70, 30, 30])
  })
})

describe('late events', () => {
  it('are counted, and revise the report (same window id, next revision) when they change a verdict', async () => {
    const { store, sink, metrics, evaluator, ends, leases } = setUp({ replay: { from: null } })
    const a = new Partition(p0, store)
    const b = new Partition(p1, store)
    await a.add(0, 200)
    await a.add(1, 200)
    await a.add(2, 200)
    await b.add(2, 1)
    ends.set('predictions:0', a.offset)
    ends.set('predictions:1', b.offset)
    expect(await evaluator.evaluateModel(model)).toBe(2)
    expect(sink.published.reports.map((r) => [r.windowId, r.revision, r.datasetDrift])).toEqual([
      [`fraud::${T0 + W}`, 0, false],
      [`fraud::${T0 + 2 * W}`, 0, false],
    ])
    // 20 late events like the others: counted late, no verdict changes, nothing re-published.
    await b.add(0, 20)
    ends.set('predictions:1', b.offset)
    expect(await evaluator.evaluateModel(model)).toBe(0)
    expect(sink.published.reports).toHaveLength(2)
    expect(await counter(metrics, 'driftwatch_events_late_total')).toBe(20)
    // 600 late events all at x = 0: the window's verdict changes, a revision is published.
    await b.add(0, 600, true)
    ends.set('predictions:1', b.offset)
    await evaluator.evaluateModel(model)
    expect(await counter(metrics, 'driftwatch_events_late_total')).toBe(620)
    expect(sink.published.reports).toHaveLength(3)
    expect(sink.published.reports[2]).toMatchObject({
      windowId: `fraud::${T0 + W}`,
      reportId: `fraud::${T0 + W}:r1`,
      revision: 1,
      nCurrent: 820,
      datasetDrift: true,
      lateness: { nLate: 620, nAtEvaluation: 200 },
    })
    expect(await counter(metrics, 'driftwatch_report_revisions_total')).toBe(1)
    // The on-call page's history shows the window's revised verdict, in place.
    const state = JSON.parse(
      (await leases.lastEvaluation('fraud'))?.state ?? '{}',
    ) as EvaluationState
    expect(
      state.history?.['']?.map((w) => [w.endMs, w.revision, w.features['x']?.drifted]),
    ).toEqual([
      [T0 + W, 1, true],
      [T0 + 2 * W, 0, false],
    ])
    // A later tick with nothing new publishes nothing more.
    await evaluator.evaluateModel(model)
    expect(sink.published.reports).toHaveLength(3)
  })
})

describe('clocks and backlogs', () => {
  it('never evaluates a window ending after the wall clock', async () => {
    const { store, sink, evaluator, ends } = setUp({
      now: T0 + 2 * W + 500,
      replay: { from: null },
    })
    const a = new Partition(p0, store)
    for (let w = 0; w < 6; w++) await a.add(w, 10)
    ends.set('predictions:0', a.offset)
    expect(await evaluator.evaluateModel(model)).toBe(2)
    expect(sink.published.reports.map((r) => Date.parse(r.window.end) - T0)).toEqual([W, 2 * W])
  })

  it('a replay judges every window of the backlog in order', async () => {
    const { store, sink, evaluator, ends } = setUp({ replay: { from: null } })
    const a = new Partition(p0, store)
    for (let w = 0; w < 6; w++) await a.add(w, 10 + w)
    ends.set('predictions:0', a.offset)
    expect(await evaluator.evaluateModel(model)).toBe(5)
    expect(sink.published.reports.map((r) => r.nCurrent)).toEqual([10, 11, 12, 13, 14])
  })

  it('a live start judges the newest window and reports the ones it skips', async () => {
    const { store, sink, metrics, evaluator, ends } = setUp()
    const a = new Partition(p0, store)
    for (let w = 0; w < 6; w++) await a.add(w, 10 + w)
    ends.set('predictions:0', a.offset)
    expect(await evaluator.evaluateModel(model)).toBe(1)
    expect(sink.published.reports.map((r) => r.nCurrent)).toEqual([14])
    expect(await counter(metrics, 'driftwatch_windows_skipped_total')).toBe(4)
  })
})

describe('verdict gauges follow the lease', () => {
  it('an instance that lost a model to another removes that model’s verdicts from its /metrics', async () => {
    const { store, evaluator, ends, leases, metrics } = setUp({ replay: { from: null } })
    const a = new Partition(p0, store)
    const b = new Partition(p1, store)
    await a.add(0, 30)
    await b.add(0, 20)
    await a.add(1, 30)
    await b.add(1, 20)
    ends.set('predictions:0', a.offset)
    ends.set('predictions:1', b.offset)
    expect(await evaluator.evaluateModel(model)).toBe(1)
    const exported = async (): Promise<number> =>
      (await metrics.registry.getMetricsAsJSON())
        .flatMap((m) => m.values)
        .filter((v) => v.labels['model'] === 'fraud' && v.labels['feature'] === 'x').length
    expect(await exported()).toBeGreaterThan(0)
    // Another instance holds the lease now (ours was given up, as after a long pause).
    await leases.release('fraud', 'test')
    expect(await leases.acquire('fraud', 'other', 60_000)).not.toBeNull()
    expect(await evaluator.evaluateModel(model)).toBe(0)
    await new Promise((resolve) => setImmediate(resolve))
    expect(await exported()).toBe(0)
    const left = (await metrics.registry.getMetricsAsJSON())
      .filter((m) => m.name === 'driftwatch_dataset_drifted')
      .flatMap((m) => m.values)
    expect(left).toEqual([])
  })
})
