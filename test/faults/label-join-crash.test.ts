// Kill -9 during label joining: a detector process (`bin/driftwatch.js run`) joins 40,000 labels
// to their predictions while a driver SIGKILLs it every few seconds and starts it again. Labels
// come in paced bursts, 5,000 of them before their predictions (they wait, and a sweep joins
// them), so kills land mid-batch, mid-sweep and mid-flush. Afterwards each performance bucket in
// Redis holds exactly the summary of its predictions' labels, computed here from the pairs
// themselves: nothing lost, nothing counted twice, and nothing left waiting.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { redisKeys } from '../../src/adapters/redis/keys.js'
import { RedisLabelStore } from '../../src/adapters/redis/label-store.js'
import { summariesOfFields } from '../../src/core/performance/join.js'
import {
  addPair,
  defaultPerformanceSettings,
  emptySummary,
  type PerformanceSummary,
} from '../../src/core/performance/summary.js'
import {
  killAllDetectors,
  startDetector,
  stopGracefully,
  waitUntilRunning,
  type Detector,
} from '../helpers/detector-process.js'
import { featureRow } from '../helpers/prediction-events.js'
import { mulberry32 } from '../helpers/random.js'
import { waitFor } from '../helpers/redis-counts.js'
import { redisUrl } from '../helpers/services.js'
import {
  createTopics,
  produceAll,
  streamConfigInput,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const N = 40_000
const EARLY = 5000
const BUCKET_MS = 1000
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000
const settings = { ...defaultPerformanceSettings, task: 'binary' as const }

afterAll(() => killAllDetectors())

describe('kill -9 while labels are joined', () => {
  it('loses and duplicates no label', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-labels-crash-'))
    const names = streamNames()
    const labelsTopic = `labels-${names.id}`
    const kafka = testKafka()
    const client = new Redis(redisUrl())
    try {
      await createTopics(kafka, [
        { topic: names.input, numPartitions: 2 },
        { topic: labelsTopic, numPartitions: 2 },
      ])
      const referenceFile = await writeReference(dir, 5000, 3)
      const input = streamConfigInput(names, referenceFile, { logLevel: 'info' }) as {
        kafka: Record<string, unknown> & { topics: Record<string, unknown> }
        models: Array<Record<string, unknown>>
      }
      input.kafka.topics['labels'] = labelsTopic
      input.kafka['sessionTimeout'] = '6s'
      input.models[0] = { ...input.models[0], performance: { task: 'binary' } }
      const config = join(dir, 'driftwatch.yaml')
      await writeFile(config, stringify(input))

      // Pairs and what each bucket must hold, computed from them directly.
      const rng = mulberry32(17)
      const predictions: Array<{ key: string; value: string }> = []
      const labels: Array<{ key: string; value: string }> = []
      const expected = new Map<number, PerformanceSummary>()
      for (let i = 0; i < N; i++) {
        const eventId = `c-${i}`
        const score = Number(rng().toFixed(4))
        const label = rng() < score ? 1 : 0
        const timestamp = T0 + i
        predictions.push({
          key: eventId,
          value: JSON.stringify({
            eventId,
            model: 'fraud',
            timestamp,
            features: featureRow(rng, new Set()),
            prediction: score,
          }),
        })
        labels.push({ key: eventId, value: JSON.stringify({ eventId, model: 'fraud', label }) })
        const bucket = Math.floor(timestamp / BUCKET_MS) * BUCKET_MS
        let summary = expected.get(bucket)
        if (summary === undefined) expected.set(bucket, (summary = emptySummary()))
        addPair(summary, settings, { prediction: score }, label)
      }

      // A log per start: waitUntilRunning looks for the start line in it.
      const log = (): string => join(dir, `detector-${kills}.log`)
      let kills = 0
      let detector: Detector = startDetector(config, log())
      await waitUntilRunning(detector)
      const producer = kafka.producer()
      await producer.connect()
      // Early labels first, then the predictions, then the other labels in paced bursts.
      await produceAll(producer, labelsTopic, labels.slice(0, EARLY))
      await produceAll(producer, names.input, predictions)
      let producing = true
      const paced = (async () => {
        for (let start = EARLY; start < N; start += 1000) {
          await produceAll(producer, labelsTopic, labels.slice(start, start + 1000))
          await new Promise((resolve) => setTimeout(resolve, 300))
        }
        producing = false
      })()

      const store = new RedisLabelStore(client, names.keyPrefix)
      const buckets = [...expected.keys()]
      const joined = async (): Promise<number> =>
        [...(await store.bucketLabels('fraud', buckets)).values()].reduce((a, b) => a + b, 0)
      let killsMidJoin = 0
      while (kills < 5 || producing) {
        await new Promise((resolve) => setTimeout(resolve, 1500 + 1500 * rng()))
        const before = await joined()
        detector.child.kill('SIGKILL')
        await detector.exited
        kills++
        if (before > 0 && before < N) killsMidJoin++
        detector = startDetector(config, log())
        await waitUntilRunning(detector)
      }
      await paced
      await producer.disconnect()
      await waitFor(
        'every label joined',
        async () => ((await joined()) >= N ? true : undefined),
        180_000,
      )
      // Anything still in flight would show now.
      await new Promise((resolve) => setTimeout(resolve, 3000))
      expect(await stopGracefully([detector])).toEqual([0])

      console.info(`label-join-crash: ${kills} kills, ${killsMidJoin} with labels partly joined`)
      expect(kills).toBeGreaterThanOrEqual(5)
      expect(killsMidJoin).toBeGreaterThanOrEqual(2)
      expect(await joined()).toBe(N)
      const keys = redisKeys(names.keyPrefix)
      expect(await client.hlen(keys.pending('fraud'))).toBe(0)
      expect(await client.hlen(keys.earlyLabels('fraud'))).toBe(0)
      const stored = await store.readPerformance('fraud', buckets)
      for (const [bucket, want] of expected) {
        const got = summariesOfFields(stored.get(bucket) ?? {}).get('') ?? emptySummary()
        expect([...got.keys()].sort(), `bucket ${bucket}`).toEqual([...want.keys()].sort())
        for (const [name, value] of want) {
          if (Number.isInteger(value)) expect(got.get(name), `${bucket} ${name}`).toBe(value)
          else expect(got.get(name), `${bucket} ${name}`).toBeCloseTo(value, 6)
        }
      }
    } finally {
      killAllDetectors()
      client.disconnect()
      await rm(dir, { recursive: true, force: true })
    }
  }, 400_000)
})
