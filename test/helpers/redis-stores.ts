import { randomUUID } from 'node:crypto'
import { Cluster, type Redis } from 'ioredis'
import { RedisLeaseStore } from '../../src/adapters/redis/lease-store.js'
import { RedisReferenceStore } from '../../src/adapters/redis/reference-store.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { redisKeys } from '../../src/adapters/redis/keys.js'
import type { RedisClient } from '../../src/adapters/redis/client.js'
import type { LeaseStore, ReferenceStore } from '../../src/ports/sketch-store.js'
import type { Harness, SketchStoreHarness } from '../contract/sketch-store.contract.js'

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `test-${randomUUID()}`
}

async function deleteOnNode(node: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    // One DEL per key: on a cluster node the keys of one batch may sit in different slots.
    await Promise.all(keys.map((key) => node.del(key)))
  } while (cursor !== '0')
}

/** Deletes every key under `prefix`, on one server or on every master of a cluster. */
export async function deletePrefix(client: RedisClient, prefix: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  await Promise.all(nodes.map((node) => deleteOnNode(node, prefix)))
}

/** Harnesses for the contract suite over `client()`, each with a fresh prefix removed on close. */
export function redisHarnesses(client: () => RedisClient): {
  sketches: () => Promise<SketchStoreHarness>
  leases: () => Promise<Harness<LeaseStore>>
  references: () => Promise<Harness<ReferenceStore>>
} {
  const harness = <S>(build: (c: RedisClient, prefix: string) => S) => {
    const prefix = testPrefix()
    const c = client()
    return { store: build(c, prefix), prefix, c, close: () => deletePrefix(c, prefix) }
  }
  return {
    sketches: () => {
      const { store, prefix, c, close } = harness((c, p) => new RedisSketchStore(c, p))
      const keys = redisKeys(prefix)
      return Promise.resolve({
        store,
        close,
        bucketTtlMs: async (model: string, bucketStart: number) => {
          const ttl = await c.pttl(keys.bucket(model, bucketStart))
          // PTTL: -2 no such key; -1 no expiry (which a bucket must never be: report it as is).
          return ttl === -2 ? null : ttl
        },
      })
    },
    leases: () => Promise.resolve(harness((c, p) => new RedisLeaseStore(c, p))),
    references: () => Promise.resolve(harness((c, p) => new RedisReferenceStore(c, p))),
  }
}
