// Where the ground-truth join keeps its state (Redis in production; adapters/redis/label-store.ts),
// in the domain's words. Per model:
//   pending predictions   eventId → prediction waiting for its label (written by the ingest flush,
//                          ports/sketch-store.ts FlushBatch.pending)
//   early labels          eventId → label that came before its prediction
//   label checkpoints     labels partition → next offset to read
//   performance buckets   bucket start → summary fields per model version (core/performance)
// applyLabels writes one batch's labels of one model and the partition's checkpoint in ONE atomic
// step, only if the checkpoint and every entry it was computed from are unchanged: each label
// is counted exactly once, whatever crashes (app/labels.ts).

import type { PartitionRef } from './sketch-store.js'

export interface LabelJoin {
  readonly eventId: string
  /** The pending prediction as read (checked unchanged before writing). */
  readonly pending: string
  /** The early label as read, when a sweep joins one; absent for a label of this batch. */
  readonly early?: string
  /** Start of the prediction's bucket: the summary it adds to. */
  readonly bucket: number
  /** Summary fields (`<version>␞<field>`) and what to add to them. */
  readonly increments: ReadonlyArray<readonly [string, number]>
}

export interface LabelBatch {
  readonly model: string
  /** The labels partition and offsets this batch covers; absent for a sweep of early labels. */
  readonly checkpoint?: {
    readonly ref: PartitionRef
    readonly expected: string | null
    readonly next: string
  }
  readonly joins: readonly LabelJoin[]
  /** Labels with no prediction waiting: they wait (eventId, encoded label). */
  readonly early: ReadonlyArray<readonly [string, string]>
  readonly now: number
  readonly ttlMs: number
  readonly maxEarly: number
  /** How long a performance bucket lives after its last write. */
  readonly retentionMs: number
}

export type LabelOutcome =
  | { readonly status: 'applied'; readonly expired: number; readonly evicted: number }
  /** Another owner moved the checkpoint: nothing written. */
  | { readonly status: 'stale' }
  /** An entry changed since it was read: nothing written; read again and retry. */
  | { readonly status: 'changed'; readonly eventId: string }

export interface LabelStore {
  labelCheckpoints(model: string, refs: readonly PartitionRef[]): Promise<Map<string, string>>
  /** The pending predictions of these events (absent ones left out). */
  pendingPredictions(model: string, eventIds: readonly string[]): Promise<Map<string, string>>
  applyLabels(batch: LabelBatch): Promise<LabelOutcome>
  /** Some early labels, from `cursor` ('0' to start; '0' back when the scan is through). */
  scanEarlyLabels(
    model: string,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; entries: Array<[string, string]> }>
  /** Labels ever joined for the model (a counter: unchanged means no new label was scored). */
  joinedLabels(model: string): Promise<number>
  /** Labels joined into each performance bucket (absent buckets give 0). */
  bucketLabels(model: string, bucketStarts: readonly number[]): Promise<Map<number, number>>
  /** Each bucket's performance fields (`<version>␞<field>` → value), read as of one moment. */
  readPerformance(
    model: string,
    bucketStarts: readonly number[],
  ): Promise<Map<number, Record<string, string>>>
}
