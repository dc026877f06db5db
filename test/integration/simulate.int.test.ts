import { randomUUID } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  openSimulationProducer,
  runSimulation,
  type SimulationKafka,
} from '../../src/app/simulate.js'
import { decodePredictionEvent, type PredictionEvent } from '../../src/core/events.js'
import { createEventGenerator } from '../../src/core/simulate/scenarios.js'
import { kafkaBrokers } from '../helpers/services.js'

const COUNT = 5000
const STEP_MS = 10
const START = Date.UTC(2024, 5, 10)

async function within<T>(ms: number, work: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

describe('runSimulation against the local Kafka broker', () => {
  const topic = `test-simulate-${randomUUID()}`
  let kafka: Kafka
  let simulation: SimulationKafka | undefined

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: 'simulate-int-test',
      brokers: [kafkaBrokers()],
      logLevel: logLevel.WARN,
    })
    const admin = kafka.admin()
    await admin.connect()
    try {
      expect(
        await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }),
      ).toBe(true)
    } finally {
      await admin.disconnect()
    }
  })

  afterAll(async () => {
    await simulation?.close()
    const admin = kafka.admin()
    await admin.connect()
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
    await admin.disconnect()
  })

  it(`produces ${COUNT} events with synthetic event time that decode, once each`, async () => {
    simulation = await openSimulationProducer({
      kafka: { brokers: [kafkaBrokers()], clientId: 'simulate-int-test' },
      logger: pino({ level: 'warn' }),
      topic,
    })
    const idPrefix = `int-${randomUUID().slice(0, 8)}`
    const options = {
      topic,
      model: 'fraud',
      modelVersion: 'v1',
      scenario: 'sudden-shift',
      seed: 7,
      rate: 0,
      count: COUNT,
      eventTimeStepMs: STEP_MS,
      startTime: START,
      idPrefix,
    } as const
    const started = performance.now()
    const result = await runSimulation(options, { producer: simulation.producer })
    const seconds = (performance.now() - started) / 1000
    console.log(
      `simulate → local Kafka: ${COUNT} events in ${seconds.toFixed(2)} s (${Math.round(COUNT / seconds)} events/s)`,
    )
    expect(result).toMatchObject({
      sent: COUNT,
      stoppedBy: 'count',
      firstEventTime: START,
      lastEventTime: START + (COUNT - 1) * STEP_MS,
    })

    const groupId = `test-simulate-group-${randomUUID()}`
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false })
    const received: Array<{ key: string | undefined; value: Buffer | null }> = []
    let resolveAll: () => void = () => undefined
    const allReceived = new Promise<void>((resolve) => (resolveAll = resolve))
    try {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({
        eachMessage: ({ message }) => {
          received.push({ key: message.key?.toString(), value: message.value })
          if (received.length >= COUNT) resolveAll()
          return Promise.resolve()
        },
      })
      await within(60_000, allReceived, () => `received ${received.length} of ${COUNT}`)
    } finally {
      await consumer.disconnect()
    }
    const admin = kafka.admin()
    await admin.connect()
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect()

    expect(received).toHaveLength(COUNT)
    const events = new Map<string, PredictionEvent>()
    const problems: string[] = []
    for (const { key, value } of received) {
      const decoded = decodePredictionEvent(value, { maxBytes: 1 << 20 })
      if (!decoded.ok) {
        problems.push(`${key}: ${decoded.reason} ${decoded.detail}`)
        continue
      }
      if (decoded.event.eventId !== key)
        problems.push(`key ${key} ≠ eventId ${decoded.event.eventId}`)
      events.set(decoded.event.eventId, decoded.event)
    }
    expect(problems).toEqual([])
    expect(events.size).toBe(COUNT)
    expect([...events.keys()].sort()).toEqual(
      Array.from({ length: COUNT }, (_, i) => `${idPrefix}-${i}`).sort(),
    )

    // What went through Kafka is exactly what the generator makes for these options (the drift
    // switch, by default half way through the count, included).
    const generator = createEventGenerator({
      ...options,
      driftStartsAt: { index: COUNT / 2 },
      driftRamp: { events: COUNT / 2 },
    })
    for (let i = 0; i < COUNT; i++) {
      const expected = generator.next(START + i * STEP_MS)
      const got = events.get(expected.eventId)
      if (JSON.stringify(got) !== JSON.stringify(expected))
        problems.push(`${expected.eventId} differs`)
    }
    expect(problems.slice(0, 5)).toEqual([])
  })
})
