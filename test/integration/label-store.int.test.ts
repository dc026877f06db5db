// The label join's Redis scripts on a real Redis: the checks that make it exactly once (a moved
// checkpoint, an entry changed since it was read) write nothing, and what stops waiting (past the
// ttl, beyond the bound) is dropped and counted, for predictions (apply-flush.lua) and early
// labels (join-labels.lua) alike.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisClient } from '../../src/adapters/redis/client.js'
import { redisKeys } from '../../src/adapters/redis/keys.js'
import { RedisLabelStore } from '../../src/adapters/redis/label-store.js'
import type { RedisClient } from '../../src/adapters/redis/scripts.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import type { LabelBatch } from '../../src/ports/label-store.js'
import { deletePrefix, testPrefix } from '../helpers/redis-stores.js'
import { redisUrl } from '../helpers/services.js'

let client: RedisClient
const prefix = testPrefix()
const keys = redisKeys(prefix)
const ref = { topic: 'labels', partition: 0 }
const model = 'fraud'

beforeAll(async () => {
  client = await createRedisClient({ url: redisUrl(), keyPrefix: prefix })
})

afterAll(async () => {
  await deletePrefix(client, prefix)
  await client.quit()
})

function batch(overrides: Partial<LabelBatch>): LabelBatch {
  return {
    model,
    joins: [],
    early: [],
    now: 1_000_000,
    ttlMs: 60_000,
    maxEarly: 100,
    retentionMs: 3_600_000,
    ...overrides,
  }
}

/** Predictions waiting, written as the ingest flush writes them. */
async function pending(
  entries: Array<readonly [string, string]>,
  now: number,
  maxPending = 100,
): Promise<{ expired: number; evicted: number } | undefined> {
  const sketches = new RedisSketchStore(client, prefix)
  const stored = await sketches.loadCheckpoints(model, [{ topic: 'p', partition: 0 }])
  const expected = stored.get('p:0')?.nextOffset ?? null
  const next = String(Number(expected ?? '0') + 1)
  const outcome = await sketches.applyFlush({
    model,
    partitions: [
      {
        ref: { topic: 'p', partition: 0 },
        expected,
        next: { nextOffset: next, watermark: 0, late: 0 },
      },
    ],
    buckets: [],
    retentionMs: 3_600_000,
    pending: { entries, now, ttlMs: 60_000, maxPending },
  })
  if (outcome.status !== 'applied') throw new Error('stale')
  return outcome.pendingDropped
}

describe('label join scripts', () => {
  const store = (): RedisLabelStore => new RedisLabelStore(client, prefix)

  it('joins a label into its prediction bucket with the checkpoint, once', async () => {
    await pending([['e1', '{"b":5000,"v":"v1","p":0.9}']], 1_000_000)
    const join = {
      eventId: 'e1',
      pending: '{"b":5000,"v":"v1","p":0.9}',
      bucket: 5000,
      increments: [['v1\u001en', 1] as const, ['v1\u001ell', 0.25] as const],
    }
    const first = await store().applyLabels(
      batch({ checkpoint: { ref, expected: null, next: '10' }, joins: [join] }),
    )
    expect(first).toEqual({ status: 'applied', expired: 0, evicted: 0 })
    expect(await store().readPerformance(model, [5000])).toEqual(
      new Map([[5000, { 'v1\u001en': '1', 'v1\u001ell': '0.25' }]]),
    )
    expect(await store().bucketLabels(model, [5000])).toEqual(new Map([[5000, 1]]))
    expect(await store().joinedLabels(model)).toBe(1)
    expect(await store().pendingPredictions(model, ['e1'])).toEqual(new Map())
    // The same batch again (a replay from the old checkpoint): stale, nothing written.
    const again = await store().applyLabels(
      batch({ checkpoint: { ref, expected: null, next: '10' }, joins: [join] }),
    )
    expect(again).toEqual({ status: 'stale' })
    expect(await store().bucketLabels(model, [5000])).toEqual(new Map([[5000, 1]]))
  })

  it('writes nothing when an entry changed since it was read, and names it', async () => {
    const outcome = await store().applyLabels(
      batch({
        checkpoint: { ref, expected: '10', next: '11' },
        joins: [
          {
            eventId: 'gone',
            pending: '{"b":5000,"v":""}',
            bucket: 5000,
            increments: [['\u001en', 1]],
          },
        ],
      }),
    )
    expect(outcome).toEqual({ status: 'changed', eventId: 'gone' })
    expect((await store().labelCheckpoints(model, [ref])).get('labels:0')).toBe('10')
    // A label "without prediction" whose prediction is there now: changed too.
    await pending([['e2', '{"b":6000,"v":""}']], 1_000_000)
    const early = await store().applyLabels(
      batch({ checkpoint: { ref, expected: '10', next: '11' }, early: [['e2', '{"l":1}']] }),
    )
    expect(early).toEqual({ status: 'changed', eventId: 'e2' })
  })

  it('drops and counts early labels past the ttl and beyond the bound', async () => {
    const early: Array<readonly [string, string]> = Array.from({ length: 5 }, (_, i) => [
      `early-${i}`,
      '{"l":0}',
    ])
    const first = await store().applyLabels(
      batch({ checkpoint: { ref, expected: '10', next: '20' }, early, now: 1_000_000 }),
    )
    expect(first).toEqual({ status: 'applied', expired: 0, evicted: 0 })
    // 70 s later (ttl 60 s): the five expire; of three new ones with a bound of 2, one falls out.
    const later = await store().applyLabels(
      batch({
        checkpoint: { ref, expected: '20', next: '30' },
        early: [
          ['late-0', '{"l":1}'],
          ['late-1', '{"l":1}'],
          ['late-2', '{"l":1}'],
        ],
        now: 1_070_000,
        maxEarly: 2,
      }),
    )
    expect(later).toEqual({ status: 'applied', expired: 5, evicted: 1 })
    expect((await client.hkeys(keys.earlyLabels(model))).sort()).toEqual(['late-1', 'late-2'])
  })

  it('drops and counts pending predictions past the ttl and beyond the bound', async () => {
    await client.del(keys.pending(model), keys.pendingIndex(model))
    expect(
      await pending(
        [
          ['old-0', '{}'],
          ['old-1', '{}'],
        ],
        2_000_000,
      ),
    ).toEqual({
      expired: 0,
      evicted: 0,
    })
    expect(
      await pending(
        [
          ['new-0', '{}'],
          ['new-1', '{}'],
          ['new-2', '{}'],
        ],
        2_070_000,
        2,
      ),
    ).toEqual({ expired: 2, evicted: 1 })
    expect((await client.hkeys(keys.pending(model))).sort()).toEqual(['new-1', 'new-2'])
  })
})
