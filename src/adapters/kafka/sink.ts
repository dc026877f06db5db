// The output topics: dead letters (original bytes, reason in headers), drift reports, alerts and
// retrain requests. acks=all and an idempotent producer: a send resolves once the broker has it.

import type { CompressionTypes, Kafka, Message, Producer } from 'kafkajs'
import type { DeadLetter, EventSink } from '../../ports/event-source.js'
import type { OutputEncoder } from '../../ports/output-encoder.js'
import { compressionType, type Compression } from './codecs.js'

export interface SinkTopics {
  readonly deadLetter: string
  readonly reports: string
  readonly alerts: string
  readonly retrain: string
}

export interface SinkOptions {
  /** Codec of every batch written (`kafka.compression`); default none. */
  readonly compression?: Compression
  /** How reports, alerts and retrain requests are serialized (`output.format`); default JSON. */
  readonly encoder?: OutputEncoder
}

const jsonEncoder: OutputEncoder = { encode: (_kind, value) => JSON.stringify(value) }

export class KafkaSink implements EventSink {
  readonly #producer: Producer
  readonly #compression: CompressionTypes
  readonly #encoder: OutputEncoder
  #connected = false

  constructor(
    kafka: Kafka,
    private readonly topics: SinkTopics,
    options: SinkOptions = {},
  ) {
    this.#compression = compressionType(options.compression ?? 'none')
    this.#encoder = options.encoder ?? jsonEncoder
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    })
    this.#producer.on(this.#producer.events.CONNECT, () => {
      this.#connected = true
    })
    this.#producer.on(this.#producer.events.DISCONNECT, () => {
      this.#connected = false
    })
  }

  async connect(): Promise<void> {
    await this.#producer.connect()
    this.#connected = true
  }

  async disconnect(): Promise<void> {
    await this.#producer.disconnect()
  }

  connected(): boolean {
    return this.#connected
  }

  /**
   * Sends in chunks of at most `deadLetterBatchBytes`: kafkajs puts every message of one send to
   * a partition into one record batch, and the broker refuses a batch over the topic's
   * max.message.bytes (1 MiB by default) — a refusal that would repeat on every retry and stop
   * the stream. A letter that cannot fit on its own (a too_large event is bigger than maxEventBytes
   * by definition) keeps the start of its value and says so in `driftwatch-truncated` (the
   * original length in bytes).
   */
  async deadLetters(letters: readonly DeadLetter[]): Promise<void> {
    let chunk: Message[] = []
    let chunkBytes = 0
    for (const letter of letters) {
      const message = deadLetterMessage(letter)
      const bytes = messageBytes(message)
      if (chunk.length > 0 && chunkBytes + bytes > deadLetterBatchBytes) {
        await this.#producer.send({
          topic: this.topics.deadLetter,
          acks: -1,
          compression: this.#compression,
          messages: chunk,
        })
        chunk = []
        chunkBytes = 0
      }
      chunk.push(message)
      chunkBytes += bytes
    }
    if (chunk.length > 0)
      await this.#producer.send({
        topic: this.topics.deadLetter,
        acks: -1,
        compression: this.#compression,
        messages: chunk,
      })
  }

  async report(key: string, report: unknown): Promise<void> {
    await this.#producer.send({
      topic: this.topics.reports,
      acks: -1,
      compression: this.#compression,
      messages: [{ key, value: this.#encoder.encode('report', report) }],
    })
  }

  async alerts(alerts: ReadonlyArray<{ key: string; alert: unknown }>): Promise<void> {
    if (alerts.length === 0) return
    await this.#producer.send({
      topic: this.topics.alerts,
      acks: -1,
      compression: this.#compression,
      messages: alerts.map(({ key, alert }) => ({
        key,
        value: this.#encoder.encode('alert', alert),
      })),
    })
  }

  async retrain(key: string, request: unknown): Promise<void> {
    await this.#producer.send({
      topic: this.topics.retrain,
      acks: -1,
      compression: this.#compression,
      messages: [{ key, value: this.#encoder.encode('retrain', request) }],
    })
  }
}

/**
 * Bytes one dead-letter send may carry, by our estimate: under Kafka's default max.message.bytes
 * (1,048,588) with room for the record batch's own overhead. A dead-letter topic configured with
 * a smaller limit needs this lowered.
 */
export const deadLetterBatchBytes = 1_000_000
/** Per record: attributes, varint lengths, timestamp and offset deltas (generous). */
const recordOverhead = 64

export function deadLetterMessage(
  letter: DeadLetter,
): Message & { headers: Record<string, string> } {
  const headers: Record<string, string> = {
    'driftwatch-reason': letter.reason,
    'driftwatch-detail': letter.detail,
    'driftwatch-source-topic': letter.source.topic,
    'driftwatch-source-partition': String(letter.source.partition),
    'driftwatch-source-offset': letter.source.offset,
  }
  let value = letter.value
  const room = deadLetterBatchBytes - headerBytes(headers) - recordOverhead - 64
  if (value !== null && value.length > room) {
    headers['driftwatch-truncated'] = String(value.length)
    value = value.subarray(0, room - headerBytes({ 'driftwatch-truncated': String(value.length) }))
  }
  return { value, headers }
}

function headerBytes(headers: Readonly<Record<string, string>>): number {
  let n = 0
  for (const [key, value] of Object.entries(headers))
    n += Buffer.byteLength(key) + Buffer.byteLength(value) + 10
  return n
}

function messageBytes(message: Message & { headers: Record<string, string> }): number {
  const value = message.value
  return (
    (value === null || value === undefined ? 0 : Buffer.byteLength(value)) +
    headerBytes(message.headers) +
    recordOverhead
  )
}
