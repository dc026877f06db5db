// The output topics: dead letters (original bytes, reason in headers), drift reports, alerts and
// retrain requests. acks=all and an idempotent producer: a send resolves once the broker has it.

import type { Kafka, Producer } from 'kafkajs'
import type { DeadLetter, EventSink } from '../../ports/event-source.js'

export interface SinkTopics {
  readonly deadLetter: string
  readonly reports: string
  readonly alerts: string
  readonly retrain: string
}

export class KafkaSink implements EventSink {
  readonly #producer: Producer
  #connected = false

  constructor(kafka: Kafka, private readonly topics: SinkTopics) {
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
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

  async deadLetters(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return
    await this.#producer.send({
      topic: this.topics.deadLetter,
      acks: -1,
      messages: letters.map((letter) => ({
        value: letter.value,
        headers: {
          'driftwatch-reason': letter.reason,
          'driftwatch-detail': letter.detail,
          'driftwatch-source-topic': letter.source.topic,
          'driftwatch-source-partition': String(letter.source.partition),
          'driftwatch-source-offset': letter.source.offset,
        },
      })),
    })
  }

  async report(key: string, report: unknown): Promise<void> {
    await this.#producer.send({ topic: this.topics.reports, acks: -1, messages: [{ key, value: JSON.stringify(report) }] })
  }

  async alerts(alerts: ReadonlyArray<{ key: string; alert: unknown }>): Promise<void> {
    if (alerts.length === 0) return
    await this.#producer.send({
      topic: this.topics.alerts,
      acks: -1,
      messages: alerts.map(({ key, alert }) => ({ key, value: JSON.stringify(alert) })),
    })
  }

  async retrain(key: string, request: unknown): Promise<void> {
    await this.#producer.send({ topic: this.topics.retrain, acks: -1, messages: [{ key, value: JSON.stringify(request) }] })
  }
}
