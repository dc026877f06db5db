// The evaluator waits until every input partition with unread events has been read once: a
// partition nobody has read yet has no watermark, so without this a fresh group over a backlog
// evaluates its first windows on the partitions it happened to read first. "Unread" is judged
// from end offsets the evaluator fetches itself on every tick (InputBacklog.positions).

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { Evaluator, type EvaluatedModel } from '../../../src/app/evaluator.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { addRow, createDatasetProfile, layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder, type ReferenceSnapshot } from '../../../src/core/reference.js'
import { encodeBucket, seriesKey } from '../../../src/core/stream/bucket-codec.js'
import { initialEvaluationState } from '../../../src/core/stream/evaluation.js'
import type { InputBacklog } from '../../../src/ports/event-source.js'
import type { PartitionRef } from '../../../src/ports/sketch-store.js'
import { RecordingSink } from '../../helpers/recording-ports.js'

const T0 = 1_700_000_000_000
const WINDOW = 10_000
const p0: PartitionRef = { topic: 'predictions', partition: 0 }
const p1: PartitionRef = { topic: 'predictions', partition: 1 }

/** Positions as Kafka would give them: `end` events on each partition, read from 0. */
function positionsOf(...ends: Array<[PartitionRef, number]>): InputBacklog['positions'] {
  return () => Promise.resolve(ends.map(([ref, end]) => ({ ref, end: String(end), start: '0' })))
}

function reference(): ReferenceSnapshot {
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
}

const snapshot = reference()
const model: EvaluatedModel = {
  name: 'fraud',
  spec: { bucket: WINDOW, size: WINDOW, hop: WINDOW, allowedLateness: 0 },
  settings: driftSettingsOf(driftSectionSchema.parse({})),
  features: undefined,
  alertPolicy: { fireAfter: 2, resolveAfter: 2, cooldown: 0 },
  minCriticalFeatures: 3,
  reference: () => snapshot,
}

/** What a consumer's flush of `ref` would store: `rows` events in each of `windows` windows. */
async function flushPartition(
  store: MemorySketchStore,
  ref: PartitionRef,
  rows: number,
  windows: number,
): Promise<void> {
  const buckets = []
  for (let w = 0; w < windows; w++) {
    const profile = createDatasetProfile(layoutOf(snapshot.profile))
    for (let i = 0; i < rows; i++) addRow(profile, { x: (i * 7) % 100 })
    buckets.push({
      bucketStart: T0 + w * WINDOW,
      ref,
      blob: encodeBucket(new Map([[seriesKey(snapshot.id, ''), profile]])),
    })
  }
  const next = { nextOffset: String(rows * windows), watermark: T0 + windows * WINDOW, late: 0 }
  const outcome = await store.applyFlush({
    model: 'fraud',
    partitions: [{ ref, expected: null, next }],
    buckets,
    retentionMs: 3_600_000,
  })
  expect(outcome.status).toBe('applied')
}

async function setUp(
  backlog: InputBacklog | undefined,
): Promise<{ store: MemorySketchStore; sink: RecordingSink; evaluator: Evaluator }> {
  const store = new MemorySketchStore()
  const leases = new MemoryLeaseStore()
  const sink = new RecordingSink()
  // Every window from T0 on is due for a report (with no evaluation recorded, only the newest is).
  const token = (await leases.acquire('fraud', 'setup', 60_000)) as number
  await leases.commitEvaluation('fraud', token, T0, JSON.stringify(initialEvaluationState))
  await leases.release('fraud', 'setup')
  const evaluator = new Evaluator({
    owner: 'test',
    store,
    leases,
    sink,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    registry: createDefaultRegistry(),
    models: [model],
    intervalMs: 60_000,
    leaseTtlMs: 60_000,
    now: () => T0 + 3_600_000,
    ...(backlog === undefined ? {} : { backlog }),
  })
  return { store, sink, evaluator }
}

describe('the first evaluation and the input backlog', () => {
  it('without a backlog source, evaluates on the partitions flushed so far (the behaviour it fixes)', async () => {
    const { store, sink, evaluator } = await setUp(undefined)
    await flushPartition(store, p0, 30, 3)
    expect(await evaluator.evaluateModel(model)).toBe(3)
    expect(sink.published.reports.map((r) => r.nCurrent)).toEqual([30, 30, 30])
  })

  it('waits until every partition with unread events has been read once, then evaluates them all', async () => {
    let asked = 0
    const positions = positionsOf([p0, 90], [p1, 60])
    const backlog: InputBacklog = {
      positions: () => {
        asked++
        return positions()
      },
    }
    const { store, sink, evaluator } = await setUp(backlog)
    await flushPartition(store, p0, 30, 3)
    expect(await evaluator.evaluateModel(model)).toBe(0)
    expect(await evaluator.evaluateModel(model)).toBe(0)
    expect(sink.published.reports).toHaveLength(0)

    await flushPartition(store, p1, 20, 3)
    expect(await evaluator.evaluateModel(model)).toBe(3)
    expect(sink.published.reports.map((r) => r.nCurrent)).toEqual([50, 50, 50])
    const askedBefore = asked
    await evaluator.evaluateModel(model)
    expect(asked, 'end offsets are fetched afresh on every tick').toBe(askedBefore + 1)
  })

  it('does not wait for partitions without unread events (empty, or read before this group started)', async () => {
    const backlog: InputBacklog = { positions: positionsOf([p0, 60], [p1, 0]) }
    const { store, sink, evaluator } = await setUp(backlog)
    await flushPartition(store, p0, 30, 2)
    expect(await evaluator.evaluateModel(model)).toBe(2)
    expect(sink.published.reports.map((r) => r.nCurrent)).toEqual([30, 30])
  })

  it('evaluates nothing while the backlog cannot be read (the tick logs it and retries)', async () => {
    const backlog: InputBacklog = {
      positions: () => Promise.reject(new Error('broker unreachable')),
    }
    const { store, sink, evaluator } = await setUp(backlog)
    await flushPartition(store, p0, 30, 2)
    await expect(evaluator.evaluateModel(model)).rejects.toThrow('broker unreachable')
    expect(sink.published.reports).toHaveLength(0)
  })
})
