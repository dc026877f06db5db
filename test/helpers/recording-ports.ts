// Our own ports (src/ports/event-source.ts) implemented for in-process tests of the app layer:
// a sink that records what it is asked to publish, and a source that records seeks and commits
// while the test hands batches to the Ingestor itself. They stand in for our adapters, not for
// Kafka: the Kafka paths are tested against the real broker.

import type { WindowReport } from '../../src/core/stream/evaluation.js'
import type {
  DeadLetter,
  EventSink,
  EventSource,
  EventSourceHandlers,
} from '../../src/ports/event-source.js'
import type { PartitionRef } from '../../src/ports/sketch-store.js'

export interface Published {
  readonly reports: WindowReport[]
  readonly alerts: number
  readonly retrain: number
}

/** Records what it was asked to publish; `holdNextReport` makes the next report wait. */
export class RecordingSink implements EventSink {
  readonly published: Published = { reports: [], alerts: 0, retrain: 0 }
  readonly deadLettersSent: DeadLetter[] = []
  /** While set, deadLetters() rejects with it, as a sink whose broker is down would. */
  deadLetterFailure: Error | undefined
  #hold: { entered: () => void; release: Promise<void> } | undefined

  /** The next report() records its report, then waits for `release` before it resolves. */
  holdNextReport(release: Promise<void>): Promise<void> {
    return new Promise((entered) => (this.#hold = { entered, release }))
  }

  async deadLetters(letters: readonly DeadLetter[]): Promise<void> {
    if (this.deadLetterFailure !== undefined) throw this.deadLetterFailure
    this.deadLettersSent.push(...letters)
  }

  async report(_key: string, report: unknown): Promise<void> {
    this.published.reports.push(report as WindowReport)
    const hold = this.#hold
    this.#hold = undefined
    if (hold !== undefined) {
      hold.entered()
      await hold.release
    }
  }

  async alerts(alerts: ReadonlyArray<{ key: string; alert: unknown }>): Promise<void> {
    ;(this.published as { alerts: number }).alerts += alerts.length
  }

  async retrain(): Promise<void> {
    ;(this.published as { retrain: number }).retrain++
  }

  connected(): boolean {
    return true
  }
}

/** A source the test drives by calling the Ingestor's onBatch; records seeks, commits and pauses. */
export class ScriptedSource implements EventSource {
  readonly seeks: Array<{ partition: number; offset: string }> = []
  readonly commits: Array<{ partition: number; offset: string }> = []
  paused = false
  async start(_handlers: EventSourceHandlers): Promise<void> {}
  seek(ref: PartitionRef, offset: string): void {
    this.seeks.push({ partition: ref.partition, offset })
  }
  async commit(offsets: ReadonlyArray<{ ref: PartitionRef; nextOffset: string }>): Promise<void> {
    for (const o of offsets) this.commits.push({ partition: o.ref.partition, offset: o.nextOffset })
  }
  pause(): void {
    this.paused = true
  }
  resume(): void {
    this.paused = false
  }
  async stop(): Promise<void> {}
  connected(): boolean {
    return true
  }
}
