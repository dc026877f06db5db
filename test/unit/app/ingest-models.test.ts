// Two models on one partition, and a crash between their first flushes: each model's flush is its
// own atomic step, so one model can end up stored and the other not. The restarted consumer must
// still count every event of both exactly once (docs/architecture.md, guarantee 1), wherever Kafka's
// committed offset (a hint, never written here) would have had it resume.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { Ingestor, type ModelRuntime } from '../../../src/app/ingest.js'
import { layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import { decodeBucket } from '../../../src/core/stream/bucket-codec.js'
import type { SourceBatch } from '../../../src/ports/event-source.js'
import type { FlushBatch, FlushOutcome } from '../../../src/ports/sketch-store.js'
import { RecordingSink, ScriptedSource } from '../../helpers/recording-ports.js'

const T0 = 1_700_000_000_000
const ref = { topic: 'predictions', partition: 0 }
const models = ['fraud', 'churn'] as const
const EVENTS = 600 // alternating models, 20 ms apart

const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
for (let i = 0; i < 100; i++) builder.add({ x: i })
const layout = layoutOf(builder.build())

/** The memory store, refusing the data flushes (those with buckets) of `failing`. */
class CrashingStore extends MemorySketchStore {
  failing: string | undefined
  override applyFlush(batch: FlushBatch): Promise<FlushOutcome> {
    if (batch.model === this.failing && batch.buckets.length > 0)
      return Promise.reject(new Error('the process died here'))
    return super.applyFlush(batch)
  }
}

function ingestor(store: CrashingStore, source: ScriptedSource): Ingestor {
  const runtimes = new Map<string, ModelRuntime>(
    models.map((name) => [
      name,
      {
        name,
        spec: { bucket: 1000, size: 10_000, hop: 10_000, allowedLateness: 1000 },
        retentionMs: 3_600_000,
        referenceId: 'ref-1',
        layout,
        kinds: new Map([['x', 'numerical']]),
      },
    ]),
  )
  return new Ingestor({
    store,
    sink: new RecordingSink(),
    source,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    models: runtimes,
    maxEventBytes: 1_048_576,
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: () => T0 + 3_600_000,
  })
}

function batch(from: number, to: number): SourceBatch {
  return {
    ref,
    highWatermark: String(EVENTS),
    messages: Array.from({ length: to - from }, (_, k) => {
      const i = from + k
      const event = {
        eventId: `e${i}`,
        model: models[i % 2],
        timestamp: T0 + i * 20,
        features: { x: i % 100 },
      }
      return {
        offset: String(i),
        value: Buffer.from(JSON.stringify(event)),
        timestamp: event.timestamp,
      }
    }),
  }
}

const control = { isRunning: () => true, heartbeat: () => Promise.resolve() }

async function storedRows(store: MemorySketchStore, model: string): Promise<number> {
  const starts = Array.from({ length: (EVENTS * 20) / 1000 }, (_, k) => T0 + k * 1000)
  let rows = 0
  for (const blobs of (await store.readBuckets(model, starts)).values()) {
    for (const blob of blobs.values())
      for (const profile of decodeBucket(blob).values()) rows += profile.rows
  }
  return rows
}

describe('two models, a crash between their first flushes', () => {
  it('resumes every model from a checkpoint of its own: each counts all its events once', async () => {
    const store = new CrashingStore()
    const first = ingestor(store, new ScriptedSource())
    await first.onBatch(batch(0, 300), control)
    store.failing = 'churn' // fraud's flush lands, churn's does not: the process dies in between
    await expect(first.flush()).rejects.toThrow('the process died here')
    store.failing = undefined

    // The restarted process. Kafka has no committed offset (the flush never got that far), so it
    // delivers from wherever its reset policy says: here, the end of what was read.
    const source = new ScriptedSource()
    const second = ingestor(store, source)
    await second.onBatch(batch(300, 600), control)
    expect(source.seeks, 'seeks back to the smallest checkpoint').toEqual([
      { partition: 0, offset: '0' },
    ])
    await second.onBatch(batch(0, 600), control)
    await second.flush()
    expect(await storedRows(store, 'fraud')).toBe(EVENTS / 2)
    expect(await storedRows(store, 'churn')).toBe(EVENTS / 2)
    const checkpoints = [...(await Promise.all(models.map((m) => store.loadCheckpoints(m, [ref]))))]
    expect(checkpoints.map((c) => c.get('predictions:0')?.nextOffset)).toEqual(['600', '600'])
  })
})
