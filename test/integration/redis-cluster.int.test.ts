// The same contract suite on a real three-master Redis Cluster, through the cluster client: it
// fails with CROSSSLOT if a script or a MULTI ever touches keys of two slots, so it proves the
// key layout as much as the stores.

import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  startRedisCluster,
  type LocalRedisCluster,
} from '../../src/adapters/local-services/redis-cluster.js'
import { createRedisClient, type RedisClient } from '../../src/adapters/redis/client.js'
import { redisKeys } from '../../src/adapters/redis/keys.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import {
  describeLeaseStoreContract,
  describeReferenceStoreContract,
  describeSketchStoreContract,
} from '../contract/sketch-store.contract.js'
import { deletePrefix, redisHarnesses, testPrefix } from '../helpers/redis-stores.js'

let cluster: LocalRedisCluster | undefined
let shared: RedisClient | undefined
const client = (): RedisClient => {
  if (shared === undefined) throw new Error('no Redis Cluster client yet')
  return shared
}

beforeAll(async () => {
  cluster = await startRedisCluster({ log: (line) => console.log(`[redis-cluster] ${line}`) })
  shared = await createRedisClient({ url: cluster.url, cluster: true, keyPrefix: 'dw' })
})

afterAll(async () => {
  await shared?.quit()
  await cluster?.stop()
})

const harnesses = redisHarnesses(client)
describeSketchStoreContract('redis cluster', harnesses.sketches)
describeLeaseStoreContract('redis cluster', harnesses.leases)
describeReferenceStoreContract('redis cluster', harnesses.references)

describe('redis cluster key slots', () => {
  const keySlot = async (key: string): Promise<number> =>
    Number(await client().call('CLUSTER', 'KEYSLOT', key))

  it('puts every key of one model in one slot', async () => {
    const keys = redisKeys(testPrefix())
    for (const model of ['fraud', 'churn', 'credit-risk.v2']) {
      const all = [
        ...keys.allKinds(model),
        keys.bucket(model, 1_700_000_040_000),
        keys.referenceSnapshot(model, 'x:y'),
      ]
      const slots = new Set(await Promise.all(all.map(keySlot)))
      expect(slots.size, `${model}: ${all.join(', ')}`).toBe(1)
      expect([...slots][0]).toBe(await keySlot(model)) // the slot of the hash tag alone
    }
  })

  it('spreads models over the masters: stores work whichever node owns the model', async () => {
    const prefix = testPrefix()
    const store = new RedisSketchStore(client(), prefix)
    const models = Array.from({ length: 12 }, (_, i) => `model-${i}`)
    const ref = { topic: 'predictions', partition: 0 }
    try {
      for (const model of models) {
        const outcome = await store.applyFlush({
          model,
          partitions: [{ ref, expected: null, next: { nextOffset: '1', watermark: 1, late: 0 } }],
          buckets: [
            { bucketStart: 0, ref, blob: model },
            { bucketStart: 60_000, ref, blob: model },
          ],
          retentionMs: 60_000,
        })
        expect(outcome).toEqual({ status: 'applied' })
      }
      const masters = (client() as Cluster).nodes('master')
      const holding = await Promise.all(
        masters.map(async (node) => (await node.keys(`${prefix}:*`)).length > 0),
      )
      expect(holding.filter(Boolean).length).toBeGreaterThan(1)
      // Blobs come back as the bytes stored (buckets are binary; see core/stream/bucket-codec.ts).
      for (const model of models) {
        const blob = await store.loadBucket(model, 60_000, ref)
        expect(blob === null ? null : Buffer.from(blob).toString('utf8')).toBe(model)
      }
    } finally {
      await deletePrefix(client(), prefix)
    }
  })
})
