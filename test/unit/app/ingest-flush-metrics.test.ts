// What the flush and lag metrics say about the ingest loop: a flush another owner made stale is
// counted as `stale`, a failed flush records how long it took (not 0 s), and a revoked partition's
// lag gauge goes away with it (the lag alert takes the max over partitions, so a frozen value
// would keep it firing).

import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import { createMetrics, type Metrics } from '../../../src/adapters/metrics/metrics.js'
import { Ingestor, type ModelRuntime } from '../../../src/app/ingest.js'
import { layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import type { SketchStore } from '../../../src/ports/sketch-store.js'
import { RecordingSink, ScriptedSource } from '../../helpers/recording-ports.js'

const T0 = 1_700_000_000_000
const ref = { topic: 'predictions', partition: 0 }

const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
for (let i = 0; i < 100; i++) builder.add({ x: i })
const runtime: ModelRuntime = {
  name: 'fraud',
  spec: { bucket: 1000, size: 10_000, hop: 10_000, allowedLateness: 1000 },
  retentionMs: 3_600_000,
  referenceId: 'ref-1',
  layout: layoutOf(builder.build()),
  kinds: new Map([['x', 'numerical']]),
}

/** The memory store, with applyFlush failing after `delayMs` while `failing` is set. */
class SlowFailingStore extends MemorySketchStore {
  failing = false
  override async applyFlush(
    batch: Parameters<SketchStore['applyFlush']>[0],
  ): ReturnType<SketchStore['applyFlush']> {
    if (!this.failing) return super.applyFlush(batch)
    await new Promise((resolve) => setTimeout(resolve, 60))
    throw new Error('redis down')
  }
}

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

function ingestorOn(store: MemorySketchStore): { ingestor: Ingestor; metrics: Metrics } {
  const metrics = createMetrics({ defaultMetrics: false })
  const ingestor = new Ingestor({
    store,
    sink: new RecordingSink(),
    source: new ScriptedSource(),
    metrics,
    logger: pino({ level: 'silent' }),
    models: new Map([['fraud', runtime]]),
    maxEventBytes: 1_048_576,
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: () => T0 + 60_000,
  })
  stops.push(() => ingestor.stop())
  return { ingestor, metrics }
}

async function feed(ingestor: Ingestor, from: number, n: number): Promise<void> {
  const messages = Array.from({ length: n }, (_, i) => ({
    offset: String(from + i),
    value: Buffer.from(
      JSON.stringify({
        eventId: `e${from + i}`,
        model: 'fraud',
        timestamp: T0,
        features: { x: i },
      }),
    ),
    timestamp: T0,
  }))
  await ingestor.onBatch(
    { ref, highWatermark: String(from + n + 5), messages },
    { isRunning: () => true, heartbeat: () => Promise.resolve() },
  )
}

async function flushes(metrics: Metrics): Promise<Record<string, number>> {
  const values = (await metrics.flushesTotal.get()).values
  return Object.fromEntries(values.map((v) => [String(v.labels['outcome']), v.value]))
}

describe('flush metrics', () => {
  it('counts a flush another owner made stale as stale, not applied', async () => {
    const store = new MemorySketchStore()
    const a = ingestorOn(store)
    const b = ingestorOn(store)
    await feed(a.ingestor, 0, 3)
    await feed(b.ingestor, 0, 3) // b loaded the same checkpoint before a's flush
    await a.ingestor.flush()
    await b.ingestor.flush()
    expect(await flushes(a.metrics)).toMatchObject({ applied: 1, stale: 0 })
    expect(await flushes(b.metrics)).toMatchObject({ applied: 0, stale: 1 })
  })

  it('records how long a failed flush took', async () => {
    const store = new SlowFailingStore()
    const { ingestor, metrics } = ingestorOn(store)
    await feed(ingestor, 0, 3)
    store.failing = true
    await ingestor.flushSafely()
    store.failing = false
    expect(await flushes(metrics)).toMatchObject({ error: 1 })
    const histogram = (await metrics.flushDurationSeconds.get()).values
    const sum = histogram.find((v) => v.metricName === 'driftwatch_flush_duration_seconds_sum')
    expect(sum?.value).toBeGreaterThanOrEqual(0.05)
  })
})

describe('lag of a revoked partition', () => {
  it('is removed with the partition', async () => {
    const { ingestor, metrics } = ingestorOn(new MemorySketchStore())
    await feed(ingestor, 0, 3)
    expect((await metrics.consumerLag.get()).values).toEqual([
      expect.objectContaining({ labels: { topic: 'predictions', partition: '0' }, value: 5 }),
    ])
    ingestor.onRevoked([ref])
    expect((await metrics.consumerLag.get()).values).toEqual([])
  })
})
