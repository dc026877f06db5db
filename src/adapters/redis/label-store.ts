// LabelStore on Redis: one call of lua/join-labels.lua per model and batch. Every key of the join
// is in the model's hash tag (keys.ts), so the call is atomic on a cluster too.

import { DriftwatchError } from '../../errors.js'
import type { LabelBatch, LabelOutcome, LabelStore } from '../../ports/label-store.js'
import { partitionId, type PartitionRef } from '../../ports/sketch-store.js'
import { withRedisErrors } from './errors.js'
import { redisKeys, type RedisKeys } from './keys.js'
import { scriptCodeName } from './script-codes.js'
import { defineScripts, runScript, type RedisClient } from './scripts.js'

/** The performance bucket field counting labels joined into it (not a summary field). */
const LABELS_FIELD = '#labels'

export class RedisLabelStore implements LabelStore {
  readonly #client: RedisClient
  readonly #keys: RedisKeys

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client
    this.#keys = redisKeys(keyPrefix)
    defineScripts(client)
  }

  async labelCheckpoints(
    model: string,
    refs: readonly PartitionRef[],
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    if (refs.length === 0) return found
    const ids = refs.map(partitionId)
    const values = await withRedisErrors(
      () => `load label checkpoints of model ${model}`,
      () => this.#client.hmget(this.#keys.labelCheckpoints(model), ...ids),
    )
    ids.forEach((id, i) => {
      const value = values[i]
      if (typeof value === 'string') found.set(id, value)
    })
    return found
  }

  async pendingPredictions(
    model: string,
    eventIds: readonly string[],
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    const ids = [...new Set(eventIds)]
    if (ids.length === 0) return found
    const values = await withRedisErrors(
      () => `read pending predictions of model ${model}`,
      () => this.#client.hmget(this.#keys.pending(model), ...ids),
    )
    ids.forEach((id, i) => {
      const value = values[i]
      if (typeof value === 'string') found.set(id, value)
    })
    return found
  }

  async applyLabels(batch: LabelBatch): Promise<LabelOutcome> {
    const { model } = batch
    const keys = [
      this.#keys.labelCheckpoints(model),
      this.#keys.pending(model),
      this.#keys.pendingIndex(model),
      this.#keys.earlyLabels(model),
      this.#keys.earlyLabelsIndex(model),
    ]
    const keyIndex = new Map<number, number>()
    const checkpoint = batch.checkpoint
    const args: (string | number)[] = [
      checkpoint === undefined ? '' : partitionId(checkpoint.ref),
      checkpoint?.expected ?? '',
      checkpoint?.next ?? '',
      batch.now,
      batch.ttlMs,
      batch.maxEarly,
      batch.retentionMs,
      batch.joins.length,
      batch.early.length,
    ]
    for (const join of batch.joins) {
      let index = keyIndex.get(join.bucket)
      if (index === undefined) {
        keys.push(this.#keys.performance(model, join.bucket))
        index = keys.length
        keyIndex.set(join.bucket, index)
      }
      args.push(join.eventId, join.pending, join.early ?? '', index, join.increments.length)
      for (const [field, value] of join.increments) args.push(field, value)
    }
    for (const [eventId, value] of batch.early) args.push(eventId, value)
    const reply = await withRedisErrors(
      () => `join labels of model ${model}`,
      () => runScript(this.#client, 'join-labels', keys, args),
    )
    const [code, a, b] = Array.isArray(reply) ? (reply as unknown[]) : [reply]
    if (code === 1 && typeof a === 'number' && typeof b === 'number')
      return { status: 'applied', expired: a, evicted: b }
    if (typeof code === 'number' && code < 0) {
      const name = scriptCodeName('join-labels', code)
      if (name === 'staleCheckpoint') return { status: 'stale' }
      if (name === 'joinEntryChanged' && typeof a === 'string')
        return { status: 'changed', eventId: a }
    }
    throw new DriftwatchError(
      'REDIS_ERROR',
      `redis script join-labels returned ${JSON.stringify(reply)}`,
    )
  }

  async scanEarlyLabels(
    model: string,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; entries: Array<[string, string]> }> {
    const [next, flat] = await withRedisErrors(
      () => `scan early labels of model ${model}`,
      () => this.#client.hscan(this.#keys.earlyLabels(model), cursor, 'COUNT', count),
    )
    const entries: Array<[string, string]> = []
    for (let i = 0; i + 1 < flat.length; i += 2)
      entries.push([flat[i] as string, flat[i + 1] as string])
    return { cursor: next, entries }
  }

  async joinedLabels(model: string): Promise<number> {
    const value = await withRedisErrors(
      () => `read joined labels of model ${model}`,
      () => this.#client.hget(this.#keys.labelCheckpoints(model), '#joined'),
    )
    return value === null ? 0 : Number(value)
  }

  async bucketLabels(model: string, bucketStarts: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>()
    const starts = [...new Set(bucketStarts)]
    if (starts.length === 0) return out
    const replies = await withRedisErrors(
      () => `read label counters of ${starts.length} buckets of model ${model}`,
      async () => {
        const pipeline = this.#client.pipeline()
        for (const start of starts)
          pipeline.hget(this.#keys.performance(model, start), LABELS_FIELD)
        const results = (await pipeline.exec()) ?? []
        return results.map(([error, value]) => {
          if (error !== null) throw error
          return value
        })
      },
    )
    starts.forEach((start, i) => {
      const value = replies[i]
      out.set(start, typeof value === 'string' ? Number(value) : 0)
    })
    return out
  }

  async readPerformance(
    model: string,
    bucketStarts: readonly number[],
  ): Promise<Map<number, Record<string, string>>> {
    const out = new Map<number, Record<string, string>>()
    const starts = [...new Set(bucketStarts)]
    if (starts.length === 0) return out
    const replies = await withRedisErrors(
      () => `read performance of ${starts.length} buckets of model ${model}`,
      async () => {
        const multi = this.#client.multi()
        for (const start of starts) multi.hgetall(this.#keys.performance(model, start))
        const results = await multi.exec()
        if (results === null)
          throw new DriftwatchError('REDIS_UNAVAILABLE', 'transaction aborted', { canRetry: true })
        return results.map(([error, value]) => {
          if (error !== null) throw error
          return value as Record<string, string>
        })
      },
    )
    starts.forEach((start, i) => {
      const fields = { ...(replies[i] ?? {}) }
      delete fields[LABELS_FIELD]
      out.set(start, fields)
    })
    return out
  }
}
