// The schema registry misbehaving under a running detector: hung (accepts connections, never
// answers), slow, and down (Apicurio stopped). A TCP switch in front of the real registry makes it
// hang or slow on demand. The detector must never hang, crash or drop an event silently: while the
// registry cannot answer it pauses the partition and retries with back-off, then counts every
// event once the registry answers; past schemaRegistry.deadLetterAfter, the events that need the
// registry go to the dead-letter topic with reason schema_unavailable.

import { execFile } from 'node:child_process'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import avro from 'avsc'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import type { ServiceConfig } from '../../src/config/service.js'
import {
  categoricalFeatures,
  numericalFeatures,
  predictionEvents,
} from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import { kafkaBrokers } from '../helpers/services.js'
import {
  frame,
  producerSchema,
  registerSchema,
  startTestRegistry,
  type TestRegistry,
} from '../helpers/registry.js'
import {
  createTopics,
  readAll,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const run = promisify(execFile)
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000
const schema = producerSchema(numericalFeatures, Object.keys(categoricalFeatures))
const type = avro.Type.forSchema(schema as avro.Schema)

type Mode = 'hang' | 'pass' | 'slow'

/** A TCP front for the registry: passes through, delays every connection 150 ms (under the 300 ms timeout), or hangs. */
class RegistrySwitch {
  mode: Mode = 'hang'
  connections = 0
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  constructor(target: URL) {
    this.#server = createServer((client) => {
      this.connections++
      this.#sockets.add(client)
      client.on('close', () => this.#sockets.delete(client))
      client.on('error', () => undefined)
      if (this.mode === 'hang') return // accepted, never answered
      const pipe = (): void => {
        const upstream = connect(Number(target.port), target.hostname)
        upstream.on('error', () => client.destroy())
        client.pipe(upstream).pipe(client)
        this.#sockets.add(upstream)
      }
      if (this.mode === 'slow') setTimeout(pipe, 150)
      else pipe()
    })
  }
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}/apis/ccompat/v7`
  }
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

let registry: TestRegistry
beforeAll(async () => {
  registry = await startTestRegistry()
}, 180_000)
afterAll(async () => {
  await registry?.stop()
})

interface Stream {
  readonly names: ReturnType<typeof streamNames>
  readonly config: ServiceConfig
  readonly produced: { avro: number; json: number }
  readonly dir: string
}

/** One partition: `avroCount` Avro events, then `jsonCount` JSON events, from T0, 1 ms apart. */
async function stream(
  registryUrl: string,
  avroCount: number,
  jsonCount: number,
  seed: number,
): Promise<Stream> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-registry-fault-'))
  const names = streamNames()
  const kafka = testKafka()
  await createTopics(kafka, [{ topic: names.input, numPartitions: 1 }])
  const id = await registerSchema(registry.url, `${names.input}-value`, schema)
  const events = [
    ...predictionEvents(avroCount + jsonCount, T0, 1, { model: 'fraud', seed, idPrefix: 'r' }),
  ]
  const producer = kafka.producer()
  await producer.connect()
  for (let i = 0; i < events.length; i += 1000) {
    await producer.send({
      topic: names.input,
      acks: -1,
      messages: events.slice(i, i + 1000).map((e, j) => ({
        value: i + j < avroCount ? frame(id, type.toBuffer(JSON.parse(e.value))) : e.value,
      })),
    })
  }
  await producer.disconnect()
  const base = streamConfig(names, await writeReference(dir, 5000, seed + 1))
  const config: ServiceConfig = {
    ...base,
    schemaRegistry: {
      url: registryUrl,
      requestTimeout: 300,
      deadLetterAfter: 600_000,
      compatibility: 'BACKWARD',
    },
  }
  return { names, config, produced: { avro: avroCount, json: jsonCount }, dir }
}

async function rows(s: Stream): Promise<number> {
  return withStores(
    s.names.keyPrefix,
    async ({ sketches }) => (await storedCounts(sketches, 'fraud', T0, T0 + 60_000, 1000)).rows,
  )
}

async function start(config: ServiceConfig): Promise<App> {
  return startApp(config, { secrets: {}, fromBeginning: true, logger: pino({ level: 'silent' }) })
}

describe('schema registry faults', () => {
  it('a hung registry pauses the partition with back-off; once it answers, every event is counted', async () => {
    const front = new RegistrySwitch(new URL(registry.url))
    const url = await front.listen()
    const s = await stream(url, 2000, 500, 31)
    let app: App | undefined
    try {
      app = await start(s.config)
      // Several lookups, each given up after the 300 ms timeout, spaced by the growing pause.
      await waitFor(
        'the detector retrying the hung registry',
        async () => (front.connections >= 4 ? true : undefined),
        60_000,
      )
      expect(await rows(s)).toBe(0)
      expect(await readAll(testKafka(), s.names.deadLetter)).toEqual([])
      const health = await fetch(new URL('/healthz', app.httpUrl))
      expect(health.status).toBe(200)

      front.mode = 'slow'
      const total = s.produced.avro + s.produced.json
      await waitFor(
        'every event counted after the registry answers',
        async () => ((await rows(s)) === total ? true : undefined),
        90_000,
      )
      expect(await readAll(testKafka(), s.names.deadLetter)).toEqual([])
    } finally {
      // Stopping must not hang on a registry request either.
      await app?.stop()
      await front.close()
      await rm(s.dir, { recursive: true, force: true })
    }
  }, 240_000)

  it('a registry down past deadLetterAfter: its events are dead letters with the reason, the JSON ones counted', async () => {
    const s = await stream(registry.url, 1000, 300, 41)
    await registry.stop()
    let app: App | undefined
    try {
      app = await start({
        ...s.config,
        schemaRegistry: {
          ...(s.config.schemaRegistry as NonNullable<ServiceConfig['schemaRegistry']>),
          deadLetterAfter: 1000,
        },
      })
      const kafka = testKafka()
      await waitFor(
        'the JSON events counted',
        async () => ((await rows(s)) === s.produced.json ? true : undefined),
        90_000,
      )
      const letters = await waitFor(
        'every Avro event dead-lettered',
        async () => {
          const all = await readAll(kafka, s.names.deadLetter)
          return all.length >= s.produced.avro ? all : undefined
        },
        90_000,
      )
      expect(letters).toHaveLength(s.produced.avro)
      expect(letters.every((value) => value[0] === 0)).toBe(true)
      const { stdout } = await run(
        'kcat',
        [
          '-C',
          '-b',
          kafkaBrokers(),
          '-t',
          s.names.deadLetter,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%h\\n',
        ],
        { timeout: 60_000, maxBuffer: 16 * 1_048_576 },
      )
      const reasons = stdout
        .trim()
        .split('\n')
        .map((h) => /driftwatch-reason=([a-z_]+)/.exec(h)?.[1])
      expect(new Set(reasons)).toEqual(new Set(['schema_unavailable']))
      expect(await rows(s)).toBe(s.produced.json)
    } finally {
      await app?.stop()
      await rm(s.dir, { recursive: true, force: true })
    }
  }, 240_000)
})
