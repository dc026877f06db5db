// One model's view of one input partition: where it is in the partition, its watermark, and the
// profiles of its open buckets. Pure; the ingest loop does the loading and flushing around it.
//
// Exactly-once hinges on two rules here: an event at an offset below `nextOffset` was already
// counted (it is skipped), and the late/on-time decision depends only on the partition's own
// watermark, which is stored with the offset — so a replay after a crash makes the same decisions.

import {
  addLayoutRow,
  addRow,
  addTypeViolation,
  createDatasetProfile,
  type CellValue,
  type LayoutCells,
  type ProfileLayout,
} from '../profile/dataset.js'
import { addOutputs } from '../model-outputs.js'
import type { BucketProfiles } from './bucket-codec.js'
import { bucketStart, isClosed, isLate, type WindowSpec } from './windows.js'

export interface PartitionModelState {
  /** The checkpoint offset as stored when last loaded or flushed (the flush's precondition). */
  expected: string | null
  /** Next offset to count; events below it are replays of counted ones. */
  nextOffset: bigint | null
  watermark: number
  late: number
  /** Event time of the earliest event counted here (Infinity before the first). */
  earliest: number
  readonly buckets: Map<number, BucketProfiles>
  readonly dirty: Set<number>
  /** Events added to each dirty bucket since the last flush (the store's row counters). */
  readonly added: Map<number, number>
}

export function newPartitionState(
  checkpoint: { nextOffset: string; watermark: number; late: number; earliest?: number } | null,
): PartitionModelState {
  return {
    expected: checkpoint?.nextOffset ?? null,
    nextOffset: checkpoint === null ? null : BigInt(checkpoint.nextOffset),
    watermark: checkpoint?.watermark ?? Number.NEGATIVE_INFINITY,
    late: checkpoint?.late ?? 0,
    earliest: checkpoint?.earliest ?? Number.POSITIVE_INFINITY,
    buckets: new Map(),
    dirty: new Set(),
    added: new Map(),
  }
}

/** skipped: stamped before the run's `--from` time, outside the range asked for (not counted). */
export type ApplyOutcome = 'counted' | 'late' | 'replayed' | 'skipped'

export interface RoutedEvent {
  /**
   * Which series the event feeds: `${referenceId}|${modelVersion}`. Profiles binned on different
   * references cannot merge, so a replaced reference starts new series.
   */
  readonly series: string
  readonly eventTime: number
  /** The event's features in the model's layout: row `row` of `cells`. */
  readonly cells: LayoutCells
  readonly row: number
  /**
   * All its features by name, when the decoder built them; else null, and `featuresOf` below
   * rebuilds them from `message` for the rare profile the layout does not cover.
   */
  readonly features: Readonly<Record<string, CellValue>> | null
  readonly message: Uint8Array | null
  /** The model's outputs (core/model-outputs.ts), when the event carries them. */
  readonly prediction: CellValue | undefined
  readonly latencyMs: number | undefined
}

/** Which bucket an event would go to, so the caller can load it from the store first. */
export function bucketFor(
  state: PartitionModelState,
  offset: bigint,
  event: Pick<RoutedEvent, 'eventTime'>,
  spec: WindowSpec,
  notBefore = Number.NEGATIVE_INFINITY,
): number | null {
  if (state.nextOffset !== null && offset < state.nextOffset) return null
  if (event.eventTime < notBefore) return null
  const bucket = bucketStart(event.eventTime, spec)
  return isLate(bucket, state.watermark, spec) ? null : bucket
}

export function applyEvent(
  state: PartitionModelState,
  offset: bigint,
  event: RoutedEvent,
  spec: WindowSpec,
  layout: ProfileLayout,
  notBefore = Number.NEGATIVE_INFINITY,
  featuresOf: (event: RoutedEvent) => Readonly<Record<string, CellValue>> = (e) => e.features ?? {},
): ApplyOutcome {
  if (state.nextOffset !== null && offset < state.nextOffset) return 'replayed'
  state.nextOffset = offset + 1n
  if (event.eventTime < notBefore) return 'skipped'
  const bucket = bucketStart(event.eventTime, spec)
  if (isLate(bucket, state.watermark, spec)) {
    state.late++
    return 'late'
  }
  if (event.eventTime > state.watermark) state.watermark = event.eventTime
  if (event.eventTime < state.earliest) state.earliest = event.eventTime
  let profiles = state.buckets.get(bucket)
  if (profiles === undefined) {
    profiles = new Map()
    state.buckets.set(bucket, profiles)
  }
  let profile = profiles.get(event.series)
  if (profile === undefined) {
    profile = createDatasetProfile(layout)
    profiles.set(event.series, profile)
  }
  if (!addLayoutRow(profile, layout, event.cells, event.row)) addRow(profile, featuresOf(event))
  addOutputs(profile, event.prediction, event.latencyMs)
  state.dirty.add(bucket)
  state.added.set(bucket, (state.added.get(bucket) ?? 0) + 1)
  return 'counted'
}

/**
 * An event that broke a type or the schema, dead-lettered but attributed to its window: the
 * feature at fault ('' for the event as a whole), in its event time's bucket and series.
 */
export interface RoutedViolation {
  readonly series: string
  readonly eventTime: number
  readonly feature: string
}

/**
 * Counts a type violation in its bucket's data quality, under the same exactly-once rule as
 * events (it moves `nextOffset`, and the flush stores both together). It neither moves the
 * watermark nor counts as a row: a broken event must not close windows, and the window's events
 * are the valid ones. One of a closed bucket (late) is dropped: the window has been reported.
 */
export function applyViolation(
  state: PartitionModelState,
  offset: bigint,
  violation: RoutedViolation,
  spec: WindowSpec,
  layout: ProfileLayout,
  notBefore = Number.NEGATIVE_INFINITY,
): ApplyOutcome {
  if (state.nextOffset !== null && offset < state.nextOffset) return 'replayed'
  state.nextOffset = offset + 1n
  if (violation.eventTime < notBefore) return 'skipped'
  const bucket = bucketStart(violation.eventTime, spec)
  if (isLate(bucket, state.watermark, spec)) return 'late'
  let profiles = state.buckets.get(bucket)
  if (profiles === undefined) {
    profiles = new Map()
    state.buckets.set(bucket, profiles)
  }
  let profile = profiles.get(violation.series)
  if (profile === undefined) {
    profile = createDatasetProfile(layout)
    profiles.set(violation.series, profile)
  }
  addTypeViolation(profile, violation.feature)
  state.dirty.add(bucket)
  return 'counted'
}

/** Marks the partition as read up to `offset` (exclusive) without an event for this model. */
export function advanceTo(state: PartitionModelState, nextOffset: bigint): void {
  if (state.nextOffset === null || nextOffset > state.nextOffset) state.nextOffset = nextOffset
}

/** Drops closed, already-flushed buckets from memory. */
export function evictClosed(state: PartitionModelState, spec: WindowSpec): void {
  for (const bucket of state.buckets.keys()) {
    if (!state.dirty.has(bucket) && isClosed(bucket, state.watermark, spec))
      state.buckets.delete(bucket)
  }
}
