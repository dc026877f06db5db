// Shared plumbing for the stream tests: topics, producing, reading topics back, a reference
// snapshot file, and a service config pointing at the test's Kafka and Redis.

import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { snapshotToJSON } from '../../src/adapters/files/reference-file.js'
import { serviceConfigSchema, type ServiceConfig } from '../../src/config/service.js'
import { ReferenceBuilder } from '../../src/core/reference.js'
import { categoricalFeatures, numericalFeatures, referenceRows } from './prediction-events.js'
import { kafkaBrokers, redisUrl } from './services.js'

export function testKafka(): Kafka {
  return new Kafka({ clientId: `test-${randomUUID().slice(0, 8)}`, brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING })
}

export async function createTopics(kafka: Kafka, topics: ReadonlyArray<{ topic: string; numPartitions: number }>): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ ...t, replicationFactor: 1 })) })
  } finally {
    await admin.disconnect()
  }
}

export async function produceAll(producer: Producer, topic: string, messages: Iterable<{ key: string; value: string; timestamp?: string }>, batchSize = 2000): Promise<number> {
  let batch: Array<{ key: string; value: string; timestamp?: string }> = []
  let sent = 0
  for (const message of messages) {
    batch.push(message)
    if (batch.length === batchSize) {
      await producer.send({ topic, acks: -1, messages: batch })
      sent += batch.length
      batch = []
    }
  }
  if (batch.length > 0) {
    await producer.send({ topic, acks: -1, messages: batch })
    sent += batch.length
  }
  return sent
}

/** Reads a whole topic from the beginning until `expected` messages arrived or `timeoutMs`. */
export async function readTopic(kafka: Kafka, topic: string, until: (messages: readonly Buffer[]) => boolean, timeoutMs: number): Promise<Buffer[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` })
  const messages: Buffer[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push(message.value ?? Buffer.alloc(0))
          if (until(messages)) resolve()
        },
      })
      setTimeout(resolve, timeoutMs)
    })
    await done
  } finally {
    await consumer.disconnect()
  }
  return messages
}

export async function writeReference(dir: string, rows: number, seed: number): Promise<string> {
  const builder = new ReferenceBuilder([
    ...numericalFeatures.map((name) => ({ name, kind: 'numerical' as const, reason: 'test' })),
    ...Object.keys(categoricalFeatures).map((name) => ({ name, kind: 'categorical' as const, reason: 'test' })),
  ])
  for (const row of referenceRows(rows, seed)) builder.add(row)
  const path = join(dir, 'reference.json')
  const json = snapshotToJSON({ createdAt: new Date(0).toISOString(), source: { kind: 'test' }, exactBreakpoints: true, kindReasons: new Map(), profile: builder.build() })
  await writeFile(path, JSON.stringify(json))
  return path
}

export interface StreamNames {
  readonly id: string
  readonly input: string
  readonly deadLetter: string
  readonly reports: string
  readonly alerts: string
  readonly retrain: string
  readonly keyPrefix: string
  readonly groupId: string
}

export function streamNames(): StreamNames {
  const id = randomUUID().slice(0, 8)
  return {
    id,
    input: `predictions-${id}`,
    deadLetter: `dlq-${id}`,
    reports: `reports-${id}`,
    alerts: `alerts-${id}`,
    retrain: `retrain-${id}`,
    keyPrefix: `t${id}`,
    groupId: `driftwatch-${id}`,
  }
}

export function streamConfig(names: StreamNames, referenceFile: string, overrides: { window?: Record<string, unknown>; alerts?: Record<string, unknown> } = {}): ServiceConfig {
  return serviceConfigSchema.parse({
    kafka: {
      brokers: kafkaBrokers().split(','),
      groupId: names.groupId,
      topics: { predictions: [names.input], deadLetter: names.deadLetter, reports: names.reports, alerts: names.alerts, retrain: names.retrain },
    },
    redis: { url: redisUrl(), keyPrefix: names.keyPrefix },
    http: { port: 0 },
    flushInterval: 250,
    evaluateInterval: 250,
    logLevel: 'warn',
    models: [
      {
        name: 'fraud',
        reference: { file: referenceFile },
        window: { bucket: '1s', size: '10s', hop: '10s', allowedLateness: '1s', retention: '1h', ...overrides.window },
        alerts: { fireAfter: 2, resolveAfter: 2, ...overrides.alerts },
      },
    ],
  })
}
