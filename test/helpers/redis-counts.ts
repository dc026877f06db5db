// Reads what the detector stored: per-feature value counts summed over every bucket and partition.

import { Redis } from 'ioredis'
import { RedisLeaseStore } from '../../src/adapters/redis/lease-store.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { decodeBucket } from '../../src/core/stream/bucket-codec.js'
import { redisUrl } from './services.js'

export interface StoredCounts {
  readonly rows: number
  readonly perFeature: Map<string, number>
}

export async function withStores<T>(
  keyPrefix: string,
  work: (stores: { sketches: RedisSketchStore; leases: RedisLeaseStore }) => Promise<T>,
): Promise<T> {
  const client = new Redis(redisUrl(), { lazyConnect: false })
  try {
    return await work({
      sketches: new RedisSketchStore(client, keyPrefix),
      leases: new RedisLeaseStore(client, keyPrefix),
    })
  } finally {
    client.disconnect()
  }
}

export async function storedCounts(
  store: RedisSketchStore,
  model: string,
  from: number,
  to: number,
  bucketMs: number,
): Promise<StoredCounts> {
  const starts: number[] = []
  for (let t = Math.floor(from / bucketMs) * bucketMs; t < to; t += bucketMs) starts.push(t)
  const buckets = await store.readBuckets(model, starts)
  let rows = 0
  const perFeature = new Map<string, number>()
  for (const partitions of buckets.values()) {
    for (const blob of partitions.values()) {
      for (const profile of decodeBucket(blob).values()) {
        rows += profile.rows
        for (const [name, feature] of profile.features) {
          const n =
            feature.kind === 'numerical'
              ? feature.count + feature.missing + feature.nonFinite
              : feature.count + feature.missing
          perFeature.set(name, (perFeature.get(name) ?? 0) + n)
        }
      }
    }
  }
  return { rows, perFeature }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error: unknown) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`,
      )
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
