// The checks the stores make on their arguments before touching anything, shared so the Redis and
// the in-memory stores reject exactly the same calls. An argument that fails them is a bug in the
// caller (the ingest loop, the evaluator), never a data condition, so these throw INVALID_ARGUMENT.

import { DriftwatchError } from '../errors.js'
import { partitionId, type Checkpoint, type FlushBatch } from '../ports/sketch-store.js'

// Kafka offsets are non-negative int64, written without leading zeros so that string equality is
// offset equality (the Redis script compares strings; Lua numbers cannot hold every int64).
const OFFSET = /^(0|[1-9][0-9]{0,18})$/

function invalid(batch: FlushBatch, message: string): DriftwatchError {
  return new DriftwatchError('INVALID_ARGUMENT', `flush of model '${batch.model}': ${message}`)
}

export function isOffset(value: string): boolean {
  return OFFSET.test(value)
}

/** A checkpoint as both stores give it back: a null caughtUpAt is the same as none. */
export function normalizedCheckpoint(checkpoint: Checkpoint): Checkpoint {
  const { caughtUpAt, ...rest } = checkpoint
  return typeof caughtUpAt === 'number' ? { ...rest, caughtUpAt } : rest
}

export function checkCheckpoint(checkpoint: Checkpoint): string | undefined {
  if (!isOffset(checkpoint.nextOffset))
    return `next offset '${checkpoint.nextOffset}' is not a Kafka offset`
  // -Infinity is the watermark of a partition that has not seen an event for this model yet.
  if (Number.isNaN(checkpoint.watermark) || checkpoint.watermark === Number.POSITIVE_INFINITY) {
    return `watermark ${checkpoint.watermark} is not a time`
  }
  if (!Number.isSafeInteger(checkpoint.late) || checkpoint.late < 0)
    return `late count ${checkpoint.late} is not a count`
  const caughtUpAt = checkpoint.caughtUpAt ?? null
  if (caughtUpAt !== null && !Number.isSafeInteger(caughtUpAt))
    return `caught-up time ${caughtUpAt} is not a time`
  return undefined
}

/**
 * Throws INVALID_ARGUMENT unless: each partition appears once; offsets are decimal strings;
 * every bucket write belongs to a partition of the batch (else its owner is not checked) and
 * appears once; the retention is a positive whole number of ms.
 */
export function validateFlushBatch(batch: FlushBatch): void {
  if (!Number.isSafeInteger(batch.retentionMs) || batch.retentionMs <= 0) {
    throw invalid(batch, `retention ${batch.retentionMs} ms is not a positive whole number`)
  }
  const partitions = new Set<string>()
  for (const flush of batch.partitions) {
    const id = partitionId(flush.ref)
    if (partitions.has(id)) throw invalid(batch, `partition ${id} appears twice`)
    partitions.add(id)
    if (flush.expected !== null && !isOffset(flush.expected)) {
      throw invalid(batch, `expected offset '${flush.expected}' of ${id} is not a Kafka offset`)
    }
    const problem = checkCheckpoint(flush.next)
    if (problem !== undefined) throw invalid(batch, `${id}: ${problem}`)
  }
  const writes = new Set<string>()
  for (const bucket of batch.buckets) {
    const id = partitionId(bucket.ref)
    if (!partitions.has(id)) {
      throw invalid(
        batch,
        `bucket ${bucket.bucketStart} of partition ${id}, which the flush does not check`,
      )
    }
    if (!Number.isSafeInteger(bucket.bucketStart))
      throw invalid(batch, `bucket start ${bucket.bucketStart} is not ms`)
    const write = `${bucket.bucketStart}/${id}`
    if (writes.has(write))
      throw invalid(batch, `bucket ${bucket.bucketStart} of ${id} is written twice`)
    writes.add(write)
  }
}

export function checkLeaseArguments(owner: string, ttlMs: number): void {
  if (owner === '') throw new DriftwatchError('INVALID_ARGUMENT', 'lease owner must not be empty')
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new DriftwatchError(
      'INVALID_ARGUMENT',
      `lease ttl ${ttlMs} ms is not a positive whole number`,
    )
  }
}

export function checkWindowEnd(windowEnd: number): void {
  if (!Number.isSafeInteger(windowEnd)) {
    throw new DriftwatchError(
      'INVALID_ARGUMENT',
      `window end ${windowEnd} is not a whole number of ms`,
    )
  }
}

export function checkReferenceId(id: string): void {
  if (id === '') throw new DriftwatchError('INVALID_ARGUMENT', 'reference id must not be empty')
}
