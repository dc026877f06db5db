// SketchStore on Redis. A flush is one call of lua/apply-flush.lua, whose keys (the model's
// checkpoints hash and the bucket hashes it writes) share the model's hash tag, so it is one
// atomic step on a single server or a cluster alike.

import { DriftwatchError } from '../../errors.js'
import {
  partitionId,
  type BucketBlob,
  type Checkpoint,
  type FlushBatch,
  type FlushOutcome,
  type PartitionRef,
  type SketchStore,
} from '../../ports/sketch-store.js'
import { modelWatermarkOf, type IdlePolicy } from '../../core/stream/watermark.js'
import { compactedField } from '../../core/stream/bucket-codec.js'
import { checkCheckpoint, validateFlushBatch } from '../store-arguments.js'
import { withRedisErrors } from './errors.js'
import { redisKeys, type RedisKeys } from './keys.js'
import { scriptCodeName } from './script-codes.js'
import { defineScripts, runScript, type RedisClient } from './scripts.js'

// JSON has no -Infinity (the watermark of a partition with no event yet): it is stored as null.
interface StoredCheckpoint {
  readonly nextOffset: string
  readonly watermark: number | null
  readonly late: number
  readonly caughtUpAt?: number | null
  readonly earliest?: number
}

export function encodeCheckpoint(checkpoint: Checkpoint): string {
  const stored: StoredCheckpoint = {
    nextOffset: checkpoint.nextOffset,
    watermark: Number.isFinite(checkpoint.watermark) ? checkpoint.watermark : null,
    late: checkpoint.late,
    ...(typeof checkpoint.caughtUpAt === 'number' ? { caughtUpAt: checkpoint.caughtUpAt } : {}),
    ...(typeof checkpoint.earliest === 'number' && Number.isFinite(checkpoint.earliest)
      ? { earliest: checkpoint.earliest }
      : {}),
  }
  return JSON.stringify(stored)
}

export function decodeCheckpoint(json: string, where: string): Checkpoint {
  const corrupt = (detail: string): DriftwatchError =>
    new DriftwatchError('REDIS_ERROR', `redis: checkpoint ${where} is corrupt: ${detail}`)
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (error) {
    throw corrupt(error instanceof Error ? error.message : String(error))
  }
  const stored = value as Partial<StoredCheckpoint> | null
  if (
    typeof stored !== 'object' ||
    stored === null ||
    typeof stored.nextOffset !== 'string' ||
    (stored.watermark !== null && typeof stored.watermark !== 'number') ||
    typeof stored.late !== 'number' ||
    (stored.caughtUpAt !== undefined &&
      stored.caughtUpAt !== null &&
      typeof stored.caughtUpAt !== 'number')
  ) {
    throw corrupt(json.slice(0, 200))
  }
  const checkpoint: Checkpoint = {
    nextOffset: stored.nextOffset,
    watermark: stored.watermark ?? Number.NEGATIVE_INFINITY,
    late: stored.late,
    ...(typeof stored.caughtUpAt === 'number' ? { caughtUpAt: stored.caughtUpAt } : {}),
    ...(typeof stored.earliest === 'number' ? { earliest: stored.earliest } : {}),
  }
  const problem = checkCheckpoint(checkpoint)
  if (problem !== undefined) throw corrupt(problem)
  return checkpoint
}

/** A blob as a script argument: bytes go as a Buffer (ioredis sends them unchanged). */
function asArgument(blob: BucketBlob): string | Buffer {
  return typeof blob === 'string'
    ? blob
    : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
}

/** The bucket hash field of its row counter; '#' cannot start a partition id (topic names). */
const ROWS_FIELD = '#rows'

export class RedisSketchStore implements SketchStore {
  readonly #client: RedisClient
  readonly #keys: RedisKeys

  /** `keyPrefix` is `redis.keyPrefix` from config, e.g. 'dw'. */
  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client
    this.#keys = redisKeys(keyPrefix)
    defineScripts(client)
  }

  async loadCheckpoints(
    model: string,
    refs: readonly PartitionRef[],
  ): Promise<Map<string, Checkpoint>> {
    const checkpoints = new Map<string, Checkpoint>()
    if (refs.length === 0) return checkpoints
    const key = this.#keys.checkpoints(model)
    const ids = refs.map(partitionId)
    const values = await withRedisErrors(
      () => `load checkpoints of model ${model}`,
      () => this.#client.hmget(key, ...ids),
    )
    ids.forEach((id, i) => {
      const json = values[i]
      if (typeof json === 'string') checkpoints.set(id, decodeCheckpoint(json, `${model}/${id}`))
    })
    return checkpoints
  }

  // Buckets are read as bytes: the binary form is not text, and the JSON form of earlier versions
  // decodes from its bytes as well (bucket-codec.ts).
  async loadBucket(
    model: string,
    bucketStart: number,
    ref: PartitionRef,
  ): Promise<BucketBlob | null> {
    const key = this.#keys.bucket(model, bucketStart)
    return withRedisErrors(
      () => `load bucket ${bucketStart} of model ${model}`,
      () => this.#client.hgetBuffer(key, partitionId(ref)),
    )
  }

  async applyFlush(batch: FlushBatch): Promise<FlushOutcome> {
    validateFlushBatch(batch)
    const keys = [this.#keys.checkpoints(batch.model)]
    const keyIndex = new Map<number, number>()
    const args: (string | number | Buffer)[] = [batch.retentionMs, batch.partitions.length]
    for (const flush of batch.partitions) {
      args.push(partitionId(flush.ref), flush.expected ?? '', encodeCheckpoint(flush.next))
    }
    const pending = batch.pending
    const pendingCount = pending?.entries.length ?? 0
    args.push(pendingCount)
    if (pending !== undefined && pending.entries.length > 0) {
      keys.push(this.#keys.pending(batch.model), this.#keys.pendingIndex(batch.model))
      args.push(pending.now, pending.ttlMs, pending.maxPending)
      args.push(JSON.stringify(pending.entries))
    }
    for (const bucket of batch.buckets) {
      let index = keyIndex.get(bucket.bucketStart)
      if (index === undefined) {
        keys.push(this.#keys.bucket(batch.model, bucket.bucketStart))
        index = keys.length // Lua's KEYS is 1-based
        keyIndex.set(bucket.bucketStart, index)
      }
      args.push(index, partitionId(bucket.ref), asArgument(bucket.blob), bucket.rowsAdded ?? 0)
    }
    const reply = await withRedisErrors(
      () => `apply flush of model ${batch.model}`,
      () => runScript(this.#client, 'apply-flush', keys, args),
    )
    const [code, partition, evicted] = Array.isArray(reply) ? (reply as unknown[]) : [reply]
    if (code === 1)
      return typeof partition === 'number' && typeof evicted === 'number' && pendingCount > 0
        ? { status: 'applied', pendingDropped: { expired: partition, evicted } }
        : { status: 'applied' }
    if (typeof code !== 'number' || typeof partition !== 'string') {
      throw new DriftwatchError(
        'REDIS_ERROR',
        `redis script apply-flush returned ${JSON.stringify(reply)}`,
      )
    }
    const name = scriptCodeName('apply-flush', code)
    if (name !== 'staleCheckpoint') {
      throw new DriftwatchError(
        'REDIS_ERROR',
        `redis script apply-flush returned ${name} (${code})`,
      )
    }
    return { status: 'stale', partition }
  }

  async readBuckets(
    model: string,
    bucketStarts: readonly number[],
  ): Promise<Map<number, Map<string, BucketBlob>>> {
    const buckets = new Map<number, Map<string, BucketBlob>>()
    const starts = [...new Set(bucketStarts)]
    if (starts.length === 0) return buckets
    // One MULTI (the keys share a slot): the buckets are read as of one moment, so a window never
    // sees half of a flush that wrote two of them.
    const replies = await withRedisErrors(
      () => `read ${starts.length} buckets of model ${model}`,
      async () => {
        const multi = this.#client.multi()
        for (const start of starts) multi.hgetallBuffer(this.#keys.bucket(model, start))
        const results = await multi.exec()
        if (results === null)
          throw new DriftwatchError('REDIS_UNAVAILABLE', 'transaction aborted', { canRetry: true })
        return results.map(([error, value]) => {
          if (error !== null) throw error
          return value
        })
      },
    )
    starts.forEach((start, i) => {
      const fields = replies[i] as Record<string, Buffer> | undefined
      const blobs = new Map<string, BucketBlob>(Object.entries(fields ?? {}))
      blobs.delete(ROWS_FIELD)
      buckets.set(start, blobs)
    })
    return buckets
  }

  async compactBuckets(
    model: string,
    buckets: ReadonlyArray<{ readonly start: number; readonly closesAt: number }>,
    merge: (fields: ReadonlyMap<string, BucketBlob>, bucketStart: number) => Uint8Array,
  ): Promise<number> {
    const checkpointsKey = this.#keys.checkpoints(model)
    // First the checkpoints and the buckets' field names only (a compacted bucket is skipped
    // without reading its blob), then the blobs of those left, with the checkpoints again, in
    // one MULTI: the watermarks and the fields as of one moment.
    const snapshot = async (
      starts: readonly number[],
      read: 'names' | 'blobs',
    ): Promise<{ watermark: number; fields: Array<Record<string, Buffer> | string[]> }> =>
      withRedisErrors(
        () => `read ${starts.length} buckets of model ${model} to compact`,
        async () => {
          const multi = this.#client.multi()
          multi.hgetall(checkpointsKey)
          for (const start of starts) {
            const key = this.#keys.bucket(model, start)
            if (read === 'names') multi.hkeys(key)
            else multi.hgetallBuffer(key)
          }
          const results = await multi.exec()
          if (results === null)
            throw new DriftwatchError('REDIS_UNAVAILABLE', 'transaction aborted', {
              canRetry: true,
            })
          const values = results.map(([error, value]) => {
            if (error !== null) throw error
            return value
          })
          const stored = Object.entries(values[0] as Record<string, string>).map(([id, json]) =>
            decodeCheckpoint(json, `${model}/${id}`),
          )
          // A partition without an event yet (watermark -Infinity) holds compaction back too: it
          // may still write any bucket (see compact-bucket-2.lua).
          const watermarks = stored.map((c) => c.watermark)
          return {
            watermark: watermarks.length === 0 ? Number.NEGATIVE_INFINITY : Math.min(...watermarks),
            fields: values.slice(1) as Array<Record<string, Buffer> | string[]>,
          }
        },
      )
    const closed = [...new Map(buckets.map((b) => [b.start, b])).values()]
    const first = await snapshot(
      closed.map((b) => b.start),
      'names',
    )
    const wanted = closed.filter((b, i) => {
      const names = first.fields[i] as string[]
      return (
        b.closesAt <= first.watermark &&
        names.some((name) => name !== ROWS_FIELD && name !== compactedField)
      )
    })
    if (wanted.length === 0) return 0
    const second = await snapshot(
      wanted.map((b) => b.start),
      'blobs',
    )
    let compacted = 0
    for (const [i, bucket] of wanted.entries()) {
      if (bucket.closesAt > second.watermark) continue
      const blobs = new Map<string, BucketBlob>(
        Object.entries(second.fields[i] as Record<string, Buffer>),
      )
      blobs.delete(ROWS_FIELD)
      if (![...blobs.keys()].some((name) => name !== compactedField)) continue
      const merged = merge(blobs, bucket.start)
      const reply = await withRedisErrors(
        () => `compact bucket ${bucket.start} of model ${model}`,
        () =>
          runScript(
            this.#client,
            'compact-bucket',
            [checkpointsKey, this.#keys.bucket(model, bucket.start)],
            [bucket.closesAt, asArgument(merged), ...blobs.keys()],
          ),
      )
      if (reply === 1) compacted++
    }
    return compacted
  }

  async bucketRows(model: string, bucketStarts: readonly number[]): Promise<Map<number, number>> {
    const rows = new Map<number, number>()
    const starts = [...new Set(bucketStarts)]
    if (starts.length === 0) return rows
    const replies = await withRedisErrors(
      () => `read row counters of ${starts.length} buckets of model ${model}`,
      async () => {
        const pipeline = this.#client.pipeline()
        for (const start of starts) pipeline.hget(this.#keys.bucket(model, start), ROWS_FIELD)
        const results = (await pipeline.exec()) ?? []
        return results.map(([error, value]) => {
          if (error !== null) throw error
          return value
        })
      },
    )
    starts.forEach((start, i) => {
      const value = replies[i]
      rows.set(start, typeof value === 'string' ? Number(value) : 0)
    })
    return rows
  }

  async modelWatermark(model: string, idle?: IdlePolicy): Promise<number | null> {
    const key = this.#keys.checkpoints(model)
    const all = await withRedisErrors(
      () => `read watermark of model ${model}`,
      () => this.#client.hgetall(key),
    )
    const checkpoints = Object.entries(all).map(([id, json]) =>
      decodeCheckpoint(json, `${model}/${id}`),
    )
    return modelWatermarkOf(
      checkpoints.map((c) => ({ watermark: c.watermark, caughtUpAt: c.caughtUpAt ?? null })),
      idle,
    )
  }
}
