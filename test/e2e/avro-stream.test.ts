// The Avro path end to end on the real broker and a real schema registry (Apicurio): events in
// the Confluent wire format, part framed by an independent Avro encoder (test/fixtures/avro,
// written from the specification) and produced by kcat, part by avsc, with the producer's schema
// evolving mid-stream (a feature added, one removed), JSON events mixed in, and one message whose
// schema id the registry does not know. Reports go out as Avro, and are read back by kcat and
// decoded by the same independent decoder with the writer schema fetched from the registry.

import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import avro from 'avsc'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPredictionEncoder } from '../../src/adapters/schema-registry/avro-encoder.js'
import { openSimulationProducer, runSimulation } from '../../src/app/simulate.js'
import { startApp, type App } from '../../src/app/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import {
  categoricalFeatures,
  numericalFeatures,
  predictionEvents,
} from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import {
  frame,
  producerSchema,
  registerSchema,
  startTestRegistry,
  type TestRegistry,
} from '../helpers/registry.js'
import { kafkaBrokers } from '../helpers/services.js'
import {
  createTopics,
  readAll,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const run = promisify(execFile)
const tool = join(import.meta.dirname, '..', 'fixtures', 'avro', 'avro_tool.py')
const phase = 10_000
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000
const drifted = ['f01', 'f05', 'f12']
const categorical = Object.keys(categoricalFeatures)

let registry: TestRegistry
beforeAll(async () => {
  registry = await startTestRegistry()
}, 180_000)
afterAll(async () => {
  await registry?.stop()
})

interface Parsed {
  eventId: string
  model: string
  timestamp: number
  features: Record<string, number | string>
  prediction: number
  latencyMs: number
}

function parsed(events: Iterable<{ value: string }>): Parsed[] {
  return [...events].map((e) => JSON.parse(e.value) as Parsed)
}

describe('Avro input and output through the schema registry', () => {
  it('finds the drift in Avro events across a schema change, and its Avro reports read back independently', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-avro-'))
    const names = streamNames()
    const kafka = testKafka()
    let app: App | undefined
    try {
      await createTopics(kafka, [{ topic: names.input, numPartitions: 1 }])
      const subject = `${names.input}-value`
      const v1 = producerSchema(numericalFeatures, categorical)
      // v2: f19 removed, an optional feature the reference does not have added.
      const v2 = producerSchema(
        [...numericalFeatures.filter((f) => f !== 'f19'), 'basket_size'],
        categorical,
      )
      const v1Id = await registerSchema(registry.url, subject, v1)
      const v2Id = await registerSchema(registry.url, subject, v2)
      expect(v2Id).not.toBe(v1Id)

      // Phase 1, stable, schema v1: framed by the independent encoder, produced by kcat.
      const stable = parsed(
        predictionEvents(phase, T0, 1, { model: 'fraud', seed: 21, idPrefix: 'a' }),
      )
      await writeFile(join(dir, 'v1.json'), JSON.stringify(v1))
      await writeFile(
        join(dir, 'phase1.jsonl'),
        stable.map((e) => JSON.stringify(e)).join('\n') + '\n',
      )
      await run(
        'python3',
        [
          tool,
          'frame',
          join(dir, 'v1.json'),
          String(v1Id),
          join(dir, 'phase1.jsonl'),
          join(dir, 'frames'),
        ],
        { timeout: 120_000 },
      )
      const files = (await readdir(join(dir, 'frames'))).sort().map((f) => join(dir, 'frames', f))
      expect(files).toHaveLength(phase)
      await run('kcat', ['-P', '-b', kafkaBrokers(), '-t', names.input, ...files], {
        timeout: 120_000,
        maxBuffer: 16 * 1_048_576,
      })

      // Phase 2, f01, f05 and f12 shifted, schema v2 (avsc, as a producer would), then one
      // message with an id the registry never gave, then phase 3 as JSON, which closes window 2.
      const v2Type = avro.Type.forSchema(v2 as avro.Schema)
      const shifted = parsed(
        predictionEvents(phase, T0 + phase, 1, {
          model: 'fraud',
          seed: 22,
          drifted,
          idPrefix: 'b',
        }),
      )
      const producer = kafka.producer()
      await producer.connect()
      for (let i = 0; i < shifted.length; i += 2000) {
        await producer.send({
          topic: names.input,
          acks: -1,
          messages: shifted.slice(i, i + 2000).map((e) => {
            const { f19: _dropped, ...features } = e.features
            return {
              value: frame(
                v2Id,
                v2Type.toBuffer({ ...e, features: { ...features, basket_size: 3 } }),
              ),
            }
          }),
        })
      }
      const unknownId = 987_654
      await producer.send({
        topic: names.input,
        acks: -1,
        messages: [{ value: frame(unknownId, Buffer.from([2, 0x41])) }],
      })
      const tail = [
        ...predictionEvents(3000, T0 + 2 * phase, 1, { model: 'fraud', seed: 23, idPrefix: 'c' }),
      ]
      for (let i = 0; i < tail.length; i += 1000)
        await producer.send({
          topic: names.input,
          acks: -1,
          messages: tail.slice(i, i + 1000).map((e) => ({ value: e.value })),
        })
      await producer.disconnect()
      const produced = 2 * phase + tail.length

      const referenceFile = await writeReference(dir, 20_000, 24)
      const config = streamConfig(names, referenceFile)
      app = await startApp(
        {
          ...config,
          schemaRegistry: {
            url: registry.url,
            requestTimeout: 5000,
            deadLetterAfter: 300_000,
            compatibility: 'BACKWARD',
          },
          output: { format: 'avro' },
        },
        { secrets: {}, fromBeginning: true, logger: pino({ level: 'warn' }) },
      )

      const end = T0 + produced
      await withStores(names.keyPrefix, async ({ sketches, leases }) => {
        const counts = await waitFor(
          'every valid event in Redis',
          async () => {
            const c = await storedCounts(sketches, 'fraud', T0, end, 1000)
            return c.rows === produced ? c : undefined
          },
          120_000,
        )
        for (const feature of [...numericalFeatures, ...categorical])
          expect(counts.perFeature.get(feature), feature).toBe(produced)
        await waitFor(
          'window 2 evaluated',
          async () =>
            ((await leases.lastEvaluation('fraud'))?.windowEnd ?? 0) >= T0 + 2 * phase
              ? true
              : undefined,
          120_000,
        )
      })

      const letters = await readAll(kafka, names.deadLetter)
      expect(letters).toHaveLength(1)
      const headers = await run(
        'kcat',
        [
          '-C',
          '-b',
          kafkaBrokers(),
          '-t',
          names.deadLetter,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%h\\n',
        ],
        { timeout: 60_000 },
      )
      expect(headers.stdout).toContain('driftwatch-reason=unknown_schema')
      expect(headers.stdout).toContain(`schema id ${unknownId}`)

      // kcat reads the report topic; the independent decoder fetches the writer schema by id.
      const kcat = await run(
        'kcat',
        [
          '-C',
          '-b',
          kafkaBrokers(),
          '-t',
          names.reports,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%R%s',
        ],
        {
          encoding: 'buffer',
          timeout: 60_000,
          maxBuffer: 64 * 1_048_576,
        },
      )
      const decoded = await new Promise<string>((resolve, reject) => {
        const child = execFile(
          'python3',
          [tool, 'read', registry.url],
          { maxBuffer: 64 * 1_048_576 },
          (error, stdout) => (error === null ? resolve(stdout) : reject(new Error(error.message))),
        )
        child.stdin?.end(kcat.stdout)
      })
      const reports = decoded
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { schemaId: number; value: WindowReport })
      const latest = (await (
        await fetch(`${registry.url}/subjects/${names.reports}-value/versions/latest`)
      ).json()) as { id: number }
      expect(new Set(reports.map((r) => r.schemaId))).toEqual(new Set([latest.id]))
      const rule = (await (
        await fetch(`${registry.url}/config/${names.reports}-value`)
      ).json()) as { compatibilityLevel: string }
      expect(rule.compatibilityLevel).toBe('BACKWARD')

      const byEnd = new Map(reports.map((r) => [Date.parse(r.value.window.end), r.value]))
      const first = byEnd.get(T0 + phase)
      const second = byEnd.get(T0 + 2 * phase)
      expect(first?.nCurrent).toBe(phase)
      expect(second?.nCurrent).toBe(phase)
      const driftedIn = (r: WindowReport | undefined): string[] =>
        (r?.features ?? [])
          .filter((f) => f.drifted && numericalFeatures.includes(f.name) && f.name !== 'f19')
          .map((f) => f.name)
          .sort()
      expect(driftedIn(first)).toEqual([])
      expect(driftedIn(second)).toEqual(drifted)
      // The removed feature is reported as emptied in the window written with v2.
      expect(second?.features.find((f) => f.name === 'f19')?.metrics.missingShare).toBe(1)
      expect(first?.features.find((f) => f.name === 'f19')?.metrics.missingShare).toBe(0)
    } finally {
      await app?.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 400_000)

  it('the simulator produces Avro that an independent decoder reads with the registered schema', async () => {
    const topic = `simulated-${streamNames().id}`
    const encode = await createPredictionEncoder(topic, {
      url: registry.url,
      requestTimeoutMs: 10_000,
      compatibility: 'BACKWARD',
    })
    const kafka = await openSimulationProducer({
      kafka: { brokers: kafkaBrokers().split(','), clientId: 'avro-stream-test' },
      logger: pino({ level: 'warn' }),
      topic,
      partitions: 1,
    })
    try {
      const result = await runSimulation(
        {
          topic,
          model: 'fraud',
          scenario: 'sudden-shift',
          seed: 5,
          rate: 0,
          count: 300,
          eventTimeStepMs: 10,
          encode,
        },
        { producer: kafka.producer },
      )
      expect(result.sent).toBe(300)
    } finally {
      await kafka.close()
    }
    const kcat = await run(
      'kcat',
      ['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%R%s'],
      {
        encoding: 'buffer',
        timeout: 60_000,
        maxBuffer: 16 * 1_048_576,
      },
    )
    const decoded = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        'python3',
        [tool, 'read', registry.url],
        { maxBuffer: 16 * 1_048_576 },
        (error, stdout) => (error === null ? resolve(stdout) : reject(new Error(error.message))),
      )
      child.stdin?.end(kcat.stdout)
    })
    const events = decoded
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { value: Parsed & { modelVersion: string | null } })
    expect(events).toHaveLength(300)
    expect(
      events.every((e) => e.value.model === 'fraud' && typeof e.value.features['f01'] === 'number'),
    ).toBe(true)
    const registered = (await (
      await fetch(`${registry.url}/subjects/${topic}-value/versions/latest`)
    ).json()) as { schema: string }
    expect(JSON.parse(registered.schema)).toMatchObject({ name: 'PredictionEvent' })
  }, 120_000)
})
