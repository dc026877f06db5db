// The ingest side of complete windows: an event stamped too far ahead of the wall clock goes to the
// dead-letter topic (clock_skew) and moves no watermark; with `--from T` events stamped before T
// are passed over, not counted; and every counted event reaches its bucket's row counter in the
// same flush as its data, so a window that grows after it was reported is noticed.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { Ingestor, type ModelRuntime } from '../../../src/app/ingest.js'
import { parseFromTime } from '../../../src/cli/run.js'
import { layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import { decodeBucket } from '../../../src/core/stream/bucket-codec.js'
import type { SourceBatch } from '../../../src/ports/event-source.js'
import { RecordingSink, ScriptedSource } from '../../helpers/recording-ports.js'

const NOW = 1_700_000_000_000
const ref = { topic: 'predictions', partition: 0 }
const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
for (let i = 0; i < 100; i++) builder.add({ x: i })
const layout = layoutOf(builder.build())
const control = { isRunning: () => true, heartbeat: () => Promise.resolve() }

function setUp(notBefore?: number): {
  store: MemorySketchStore
  sink: RecordingSink
  ingestor: Ingestor
} {
  const store = new MemorySketchStore({ now: () => NOW })
  const sink = new RecordingSink()
  const runtime: ModelRuntime = {
    name: 'fraud',
    spec: { bucket: 1000, size: 10_000, hop: 10_000, allowedLateness: 1000 },
    retentionMs: 3_600_000,
    maxClockSkewMs: 300_000,
    ...(notBefore === undefined ? {} : { notBefore }),
    referenceId: 'ref-1',
    layout,
    kinds: new Map([['x', 'numerical']]),
  }
  const ingestor = new Ingestor({
    store,
    sink,
    source: new ScriptedSource(),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    models: new Map([['fraud', runtime]]),
    maxEventBytes: 1_048_576,
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: () => NOW,
  })
  return { store, sink, ingestor }
}

function batch(times: readonly number[]): SourceBatch {
  return {
    ref,
    highWatermark: String(times.length),
    messages: times.map((timestamp, i) => ({
      offset: String(i),
      value: Buffer.from(
        JSON.stringify({ eventId: `e${i}`, model: 'fraud', timestamp, features: { x: i } }),
      ),
      timestamp,
    })),
  }
}

async function rowsIn(store: MemorySketchStore, starts: number[]): Promise<number> {
  let rows = 0
  for (const blobs of (await store.readBuckets('fraud', starts)).values())
    for (const blob of blobs.values())
      for (const profile of decodeBucket(blob).values()) rows += profile.rows
  return rows
}

describe('ingest: clocks, --from, row counters', () => {
  const T = NOW - 60_000
  it('dead-letters an event from more than maxClockSkew ahead; it moves no watermark', async () => {
    const { store, sink, ingestor } = setUp()
    await ingestor.onBatch(batch([T, T + 1, NOW + 300_001, NOW + 299_000, T + 2]), control)
    await ingestor.flush()
    expect(sink.deadLettersSent.map((l) => [l.reason, l.source.offset])).toEqual([
      ['clock_skew', '2'],
    ])
    const checkpoint = (await store.loadCheckpoints('fraud', [ref])).get('predictions:0')
    // within the skew: counted, and it is the watermark; beyond: not
    expect(checkpoint).toMatchObject({ nextOffset: '5', watermark: NOW + 299_000, earliest: T })
  })

  it('with --from, passes over events stamped before it and counts the rest', async () => {
    const { store, ingestor } = setUp(T + 2000)
    await ingestor.onBatch(batch([T, T + 1000, T + 2000, T + 2500, T + 3000]), control)
    await ingestor.flush()
    const starts = [T - 1000, T, T + 1000, T + 2000, T + 3000].map(
      (t) => Math.floor(t / 1000) * 1000,
    )
    expect(await rowsIn(store, starts)).toBe(3)
    const checkpoint = (await store.loadCheckpoints('fraud', [ref])).get('predictions:0')
    expect(checkpoint).toMatchObject({ nextOffset: '5', earliest: T + 2000 })
  })

  it('adds each counted event to its bucket row counter, once, in the flush that stores it', async () => {
    const { store, ingestor } = setUp()
    const b = Math.floor(T / 1000) * 1000
    await ingestor.onBatch(batch([b, b + 1, b + 2, b + 1500]), control)
    expect(await store.bucketRows('fraud', [b, b + 1000])).toEqual(
      new Map([
        [b, 0],
        [b + 1000, 0],
      ]),
    )
    await ingestor.flush()
    await ingestor.flush() // nothing new: nothing added
    expect(await store.bucketRows('fraud', [b, b + 1000])).toEqual(
      new Map([
        [b, 3],
        [b + 1000, 1],
      ]),
    )
  })
})

describe('parseFromTime (--from)', () => {
  it('takes an ISO time or a duration ago, and names the flag otherwise', () => {
    expect(parseFromTime('2024-06-10T12:00:00Z', NOW)).toBe(Date.UTC(2024, 5, 10, 12))
    expect(parseFromTime('2h', NOW)).toBe(NOW - 7_200_000)
    expect(() => parseFromTime('yesterday', NOW)).toThrow('--from')
  })
})
