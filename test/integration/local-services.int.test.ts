import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'

const MESSAGE_COUNT = 1000

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

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return check()
}

describe('local Kafka broker', () => {
  it('round-trips 1000 messages through a new topic and a consumer group', async () => {
    const topic = `test-${randomUUID()}`
    const groupId = `test-group-${randomUUID()}`
    const kafka = new Kafka({
      clientId: 'local-services-int-test',
      brokers: [kafkaBrokers()],
      logLevel: logLevel.WARN,
    })
    const admin = kafka.admin()
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    })
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false })
    let topicCreated = false
    try {
      await admin.connect()
      // Three partitions, so the group really assigns and consumes several of them.
      topicCreated = await admin.createTopics({
        topics: [{ topic, numPartitions: 3 }],
        waitForLeaders: true,
      })
      expect(topicCreated).toBe(true)

      await producer.connect()
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: MESSAGE_COUNT }, (_, i) => ({
          key: `key-${i % 17}`,
          value: String(i),
        })),
      })

      const seen = new Set<number>()
      let resolveAll: () => void = () => undefined
      const allSeen = new Promise<void>((resolve) => (resolveAll = resolve))
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.add(Number(message.value?.toString()))
          if (seen.size === MESSAGE_COUNT) resolveAll()
          return Promise.resolve()
        },
      })
      await within(30_000, allSeen, () => `consumed ${seen.size} of ${MESSAGE_COUNT}`)
      expect([...seen].sort((a, b) => a - b)).toEqual(
        Array.from({ length: MESSAGE_COUNT }, (_, i) => i),
      )

      // disconnect() commits the last batch, so the group's offsets cover every message.
      await consumer.disconnect()
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
      const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0)
      expect(committed).toBe(MESSAGE_COUNT)
      await admin.deleteGroups([groupId])

      await admin.deleteTopics({ topics: [topic] })
      topicCreated = false
      // The controller answers before every broker's metadata cache has caught up.
      expect(
        await eventually(async () => !(await admin.listTopics()).includes(topic), 10_000),
      ).toBe(true)
    } finally {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect()])
      if (topicCreated) await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
      await admin.disconnect()
    }
  })
})

describe('local Redis', () => {
  let redis: Redis
  const keys: string[] = []

  beforeAll(() => {
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 })
  })

  afterAll(async () => {
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  })

  it('answers SET/GET and runs a Lua script', async () => {
    const key = `test:${randomUUID()}`
    const counter = `${key}:counter`
    keys.push(key, counter)

    expect(await redis.set(key, 'hello', 'EX', 60)).toBe('OK')
    expect(await redis.get(key)).toBe('hello')

    // Atomic read-and-increment, the shape driftwatch's state updates take.
    const script = `
      local value = redis.call('GET', KEYS[1])
      local count = redis.call('INCRBY', KEYS[2], tonumber(ARGV[1]))
      return { value, count }
    `
    expect(await redis.eval(script, 2, key, counter, 5)).toEqual(['hello', 5])
    expect(await redis.eval(script, 2, key, counter, 7)).toEqual(['hello', 12])
  })
})
