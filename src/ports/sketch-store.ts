// Where the stream's state lives (Redis in production). Spoken in the domain's words: Lua, keys and
// Redis error codes are deliberately not part of this contract.
//
// State is kept per model and per input partition, so every piece has exactly one writer at a
// time (the consumer that owns the partition) and every write is a full overwrite, never a delta:
//   checkpoint(model, partition) = { offset of the next event to read, watermark }
//   bucket(model, bucketStart)[partition] = the encoded profiles of that partition's events in it
// A flush writes, in ONE atomic step per model, the touched buckets and the new checkpoints, and
// only if each stored checkpoint still holds the offset this flush started from (else 'stale': a
// newer owner has moved on, and this flush is dropped). Replaying from a checkpoint therefore
// rebuilds exactly the stored state: every event counted once.

import type { BucketBlob } from '../core/stream/bucket-codec.js'
import type { IdlePolicy } from '../core/stream/watermark.js'

export type { BucketBlob }

export interface PartitionRef {
  readonly topic: string
  readonly partition: number
}

export function partitionId(ref: PartitionRef): string {
  return `${ref.topic}:${ref.partition}`
}

export interface Checkpoint {
  /** Kafka offset of the next event to read (a decimal string, as Kafka offsets are int64). */
  readonly nextOffset: string
  /** Largest event time (ms) seen on this partition for this model. */
  readonly watermark: number
  /** Events that arrived after their bucket closed, counted, not added. */
  readonly late: number
  /**
   * Wall-clock ms of the latest flush that found the partition read to its end (refreshed every
   * flush while it stays so); null or absent when it was not. Lets an idle partition stop
   * holding windows back (core/stream/watermark.ts).
   */
  readonly caughtUpAt?: number | null
  /** Event time of the earliest event counted here for the model: where a backlog starts. */
  readonly earliest?: number
}

export interface PartitionFlush {
  readonly ref: PartitionRef
  /** The checkpoint this flush started from; null when the store had none. */
  readonly expected: string | null
  readonly next: Checkpoint
}

export interface BucketWrite {
  readonly bucketStart: number
  readonly ref: PartitionRef
  /** Encoded profiles of this partition's events in this bucket (all of them, not a delta). */
  readonly blob: BucketBlob
  /**
   * Events added to the blob since the partition's last flush: the store adds them to the
   * bucket's row counter in the same atomic step, so the evaluator can tell cheaply that a window
   * it reported has grown since (core/stream/lateness.ts). Absent: 0.
   */
  readonly rowsAdded?: number
}

export interface FlushBatch {
  readonly model: string
  readonly partitions: readonly PartitionFlush[]
  readonly buckets: readonly BucketWrite[]
  /** How long bucket state lives after its last write. */
  readonly retentionMs: number
  /**
   * Predictions of this flush's events that start waiting for their label, written in the same
   * atomic step (ports/label-store.ts reads them). Absent or empty: none.
   */
  readonly pending?: PendingPredictions
}

export interface PendingPredictions {
  /** eventId → encoded prediction (core/performance/join.ts). */
  readonly entries: ReadonlyArray<readonly [string, string]>
  /** Wall-clock ms: when they start waiting. */
  readonly now: number
  /** How long a prediction waits for its label before it is dropped (counted). */
  readonly ttlMs: number
  /** Predictions waiting per model; the oldest beyond it are dropped (counted). */
  readonly maxPending: number
}

export type FlushOutcome =
  | {
      readonly status: 'applied'
      /** Waiting predictions dropped by this flush: past their ttl, or beyond the bound. */
      readonly pendingDropped?: { readonly expired: number; readonly evicted: number }
    }
  | { readonly status: 'stale'; readonly partition: string }

export interface SketchStore {
  loadCheckpoints(model: string, refs: readonly PartitionRef[]): Promise<Map<string, Checkpoint>>
  loadBucket(model: string, bucketStart: number, ref: PartitionRef): Promise<BucketBlob | null>
  applyFlush(batch: FlushBatch): Promise<FlushOutcome>
  /**
   * Each bucket's row counter: every event ever added to it (over partitions and series), as the
   * flushes that added them stored it. Absent buckets give 0.
   */
  bucketRows(model: string, bucketStarts: readonly number[]): Promise<Map<number, number>>
  /**
   * Every field's blob for each bucket (absent buckets give an empty map): one per partition, and
   * the compacted field ('*', bucket-codec.ts) once partitions were merged into it.
   */
  readBuckets(
    model: string,
    bucketStarts: readonly number[],
  ): Promise<Map<number, Map<string, BucketBlob>>>
  /**
   * Merges the partition blobs of each given bucket into its compacted field, for the buckets no
   * partition can write again: every partition with a checkpoint for the model has a stored
   * watermark at or past the bucket's `closesAt` (its end plus the allowed lateness), so its
   * events for the bucket would be late (core/stream/windows.ts), and the partition neither
   * loads nor writes it any more. `merge` builds the compacted blob from the fields read
   * (mergeBucketFields). The merge and the removal of the merged fields are one atomic step,
   * applied only if the bucket still holds exactly the fields read. Expiry is untouched.
   * Returns how many buckets were compacted.
   */
  compactBuckets?(
    model: string,
    buckets: ReadonlyArray<{ readonly start: number; readonly closesAt: number }>,
    merge: (fields: ReadonlyMap<string, BucketBlob>, bucketStart: number) => Uint8Array,
  ): Promise<number>
  /**
   * The smallest watermark over the model's partitions that have seen an event, or null with
   * none: event time is complete only up to the slowest partition, so a window is evaluated
   * once every partition has passed it. With `idle`, caught-up partitions that lag far behind
   * are left out (modelWatermarkOf in core/stream/watermark.ts).
   */
  modelWatermark(model: string, idle?: IdlePolicy): Promise<number | null>
}

export interface LeaseStore {
  /**
   * Takes or renews the model's evaluator lease for `owner`. Returns the fencing token, which
   * increases every time the lease changes hands, or null when another owner holds it.
   */
  acquire(model: string, owner: string, ttlMs: number): Promise<number | null>
  release(model: string, owner: string): Promise<void>
  /**
   * Records that the window ending at `windowEnd` was evaluated, with `state` (alert state, last
   * report), only if `token` is still current and the window was not recorded before.
   */
  commitEvaluation(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
  ): Promise<'committed' | 'fenced' | 'duplicate'>
  /**
   * Replaces the state recorded with the last evaluated window (which must still end at
   * `windowEnd`), only if `token` is still current: a revised report's bookkeeping, under the
   * same fencing as the first one.
   */
  commitRevision(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
  ): Promise<'committed' | 'fenced' | 'duplicate'>
  lastEvaluation(model: string): Promise<{ windowEnd: number; state: string } | null>
}

export interface ReferenceStore {
  put(model: string, snapshotJson: string, id: string): Promise<void>
  current(model: string): Promise<string | null>
  /**
   * Offers the snapshot of the model's configured reference file at start. It becomes current
   * when no reference is stored, or when the file changed since it last seeded one; a reference
   * an operator put since (through the admin API) stays current while the file is unchanged.
   */
  seedFromFile(model: string, snapshotJson: string, id: string): Promise<ReferenceSeed>
}

export interface ReferenceSeed {
  /** True when the file's snapshot is current now. */
  readonly applied: boolean
  /** The id of the current reference. */
  readonly currentId: string
}
