// The stream of input events (Kafka in production), in our words. Offsets are decimal strings
// because Kafka's are int64.

import type { PartitionRef } from './sketch-store.js'

export interface SourceMessage {
  readonly offset: string
  readonly value: Buffer | null
  /** The record's timestamp, ms since epoch. */
  readonly timestamp: number
}

export interface SourceBatch {
  readonly ref: PartitionRef
  readonly messages: readonly SourceMessage[]
  /** The partition's high watermark (next offset to be written), for lag. */
  readonly highWatermark: string
}

export interface BatchControl {
  /** False once the source is stopping or the partition was revoked: stop early. */
  isRunning(): boolean
  /** Keeps group membership alive during long batches. */
  heartbeat(): Promise<void>
}

export interface EventSourceHandlers {
  onBatch(batch: SourceBatch, control: BatchControl): Promise<void>
  onAssigned(refs: readonly PartitionRef[]): void
  onRevoked(refs: readonly PartitionRef[]): void
}

export interface EventSource {
  start(handlers: EventSourceHandlers): Promise<void>
  /** Next batch of this partition starts at `offset`. */
  seek(ref: PartitionRef, offset: string): void
  /** A hint only: Redis holds the truth (docs/architecture.md, guarantee 1). */
  commit(
    offsets: ReadonlyArray<{ readonly ref: PartitionRef; readonly nextOffset: string }>,
  ): Promise<void>
  pause(): void
  resume(): void
  /** Stops fetching one partition for `ms`, then fetches it again (a dependency's back-off). */
  pausePartition?(ref: PartitionRef, ms: number): void
  stop(): Promise<void>
  connected(): boolean
}

/** One input partition's end offset, fetched fresh, and where the group starts reading it. */
export interface PartitionPosition {
  readonly ref: PartitionRef
  /** Offset the next event written will get (Kafka's high watermark), as of this call. */
  readonly end: string
  /**
   * Where the group starts reading when it holds no checkpoint for the partition: its committed
   * offset, else the beginning (a replay) or the end.
   */
  readonly start: string
}

/**
 * What of the input there is to read, as of now. The evaluator asks on every tick, before it reads
 * the checkpoints, so that "read to its end" is judged against fresh end offsets: a partition
 * with unread events is never taken as idle, and one nobody has read yet holds every window back
 * (core/stream/watermark.ts, completeWatermarkOf).
 */
export interface InputBacklog {
  positions(): Promise<readonly PartitionPosition[]>
}

export interface DeadLetter {
  readonly value: Buffer | null
  readonly reason: string
  readonly detail: string
  readonly source: PartitionRef & { readonly offset: string }
}

/** Where results go (Kafka topics in production). Each send resolves once durably written. */
export interface EventSink {
  deadLetters(letters: readonly DeadLetter[]): Promise<void>
  report(key: string, report: unknown): Promise<void>
  alerts(alerts: ReadonlyArray<{ readonly key: string; readonly alert: unknown }>): Promise<void>
  retrain(key: string, request: unknown): Promise<void>
  connected(): boolean
}
