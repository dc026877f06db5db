// Shared plumbing for the stream tests: topics, producing, reading topics back, a reference
// snapshot file, and a service config pointing at the test's Kafka and Redis.

import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { stringify } from 'yaml'
import { snapshotToJSON } from '../../src/adapters/files/reference-file.js'
import { serviceConfigSchema, type ServiceConfig } from '../../src/config/service.js'
import { ReferenceBuilder } from '../../src/core/reference.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { categoricalFeatures, numericalFeatures, referenceRows } from './prediction-events.js'
import { kafkaBrokers, redisUrl } from './services.js'

export function testKafka(): Kafka {
  return new Kafka({
    clientId: `test-${randomUUID().slice(0, 8)}`,
    brokers: kafkaBrokers().split(','),
    logLevel: logLevel.NOTHING,
  })
}

export async function createTopics(
  kafka: Kafka,
  topics: ReadonlyArray<{ topic: string; numPartitions: number }>,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({ ...t, replicationFactor: 1 })),
    })
  } finally {
    await admin.disconnect()
  }
}

export async function produceAll(
  producer: Producer,
  topic: string,
  messages: Iterable<{ key: string; value: string; timestamp?: string }>,
  batchSize = 2000,
): Promise<number> {
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
export async function readTopic(
  kafka: Kafka,
  topic: string,
  until: (messages: readonly Buffer[]) => boolean,
  timeoutMs: number,
): Promise<Buffer[]> {
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

/** The reports on a topic, read until one for the window ending at `windowEnd` is there (or the timeout). */
export async function readReportsUntil(
  kafka: Kafka,
  topic: string,
  windowEnd: number,
  timeoutMs: number,
): Promise<WindowReport[]> {
  const parse = (raw: readonly Buffer[]): WindowReport[] =>
    raw.map((b) => JSON.parse(b.toString()) as WindowReport)
  const hasEnd = (raw: readonly Buffer[]): boolean =>
    parse(raw).some((r) => Date.parse(r.window.end) === windowEnd)
  return parse(await readTopic(kafka, topic, hasEnd, timeoutMs))
}

/** Every message of a topic: reads until the count the broker reports has arrived, else throws. */
export async function readAll(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<Buffer[]> {
  const admin = kafka.admin()
  await admin.connect()
  let expected = 0
  try {
    expected = (await admin.fetchTopicOffsets(topic)).reduce(
      (sum, p) => sum + Number(p.high) - Number(p.low),
      0,
    )
  } finally {
    await admin.disconnect()
  }
  if (expected === 0) return []
  const messages = await readTopic(kafka, topic, (read) => read.length >= expected, timeoutMs)
  if (messages.length < expected)
    throw new Error(`read ${messages.length} of ${expected} messages of ${topic}`)
  return messages
}

export async function writeReference(dir: string, rows: number, seed: number): Promise<string> {
  const builder = new ReferenceBuilder([
    ...numericalFeatures.map((name) => ({ name, kind: 'numerical' as const, reason: 'test' })),
    ...Object.keys(categoricalFeatures).map((name) => ({
      name,
      kind: 'categorical' as const,
      reason: 'test',
    })),
  ])
  for (const row of referenceRows(rows, seed)) builder.add(row)
  const path = join(dir, 'reference.json')
  const json = snapshotToJSON({
    createdAt: new Date(0).toISOString(),
    source: { kind: 'test' },
    exactBreakpoints: true,
    kindReasons: new Map(),
    profile: builder.build(),
  })
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

export interface StreamConfigOptions {
  /** Input topic (default: names.input). */
  readonly input?: string
  /** Comma-separated, as kafkaBrokers() gives them. */
  readonly brokers?: string
  readonly redisUrl?: string
  readonly httpPort?: number
  readonly flushInterval?: string
  readonly evaluateInterval?: string
  readonly logLevel?: string
  readonly window?: Record<string, unknown>
  readonly alerts?: Record<string, unknown>
}

/** A driftwatch.yaml for one model `fraud` on the test's Kafka and Redis, as the object the file holds. */
export function streamConfigInput(
  names: StreamNames,
  referenceFile: string,
  options: StreamConfigOptions = {},
): Record<string, unknown> {
  return {
    kafka: {
      brokers: (options.brokers ?? kafkaBrokers()).split(','),
      groupId: names.groupId,
      topics: {
        predictions: [options.input ?? names.input],
        deadLetter: names.deadLetter,
        reports: names.reports,
        alerts: names.alerts,
        retrain: names.retrain,
      },
    },
    redis: { url: options.redisUrl ?? redisUrl(), keyPrefix: names.keyPrefix },
    http: { port: options.httpPort ?? 0 },
    flushInterval: options.flushInterval ?? '250ms',
    evaluateInterval: options.evaluateInterval ?? '250ms',
    logLevel: options.logLevel ?? 'info',
    models: [
      {
        name: 'fraud',
        reference: { file: referenceFile },
        window: {
          bucket: '1s',
          size: '10s',
          hop: '10s',
          allowedLateness: '1s',
          retention: '1h',
          ...options.window,
        },
        alerts: { fireAfter: 2, resolveAfter: 2, ...options.alerts },
      },
    ],
  }
}

/** The same config, parsed, for tests that start the service in process. */
export function streamConfig(
  names: StreamNames,
  referenceFile: string,
  options: StreamConfigOptions = {},
): ServiceConfig {
  return serviceConfigSchema.parse(
    streamConfigInput(names, referenceFile, { logLevel: 'warn', ...options }),
  )
}

/** The same config written as YAML to `path`, for tests that run `driftwatch run`. */
export async function writeStreamConfig(
  path: string,
  names: StreamNames,
  referenceFile: string,
  options: StreamConfigOptions = {},
): Promise<string> {
  await writeFile(path, stringify(streamConfigInput(names, referenceFile, options)))
  return path
}
