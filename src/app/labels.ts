// The ground-truth join: labels from `kafka.topics.labels` meet the predictions waiting for them
// (written by the ingest flush with the offsets that count them, app/ingest.ts) and each pair is
// added to the performance summary of the bucket its PREDICTION belongs to, however late the label
// comes (core/performance/join.ts).
//
// Exactly once, as ingest does it: every batch of a labels partition is written per model in one
// atomic step with that model's checkpoint for the partition (ports/label-store.ts), and a
// batch delivered again resumes from the smallest checkpoint, each model skipping what it has.
// Dead letters go to Kafka before Redis is written, so a crash may send one twice, never lose it.
//
// A label that comes before its prediction waits too (bounded by `maxPending` and `joinTtl`,
// counted when dropped). A sweep joins early labels whose prediction has arrived since: the
// ingest flush writes predictions without looking at labels, so the decisions stay here, in
// TypeScript, and the scripts only check that what was read is unchanged.

import type { Logger } from 'pino'
import {
  decodeLabelEvent,
  decodePending,
  joinIncrements,
  labelProblem,
  type LabelEvent,
} from '../core/performance/join.js'
import type { PerformanceSettings } from '../core/performance/summary.js'
import type { FeatureValue } from '../core/events.js'
import { errorMessage } from '../errors.js'
import type {
  BatchControl,
  DeadLetter,
  EventSink,
  EventSource,
  SourceBatch,
} from '../ports/event-source.js'
import type { LabelJoin, LabelStore } from '../ports/label-store.js'
import type { MetricsSink } from '../ports/metrics.js'
import { partitionId, type PartitionRef } from '../ports/sketch-store.js'
import { Mutex } from './mutex.js'

export interface JoinedModel {
  readonly name: string
  readonly settings: PerformanceSettings
  readonly joinTtlMs: number
  readonly maxPending: number
  /** The model's bucket retention: how long a performance bucket lives after a write. */
  readonly retentionMs: number
}

export interface LabelJoinerOptions {
  readonly store: LabelStore
  readonly sink: EventSink
  readonly source: EventSource
  readonly metrics: MetricsSink
  readonly logger: Logger
  readonly models: ReadonlyMap<string, JoinedModel>
  readonly maxEventBytes: number
  readonly now: () => number
  /** How often early labels are looked at again; default 2 s. */
  readonly sweepIntervalMs?: number
}

/** Labels written per atomic step. */
const labelSlice = 500

/** Slices of 500 early labels one sweep looks at per model (a full pass up to 100,000). */
const maxSweepSlices = 200

/** A changed entry (a prediction flushed between our read and our write): read again. */
const maxAttempts = 10

export class LabelJoiner {
  readonly #options: LabelJoinerOptions
  readonly #mutex = new Mutex()
  /** Per labels partition: each model's next offset (null: none stored). */
  readonly #checkpoints = new Map<string, Map<string, string | null>>()
  readonly #cursors = new Map<string, string>()
  #sweepTimer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(options: LabelJoinerOptions) {
    this.#options = options
  }

  startSweeps(): void {
    this.#sweepTimer = setInterval(() => {
      void this.sweep().catch((error: unknown) =>
        this.#options.logger.warn({ err: errorMessage(error) }, 'early label sweep failed'),
      )
    }, this.#options.sweepIntervalMs ?? 2000)
  }

  onAssigned(refs: readonly PartitionRef[]): void {
    for (const ref of refs) this.#checkpoints.delete(partitionId(ref))
  }

  onRevoked(refs: readonly PartitionRef[]): void {
    for (const ref of refs) this.#checkpoints.delete(partitionId(ref))
  }

  async onBatch(batch: SourceBatch, control: BatchControl): Promise<void> {
    await this.#mutex.run(async () => {
      if (this.#stopped || !control.isRunning()) return
      const first = batch.messages[0]
      if (first === undefined) return
      const checkpoints = await this.#loadCheckpoints(batch.ref, first.offset)
      let resume: bigint | null = null
      for (const next of checkpoints.values()) {
        const offset = BigInt(next as string)
        if (resume === null || offset < resume) resume = offset
      }
      if (resume !== null && BigInt(first.offset) !== resume) {
        this.#options.source.seek(batch.ref, resume.toString())
        return
      }
      // In slices, each its own atomic step with its checkpoint: one call per whole Kafka batch
      // (up to ~10,000 labels) would pass Redis more arguments than a call can spread.
      for (let start = 0; start < batch.messages.length; start += labelSlice) {
        if (!control.isRunning()) return
        const messages = batch.messages.slice(start, start + labelSlice)
        if (!(await this.#apply({ ...batch, messages }, checkpoints))) return
      }
    })
  }

  /** Each model's checkpoint here; a model without one gets one at `firstOffset` first. */
  async #loadCheckpoints(
    ref: PartitionRef,
    firstOffset: string,
  ): Promise<Map<string, string | null>> {
    const id = partitionId(ref)
    const known = this.#checkpoints.get(id)
    if (known !== undefined) return known
    const { store, models, now } = this.#options
    const checkpoints = new Map<string, string | null>()
    for (const model of models.values()) {
      const stored = (await store.labelCheckpoints(model.name, [ref])).get(id) ?? null
      checkpoints.set(model.name, stored)
    }
    // As ingest's #registerNewPartitions: every model stores where it starts before any stores
    // labels, so the smallest checkpoint is always a safe place for all to resume from.
    for (const model of models.values()) {
      if (checkpoints.get(model.name) !== null) continue
      const outcome = await store.applyLabels({
        model: model.name,
        checkpoint: { ref, expected: null, next: firstOffset },
        joins: [],
        early: [],
        now: now(),
        ttlMs: model.joinTtlMs,
        maxEarly: model.maxPending,
        retentionMs: model.retentionMs,
      })
      if (outcome.status === 'stale') {
        const stored = (await store.labelCheckpoints(model.name, [ref])).get(id) ?? null
        checkpoints.set(model.name, stored)
      } else checkpoints.set(model.name, firstOffset)
    }
    this.#checkpoints.set(id, checkpoints)
    return checkpoints
  }

  /** False when the partition was reloaded (a stale checkpoint): the rest of the batch waits. */
  async #apply(batch: SourceBatch, checkpoints: Map<string, string | null>): Promise<boolean> {
    const { models, metrics, sink, source, logger } = this.#options
    const limits = { maxBytes: this.#options.maxEventBytes, now: this.#options.now() }
    const byModel = new Map<string, Array<{ offset: bigint; label: LabelEvent }>>()
    const letters: DeadLetter[] = []
    let smallest: bigint | null = null
    for (const next of checkpoints.values()) {
      const offset = BigInt(next as string)
      if (smallest === null || offset < smallest) smallest = offset
    }
    for (const message of batch.messages) {
      const offset = BigInt(message.offset)
      const decoded = decodeLabelEvent(message.value, limits)
      let reason: string | null = null
      let detail = ''
      if (!decoded.ok) [reason, detail] = [decoded.reason, decoded.detail]
      else {
        const model = models.get(decoded.event.model)
        if (model === undefined) {
          reason = 'unknown_model'
          detail = `model '${decoded.event.model.slice(0, 100)}' has no performance section`
        } else {
          const problem = labelProblem(model.settings, decoded.event.label)
          if (problem !== null) [reason, detail] = ['wrong_type', problem]
          else {
            let list = byModel.get(model.name)
            if (list === undefined) byModel.set(model.name, (list = []))
            list.push({ offset, label: decoded.event })
          }
        }
      }
      // Dead letters every model has passed were sent before the checkpoint that passed them.
      if (reason !== null && (smallest === null || offset >= smallest))
        letters.push({
          value: message.value,
          reason,
          detail,
          source: { ...batch.ref, offset: message.offset },
        })
    }
    if (letters.length > 0) {
      await sink.deadLetters(letters)
      for (const letter of letters) metrics.invalidEvent(letter.reason, batch.ref.topic)
    }
    const last = batch.messages[batch.messages.length - 1] as { offset: string }
    const next = (BigInt(last.offset) + 1n).toString()
    for (const model of models.values()) {
      const expected = checkpoints.get(model.name) ?? null
      const from = expected === null ? null : BigInt(expected)
      const labels = (byModel.get(model.name) ?? [])
        .filter((l) => from === null || l.offset >= from)
        .map((l) => l.label)
      if (from !== null && BigInt(next) <= from) continue
      const outcome = await this.#joinBatch(model, labels, { ref: batch.ref, expected, next })
      if (outcome === 'stale') {
        logger.warn(
          { model: model.name, partition: partitionId(batch.ref) },
          'label checkpoint moved by another owner: reloading the partition',
        )
        this.#checkpoints.delete(partitionId(batch.ref))
        const reloaded = await this.#loadCheckpoints(batch.ref, batch.messages[0]?.offset ?? next)
        let resume: bigint | null = null
        for (const offset of reloaded.values()) {
          const o = BigInt(offset as string)
          if (resume === null || o < resume) resume = o
        }
        if (resume !== null) source.seek(batch.ref, resume.toString())
        return false
      }
      checkpoints.set(model.name, next)
    }
    try {
      await source.commit([{ ref: batch.ref, nextOffset: next }])
    } catch (error: unknown) {
      logger.warn({ err: errorMessage(error) }, 'labels offset commit to Kafka failed')
    }
    return true
  }

  /** Reads what the labels meet, then writes it with the checkpoint; again if an entry moved. */
  async #joinBatch(
    model: JoinedModel,
    labels: readonly LabelEvent[],
    checkpoint: { ref: PartitionRef; expected: string | null; next: string } | undefined,
    early?: ReadonlyMap<string, string>,
  ): Promise<'applied' | 'stale'> {
    const { store, metrics, now } = this.#options
    for (let attempt = 1; ; attempt++) {
      const pending = await store.pendingPredictions(
        model.name,
        labels.map((l) => l.eventId),
      )
      const joins: LabelJoin[] = []
      const waiting: Array<readonly [string, string]> = []
      const seen = new Set<string>()
      let dropped = 0
      for (const label of labels) {
        // The same label twice in a batch counts once; a later copy finds no prediction and waits.
        if (seen.has(label.eventId)) continue
        seen.add(label.eventId)
        const text = pending.get(label.eventId)
        const prediction = text === undefined ? null : decodePending(text)
        if (text !== undefined && prediction !== null) {
          const storedEarly = early?.get(label.eventId)
          joins.push({
            eventId: label.eventId,
            pending: text,
            ...(storedEarly === undefined ? {} : { early: storedEarly }),
            bucket: prediction.bucket,
            increments: joinIncrements(model.settings, prediction, label.label),
          })
        } else if (text !== undefined) dropped++
        else if (early === undefined) waiting.push([label.eventId, encodeLabel(label.label)])
      }
      const outcome = await store.applyLabels({
        model: model.name,
        ...(checkpoint === undefined ? {} : { checkpoint }),
        joins,
        early: waiting,
        now: now(),
        ttlMs: model.joinTtlMs,
        maxEarly: model.maxPending,
        retentionMs: model.retentionMs,
      })
      if (outcome.status === 'stale') return 'stale'
      if (outcome.status === 'changed') {
        if (attempt >= maxAttempts)
          throw new Error(`label join of ${model.name}: entries keep changing (${outcome.eventId})`)
        continue
      }
      if (dropped > 0)
        this.#options.logger.warn(
          { model: model.name, dropped },
          'pending predictions that do not decode: their labels are not scored',
        )
      metrics.labelJoin(model.name, 'joined', joins.length)
      metrics.labelJoin(model.name, 'early', waiting.length)
      metrics.labelJoin(model.name, 'label_expired', outcome.expired)
      metrics.labelJoin(model.name, 'label_evicted', outcome.evicted)
      return 'applied'
    }
  }

  /**
   * Joins early labels whose prediction has arrived since. A bounded slice per model and call
   * (HSCAN), continuing where the last one stopped.
   */
  async sweep(): Promise<void> {
    await this.#mutex.run(async () => {
      if (this.#stopped) return
      for (const model of this.#options.models.values()) {
        for (let slice = 0; slice < maxSweepSlices; slice++) {
          if (!(await this.#sweepSlice(model))) break
        }
      }
    })
  }

  /** One HSCAN slice of a model's early labels joined; false once the scan is through. */
  async #sweepSlice(model: JoinedModel): Promise<boolean> {
    const cursor = this.#cursors.get(model.name) ?? '0'
    const scan = await this.#options.store.scanEarlyLabels(model.name, cursor, 500)
    this.#cursors.set(model.name, scan.cursor)
    if (scan.entries.length === 0) return scan.cursor !== '0'
    const found = await this.#options.store.pendingPredictions(
      model.name,
      scan.entries.map(([id]) => id),
    )
    const ready = scan.entries.filter(([id]) => found.has(id))
    const labels: LabelEvent[] = []
    for (const [eventId, text] of ready) {
      const label = decodeLabel(text)
      if (label !== undefined) labels.push({ eventId, model: model.name, label, timestamp: null })
    }
    if (labels.length > 0) await this.#joinBatch(model, labels, undefined, new Map(ready))
    return scan.cursor !== '0'
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer)
    await this.#mutex.run(() => Promise.resolve())
  }
}

function encodeLabel(label: FeatureValue): string {
  return JSON.stringify({ l: label })
}

function decodeLabel(text: string): FeatureValue | undefined {
  try {
    const json = JSON.parse(text) as { l?: unknown }
    const l = json.l
    return typeof l === 'number' || typeof l === 'string' || typeof l === 'boolean' ? l : undefined
  } catch {
    return undefined
  }
}
