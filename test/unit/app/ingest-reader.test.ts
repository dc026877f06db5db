// The ingest path with its JSON reader (core/event-reader.ts) and without it must store the same
// buckets, byte for byte, and dead-letter the same events: the reader only makes the hot path
// cheaper. The second case covers a stored bucket holding a feature the layout no longer
// watches, where the features are decoded again by name.

import { decodeBucket, encodeBucketJSON } from '../../../src/core/stream/bucket-codec.js'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { Ingestor, type ModelRuntime } from '../../../src/app/ingest.js'
import { decodePredictionEvent } from '../../../src/core/events.js'
import { layoutOf, type ProfileLayout } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import { mulberry32 } from '../../../src/core/simulate/random.js'
import type { EventDecoder } from '../../../src/ports/event-decoder.js'
import type { SourceBatch } from '../../../src/ports/event-source.js'
import { RecordingSink, ScriptedSource } from '../../helpers/recording-ports.js'

const T0 = 1_700_000_000_000
const ref = { topic: 'predictions', partition: 0 }
const spec = { bucket: 1000, size: 10_000, hop: 10_000, allowedLateness: 1000 }

function referenceLayout(names: readonly string[]): ProfileLayout {
  const builder = new ReferenceBuilder(
    names.map((name) => ({
      name,
      kind: name === 'c' ? ('categorical' as const) : ('numerical' as const),
      reason: 'test',
    })),
  )
  const rng = mulberry32(3)
  for (let i = 0; i < 2000; i++)
    builder.add(
      Object.fromEntries(
        names.map((n) => [n, n === 'c' ? ['a', 'b', 'c'][i % 3] : Math.exp(rng() * 4) - 5]),
      ),
    )
  return layoutOf(builder.build())
}

/** The JSON decoder without the reader: every event through decodePredictionEvent. */
const generalOnly: EventDecoder = {
  prepare: () => Promise.resolve(),
  decode: (value, limits) => decodePredictionEvent(value, limits),
  read: () => null,
}

function ingestor(
  store: MemorySketchStore,
  sink: RecordingSink,
  layout: ProfileLayout,
  decoder?: EventDecoder,
): Ingestor {
  const runtime: ModelRuntime = {
    name: 'm',
    spec,
    retentionMs: 3_600_000,
    referenceId: 'ref-1',
    layout,
    kinds: new Map(layout.columns.map((c) => [c.name, c.kind])),
  }
  return new Ingestor({
    store,
    sink,
    source: new ScriptedSource(),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    models: new Map([['m', runtime]]),
    maxEventBytes: 1_048_576,
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: () => T0 + 3_600_000,
    ...(decoder === undefined ? {} : { decoder }),
  })
}

/** Events of every kind the reader takes or declines, and a few bad ones. */
function events(count: number, seed: number): string[] {
  const rng = mulberry32(seed)
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const x = rng() < 0.1 ? null : Math.round((Math.exp(rng() * 4) - 5) * 1e4) / 1e4
    const y = rng() < 0.05 ? '1e-3' : rng() < 0.05 ? '123456789.123456789' : String(rng() * 9)
    const c = ['"a"', '"b"', '"caf\u00e9"', '"a\\u0062"', 'true', '7', 'null'][i % 7]
    const z = (rng() * 100).toFixed(2)
    const features = [`"x":${x}`, `"y":${y}`, `"c":${c}`, `"z":${z}`]
    if (i % 11 === 0) features.splice(1, 1) // y absent
    if (i % 13 === 0) features.reverse()
    const body = `{"eventId":"e${i}","model":"m","timestamp":${T0 + i * 7},"features":{${features.join(',')}},"prediction":${i % 2},"latencyMs":${i % 50}}`
    if (i % 97 === 0)
      out.push(body.replace('"x":', '"x":"text",,"w":')) // invalid JSON
    else if (i % 89 === 0)
      out.push(body.replace(`"x":${x}`, '"x":"text"')) // kind mismatch
    else out.push(body)
  }
  return out
}

function batchOf(values: readonly string[], from = 0): SourceBatch {
  return {
    ref,
    highWatermark: String(from + values.length),
    messages: values.map((v, k) => ({
      offset: String(from + k),
      value: Buffer.from(v),
      timestamp: T0,
    })),
  }
}

const control = { isRunning: () => true, heartbeat: () => Promise.resolve() }

async function stored(store: MemorySketchStore): Promise<string[]> {
  const starts = Array.from({ length: 40 }, (_, k) => T0 + k * 1000)
  const out: string[] = []
  for (const [start, blobs] of await store.readBuckets('m', starts))
    // In the JSON form, readable in a failure's diff (the binary form round-trips exactly).
    for (const [partition, blob] of blobs)
      out.push(`${start}/${partition}: ${encodeBucketJSON(decodeBucket(blob))}`)
  return out.sort()
}

describe('ingest with and without the JSON reader', () => {
  it('stores the same buckets and dead-letters the same events', async () => {
    const layout = referenceLayout(['x', 'y', 'c'])
    const values = events(3000, 5)
    const outcomes = []
    for (const decoder of [undefined, generalOnly]) {
      const store = new MemorySketchStore()
      const sink = new RecordingSink()
      const ingest = ingestor(store, sink, layout, decoder)
      for (let from = 0; from < values.length; from += 500)
        await ingest.onBatch(batchOf(values.slice(from, from + 500), from), control)
      await ingest.flush()
      outcomes.push({
        buckets: await stored(store),
        letters: sink.deadLettersSent.map((l) => `${l.source.offset} ${l.reason} ${l.detail}`),
      })
    }
    const [withReader, without] = outcomes
    expect(withReader?.buckets.length).toBeGreaterThan(10)
    expect(withReader?.letters.length).toBeGreaterThan(10)
    expect(withReader).toEqual(without)
  })

  it('counts a feature a stored bucket has and the layout no longer watches, as addRow does', async () => {
    const wide = referenceLayout(['x', 'y', 'c', 'z'])
    const narrow = referenceLayout(['x', 'y', 'c'])
    const values = events(2000, 9)
    const outcomes = []
    for (const decoder of [undefined, generalOnly]) {
      const store = new MemorySketchStore()
      const sink = new RecordingSink()
      // The first half under a layout with z, the second under one without (same reference id).
      const first = ingestor(store, sink, wide, decoder)
      await first.onBatch(batchOf(values.slice(0, 1000)), control)
      await first.flush()
      const second = ingestor(store, sink, narrow, decoder)
      await second.onBatch(batchOf(values.slice(1000), 1000), control)
      await second.flush()
      outcomes.push(await stored(store))
    }
    expect(outcomes[0]?.some((b) => b.includes('"z"'))).toBe(true)
    expect(outcomes[0]).toEqual(outcomes[1])
  })
})
