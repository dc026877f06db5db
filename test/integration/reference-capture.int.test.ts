// `driftwatch reference capture` against the real broker: events of one model in a time range
// become the same snapshot as those rows profiled directly.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ReferenceBuilder } from '../../src/core/reference.js'
import { encodeProfile } from '../../src/core/profile/index.js'
import { runCli } from '../helpers/cli.js'
import {
  categoricalFeatures,
  numericalFeatures,
  predictionEvents,
} from '../helpers/prediction-events.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'
import { createTopics, produceAll, streamNames, testKafka } from '../helpers/stream.js'

describe('reference capture from a Kafka time range', () => {
  it('profiles exactly the model’s events inside [from, to)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-capture-'))
    try {
      const names = streamNames()
      const kafka = testKafka()
      await createTopics(kafka, [{ topic: names.input, numPartitions: 2 }])
      const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000
      const events = [
        ...predictionEvents(3000, T0, 10, { model: 'fraud', seed: 21, idPrefix: 'c' }),
      ]
      const other = [...predictionEvents(500, T0, 60, { model: 'other', seed: 22, idPrefix: 'o' })]
      const producer = kafka.producer()
      await producer.connect()
      // Record time = event time, as a producer logging in real time sets it.
      await produceAll(
        producer,
        names.input,
        [...events, ...other].map((m) => ({
          ...m,
          timestamp: String((JSON.parse(m.value) as { timestamp: number }).timestamp),
        })),
      )
      await producer.disconnect()

      const from = T0 + 5_000
      const to = T0 + 20_000
      const config = join(dir, 'driftwatch.yaml')
      await writeFile(
        config,
        stringify({
          kafka: { brokers: kafkaBrokers().split(','), topics: { predictions: [names.input] } },
          redis: { url: redisUrl(), keyPrefix: names.keyPrefix },
          models: [{ name: 'fraud' }],
        }),
      )
      const out = join(dir, 'ref.json')
      const result = await runCli([
        'reference',
        'capture',
        '--config',
        config,
        '--model',
        'fraud',
        '--from',
        new Date(from).toISOString(),
        '--to',
        String(to),
        '--out',
        out,
      ])
      expect(result.code, result.stderr).toBe(0)
      const inRange = events
        .map(
          (m) =>
            JSON.parse(m.value) as {
              timestamp: number
              features: Record<string, number | string>
              prediction: number
              latencyMs: number
            },
        )
        .filter((e) => e.timestamp >= from && e.timestamp < to)
      expect(inRange.length).toBe(1500)
      expect(result.stderr).toContain(`captured reference ref-`)
      expect(result.stderr).toContain(`: 1500 events of fraud`)

      const snapshot = JSON.parse(await readFile(out, 'utf8')) as {
        rows: number
        columns: Array<{ name: string; kind: string; profile: unknown }>
      }
      expect(snapshot.rows).toBe(1500)
      const kinds = Object.fromEntries(snapshot.columns.map((c) => [c.name, c.kind]))
      for (const f of numericalFeatures) expect(kinds[f]).toBe('numerical')
      for (const f of Object.keys(categoricalFeatures)) expect(kinds[f]).toBe('categorical')
      // The same rows profiled directly give the same profiles (events are read in offset order
      // per partition, so compare what does not depend on order: counts and breakpoints).
      const builder = new ReferenceBuilder(
        snapshot.columns.map((c) => ({
          name: c.name,
          kind: c.kind as 'numerical' | 'categorical',
          reason: 'test',
        })),
      )
      for (const e of inRange) builder.add(e.features)
      const direct = builder.build()
      for (const column of snapshot.columns) {
        const expected = encodeProfile(
          direct.features.get(column.name) as never,
        ) as unknown as Record<string, unknown>
        const actual = column.profile as Record<string, unknown>
        for (const key of ['count', 'missing', 'edges', 'bins', 'atEdge', 'counts', 'min', 'max']) {
          if (key === 'counts')
            expect(new Map(actual[key] as Array<[string, number]>)).toEqual(
              new Map(expected[key] as Array<[string, number]>),
            )
          else expect(actual[key], `${column.name}.${key}`).toEqual(expected[key])
        }
      }
      // The events' outputs are the snapshot's prediction and latency, not features.
      const outputs = snapshot as unknown as {
        prediction?: { name: string; kind: string; profile: { counts: Array<[string, number]> } }
        latency?: { kind: string; count: number; min: number; max: number }
      }
      expect(kinds['prediction']).toBeUndefined()
      expect(outputs.prediction).toMatchObject({ name: 'prediction', kind: 'categorical' })
      const classes = new Map<string, number>()
      for (const e of inRange)
        classes.set(String(e.prediction), (classes.get(String(e.prediction)) ?? 0) + 1)
      expect(new Map(outputs.prediction?.profile.counts)).toEqual(classes)
      const latencies = inRange.map((e) => e.latencyMs)
      expect(outputs.latency).toMatchObject({
        kind: 'numerical',
        count: 1500,
        min: Math.min(...latencies),
        max: Math.max(...latencies),
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
