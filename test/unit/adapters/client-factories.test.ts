// The client factories every command uses (docs/architecture.md, "Clients are built in one
// place"): what they take from the config sections and the DRIFTWATCH_* secrets. No connection is
// made here; test/faults/security.test.ts runs the commands against SASL_SSL Kafka and TLS Redis.

import { Partitioners } from 'kafkajs'
import { pino, type Logger } from 'pino'
import { describe, expect, it } from 'vitest'
import { createKafka } from '../../../src/adapters/kafka/client.js'
import { redisConnectionOf } from '../../../src/adapters/redis/client.js'
import { registryConnectionOf } from '../../../src/adapters/schema-registry/client.js'

function capturingLogger(): { logger: Logger; lines: () => object[] } {
  const raw: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) })
  return { logger, lines: () => raw.map((line) => JSON.parse(line) as object) }
}

const sasl = { mechanism: 'scram-sha-512', username: 'driftwatch' } as const

describe('createKafka', () => {
  it('refuses a SASL section without a password before any connection, naming the setting', () => {
    const { logger } = capturingLogger()
    expect(() => createKafka({ brokers: ['b:9092'], clientId: 'c', sasl }, logger, {})).toThrow(
      'kafka.sasl: no password (set DRIFTWATCH_KAFKA_PASSWORD)',
    )
    expect(() =>
      createKafka({ brokers: ['b:9092'], clientId: 'c', sasl }, logger, { kafkaPassword: 'pw' }),
    ).not.toThrow()
    expect(() =>
      createKafka(
        { brokers: ['b:9092'], clientId: 'c', sasl: { ...sasl, password: 'pw' } },
        logger,
        {},
      ),
    ).not.toThrow()
  })

  it("routes kafkajs' logs into ours, with their namespace; bounded retries noted at debug", () => {
    const { logger, lines } = capturingLogger()
    const kafka = createKafka({ brokers: ['b:9092'], clientId: 'c' }, logger, {})
    // No partitioner given: kafkajs warns that its default changed, a warning that stays one.
    kafka.producer({ idempotent: true })
    const byMessage = (start: string): object[] =>
      lines().filter((l) => (l as { msg?: string }).msg?.startsWith(start) === true)
    expect(byMessage('Limiting retries')).toEqual([
      expect.objectContaining({ level: 20, component: 'kafkajs', namespace: 'Producer' }),
    ])
    expect(byMessage('KafkaJS v2.0.0 switched default partitioner')).toEqual([
      expect.objectContaining({ level: 40, component: 'kafkajs' }),
    ])
    kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner })
    expect(byMessage('Limiting retries')).toHaveLength(2)
  })
})

describe('redisConnectionOf', () => {
  const section = { url: 'rediss://r:6380', keyPrefix: 'dw', cluster: false, password: 'file' }

  it('DRIFTWATCH_REDIS_PASSWORD wins over the section; the rest is the section', () => {
    expect(redisConnectionOf(section, { redisPassword: 'env' })).toEqual({
      ...section,
      password: 'env',
    })
    expect(redisConnectionOf(section, {})).toEqual(section)
  })
})

describe('registryConnectionOf', () => {
  const section = {
    url: 'http://registry:8081',
    username: 'dw',
    password: 'file',
    requestTimeout: 5000,
    deadLetterAfter: 300_000,
    compatibility: 'BACKWARD' as const,
  }

  it('DRIFTWATCH_SCHEMA_REGISTRY_PASSWORD wins over the section; the timeout is its requestTimeout', () => {
    expect(registryConnectionOf(section, { schemaRegistryPassword: 'env' })).toEqual({
      url: 'http://registry:8081',
      username: 'dw',
      password: 'env',
      requestTimeoutMs: 5000,
    })
    expect(registryConnectionOf(section, {}).password).toBe('file')
  })
})
