// The ingest loop: Kafka batches in, per-model partition state in memory, one atomic flush per
// model into the store every `flushInterval`. See ports/sketch-store.ts for why this counts every
// valid event exactly once, and docs/architecture.md, guarantees 1, 3 and 5.
//
// Order inside a flush matters: dead letters are written to Kafka first, then each model's state
// and checkpoints go to Redis, and only then is the Kafka offset committed (a hint). A failure at
// any step pauses consumption and retries; nothing is acknowledged before Redis holds it.

import type { Logger } from 'pino'
import { EventReader, type ReadEvent } from '../core/event-reader.js'
import {
  classifyModel,
  decodePredictionEvent,
  type DecodeLimits,
  type TypeViolation,
} from '../core/events.js'
import { encodePending } from '../core/performance/join.js'
import type { PredictionOutput } from '../core/performance/summary.js'
import { categoryOf } from '../core/profile/categorical.js'
import type {
  CellValue,
  DatasetProfile,
  LayoutCells,
  ProfileLayout,
} from '../core/profile/dataset.js'
import { decodeBucket, encodeBucket, seriesKey } from '../core/stream/bucket-codec.js'
import {
  advanceTo,
  applyEvent,
  applyViolation,
  bucketFor,
  evictClosed,
  newPartitionState,
  type PartitionModelState,
  type RoutedEvent,
  type RoutedViolation,
} from '../core/stream/partition-state.js'
import { bucketStart, type WindowSpec } from '../core/stream/windows.js'
import type { FeatureKind } from '../core/report.js'
import { DriftwatchError, errorMessage } from '../errors.js'
import type {
  BatchControl,
  DeadLetter,
  EventSink,
  EventSource,
  SourceBatch,
} from '../ports/event-source.js'
import type { EventDecoder } from '../ports/event-decoder.js'
import type { MetricsSink } from '../ports/metrics.js'
import { partitionId, type PartitionRef, type SketchStore } from '../ports/sketch-store.js'
import { Mutex } from './mutex.js'

/** Messages decoded and applied together; see onBatch. */
const processSlice = 100

export interface ModelRuntime {
  readonly name: string
  readonly spec: WindowSpec
  readonly retentionMs: number
  /** Events stamped further ahead of the wall clock go to the dead-letter topic (clock_skew). */
  readonly maxClockSkewMs?: number
  /** `run --from T`: events stamped before T are outside the range asked for, not counted. */
  readonly notBefore?: number
  /** The reference in force; events are profiled on its layout. */
  referenceId: string
  layout: ProfileLayout
  kinds: Map<string, FeatureKind>
  /**
   * Set when the model's predictions are scored against labels (`performance:`): each counted
   * prediction then waits in the store for its label, written with the flush that counts it.
   */
  readonly performance?: { readonly joinTtlMs: number; readonly maxPending: number }
}

export interface IngestOptions {
  readonly store: SketchStore
  readonly sink: EventSink
  readonly source: EventSource
  readonly metrics: MetricsSink
  readonly logger: Logger
  readonly models: ReadonlyMap<string, ModelRuntime>
  readonly maxEventBytes: number
  readonly flushIntervalMs: number
  readonly now: () => number
  /** Decodes Avro (through a schema registry) besides JSON; default: JSON only. */
  readonly decoder?: EventDecoder
}

interface PartitionEntry {
  readonly ref: PartitionRef
  readonly models: Map<string, PartitionModelState>
  /** Offset the next batch must start at (the smallest checkpoint over models), if known. */
  startOffset: bigint | null
  /** Highest offset written to the partition, for lag. */
  highWatermark: bigint
  /** Offset of the first event this process read here (where unregistered models start). */
  firstRead: bigint | null
  /** Per model, predictions of not yet flushed events that will wait for their label. */
  readonly pending: Map<string, Array<readonly [string, string]>>
}

/** Where a model's layout columns sit in the reader's slots, for one layout. */
interface ModelSlots {
  readonly layout: ProfileLayout
  readonly reader: EventReader
  /** Per layout column: its slot in `reader`. */
  readonly slots: Int32Array
  readonly numerical: Uint8Array
  readonly names: readonly string[]
}

/** One slice's cells of one model (LayoutCells), filled row by row as events are routed. */
interface SliceCells extends LayoutCells {
  rows: number
}

/** A prediction to keep for the label join (ModelRuntime.performance). */
interface JoinablePrediction {
  readonly eventId: string
  readonly version: string
  readonly output: PredictionOutput
}

export class Ingestor {
  readonly #options: IngestOptions
  /** The configured models, any version accepted: classifyModel's view of `options.models`. */
  readonly #knownModels: ReadonlyMap<string, null>
  readonly #partitions = new Map<string, PartitionEntry>()
  readonly #mutex = new Mutex()
  #deadLetters: DeadLetter[] = []
  /**
   * Per partition, the offset below which this process has queued every bad event for the
   * dead-letter topic. It outlives the partition's entry: a flush whose Redis answer was lost (or
   * a reassignment) drops the entry and reads the partition again from the store's checkpoint,
   * which may lag letters already sent (they go out before the Redis step).
   */
  readonly #letteredBelow = new Map<string, bigint>()
  #lastFlush = 0
  #paused = false
  #retryTimer: NodeJS.Timeout | undefined
  #flushTimer: NodeJS.Timeout | undefined
  #stopped = false
  /** Which step of the last flush failed, if it did: Redis, or the dead-letter topic on Kafka. */
  #failedStep: FlushStep | null = null
  /** Per partition, the next pause while the decoder's schema registry does not answer. */
  readonly #decoderBackoff = new Map<string, number>()
  /** Reads JSON events straight into slots of the features the models watch; see #route. */
  #reader: EventReader
  readonly #modelSlots = new Map<string, ModelSlots>()
  /** Whether any model joins labels: only then does the reader keep event ids and scores. */
  readonly #joins: boolean

  constructor(options: IngestOptions) {
    this.#options = options
    this.#knownModels = new Map([...options.models.keys()].map((name) => [name, null] as const))
    this.#reader = this.#newReader()
    this.#joins = [...options.models.values()].some((m) => m.performance !== undefined)
  }

  /** A reader with a slot for every column of every model's current layout. */
  #newReader(): EventReader {
    const names = new Set<string>()
    for (const runtime of this.#options.models.values())
      for (const column of runtime.layout.columns) names.add(column.name)
    return new EventReader(names)
  }

  /** The model's slots for its current layout; a new reader when a layout brings new columns. */
  #slotsOf(model: string, runtime: ModelRuntime): ModelSlots {
    const known = this.#modelSlots.get(model)
    if (known !== undefined && known.layout === runtime.layout && known.reader === this.#reader)
      return known
    const columns = runtime.layout.columns
    if (columns.some((c) => this.#reader.slotOf(c.name) === -1)) this.#reader = this.#newReader()
    const reader = this.#reader
    const slots: ModelSlots = {
      layout: runtime.layout,
      reader,
      slots: Int32Array.from(columns, (c) => reader.slotOf(c.name)),
      numerical: Uint8Array.from(columns, (c) => (c.kind === 'numerical' ? 1 : 0)),
      names: columns.map((c) => c.name),
    }
    this.#modelSlots.set(model, slots)
    return slots
  }

  /** The event's features by name, decoded again (see RoutedEvent.features). */
  readonly #featuresOf = (event: RoutedEvent): Readonly<Record<string, CellValue>> => {
    if (event.features !== null) return event.features
    const value = event.message === null ? null : Buffer.from(event.message)
    const limits = { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: Number.MAX_SAFE_INTEGER }
    const decoded =
      this.#options.decoder === undefined
        ? decodePredictionEvent(value, limits)
        : this.#options.decoder.decode(value, limits)
    // The reader accepts only events the decoder accepts (core/event-reader.ts).
    if (!decoded.ok) throw new Error(`event no longer decodes: ${decoded.detail}`)
    return decoded.event.features
  }

  /** Flushes on a timer too, so a quiet stream still moves its checkpoints and closes buckets. */
  startTimer(): void {
    this.#flushTimer = setInterval(
      () => {
        if (this.#options.now() - this.#lastFlush >= this.#options.flushIntervalMs)
          void this.flushSafely()
      },
      Math.max(50, Math.floor(this.#options.flushIntervalMs / 2)),
    )
  }

  /** False while flushes fail on Redis (consumption is paused). */
  storeHealthy(): boolean {
    return this.#failedStep !== 'store'
  }

  /** False while flushes fail to write the dead-letter topic (consumption is paused). */
  deadLettersHealthy(): boolean {
    return this.#failedStep !== 'dead letters'
  }

  onAssigned(refs: readonly PartitionRef[]): void {
    for (const ref of refs) this.#partitions.delete(partitionId(ref))
  }

  onRevoked(refs: readonly PartitionRef[]): void {
    // Unflushed events of a revoked partition are not lost: its checkpoint did not move, so the
    // new owner reads them again. Its lag is the new owner's to report: a gauge left behind would
    // hold the lag alert (a max over partitions) on a frozen value.
    for (const ref of refs) {
      this.#partitions.delete(partitionId(ref))
      this.#options.metrics.lag(ref.topic, ref.partition, null)
    }
  }

  async onBatch(batch: SourceBatch, control: BatchControl): Promise<void> {
    await this.#mutex.run(async () => {
      // After the final flush nothing more is taken in: it would be neither flushed nor committed.
      if (this.#stopped) return
      const entry = await this.#ensureLoaded(batch.ref)
      const first = batch.messages[0]
      if (first === undefined) return
      entry.highWatermark = BigInt(batch.highWatermark)
      if (entry.startOffset !== null && BigInt(first.offset) !== entry.startOffset) {
        if (BigInt(first.offset) > entry.startOffset) {
          this.#options.logger.warn(
            {
              partition: partitionId(batch.ref),
              first: first.offset,
              checkpoint: entry.startOffset.toString(),
            },
            'batch starts past the checkpoint: seeking back',
          )
        }
        this.#options.source.seek(batch.ref, entry.startOffset.toString())
        return
      }
      if (!(await this.#prepareDecoder(entry, batch))) return
      entry.startOffset = null
      entry.firstRead ??= BigInt(first.offset)
      // In slices: #process keeps every decoded event of its messages alive until they are
      // applied, and a whole Kafka batch (up to 1 MiB per partition, ~1600 events) held that long
      // outlives young-generation collections; slices of 100 cut GC pauses ~5x and the ingest
      // CPU per event ~15 % (BENCHMARKS.md, ingest path).
      const all = batch.messages
      for (let start = 0; start < all.length; start += processSlice) {
        const messages = all.length <= processSlice ? all : all.slice(start, start + processSlice)
        await this.#process(entry, { ...batch, messages })
      }
    })
    if (!control.isRunning()) return
    if (this.#options.now() - this.#lastFlush >= this.#options.flushIntervalMs)
      await this.flushSafely()
  }

  /**
   * Lets the decoder fetch what the batch needs (writer schemas). While its registry does not
   * answer, nothing of the batch is taken: the partition goes back to the batch's first offset
   * and pauses, 0.5 s at first, doubling to 10 s, until the registry answers or the decoder's
   * own limit turns those events into dead letters. False when the batch must be skipped.
   */
  async #prepareDecoder(entry: PartitionEntry, batch: SourceBatch): Promise<boolean> {
    const decoder = this.#options.decoder
    const first = batch.messages[0]
    if (decoder === undefined || first === undefined) return true
    const id = partitionId(batch.ref)
    try {
      await decoder.prepare(batch.messages.map((m) => m.value))
      this.#decoderBackoff.delete(id)
      return true
    } catch (error: unknown) {
      if (!isRetryable(error)) throw error
      const pauseMs = this.#decoderBackoff.get(id) ?? 500
      this.#decoderBackoff.set(id, Math.min(10_000, pauseMs * 2))
      this.#options.logger.warn(
        { partition: id, offset: first.offset, pauseMs, err: errorMessage(error) },
        'schema registry unavailable: pausing the partition',
      )
      entry.startOffset = BigInt(first.offset)
      this.#options.source.seek(batch.ref, first.offset)
      this.#options.source.pausePartition?.(batch.ref, pauseMs)
      return false
    }
  }

  async #ensureLoaded(ref: PartitionRef): Promise<PartitionEntry> {
    const id = partitionId(ref)
    const existing = this.#partitions.get(id)
    if (existing !== undefined) return existing
    const entry: PartitionEntry = {
      ref,
      models: new Map(),
      startOffset: null,
      highWatermark: 0n,
      firstRead: null,
      pending: new Map(),
    }
    let smallest: bigint | null = null
    for (const model of this.#options.models.keys()) {
      const checkpoint = (await this.#options.store.loadCheckpoints(model, [ref])).get(id) ?? null
      entry.models.set(model, newPartitionState(checkpoint))
      if (checkpoint !== null) {
        const offset = BigInt(checkpoint.nextOffset)
        if (smallest === null || offset < smallest) smallest = offset
      }
    }
    // Resume from the smallest stored checkpoint. A model with none here has nothing stored for
    // this partition (#registerNewPartitions stores every model's start before any model's
    // data), so it counts from there too.
    entry.startOffset = smallest
    this.#partitions.set(id, entry)
    return entry
  }

  async #process(entry: PartitionEntry, batch: SourceBatch): Promise<void> {
    const { models, metrics } = { models: this.#options.models, metrics: this.#options.metrics }
    const routed: Array<{
      offset: bigint
      model: string | null
      event: RoutedEvent | null
      prediction: JoinablePrediction | undefined
      /** A dead-lettered event counted in its window's data quality (model is its model). */
      violation?: RoutedViolation
    }> = []
    const consumed = new Map<string, number>()
    const letters: DeadLetter[] = []
    // Offsets every model has passed were handled already: this is a batch delivered again (the
    // consumer restarted from the committed offset, a hint that lags Redis). Their events are
    // counted, and their dead letters queued, or sent before the flush that stored the checkpoint.
    const handled = handledBelow(entry)
    const cells = new Map<string, SliceCells>()
    // One clock reading per slice (at most 100 events, well under a millisecond).
    const limits = { maxBytes: this.#options.maxEventBytes, now: this.#options.now() }
    const id = partitionId(batch.ref)
    const lettered = this.#letteredBelow.get(id) ?? -1n
    for (const message of batch.messages) {
      const offset = BigInt(message.offset)
      if (handled !== null && offset < handled) continue
      const result = this.#route(
        message.value,
        message.timestamp,
        cells,
        batch.messages.length,
        limits,
      )
      if (!result.ok) {
        // Below the mark: queued or sent already by this process (see #letteredBelow).
        if (offset >= lettered)
          letters.push({
            value: message.value,
            reason: result.reason,
            detail: result.detail,
            source: { ...batch.ref, offset: message.offset },
          })
        const violation = result.violation
        routed.push(
          violation === undefined
            ? { offset, model: null, event: null, prediction: undefined }
            : {
                offset,
                model: violation.model,
                event: null,
                prediction: undefined,
                violation: violation.routed,
              },
        )
        continue
      }
      routed.push({
        offset,
        model: result.model,
        event: result.event,
        prediction: result.prediction,
      })
    }
    // May throw (Redis down): kafkajs then delivers the batch again, so nothing of it may be
    // queued or counted before this point.
    await this.#loadBuckets(entry, routed)
    for (const letter of letters) {
      this.#deadLetters.push(letter)
      metrics.invalidEvent(letter.reason, batch.ref.topic)
    }
    const last = routed[routed.length - 1]
    if (last !== undefined && last.offset >= lettered) this.#letteredBelow.set(id, last.offset + 1n)
    const late = new Map<string, number>()
    for (const { offset, model, event, prediction, violation } of routed) {
      for (const [name, state] of entry.models) {
        const runtime = models.get(name) as ModelRuntime
        if (name === model && violation !== undefined) {
          applyViolation(state, offset, violation, runtime.spec, runtime.layout, runtime.notBefore)
        } else if (name === model && event !== null) {
          const outcome = applyEvent(
            state,
            offset,
            event,
            runtime.spec,
            runtime.layout,
            runtime.notBefore,
            this.#featuresOf,
          )
          if (outcome === 'late') late.set(name, (late.get(name) ?? 0) + 1)
          if (outcome === 'late' || outcome === 'counted')
            consumed.set(name, (consumed.get(name) ?? 0) + 1)
          // Late ones too: a prediction belongs to its event time's bucket whatever its features'
          // fate, and its label is as good as any.
          if ((outcome === 'late' || outcome === 'counted') && prediction !== undefined) {
            let list = entry.pending.get(name)
            if (list === undefined) entry.pending.set(name, (list = []))
            list.push([
              prediction.eventId,
              encodePending({
                bucket: bucketStart(event.eventTime, runtime.spec),
                version: prediction.version,
                output: prediction.output,
              }),
            ])
          }
        } else {
          advanceTo(state, offset + 1n)
        }
      }
    }
    for (const [model, n] of consumed) metrics.eventsConsumed(model, batch.ref.topic, n)
    for (const [model, n] of late) metrics.lateEvents(model, n)
    if (last !== undefined)
      metrics.lag(
        batch.ref.topic,
        batch.ref.partition,
        Number(entry.highWatermark - last.offset - 1n),
      )
  }

  /** Loads, in one pass, every stored bucket the batch touches that is not in memory yet. */
  async #loadBuckets(
    entry: PartitionEntry,
    routed: ReadonlyArray<{
      offset: bigint
      model: string | null
      event: RoutedEvent | null
      violation?: RoutedViolation
    }>,
  ): Promise<void> {
    const wanted = new Map<string, Set<number>>()
    for (const { offset, model, event: valid, violation } of routed) {
      const event = valid ?? violation ?? null
      if (model === null || event === null) continue
      const state = entry.models.get(model) as PartitionModelState
      const runtime = this.#options.models.get(model) as ModelRuntime
      const bucket = bucketFor(state, offset, event, runtime.spec, runtime.notBefore)
      if (bucket === null || state.buckets.has(bucket)) continue
      let set = wanted.get(model)
      if (set === undefined) wanted.set(model, (set = new Set()))
      set.add(bucket)
    }
    for (const [model, buckets] of wanted) {
      const state = entry.models.get(model) as PartitionModelState
      for (const bucket of buckets) {
        const blob = await this.#options.store.loadBucket(model, bucket, entry.ref)
        state.buckets.set(
          bucket,
          blob === null ? new Map<string, DatasetProfile>() : decodeBucket(blob),
        )
      }
    }
  }

  #route(
    value: Buffer | null,
    kafkaTimestamp: number,
    cells: Map<string, SliceCells>,
    capacity: number,
    limits: DecodeLimits,
  ):
    | { ok: true; model: string; event: RoutedEvent; prediction: JoinablePrediction | undefined }
    | {
        ok: false
        reason: string
        detail: string
        violation?: { model: string; routed: RoutedViolation }
      } {
    const decoder = this.#options.decoder
    // A reader specialised to the event's shape first (JSON, or Avro of a known writer schema):
    // it declines (null) whatever it cannot prove the decoder would accept, and the decoder then
    // decides (core/event-reader.ts, core/avro-event-reader.ts).
    const reader = this.#reader
    const read =
      value === null
        ? null
        : decoder === undefined
          ? reader.read(value, limits, this.#joins)
          : decoder.read(value, reader, limits, this.#joins)
    let event: ReadEvent
    let features: Readonly<Record<string, CellValue>> | null = null
    if (read !== null) event = read
    else {
      const decoded =
        decoder === undefined ? decodePredictionEvent(value, limits) : decoder.decode(value, limits)
      if (!decoded.ok) {
        const violation =
          decoded.violation === undefined
            ? undefined
            : this.#attribute(decoded.violation, kafkaTimestamp)
        return {
          ok: false,
          reason: decoded.reason,
          detail: decoded.detail,
          ...(violation === undefined ? {} : { violation }),
        }
      }
      event = decoded.event
      features = decoded.event.features
    }
    const unknown = classifyModel(event, this.#knownModels)
    if (unknown !== null)
      return {
        ok: false,
        reason: unknown,
        detail: `model '${event.model.slice(0, 100)}' is not configured`,
      }
    const runtime = this.#options.models.get(event.model) as ModelRuntime
    const slots = this.#slotsOf(event.model, runtime)
    // A layout with columns the reader had no slot for: read the event again with the new one.
    if (read !== null && slots.reader !== reader)
      return this.#route(value, kafkaTimestamp, cells, capacity, limits)
    let slice = cells.get(event.model)
    if (slice === undefined) {
      const width = slots.names.length
      slice = {
        width,
        rows: 0,
        numbers: new Float64Array(capacity * width),
        categories: new Array<string | null>(capacity * width).fill(null),
      }
      cells.set(event.model, slice)
    }
    const row = slice.rows
    const mismatch =
      features === null
        ? fillFromSlots(slice, row, slots, slots.reader)
        : fillFromRecord(slice, row, slots, features)
    if (mismatch !== null) {
      const violation = this.#attribute(
        {
          model: event.model,
          modelVersion: event.modelVersion,
          timestamp: event.timestamp,
          feature: mismatch.name,
        },
        kafkaTimestamp,
      )
      return {
        ok: false,
        reason: 'feature_kind_mismatch',
        detail: `feature '${mismatch.name}' is numerical, got ${typeof mismatch.value}`,
        ...(violation === undefined ? {} : { violation }),
      }
    }
    slice.rows++
    const eventTime = event.timestamp ?? kafkaTimestamp
    // One producer's bad clock must not move event time for everyone: an event from the future
    // would close (and report) windows that have not happened yet.
    const skew = runtime.maxClockSkewMs
    if (skew !== undefined && eventTime > this.#options.now() + skew) {
      return {
        ok: false,
        reason: 'clock_skew',
        detail: `event time ${new Date(eventTime).toISOString()} is more than ${skew} ms ahead of the wall clock`,
      }
    }
    const joinable =
      runtime.performance !== undefined &&
      (event.prediction !== undefined || event.scores !== undefined)
    return {
      ok: true,
      model: event.model,
      event: {
        series: seriesKey(runtime.referenceId, event.modelVersion ?? ''),
        eventTime,
        cells: slice,
        row,
        features,
        message: features === null ? value : null,
        prediction: event.prediction,
        latencyMs: event.latencyMs,
      },
      prediction: joinable
        ? {
            eventId: event.eventId,
            version: event.modelVersion ?? '',
            output: {
              ...(event.prediction === undefined ? {} : { prediction: event.prediction }),
              ...(event.scores === undefined ? {} : { scores: event.scores }),
            },
          }
        : undefined,
    }
  }

  /**
   * Where a dead-lettered event's type violation is counted: its model's series and event time,
   * when the model (and version) is configured and the time is not too far ahead (as for valid
   * events); else nowhere (the dead letter and its metric remain).
   */
  #attribute(
    violation: TypeViolation,
    kafkaTimestamp: number,
  ): { model: string; routed: RoutedViolation } | undefined {
    if (classifyModel(violation, this.#knownModels) !== null) return undefined
    const runtime = this.#options.models.get(violation.model) as ModelRuntime
    const eventTime = violation.timestamp ?? kafkaTimestamp
    const skew = runtime.maxClockSkewMs
    if (skew !== undefined && eventTime > this.#options.now() + skew) return undefined
    return {
      model: violation.model,
      routed: {
        series: seriesKey(runtime.referenceId, violation.modelVersion ?? ''),
        eventTime,
        feature: violation.feature,
      },
    }
  }

  /** Flushes; on failure pauses consumption and retries until it succeeds. Never throws. */
  async flushSafely(): Promise<void> {
    try {
      await this.flush()
      this.#failedStep = null
      if (this.#paused) {
        this.#paused = false
        this.#options.source.resume()
        this.#options.logger.info('flush succeeded again: resuming consumption')
      }
    } catch (error: unknown) {
      this.#failedStep = error instanceof DeadLetterSendError ? 'dead letters' : 'store'
      if (!this.#paused) {
        this.#paused = true
        this.#options.source.pause()
        this.#options.logger.error(
          { err: errorMessage(error) },
          'flush failed: pausing consumption until it succeeds',
        )
      }
      if (!this.#stopped && this.#retryTimer === undefined) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined
          void this.flushSafely()
        }, 1000)
      }
    }
  }

  async flush(): Promise<void> {
    await this.#mutex.run(async () => {
      const started = performance.now()
      try {
        const outcome = await this.#flushNow()
        this.#options.metrics.flush(outcome, (performance.now() - started) / 1000)
      } catch (error: unknown) {
        this.#options.metrics.flush('error', (performance.now() - started) / 1000)
        throw error
      }
    })
  }

  /** 'stale' when another owner had moved any model's checkpoint (that part was dropped). */
  async #flushNow(): Promise<'applied' | 'stale'> {
    let outcome: 'applied' | 'stale' = 'applied'
    this.#lastFlush = this.#options.now()
    if (this.#deadLetters.length > 0) {
      try {
        await this.#options.sink.deadLetters(this.#deadLetters)
      } catch (error: unknown) {
        throw new DeadLetterSendError(error)
      }
      this.#deadLetters = []
    }
    if (this.#options.models.size > 1) await this.#registerNewPartitions()
    const commits = new Map<string, { ref: PartitionRef; nextOffset: bigint }>()
    for (const [model, runtime] of this.#options.models) {
      if ((await this.#flushModel(model, runtime)) === 'stale') outcome = 'stale'
    }
    for (const entry of this.#partitions.values()) {
      let smallest: bigint | null = null
      for (const state of entry.models.values()) {
        if (state.expected === null) {
          smallest = null
          break
        }
        const offset = BigInt(state.expected)
        if (smallest === null || offset < smallest) smallest = offset
      }
      if (smallest !== null)
        commits.set(partitionId(entry.ref), { ref: entry.ref, nextOffset: smallest })
    }
    try {
      await this.#options.source.commit(
        [...commits.values()].map((c) => ({ ref: c.ref, nextOffset: c.nextOffset.toString() })),
      )
    } catch (error: unknown) {
      // Only a hint: Redis holds the truth, and the next flush commits again.
      this.#options.logger.warn({ err: errorMessage(error) }, 'offset commit to Kafka failed')
    }
    return outcome
  }

  /**
   * Each model's flush is its own atomic step (each model's keys share one Redis Cluster hash
   * tag, not all models'), so a crash between two models' first flushes of a partition would
   * leave one with a checkpoint and one without, and the one without nowhere safe to resume.
   * So before any model stores data for a partition, every model without a checkpoint there
   * stores one, without data, at the first offset read: whatever happens next, the smallest
   * checkpoint is a safe place for every model to resume from (#ensureLoaded).
   */
  async #registerNewPartitions(): Promise<void> {
    for (const entry of this.#partitions.values()) {
      if (entry.firstRead === null) continue
      for (const [model, state] of entry.models) {
        if (state.expected !== null) continue
        const runtime = this.#options.models.get(model) as ModelRuntime
        const start = entry.firstRead.toString()
        const outcome = await this.#options.store.applyFlush({
          model,
          partitions: [
            {
              ref: entry.ref,
              expected: null,
              next: { nextOffset: start, watermark: Number.NEGATIVE_INFINITY, late: 0 },
            },
          ],
          buckets: [],
          retentionMs: runtime.retentionMs,
        })
        // Stale: another owner got there first; this model's own flush finds out and reloads.
        if (outcome.status === 'applied') state.expected = start
      }
    }
  }

  async #flushModel(model: string, runtime: ModelRuntime): Promise<'applied' | 'stale' | 'idle'> {
    const partitions = []
    const buckets = []
    const pending: Array<readonly [string, string]> = []
    const touched: Array<{ entry: PartitionEntry; state: PartitionModelState }> = []
    for (const entry of this.#partitions.values()) {
      const state = entry.models.get(model)
      if (state === undefined || state.nextOffset === null) continue
      const next = state.nextOffset.toString()
      // No "read to its end" claim any more: the batch's end offset it was judged from goes stale
      // as soon as the partition gets new events and no batch has fetched them yet. The evaluator
      // judges that from end offsets it fetches itself (completeWatermarkOf, core/stream/watermark.ts).
      if (next === state.expected && state.dirty.size === 0) continue
      partitions.push({
        ref: entry.ref,
        expected: state.expected,
        next: {
          nextOffset: next,
          watermark: state.watermark,
          late: state.late,
          ...(Number.isFinite(state.earliest) ? { earliest: state.earliest } : {}),
        },
      })
      for (const bucket of state.dirty) {
        const profiles = state.buckets.get(bucket)
        if (profiles !== undefined)
          buckets.push({
            bucketStart: bucket,
            ref: entry.ref,
            blob: encodeBucket(profiles),
            rowsAdded: state.added.get(bucket) ?? 0,
          })
      }
      for (const waiting of entry.pending.get(model) ?? []) pending.push(waiting)
      touched.push({ entry, state })
    }
    if (partitions.length === 0) return 'idle'
    const join = runtime.performance
    const outcome = await this.#options.store.applyFlush({
      model,
      partitions,
      buckets,
      retentionMs: runtime.retentionMs,
      ...(join === undefined || pending.length === 0
        ? {}
        : {
            pending: {
              entries: pending,
              now: this.#options.now(),
              ttlMs: join.joinTtlMs,
              maxPending: join.maxPending,
            },
          }),
    })
    if (outcome.status === 'stale') {
      // Another owner moved this model's checkpoint: forget our view of that partition and resume
      // from the store's.
      this.#options.logger.warn(
        { model, partition: outcome.partition },
        'stale flush dropped: reloading the partition from the store',
      )
      for (const { entry } of touched) {
        if (partitionId(entry.ref) !== outcome.partition) continue
        // Revoked while this flush was in flight (onRevoked does not wait for the mutex): the
        // partition is no longer ours to reload, seek or commit. Reloading it would keep a zombie
        // entry whose offset every later flush commits, moving the group's offset back.
        if (this.#partitions.get(outcome.partition) !== entry) continue
        this.#partitions.delete(partitionId(entry.ref))
        const reloaded = await this.#ensureLoaded(entry.ref)
        if (reloaded.startOffset !== null)
          this.#options.source.seek(entry.ref, reloaded.startOffset.toString())
      }
      return 'stale'
    }
    if (outcome.pendingDropped !== undefined) {
      this.#options.metrics.labelJoin(model, 'prediction_expired', outcome.pendingDropped.expired)
      this.#options.metrics.labelJoin(model, 'prediction_evicted', outcome.pendingDropped.evicted)
    }
    for (const { entry, state } of touched) {
      entry.pending.delete(model)
      state.expected = (state.nextOffset as bigint).toString()
      state.dirty.clear()
      state.added.clear()
      evictClosed(state, runtime.spec)
    }
    return 'applied'
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#flushTimer !== undefined) clearInterval(this.#flushTimer)
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    await this.flush()
  }
}

/**
 * Row `row` of `slice` from the reader's slots; the first numerical column holding something
 * else than a number or null, if any (feature_kind_mismatch).
 */
function fillFromSlots(
  slice: SliceCells,
  row: number,
  slots: ModelSlots,
  reader: EventReader,
): { name: string; value: CellValue } | null {
  const base = row * slice.width
  const { numbers, categories } = slice
  const readNumbers = reader.numbers
  const readOthers = reader.others
  for (let c = 0; c < slice.width; c++) {
    const slot = slots.slots[c] as number
    const present = reader.has(slot)
    const x = present ? (readNumbers[slot] as number) : Number.NaN
    const other = present && x !== x ? (readOthers[slot] ?? null) : null
    if (slots.numerical[c] === 1) {
      if (other !== null) return { name: slots.names[c] as string, value: other }
      numbers[base + c] = x
    } else
      categories[base + c] = x === x ? categoryOf(x) : other === null ? null : categoryOf(other)
  }
  return null
}

/** fillFromSlots for features a decoder built by name. */
function fillFromRecord(
  slice: SliceCells,
  row: number,
  slots: ModelSlots,
  features: Readonly<Record<string, CellValue>>,
): { name: string; value: CellValue } | null {
  const base = row * slice.width
  const { numbers, categories } = slice
  for (let c = 0; c < slice.width; c++) {
    const name = slots.names[c] as string
    const value = features[name]
    if (slots.numerical[c] === 1) {
      if (typeof value === 'number') numbers[base + c] = value
      else if (value === undefined || value === null) numbers[base + c] = Number.NaN
      else return { name, value }
    } else
      categories[base + c] =
        value === undefined || value === null || Number.isNaN(value) ? null : categoryOf(value)
  }
  return null
}

/** The smallest next offset over the partition's models, or null while one of them has none. */
function handledBelow(entry: PartitionEntry): bigint | null {
  let smallest: bigint | null = null
  for (const state of entry.models.values()) {
    if (state.nextOffset === null) return null
    if (smallest === null || state.nextOffset < smallest) smallest = state.nextOffset
  }
  return smallest
}

type FlushStep = 'store' | 'dead letters'

/** A flush that failed sending its dead letters, before it touched Redis. */
class DeadLetterSendError extends Error {
  constructor(cause: unknown) {
    super(`sending dead letters failed: ${errorMessage(cause)}`, { cause })
    this.name = 'DeadLetterSendError'
  }
}

export function isRetryable(error: unknown): boolean {
  return error instanceof DriftwatchError && error.canRetry
}
