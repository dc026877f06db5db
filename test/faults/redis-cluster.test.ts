// The streaming detector on a real three-master Redis Cluster (issue "Prove it under faults",
// part 4): a small real stream through the run's Kafka, the detector in-process with
// `redis.cluster: true`. Every event must be counted exactly once, reports must be published, and
// every key the detector actually wrote for the model must sit in one slot (docs/architecture.md, guarantee 1:
// keys written atomically together share a hash tag). A MULTI, script or pipeline that crossed
// slots would fail here with CROSSSLOT; a lookup that ignored MOVED would lose counts.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  startRedisCluster,
  type LocalRedisCluster,
} from '../../src/adapters/local-services/redis-cluster.js'
import { createRedisClient, type RedisClient } from '../../src/adapters/redis/client.js'
import { RedisLeaseStore } from '../../src/adapters/redis/lease-store.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { startApp, type App } from '../../src/app/service.js'
import type { ServiceConfig } from '../../src/config/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import {
  categoricalFeatures,
  numericalFeatures,
  predictionEvents,
} from '../helpers/prediction-events.js'
import { storedCounts, waitFor } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const events = 30_000
const allFeatures = [...numericalFeatures, ...Object.keys(categoricalFeatures)]
// Two hours back on a 10 s boundary: 30,000 events 1 ms apart fill three 10 s windows.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000

interface Outcome {
  readonly produced: number
  readonly rows: number
  readonly perFeature: Map<string, number>
  readonly reports: WindowReport[]
  readonly deadLetters: number
  readonly lastWindowEnd: number
  readonly keys: string[]
  readonly keySlots: Map<string, number>
  readonly tagSlot: number
  readonly mastersHoldingKeys: number
  readonly ms: number
}

let cluster: LocalRedisCluster | undefined
let outcome: Outcome

beforeAll(async () => {
  const started = performance.now()
  cluster = await startRedisCluster({ log: (line) => console.log(`[redis-cluster] ${line}`) })
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-cluster-'))
  const names = streamNames()
  const kafka = testKafka()
  let app: App | undefined
  let client: RedisClient | undefined
  try {
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    const referenceFile = await writeReference(dir, 20_000, 4242)
    const base = streamConfig(names, referenceFile)
    const config: ServiceConfig = {
      ...base,
      redis: { ...base.redis, url: cluster.url, cluster: true },
    }
    app = await startApp(config, {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const producer = kafka.producer()
    await producer.connect()
    const produced = await produceAll(
      producer,
      names.input,
      predictionEvents(events, T0, 1, { model: 'fraud', seed: 99, idPrefix: 'c' }),
    )
    await producer.disconnect()

    client = await createRedisClient({
      url: cluster.url,
      cluster: true,
      keyPrefix: names.keyPrefix,
    })
    const sketches = new RedisSketchStore(client, names.keyPrefix)
    const leases = new RedisLeaseStore(client, names.keyPrefix)
    const end = T0 + events
    const lastWindowEnd = Math.floor((end - 1 - 1000) / 10_000) * 10_000
    const counts = await waitFor(
      'every event in the cluster',
      async () => {
        const c = await storedCounts(sketches, 'fraud', T0, end, 1000)
        return c.rows === produced ? c : undefined
      },
      90_000,
    )
    await waitFor(
      'the last window evaluated',
      async () =>
        (await leases.lastEvaluation('fraud'))?.windowEnd === lastWindowEnd ? true : undefined,
      60_000,
    )
    const reports = (
      await readTopic(
        kafka,
        names.reports,
        (m) =>
          m.some(
            (b) =>
              (JSON.parse(b.toString()) as WindowReport).window.end ===
              new Date(lastWindowEnd).toISOString(),
          ),
        20_000,
      )
    ).map((b) => JSON.parse(b.toString()) as WindowReport)
    const deadLetters = (await readTopic(kafka, names.deadLetter, () => false, 1500)).length

    // The keys actually present, found on every master, and their slots.
    const masters = (client as Cluster).nodes('master')
    const perMaster = await Promise.all(
      masters.map(async (node) => {
        const found: string[] = []
        let cursor = '0'
        do {
          const [next, batch] = await node.scan(
            cursor,
            'MATCH',
            `${names.keyPrefix}:*`,
            'COUNT',
            1000,
          )
          cursor = next
          found.push(...batch)
        } while (cursor !== '0')
        return found
      }),
    )
    const keys = perMaster.flat().sort()
    const keySlots = new Map<string, number>()
    for (const key of keys) keySlots.set(key, Number(await client.call('CLUSTER', 'KEYSLOT', key)))
    const tagSlot = Number(await client.call('CLUSTER', 'KEYSLOT', 'fraud'))
    outcome = {
      produced,
      rows: counts.rows,
      perFeature: counts.perFeature,
      reports,
      deadLetters,
      lastWindowEnd,
      keys,
      keySlots,
      tagSlot,
      mastersHoldingKeys: perMaster.filter((k) => k.length > 0).length,
      ms: Math.round(performance.now() - started),
    }
    console.log(
      `[redis-cluster] ${produced} events, ${counts.rows} stored, ${reports.length} reports, ${keys.length} keys in slot(s) ` +
        `${[...new Set(keySlots.values())].join(',')} (tag slot ${tagSlot}), ${outcome.ms} ms`,
    )
  } finally {
    await app?.stop()
    client?.disconnect()
    await rm(dir, { recursive: true, force: true })
  }
}, 200_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('streaming detector on a three-master Redis Cluster', () => {
  it('stores every event exactly once, per feature', () => {
    expect(outcome.produced).toBe(events)
    expect(outcome.rows).toBe(events)
    for (const feature of allFeatures) expect(outcome.perFeature.get(feature), feature).toBe(events)
    expect(outcome.deadLetters).toBe(0)
  })

  it('publishes reports, each window once and complete', () => {
    expect(outcome.reports.length).toBeGreaterThanOrEqual(1)
    const ids = outcome.reports.map((r) => r.reportId)
    expect(new Set(ids).size).toBe(ids.length)
    expect(outcome.reports.map((r) => r.window.end)).toContain(
      new Date(outcome.lastWindowEnd).toISOString(),
    )
    for (const report of outcome.reports) {
      expect(report.model).toBe('fraud')
      expect(report.nCurrent).toBe(10_000)
      expect(report.nDrifted).toBe(0)
    }
  })

  it('keeps every key of the model in the slot of its hash tag', () => {
    // checkpoints, buckets, lease, lease token, evaluation, reference pointer and snapshot
    expect(outcome.keys.length).toBeGreaterThanOrEqual(7)
    for (const kind of [':checkpoints', ':lease:token', ':evaluation', ':reference']) {
      expect(
        outcome.keys.some((k) => k.endsWith(kind)),
        kind,
      ).toBe(true)
    }
    expect(outcome.keys.filter((k) => k.includes(':bucket:')).length).toBeGreaterThanOrEqual(
      events / 1000,
    )
    expect(new Set(outcome.keySlots.values())).toEqual(new Set([outcome.tagSlot]))
    expect(outcome.mastersHoldingKeys).toBe(1)
  })
})
