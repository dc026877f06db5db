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
  stop(): Promise<void>
  connected(): boolean
}

/**
 * What of the input the consumer group has still to read. Before a model's first evaluation the
 * evaluator waits until every partition listed here has been read once (has a checkpoint): a
 * partition nobody has read yet holds no watermark, and would otherwise be left out of the first
 * windows (a fresh group over a backlog).
 */
export interface InputBacklog {
  /** Input partitions whose end is past the position the group starts (or resumes) reading at. */
  partitionsWithUnreadEvents(): Promise<readonly PartitionRef[]>
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
