// When a flush fails, consumption pauses and /readyz names the dependency that failed: Redis when
// the state could not be stored, Kafka when the dead letters could not be sent (the flush stops
// there, before Redis). Before, both showed as "redis not ok". And a failed flush does not send a
// dead letter twice when the partition is read again from the store's checkpoint.

import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { Ingestor, type ModelRuntime } from '../../../src/app/ingest.js'
import { LiveStatus } from '../../../src/app/status.js'
import { layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder, type ReferenceSnapshot } from '../../../src/core/reference.js'
import type { SketchStore } from '../../../src/ports/sketch-store.js'
import { RecordingSink, ScriptedSource } from '../../helpers/recording-ports.js'

const T0 = 1_700_000_000_000
const ref = { topic: 'predictions', partition: 0 }

function reference(): ReferenceSnapshot {
  const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
  for (let i = 0; i < 100; i++) builder.add({ x: i })
  return {
    id: 'ref-1',
    createdAt: new Date(0).toISOString(),
    source: { kind: 'test' },
    exactBreakpoints: true,
    kindReasons: new Map(),
    profile: builder.build(),
  }
}

/**
 * The memory store, with applyFlush failing while `failing` is set; with `replyLost` set it applies
 * the flush and then fails, as a Redis killed between running the script and answering does.
 */
class FlakyStore extends MemorySketchStore {
  failing: Error | undefined
  replyLost = false
  override async applyFlush(
    batch: Parameters<SketchStore['applyFlush']>[0],
  ): ReturnType<SketchStore['applyFlush']> {
    if (this.failing !== undefined) throw this.failing
    const outcome = await super.applyFlush(batch)
    if (this.replyLost) throw new Error('connection lost before the reply')
    return outcome
  }
}

const snapshot = reference()
const layout = layoutOf(snapshot.profile)
const stops: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

function setUp(): {
  ingestor: Ingestor
  store: FlakyStore
  sink: RecordingSink
  source: ScriptedSource
  status: LiveStatus
} {
  const store = new FlakyStore()
  const sink = new RecordingSink()
  const source = new ScriptedSource()
  const runtime: ModelRuntime = {
    name: 'fraud',
    spec: { bucket: 1000, size: 10_000, hop: 10_000, allowedLateness: 1000 },
    retentionMs: 3_600_000,
    referenceId: snapshot.id,
    layout,
    kinds: new Map([['x', 'numerical']]),
  }
  const ingestor = new Ingestor({
    store,
    sink,
    source,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    models: new Map([['fraud', runtime]]),
    maxEventBytes: 1_048_576,
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: () => T0 + 60_000,
  })
  const status = new LiveStatus({
    leases: new MemoryLeaseStore(),
    runtimes: new Map([['fraud', { snapshot }]]),
    redisUp: () => Promise.resolve(true),
    kafkaUp: () => Promise.resolve(true),
    storeHealthy: () => ingestor.storeHealthy(),
    deadLettersHealthy: () => ingestor.deadLettersHealthy(),
  })
  stops.push(async () => {
    store.failing = undefined
    sink.deadLetterFailure = undefined
    await ingestor.stop()
  })
  return { ingestor, store, sink, source, status }
}

/** From offset `first`: one valid event, then one that is not JSON. */
async function feed(ingestor: Ingestor, first = 0): Promise<void> {
  const valid = { eventId: `e${first}`, model: 'fraud', timestamp: T0, features: { x: 5 } }
  await ingestor.onBatch(
    {
      ref,
      highWatermark: String(first + 2),
      messages: [
        { offset: String(first), value: Buffer.from(JSON.stringify(valid)), timestamp: T0 },
        { offset: String(first + 1), value: Buffer.from('{not json'), timestamp: T0 },
      ],
    },
    { isRunning: () => true, heartbeat: () => Promise.resolve() },
  )
}

describe('a failed flush and /readyz', () => {
  it('blames Kafka, not Redis, when the dead letters cannot be sent; recovers when they can', async () => {
    const { ingestor, sink, source, status } = setUp()
    await feed(ingestor)
    sink.deadLetterFailure = new Error('broker unreachable')
    await ingestor.flushSafely()
    expect(source.paused).toBe(true)
    const down = await status.readiness()
    expect(down.ready).toBe(false)
    expect(down.checks['redis']).toEqual({ ok: true })
    expect(down.checks['kafka']).toEqual({
      ok: false,
      detail: 'the last flush could not write the dead-letter topic; consumption is paused',
    })

    sink.deadLetterFailure = undefined
    await ingestor.flushSafely()
    expect(source.paused).toBe(false)
    expect((await status.readiness()).ready).toBe(true)
    expect(sink.deadLettersSent.map((l) => l.reason)).toEqual(['invalid_json'])
  })

  it('blames Redis when the state cannot be stored', async () => {
    const { ingestor, store, source, status } = setUp()
    await feed(ingestor)
    store.failing = new Error('redis down')
    await ingestor.flushSafely()
    expect(source.paused).toBe(true)
    const down = await status.readiness()
    expect(down.checks['redis']?.ok).toBe(false)
    expect(down.checks['kafka']).toEqual({ ok: true })
  })
})

describe('dead letters when a flush fails after Redis applied it', () => {
  it('sends each bad event once, though the partition is read again from the checkpoint', async () => {
    const { ingestor, store, sink, source } = setUp()
    await feed(ingestor, 0)
    // The flush reaches Redis (checkpoint 2) but its answer is lost: our view of the checkpoint
    // stays behind the store's.
    store.replyLost = true
    await ingestor.flushSafely()
    store.replyLost = false
    // A batch that was in flight: its dead letter (offset 3) goes out with the next flush, which
    // then finds the checkpoint moved, drops its state and seeks back to the store's checkpoint.
    await feed(ingestor, 2)
    await ingestor.flushSafely()
    expect(source.seeks).toContainEqual({ partition: 0, offset: '2' })
    // Kafka delivers offsets 2 and 3 again: the valid event is counted, the bad one was sent.
    await feed(ingestor, 2)
    await ingestor.flushSafely()
    expect(sink.deadLettersSent.map((l) => l.source.offset)).toEqual(['1', '3'])
    const rows = [...(await store.loadCheckpoints('fraud', [ref])).values()]
    expect(rows.map((c) => c.nextOffset)).toEqual(['4'])
  })
})
