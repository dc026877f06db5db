// `driftwatch simulate` as functions: simulated prediction events into Kafka at a steady rate,
// and the matching reference (rows as CSV, and the snapshot built from them).
//
// Two clocks. The *event clock* stamps events and measures --duration, --drift-after and
// --drift-duration: the wall clock by default, or synthetic time (start + i × step) when
// eventTimeStepMs is set, which lets a test produce "two hours" of events in seconds. The *wall
// clock* paces sending (the rate) and progress, always. Kafka record timestamps are left to the
// producer (now): synthetic times far in the past would make the broker's time-based retention
// delete the segments right away.

import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { Partitioners, type Message, type Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { writeReferenceFile, snapshotToJSON } from '../adapters/files/reference-file.js'
import { createKafka, type KafkaConnection } from '../adapters/kafka/client.js'
import {
  createEventGenerator,
  defaultFeatures,
  referenceRows,
  type DriftPoint,
  type DriftSpan,
  type FeatureSpec,
  type ScenarioName,
} from '../core/simulate/scenarios.js'
import { ConfigError, DriftwatchError, errorMessage } from '../errors.js'
import { buildReferenceFromFile } from './check.js'

export interface SimulationProgress {
  readonly sent: number
  /** wall-clock ms since the start */
  readonly elapsedMs: number
  /** events per second over the last progress interval */
  readonly rate: number
}

export interface SimulationClock {
  now(): number
  /** resolves after `ms`, or rejects when `signal` aborts */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: SimulationClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal === undefined ? {} : { signal }),
}

export interface SimulationOptions {
  readonly topic: string
  /**
   * Also send each event's ground truth, `{eventId, model, label, timestamp}`, here (after its
   * prediction). Needed by models with `performance:` and by the concept-drift scenario.
   */
  readonly labelsTopic?: string | undefined
  readonly model: string
  readonly modelVersion?: string | null | undefined
  readonly scenario: ScenarioName
  /** default: the scenario's (f01, f05, f12; country for new-category) */
  readonly driftFeatures?: readonly string[] | undefined
  readonly seed: number
  /** events per second on the wall clock; 0 sends as fast as the broker acknowledges */
  readonly rate: number
  /** stop after this many events */
  readonly count?: number | undefined
  /** stop after this long on the event clock */
  readonly durationMs?: number | undefined
  /**
   * drift begins this long after the start, on the event clock. Default: half the duration;
   * without one, half the count; without either, 60 s.
   */
  readonly driftAfterMs?: number | undefined
  /**
   * gradual-shift, gradual-drift: how long the shift takes to reach full size; quality-incident:
   * how long the incident lasts. Default: until the end of the run.
   */
  readonly driftDurationMs?: number | undefined
  /** synthetic event time: start at startTime and advance this many ms per event */
  readonly eventTimeStepMs?: number | undefined
  /** ms since epoch where synthetic event time starts; default: now */
  readonly startTime?: number | undefined
  /** messages per sendBatch; default rate/10 (so pacing is smooth to 100 ms), at most 500 */
  readonly batchSize?: number | undefined
  /** eventIds are `${idPrefix}-${index}`; default `sim-${seed}` */
  readonly idPrefix?: string | undefined
  readonly features?: readonly FeatureSpec[] | undefined
  /** prior-shift: logit shift of the score (default 1.5) */
  readonly priorShift?: number | undefined
  /** latency-regression: latency multiplier of the new version (default 3) */
  readonly latencyFactor?: number | undefined
  /** latency-regression: the version that takes over (default: the next after modelVersion) */
  readonly nextModelVersion?: string | undefined
  /** stops the run after the batch in flight */
  readonly signal?: AbortSignal | undefined
  /** called about once a second */
  readonly onProgress?: ((progress: SimulationProgress) => void) | undefined
  readonly progressIntervalMs?: number | undefined
  readonly clock?: SimulationClock | undefined
  /** Serializes one event (Avro, for `--format avro`); default JSON text. */
  readonly encode?: ((event: object) => Buffer | string) | undefined
}

export interface SimulationResult {
  readonly sent: number
  readonly elapsedMs: number
  readonly stoppedBy: 'count' | 'duration' | 'signal'
  /** event time of the first and last event sent (null when none was) */
  readonly firstEventTime: number | null
  readonly lastEventTime: number | null
}

/** The one producer method the simulation uses: a kafkajs Producer satisfies it. */
export type SimulationProducer = Pick<Producer, 'sendBatch'>

export const maxBatchSize = 500

export async function runSimulation(
  options: SimulationOptions,
  deps: { producer: SimulationProducer },
): Promise<SimulationResult> {
  checkOptions(options)
  const clock = options.clock ?? systemClock
  const wallStart = clock.now()
  const step = options.eventTimeStepMs
  const eventStart = step === undefined ? wallStart : (options.startTime ?? wallStart)
  const eventTime =
    step === undefined
      ? (): number => clock.now()
      : (index: number): number => eventStart + index * step
  const { count, durationMs, rate, signal } = options

  const driftStartsAt: DriftPoint =
    options.driftAfterMs !== undefined
      ? { timeMs: eventStart + options.driftAfterMs }
      : durationMs !== undefined
        ? { timeMs: eventStart + durationMs / 2 }
        : count !== undefined
          ? { index: Math.floor(count / 2) }
          : { timeMs: eventStart + 60_000 }
  const driftRamp: DriftSpan | undefined =
    options.driftDurationMs !== undefined
      ? { ms: options.driftDurationMs }
      : 'timeMs' in driftStartsAt && durationMs !== undefined
        ? { ms: Math.max(1, eventStart + durationMs - driftStartsAt.timeMs) }
        : 'index' in driftStartsAt && count !== undefined
          ? { events: Math.max(1, count - driftStartsAt.index) }
          : undefined

  const generator = createEventGenerator({
    model: options.model,
    modelVersion: options.modelVersion ?? null,
    seed: options.seed,
    scenario: options.scenario,
    driftStartsAt,
    ...(options.driftFeatures === undefined ? {} : { driftFeatures: options.driftFeatures }),
    ...(driftRamp === undefined ? {} : { driftRamp }),
    ...(options.idPrefix === undefined ? {} : { idPrefix: options.idPrefix }),
    ...(options.features === undefined ? {} : { features: options.features }),
    ...(options.priorShift === undefined ? {} : { priorShift: options.priorShift }),
    ...(options.latencyFactor === undefined ? {} : { latencyFactor: options.latencyFactor }),
    ...(options.nextModelVersion === undefined
      ? {}
      : { nextModelVersion: options.nextModelVersion }),
  })

  const batchSize =
    options.batchSize ??
    (rate > 0 ? Math.min(maxBatchSize, Math.max(1, Math.ceil(rate / 10))) : maxBatchSize)
  const bucket = rate > 0 ? new TokenBucket(rate, batchSize, clock) : null

  let sent = 0
  let firstEventTime: number | null = null
  let lastEventTime: number | null = null
  let lastProgress = { at: wallStart, sent: 0 }
  const progress =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => {
          const now = clock.now()
          const dt = now - lastProgress.at
          options.onProgress?.({
            sent,
            elapsedMs: now - wallStart,
            rate: dt > 0 ? ((sent - lastProgress.sent) * 1000) / dt : 0,
          })
          lastProgress = { at: now, sent }
        }, options.progressIntervalMs ?? 1000)
  progress?.unref()

  // Sequential sends: overlapping the next batch's generation with the send in flight measured
  // no faster here (the process is CPU-bound in kafkajs' encoding and our JSON), and one send at a
  // time keeps the idempotent producer's ordering trivially.
  let stoppedBy: SimulationResult['stoppedBy']
  try {
    for (;;) {
      if (signal?.aborted === true) {
        stoppedBy = 'signal'
        break
      }
      const wanted = count === undefined ? batchSize : Math.min(batchSize, count - sent)
      if (wanted <= 0) {
        stoppedBy = 'count'
        break
      }
      if (bucket !== null && !(await bucket.take(wanted, signal))) {
        stoppedBy = 'signal'
        break
      }
      const messages: Message[] = []
      const labelMessages: Message[] = []
      let durationReached = false
      for (let i = 0; i < wanted; i++) {
        const time = eventTime(generator.count)
        if (durationMs !== undefined && time - eventStart >= durationMs) {
          durationReached = true
          break
        }
        const event = generator.next(time)
        firstEventTime ??= time
        lastEventTime = time
        const value = options.encode === undefined ? JSON.stringify(event) : options.encode(event)
        messages.push({ key: event.eventId, value })
        if (options.labelsTopic !== undefined)
          labelMessages.push({
            key: event.eventId,
            value: JSON.stringify({
              eventId: event.eventId,
              model: event.model,
              label: generator.lastLabel,
              timestamp: time,
            }),
          })
      }
      if (messages.length > 0) {
        await send(deps.producer, options.topic, messages)
        sent += messages.length
      }
      if (options.labelsTopic !== undefined && labelMessages.length > 0)
        await send(deps.producer, options.labelsTopic, labelMessages)
      if (durationReached) {
        stoppedBy = 'duration'
        break
      }
    }
  } finally {
    if (progress !== undefined) clearInterval(progress)
  }
  return { sent, elapsedMs: clock.now() - wallStart, stoppedBy, firstEventTime, lastEventTime }
}

function checkOptions(options: SimulationOptions): void {
  const nonNegative = (path: string, value: number | undefined, integer = false): void => {
    if (value === undefined) return
    if (!(Number.isFinite(value) && value >= 0) || (integer && !Number.isInteger(value))) {
      throw new ConfigError(
        path,
        `expected a non-negative ${integer ? 'integer' : 'number'}, got ${value}`,
      )
    }
  }
  nonNegative('rate', options.rate)
  nonNegative('count', options.count, true)
  nonNegative('durationMs', options.durationMs)
  nonNegative('driftAfterMs', options.driftAfterMs)
  nonNegative('startTime', options.startTime)
  if (
    options.eventTimeStepMs !== undefined &&
    !(Number.isFinite(options.eventTimeStepMs) && options.eventTimeStepMs > 0)
  ) {
    throw new ConfigError(
      'eventTimeStepMs',
      `expected a positive number of ms, got ${options.eventTimeStepMs}`,
    )
  }
  if (options.driftDurationMs !== undefined && !(options.driftDurationMs > 0)) {
    throw new ConfigError(
      'driftDurationMs',
      `expected a positive duration, got ${options.driftDurationMs}`,
    )
  }
  if (
    options.batchSize !== undefined &&
    !(Number.isInteger(options.batchSize) && options.batchSize >= 1)
  ) {
    throw new ConfigError('batchSize', `expected a positive integer, got ${options.batchSize}`)
  }
  if (options.topic === '') throw new ConfigError('topic', 'expected a topic name')
  if (options.model === '') throw new ConfigError('model', 'expected a model name')
}

async function send(
  producer: SimulationProducer,
  topic: string,
  messages: Message[],
): Promise<void> {
  try {
    // acks -1 (all in-sync replicas) is what the idempotent producer requires anyway.
    await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 })
  } catch (error: unknown) {
    const retriable = error instanceof Error && 'retriable' in error && error.retriable === true
    throw new DriftwatchError(
      'KAFKA_UNAVAILABLE',
      `producing to topic '${topic}' failed: ${errorMessage(error)}`,
      {
        cause: error,
        canRetry: retriable,
      },
    )
  }
}

/**
 * Paces sending to `rate` events per second. It holds at most `capacity` tokens (one batch), so
 * after a stall (a slow broker) it does not burst to catch up: the rate is a ceiling.
 */
class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly clock: SimulationClock,
  ) {
    this.tokens = capacity
    this.last = clock.now()
  }

  /** Waits until `n` tokens are there and takes them; false when `signal` aborted the wait. */
  async take(n: number, signal: AbortSignal | undefined): Promise<boolean> {
    this.refill()
    if (this.tokens < n) {
      try {
        await this.clock.sleep(((n - this.tokens) * 1000) / this.rate, signal)
      } catch (error: unknown) {
        if (signal?.aborted === true) return false
        throw error
      }
      this.refill()
    }
    // Timers can fire a little early; the shortfall is carried as a debt to the next take.
    this.tokens -= n
    return true
  }

  private refill(): void {
    const now = this.clock.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka: the producer the CLI and the demo use.

export interface SimulationKafka {
  readonly producer: Producer
  close(): Promise<void>
}

/**
 * An idempotent producer (acks all, retries without duplicates), connected. When the topic does
 * not exist it is created with `partitions` partitions; an existing topic is left as it is.
 */
export async function openSimulationProducer(options: {
  /** The config's `kafka` section (TLS, SASL), or brokers and a client id alone. */
  readonly kafka: KafkaConnection
  /** DRIFTWATCH_KAFKA_PASSWORD, for `kafka.sasl`. */
  readonly secrets?: { readonly kafkaPassword?: string | undefined }
  /** Where kafkajs' logs go. */
  readonly logger: Logger
  readonly topic: string
  readonly partitions?: number
  /** Created like `topic` when absent (the labels topic). */
  readonly labelsTopic?: string
}): Promise<SimulationKafka> {
  const kafka = createKafka(options.kafka, options.logger, options.secrets ?? {})
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    try {
      const topics = await admin.listTopics()
      const wanted = [
        options.topic,
        ...(options.labelsTopic === undefined ? [] : [options.labelsTopic]),
      ]
      const missing = wanted.filter((topic) => !topics.includes(topic))
      if (missing.length > 0) {
        await admin.createTopics({
          topics: missing.map((topic) => ({ topic, numPartitions: options.partitions ?? 3 })),
          waitForLeaders: true,
        })
      }
    } finally {
      await admin.disconnect()
    }
    await producer.connect()
  } catch (error: unknown) {
    await producer.disconnect().catch(() => undefined)
    throw new DriftwatchError(
      'KAFKA_UNAVAILABLE',
      `cannot reach Kafka at ${options.kafka.brokers.join(',')}: ${errorMessage(error)}`,
      {
        cause: error,
        canRetry: true,
      },
    )
  }
  return { producer, close: () => producer.disconnect() }
}

// ---------------------------------------------------------------------------------------------
// The reference that matches the simulation.

/**
 * The seed of the reference rows for a simulation seed: a different one, so the reference is an
 * independent sample of the stable distribution rather than a copy of the stream's first events.
 */
export function referenceSeedOf(seed: number): number {
  return (seed ^ 0x5eed5eed) >>> 0
}

/**
 * Writes `rows` stable rows (header: feature names, then `prediction` and `latencyMs`; empty
 * cell: missing) as CSV.
 */
export async function writeReferenceRowsCsv(
  path: string,
  options: {
    readonly rows: number
    readonly seed: number
    readonly features?: readonly FeatureSpec[]
  },
): Promise<void> {
  const features = options.features ?? defaultFeatures
  const out = createWriteStream(path)
  const failed = new Promise<never>((_, reject) => out.once('error', reject))
  failed.catch(() => undefined)
  // The model's outputs come last, so the reference also holds the prediction and latency
  // distributions (core/model-outputs.ts).
  const columns = [...features.map((f) => f.name), 'prediction', 'latencyMs']
  let chunk = columns.map(csvCell).join(',') + '\n'
  for (const row of referenceRows(options.rows, options.seed, features, { outputs: true })) {
    chunk += columns.map((name) => csvCell(row[name] ?? null)).join(',') + '\n'
    if (chunk.length >= 64 * 1024) {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed])
      chunk = ''
    }
  }
  out.end(chunk)
  await Promise.race([finished(out), failed])
}

function csvCell(value: number | string | boolean | null): string {
  if (value === null) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/**
 * What the demo needs in one call: the reference rows as CSV, then the snapshot built from them
 * as `driftwatch reference build` would, column kinds inferred. The simulator's values make
 * inference agree with the feature specs (floats with decimals; counts with more than 10
 * distinct values at these row counts; strings), and that is checked: a snapshot whose kinds
 * differ from the specs would compare the stream with the wrong tests.
 */
export async function buildSimulationReference(options: {
  readonly rowsPath: string
  readonly snapshotPath: string
  readonly rows: number
  /** the simulation's seed; the rows use referenceSeedOf(seed) */
  readonly seed: number
  readonly features?: readonly FeatureSpec[]
  readonly now?: () => Date
}): Promise<{ readonly id: string; readonly rows: number }> {
  const features = options.features ?? defaultFeatures
  await writeReferenceRowsCsv(options.rowsPath, {
    rows: options.rows,
    seed: referenceSeedOf(options.seed),
    features,
  })
  // No kindOverrides: buildReferenceFromFile observes only the columns without an override, and
  // inferColumnKinds rejects overrides for columns it did not observe, so any override fails.
  const snapshot = await buildReferenceFromFile(options.rowsPath, {
    now: options.now ?? (() => new Date()),
  })
  const wrong = features.filter((f) => snapshot.profile.features.get(f.name)?.kind !== f.kind)
  if (wrong.length > 0) {
    const list = wrong.map(
      (f) =>
        `${f.name} (${snapshot.profile.features.get(f.name)?.kind ?? 'absent'}, expected ${f.kind})`,
    )
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `simulated reference rows in ${options.rowsPath}: column kinds inferred differently from the simulator's features: ` +
        `${list.join(', ')}; use more rows`,
    )
  }
  // Without the builder's placeholder id, snapshotToJSON derives it from the content.
  const { id: _placeholder, ...rest } = snapshot
  const json = snapshotToJSON(rest)
  await writeReferenceFile(options.snapshotPath, json)
  return { id: json.id, rows: json.rows }
}
