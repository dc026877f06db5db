// Compaction of stream buckets on a real Redis (issue 12): a bucket's partition fields are merged
// into one once every partition's stored watermark has passed the bucket's close, atomically and
// only if the bucket still holds what was read; the expiry and the row counter stay; and a window
// reports the same, byte for byte, whether its buckets were compacted or not.

import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../src/adapters/memory/lease-store.js'
import { createMetrics } from '../../src/adapters/metrics/metrics.js'
import { createRedisClient, type RedisClient } from '../../src/adapters/redis/client.js'
import { runScript } from '../../src/adapters/redis/scripts.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { Evaluator, type EvaluatedModel } from '../../src/app/evaluator.js'
import { driftSectionSchema, driftSettingsOf } from '../../src/config/drift.js'
import { createDefaultRegistry } from '../../src/core/drift-tests/registry.js'
import {
  addRow,
  createDatasetProfile,
  layoutOf,
  type DatasetProfile,
} from '../../src/core/profile/dataset.js'
import { addOutputs } from '../../src/core/model-outputs.js'
import { ReferenceBuilder, type ReferenceSnapshot } from '../../src/core/reference.js'
import {
  compactBucketFields,
  encodeBucket,
  encodeBucketJSON,
  seriesKey,
} from '../../src/core/stream/bucket-codec.js'
import type { PartitionRef } from '../../src/ports/sketch-store.js'
import { mulberry32, normal } from '../helpers/random.js'
import { RecordingSink } from '../helpers/recording-ports.js'
import { deletePrefix, testPrefix } from '../helpers/redis-stores.js'
import { redisUrl } from '../helpers/services.js'

const T0 = 1_700_000_100_000 // a multiple of the hop (3 min): the window is the three buckets
const W = 60_000
const BUCKETS = [T0, T0 + W, T0 + 2 * W]
// Four: an even number of merges per bucket leaves a t-digest's merge direction changed, which the
// stored form resets (mergeBucket): with it the reports below are equal, without it they are not.
const refs: PartitionRef[] = [0, 1, 2, 3].map((partition) => ({ topic: 'predictions', partition }))

const snapshot: ReferenceSnapshot = (() => {
  const builder = new ReferenceBuilder([
    { name: 'x', kind: 'numerical', reason: 'test' },
    { name: 'c', kind: 'categorical', reason: 'test' },
  ])
  const rng = mulberry32(1)
  for (let i = 0; i < 5000; i++) builder.add({ x: normal(rng, 0, 1), c: ['a', 'b', 'c'][i % 3] })
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
  spec: { bucket: W, size: 3 * W, hop: 3 * W, allowedLateness: 0 },
  settings: driftSettingsOf(driftSectionSchema.parse({})),
  features: undefined,
  alertPolicy: { fireAfter: 1, resolveAfter: 1, cooldown: 0 },
  minCriticalFeatures: 1,
  reference: () => snapshot,
}

/** A partition's profile of one bucket: 1500 events (past the kept values: digests merge). */
function partitionBucket(partition: number, bucket: number): Map<string, DatasetProfile> {
  const rng = mulberry32(1000 * partition + bucket / W)
  const profile = createDatasetProfile(layoutOf(snapshot.profile))
  for (let i = 0; i < 1500; i++) {
    const u = rng()
    addRow(profile, {
      x: u < 0.01 ? null : normal(rng, 0.3, 1.2),
      c: u < 0.3 ? 'a' : u < 0.35 ? `new-${i % 7}` : 'b',
    })
    addOutputs(profile, undefined, Math.round(rng() * 5000) / 100)
  }
  return new Map([[seriesKey(snapshot.id, 'v1'), profile]])
}

let shared: RedisClient | undefined
const client = (): RedisClient => {
  if (shared === undefined) throw new Error('no Redis client yet')
  return shared
}
beforeAll(async () => {
  shared = await createRedisClient({ url: redisUrl(), keyPrefix: 'dw' })
})
afterAll(async () => {
  await shared?.quit()
})

const prefixes: string[] = []
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deletePrefix(client(), prefix)
})

/**
 * Writes every partition's buckets as the ingest flushes them, partition 1's in the JSON form of
 * earlier versions (a rolling upgrade), with `watermarks[p]` as each partition's stored watermark.
 */
async function written(watermarks: readonly number[]): Promise<RedisSketchStore> {
  const prefix = testPrefix()
  prefixes.push(prefix)
  const store = new RedisSketchStore(client(), prefix)
  for (const [p, ref] of refs.entries()) {
    const outcome = await store.applyFlush({
      model: 'fraud',
      partitions: [
        {
          ref,
          expected: null,
          next: { nextOffset: '4500', watermark: watermarks[p] as number, late: 0 },
        },
      ],
      buckets: BUCKETS.map((bucketStart) => {
        const profiles = partitionBucket(p, bucketStart - T0)
        return {
          bucketStart,
          ref,
          blob: p === 1 ? encodeBucketJSON(profiles) : encodeBucket(profiles),
          rowsAdded: 1500,
        }
      }),
      retentionMs: 3_600_000,
    })
    expect(outcome.status).toBe('applied')
  }
  return store
}

async function fieldsOf(prefix: string, bucket: number): Promise<string[]> {
  return (await client().hkeys(`${prefix}:{fraud}:bucket:${bucket}`)).sort()
}

const closing = BUCKETS.map((start) => ({ start, closesAt: start + W }))

async function report(store: RedisSketchStore): Promise<string> {
  const sink = new RecordingSink()
  const evaluator = new Evaluator({
    owner: 'test',
    store,
    leases: new MemoryLeaseStore(),
    sink,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    registry: createDefaultRegistry(),
    models: [model],
    intervalMs: 60_000,
    leaseTtlMs: 60_000,
    now: () => T0 + 10 * W,
  })
  expect(await evaluator.evaluateModel(model)).toBe(1)
  expect(sink.published.reports).toHaveLength(1)
  return JSON.stringify(sink.published.reports)
}

describe('bucket compaction on Redis', () => {
  it('merges only the buckets every partition has passed, keeping the expiry and the row counter', async () => {
    // partition 2 has passed the first bucket's close only
    const store = await written([T0 + 3 * W, T0 + 3 * W, T0 + W + 500, T0 + 3 * W])
    const prefix = prefixes[0] as string
    const ttlBefore = await client().pttl(`${prefix}:{fraud}:bucket:${T0}`)
    expect(await store.compactBuckets('fraud', closing, compactBucketFields)).toBe(1)
    expect(await fieldsOf(prefix, T0)).toEqual(['#rows', '*'])
    expect(await fieldsOf(prefix, T0 + W)).toEqual([
      '#rows',
      'predictions:0',
      'predictions:1',
      'predictions:2',
      'predictions:3',
    ])
    expect(await client().hget(`${prefix}:{fraud}:bucket:${T0}`, '#rows')).toBe('6000')
    const ttlAfter = await client().pttl(`${prefix}:{fraud}:bucket:${T0}`)
    expect(ttlAfter).toBeGreaterThan(0)
    expect(ttlAfter).toBeLessThanOrEqual(ttlBefore)
    const rows = await store.bucketRows('fraud', BUCKETS)
    expect([...rows.values()]).toEqual([6000, 6000, 6000])
    // a second call finds nothing more to do until partition 2 moves on
    expect(await store.compactBuckets('fraud', closing, compactBucketFields)).toBe(0)
  })

  it('writes nothing when the bucket no longer holds the fields that were merged', async () => {
    await written([T0 + 3 * W, T0 + 3 * W, T0 + 3 * W, T0 + 3 * W])
    const prefix = prefixes[0] as string
    const key = `${prefix}:{fraud}:bucket:${T0}`
    // a merge of two of the three partitions (another writer added the third since the read)
    const reply = await runScript(
      client(),
      'compact-bucket',
      [`${prefix}:{fraud}:checkpoints`, key],
      [T0 + W, Buffer.from('merged'), 'predictions:0', 'predictions:1'],
    )
    expect(reply).toBe(0)
    expect(await fieldsOf(prefix, T0)).toEqual([
      '#rows',
      'predictions:0',
      'predictions:1',
      'predictions:2',
      'predictions:3',
    ])
    // and nothing while a partition's stored watermark is before the close
    const early = await runScript(
      client(),
      'compact-bucket',
      [`${prefix}:{fraud}:checkpoints`, key],
      [
        T0 + 10 * W,
        Buffer.from('merged'),
        'predictions:0',
        'predictions:1',
        'predictions:2',
        'predictions:3',
      ],
    )
    expect(early).toBe(0)
    expect(await client().hexists(key, '*')).toBe(0)
  })

  it('reports a window the same, byte for byte, from compacted and from partition buckets', async () => {
    const passed = [T0 + 3 * W, T0 + 3 * W, T0 + 3 * W, T0 + 3 * W]
    const uncompacted = await written(passed)
    const compacted = await written(passed)
    const [plainPrefix, compactPrefix] = prefixes as [string, string]
    expect(await compacted.compactBuckets('fraud', closing, compactBucketFields)).toBe(3)
    for (const bucket of BUCKETS) {
      expect(await fieldsOf(compactPrefix, bucket)).toEqual(['#rows', '*'])
      expect(await fieldsOf(plainPrefix, bucket)).toHaveLength(5)
    }
    const fromPartitions = await report(uncompacted)
    const fromCompacted = await report(compacted)
    expect(fromCompacted).toBe(fromPartitions)
    const parsed = JSON.parse(fromPartitions) as Array<{ nCurrent: number }>
    expect(parsed[0]?.nCurrent).toBe(3 * 4 * 1500)
    // The evaluator compacts the window it evaluated, into the same bytes.
    for (const bucket of BUCKETS) {
      expect(await fieldsOf(plainPrefix, bucket)).toEqual(['#rows', '*'])
      const a = await client().hgetBuffer(`${plainPrefix}:{fraud}:bucket:${bucket}`, '*')
      const b = await client().hgetBuffer(`${compactPrefix}:{fraud}:bucket:${bucket}`, '*')
      expect(a?.equals(b as Buffer)).toBe(true)
    }
  })
})
