// SketchStore in memory, for unit tests of the app layer. Same semantics as the Redis store,
// trusted only because it passes the same contract suite (test/contract/sketch-store.contract.ts):
// a flush is all or nothing under the same checks, buckets expire `retentionMs` after their last
// write. Everything runs synchronously inside each call, which is what makes a flush atomic here.

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
import { normalizedCheckpoint, validateFlushBatch } from '../store-arguments.js'
import { settle } from './settle.js'

export interface MemoryStoreOptions {
  /** Wall clock for expiry, ms. Default Date.now. */
  readonly now?: () => number
}

interface Bucket {
  readonly blobs: Map<string, BucketBlob>
  rows: number
  expiresAt: number
}

interface ModelState {
  readonly checkpoints: Map<string, Checkpoint>
  readonly buckets: Map<number, Bucket>
}

export class MemorySketchStore implements SketchStore {
  readonly #models = new Map<string, ModelState>()
  readonly #now: () => number

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  #model(model: string): ModelState {
    let state = this.#models.get(model)
    if (state === undefined) {
      state = { checkpoints: new Map(), buckets: new Map() }
      this.#models.set(model, state)
    }
    return state
  }

  /** The bucket, if it has not expired (expired ones are dropped on the way, as Redis does lazily). */
  #bucket(model: string, bucketStart: number): Bucket | undefined {
    const buckets = this.#models.get(model)?.buckets
    const bucket = buckets?.get(bucketStart)
    if (bucket !== undefined && bucket.expiresAt <= this.#now()) {
      buckets?.delete(bucketStart)
      return undefined
    }
    return bucket
  }

  /** Time left before the bucket expires, ms; null when it does not exist (Redis' PTTL). */
  bucketTtlMs(model: string, bucketStart: number): number | null {
    const bucket = this.#bucket(model, bucketStart)
    return bucket === undefined ? null : bucket.expiresAt - this.#now()
  }

  loadCheckpoints(model: string, refs: readonly PartitionRef[]): Promise<Map<string, Checkpoint>> {
    const stored = this.#models.get(model)?.checkpoints
    const found = new Map<string, Checkpoint>()
    for (const ref of refs) {
      const id = partitionId(ref)
      const checkpoint = stored?.get(id)
      if (checkpoint !== undefined) found.set(id, { ...checkpoint })
    }
    return Promise.resolve(found)
  }

  loadBucket(model: string, bucketStart: number, ref: PartitionRef): Promise<BucketBlob | null> {
    return Promise.resolve(this.#bucket(model, bucketStart)?.blobs.get(partitionId(ref)) ?? null)
  }

  applyFlush(batch: FlushBatch): Promise<FlushOutcome> {
    return settle(() => this.#applyFlush(batch))
  }

  #applyFlush(batch: FlushBatch): FlushOutcome {
    validateFlushBatch(batch)
    const state = this.#model(batch.model)
    for (const flush of batch.partitions) {
      const id = partitionId(flush.ref)
      const stored = state.checkpoints.get(id)?.nextOffset ?? null
      if (stored !== flush.expected) return { status: 'stale', partition: id }
    }
    const expiresAt = this.#now() + batch.retentionMs
    for (const write of batch.buckets) {
      let bucket = this.#bucket(batch.model, write.bucketStart)
      if (bucket === undefined) {
        bucket = { blobs: new Map(), rows: 0, expiresAt }
        state.buckets.set(write.bucketStart, bucket)
      }
      bucket.blobs.set(partitionId(write.ref), write.blob)
      bucket.rows += write.rowsAdded ?? 0
      bucket.expiresAt = expiresAt
    }
    for (const flush of batch.partitions)
      state.checkpoints.set(partitionId(flush.ref), normalizedCheckpoint(flush.next))
    return { status: 'applied' }
  }

  bucketRows(model: string, bucketStarts: readonly number[]): Promise<Map<number, number>> {
    const rows = new Map<number, number>()
    for (const start of bucketStarts) rows.set(start, this.#bucket(model, start)?.rows ?? 0)
    return Promise.resolve(rows)
  }

  readBuckets(
    model: string,
    bucketStarts: readonly number[],
  ): Promise<Map<number, Map<string, BucketBlob>>> {
    const buckets = new Map<number, Map<string, BucketBlob>>()
    for (const start of bucketStarts)
      buckets.set(start, new Map(this.#bucket(model, start)?.blobs ?? []))
    return Promise.resolve(buckets)
  }

  modelWatermark(model: string, idle?: IdlePolicy): Promise<number | null> {
    const checkpoints = [...(this.#models.get(model)?.checkpoints.values() ?? [])]
    return Promise.resolve(
      modelWatermarkOf(
        checkpoints.map((c) => ({ watermark: c.watermark, caughtUpAt: c.caughtUpAt ?? null })),
        idle,
      ),
    )
  }
}
