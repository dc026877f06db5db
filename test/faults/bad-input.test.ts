// docs/architecture.md, guarantee 3, "bad input never stops the stream", against real Kafka and Redis and the
// built `driftwatch run` process. The bad-event corpus (test/fixtures/bad-events.ts) plus a few
// kinds only a running service can judge (a timestamp two days ahead of its clock, a Kafka
// tombstone) go onto a 3-partition topic between valid events:
//
//   1. one exact pass: every bad kind once, each between two valid events, then the valid kinds
//      (a duplicate eventId, no timestamp, extra fields, ...);
//   2. a bulk pass: the corpus again and again, ~250,000 bad events, one valid event per eight bad
//      ones, the ~1 MB entries only every so often (they are 7 MB a round).
//
// Checked: every valid event is in Redis exactly once (per feature); every bad one is on the
// dead-letter topic with its original bytes and the `driftwatch-reason` header the corpus
// expects, found by its source partition and offset; driftwatch_events_invalid_total{reason}
// adds up per reason; the process never exits; nothing stays behind per event; RSS stays within
// the Helm chart's memory budget.
//
// "Nothing stays behind" is measured on what survives a full garbage collection: the JS heap and
// the external memory (Buffers) in two idle states of the process, after the warm-up and at the
// end, each 12 s after the stream stopped. The detector runs with `--heapsnapshot-signal`: a heap
// snapshot collects garbage fully first, so /metrics read once it is written shows the retained
// memory. RSS is not that measure: it follows the high-water mark of the batches in flight (up to
// ~3 MB of fetch and produce buffers with the ~1 MB entries, the evaluator's noise floors), and
// glibc keeps freed memory; idle after the same stream it landed anywhere between 170 and 310 MiB
// over ten runs, either way round (RELIABILITY.md). It is printed, and its maximum under load must
// stay below half the chart's default memory limit (helm/driftwatch/values.yaml).
//
// Duplicate event ids: we count events, not ids (see RELIABILITY.md). The same eventId three
// times is three valid events, all counted; exactly-once is per Kafka offset, not per id.
//
// The corpus' `unknown_version` entries are left out: the service config has no list of
// accepted versions per model (models[].versions does not exist), so for the service any version
// of a configured model is valid and those two entries are valid events.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import type { InvalidReason } from '../../src/core/events.js'
import { badEventCorpus, validEventObject } from '../fixtures/bad-events.js'
import { logTail, startServedDetector, type ServedDetector } from '../helpers/detector-process.js'
import { categoricalFeatures, featureRow, numericalFeatures } from '../helpers/prediction-events.js'
import { mulberry32 } from '../helpers/random.js'
import { storedCounts, waitFor } from '../helpers/redis-counts.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'
import { streamNames, writeReference, writeStreamConfig } from '../helpers/stream.js'

const PARTITIONS = 3
const BULK_BAD_TARGET = 250_000
const BIG_BYTES = 16 * 1024
const allFeatures = [...numericalFeatures, ...Object.keys(categoricalFeatures)]
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// The kinds

interface Kind {
  readonly name: string
  /** null: a Kafka tombstone */
  readonly value: Buffer | null
  /** null: a valid event, to be counted */
  readonly reason: InvalidReason | null
}

const TWO_DAYS = 2 * 86_400_000

function badKinds(now: number): Kind[] {
  const fromCorpus: Kind[] = badEventCorpus
    .filter((e) => e.reason !== 'unknown_version')
    .map((e) => ({ name: e.name, value: e.value, reason: e.reason }))
  const json = (patch: Record<string, unknown>): Buffer =>
    Buffer.from(JSON.stringify({ ...validEventObject(), ...patch }))
  const features = (patch: Record<string, unknown>): Buffer =>
    json({ features: { ...(validEventObject()['features'] as object), ...patch } })
  return [
    ...fromCorpus,
    { name: 'Kafka tombstone (null value)', value: null, reason: 'empty' },
    {
      name: 'timestamp two days ahead of the clock',
      value: json({ timestamp: now + TWO_DAYS }),
      reason: 'bad_timestamp',
    },
    {
      name: 'ISO timestamp two days ahead of the clock',
      value: json({ timestamp: new Date(now + TWO_DAYS).toISOString() }),
      reason: 'bad_timestamp',
    },
    {
      name: 'feature 1.8e308 (beyond float range)',
      value: Buffer.from(
        JSON.stringify(validEventObject()).replace('"f01":-0.4312', '"f01":1.8e308'),
      ),
      reason: 'non_finite_number',
    },
    {
      name: '"1e309" string in a numerical feature',
      value: features({ f01: '1e309' }),
      reason: 'feature_kind_mismatch',
    },
    {
      name: 'eventId of 257 characters',
      value: json({ eventId: 'e'.repeat(257) }),
      reason: 'invalid_value',
    },
    {
      name: 'unknown model, otherwise perfect',
      value: json({ model: 'fraud-v2' }),
      reason: 'unknown_model',
    },
  ]
}

/** A plain valid event, as a model server writes it. */
function plainEvent(now: number, n: number): Record<string, unknown> {
  return {
    eventId: `valid-${n}`,
    model: 'fraud',
    timestamp: now,
    features: featureRow(mulberry32(n), new Set()),
    prediction: n % 10 === 0 ? 1 : 0,
    latencyMs: 5 + (n % 20),
  }
}

interface ValidKind {
  readonly name: string
  make(now: number, n: number): Record<string, unknown>
}

/** Valid events of other shapes; each is counted. */
function validKinds(): ValidKind[] {
  const withFeatures = (
    now: number,
    n: number,
    patch: Record<string, unknown>,
  ): Record<string, unknown> => {
    const event = plainEvent(now, n)
    return { ...event, features: { ...(event['features'] as object), ...patch } }
  }
  return [
    {
      name: 'duplicate eventId (the same id every time)',
      make: (now, n) => ({ ...plainEvent(now, n), eventId: 'duplicate-id' }),
    },
    {
      name: 'no timestamp (the Kafka timestamp is used)',
      make: (now, n) => ({ ...plainEvent(now, n), timestamp: undefined }),
    },
    {
      name: 'ISO-8601 timestamp',
      make: (now, n) => ({ ...plainEvent(now, n), timestamp: new Date(now).toISOString() }),
    },
    {
      name: 'extra top-level fields',
      make: (now, n) => ({
        ...plainEvent(now, n),
        requestId: 'r-1',
        host: 'pod-7',
        nested: { a: [1, 2, { b: null }] },
      }),
    },
    {
      name: 'modelVersion and scores',
      make: (now, n) => ({
        ...plainEvent(now, n),
        modelVersion: 'v7',
        scores: { positive: 0.2, negative: 0.8 },
      }),
    },
    {
      name: '"NaN" as a category value',
      make: (now, n) => withFeatures(now, n, { country: 'NaN' }),
    },
    {
      name: 'numerical feature null, one absent',
      make: (now, n) => withFeatures(now, n, { f03: null, f04: undefined }),
    },
    {
      name: 'unknown feature names',
      make: (now, n) => withFeatures(now, n, { zz_new: 1, __extra: 'x' }),
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Producing with known offsets

interface Produced {
  /** per partition, the kind index at each offset (-1: a plain valid event, -2 - i: valid kind i) */
  readonly kindAt: number[][]
  valid: number
  bad: number
  readonly badPerReason: Map<string, number>
}

const PLAIN = -1

class KnownProducer {
  readonly produced: Produced = {
    kindAt: Array.from({ length: PARTITIONS }, () => []),
    valid: 0,
    bad: 0,
    badPerReason: new Map(),
  }
  #pending: Array<{ message: Message; kind: number }> = []
  #next = 0
  #validN = 0

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly kinds: readonly Kind[],
    private readonly valid: readonly ValidKind[],
  ) {}

  addValid(kind = PLAIN): void {
    const now = Date.now()
    const n = this.#validN++
    const event =
      kind === PLAIN ? plainEvent(now, n) : (this.valid[-2 - kind] as ValidKind).make(now, n)
    this.#push({ value: JSON.stringify(event), timestamp: String(now) }, kind)
    this.produced.valid++
  }

  addBad(index: number): void {
    const kind = this.kinds[index] as Kind
    this.#push({ value: kind.value, timestamp: String(Date.now()) }, index)
    this.produced.bad++
    this.produced.badPerReason.set(
      kind.reason as string,
      (this.produced.badPerReason.get(kind.reason as string) ?? 0) + 1,
    )
  }

  #push(message: Message, kind: number): void {
    this.#pending.push({ message: { ...message, partition: this.#next++ % PARTITIONS }, kind })
  }

  pendingBytes(): number {
    return this.#pending.reduce((sum, p) => sum + (p.message.value?.length ?? 0), 0)
  }

  async send(): Promise<void> {
    const pending = this.#pending
    this.#pending = []
    if (pending.length === 0) return
    const metadata = await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: pending.map((p) => p.message),
    })
    for (const { partition, baseOffset } of metadata) {
      const kinds = pending.filter((p) => p.message.partition === partition).map((p) => p.kind)
      const at = this.produced.kindAt[partition] as number[]
      const base = Number(baseOffset)
      // Sends are sequential and the topic is fresh: offsets are dense.
      if (base !== at.length)
        throw new Error(`partition ${partition}: base offset ${base}, expected ${at.length}`)
      at.push(...kinds)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The detector process (started with startServedDetector, test/helpers/detector-process.ts)

/** User + system CPU time of a process so far, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1])
}

async function invalidMetrics(url: string, topic: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const out = new Map<string, number>()
  for (const match of text.matchAll(/^driftwatch_events_invalid_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries(
      [...(match[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    )
    if (labels['topic'] === topic) out.set(labels['reason'] as string, Number(match[2]))
  }
  return out
}

/** The median of five readings a second apart: one reading catches GC and allocator swings. */
async function medianRss(pid: number): Promise<number> {
  const readings: number[] = []
  for (let i = 0; i < 5; i++) {
    await sleep(1000)
    readings.push(rssKiB(pid))
  }
  return readings.sort((a, b) => a - b)[2] as number
}

/** Heap used and external (Buffers) memory, bytes, from the detector's own /metrics. */
async function memoryMetrics(
  url: string,
): Promise<{ heap: number; heapTotal: number; external: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(900) })).text()
  const value = (name: string): number =>
    Number(new RegExp(`^driftwatch_nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  return {
    heap: value('heap_size_used_bytes'),
    heapTotal: value('heap_size_total_bytes'),
    external: value('external_memory_bytes'),
  }
}

/**
 * Heap and external memory after a full collection: the detector writes a heap snapshot on
 * SIGUSR2 (it collects garbage first) into `dir`, synchronously, so /metrics answers once it is
 * written, with what survived.
 */
async function retainedMemory(
  pid: number,
  url: string,
  dir: string,
): Promise<{ heap: number; external: number }> {
  const snapshots = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'))
  const before = snapshots().length
  process.kill(pid, 'SIGUSR2')
  const started = Date.now()
  while (snapshots().length === before) {
    if (Date.now() - started > 30_000) throw new Error('no heap snapshot 30 s after SIGUSR2')
    await sleep(100)
  }
  const text = await (
    await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(120_000) })
  ).text()
  for (const file of snapshots()) rmSync(join(dir, file), { force: true })
  const value = (name: string): number =>
    Number(new RegExp(`^driftwatch_nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  return { heap: value('heap_size_used_bytes'), external: value('external_memory_bytes') }
}

/** The Helm chart's default memory limit, bytes. */
function chartMemoryLimit(): number {
  const values = parseYaml(
    readFileSync(new URL('../../helm/driftwatch/values.yaml', import.meta.url), 'utf8'),
  ) as { resources: { limits: { memory: string } } }
  const match = /^(\d+)(Mi|Gi)$/.exec(values.resources.limits.memory)
  if (match === null) throw new Error(`unexpected memory limit ${values.resources.limits.memory}`)
  return Number(match[1]) * 2 ** (match[2] === 'Gi' ? 30 : 20)
}

/** The kernel's split of the resident set: anonymous (heaps, malloc) and file-backed, MiB. */
function rssSplit(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  return `anon ${Math.round(kib('RssAnon') / 1024)} MiB, file ${Math.round(kib('RssFile') / 1024)} MiB`
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20)

function sum(map: ReadonlyMap<string, number>): number {
  return [...map.values()].reduce((a, b) => a + b, 0)
}

// ---------------------------------------------------------------------------------------------
// Reading the dead-letter topic back

interface DeadLetterCheck {
  total: number
  distinct: number
  duplicates: number
  wrongReason: Array<{ at: string; kind: string; expected: string | null; got: string }>
  wrongBytes: Array<{ at: string; kind: string }>
  perReason: Map<string, number>
}

async function checkDeadLetters(
  kafka: Kafka,
  topic: string,
  source: string,
  produced: Produced,
  kinds: readonly Kind[],
  valid: readonly ValidKind[],
  timeoutMs: number,
): Promise<DeadLetterCheck> {
  const result: DeadLetterCheck = {
    total: 0,
    distinct: 0,
    duplicates: 0,
    wrongReason: [],
    wrongBytes: [],
    perReason: new Map(),
  }
  const seen = new Set<string>()
  const consumer = kafka.consumer({
    groupId: `dlq-reader-${topic}-${Date.now()}`,
    maxBytesPerPartition: 8 * 1_048_576,
    maxBytes: 32 * 1_048_576,
  })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            result.total++
            const h = (name: string): string => message.headers?.[name]?.toString() ?? ''
            const reason = h('driftwatch-reason')
            result.perReason.set(reason, (result.perReason.get(reason) ?? 0) + 1)
            const at = `${h('driftwatch-source-partition')}:${h('driftwatch-source-offset')}`
            if (seen.has(at)) result.duplicates++
            else seen.add(at)
            const kindIndex =
              h('driftwatch-source-topic') === source
                ? produced.kindAt[Number(h('driftwatch-source-partition'))]?.[
                    Number(h('driftwatch-source-offset'))
                  ]
                : undefined
            const kind =
              kindIndex === undefined
                ? undefined
                : kindIndex >= 0
                  ? kinds[kindIndex]
                  : {
                      name: valid[kindIndex === PLAIN ? 0 : -2 - kindIndex]?.name ?? 'valid',
                      value: null,
                      reason: null,
                    }
            if (kind === undefined || kind.reason !== reason) {
              if (result.wrongReason.length < 20)
                result.wrongReason.push({
                  at,
                  kind: kind?.name ?? '(no such source offset)',
                  expected: kind?.reason ?? null,
                  got: reason,
                })
              continue
            }
            const expected = kind.value ?? Buffer.alloc(0)
            const got = message.value ?? Buffer.alloc(0)
            const truncated = h('driftwatch-truncated') !== ''
            const same = truncated
              ? got.length < expected.length && expected.subarray(0, got.length).equals(got)
              : got.equals(expected)
            if (!same && result.wrongBytes.length < 20)
              result.wrongBytes.push({ at, kind: kind.name })
          }
          result.distinct = seen.size
          if (result.distinct >= produced.bad) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
    })
  } finally {
    await consumer.disconnect()
  }
  return result
}

// ---------------------------------------------------------------------------------------------

describe('bad input between valid events on a real topic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-fault-bad-'))
  const names = streamNames()
  const started = Date.now()
  const kinds = badKinds(started)
  const valid = validKinds()
  let kafka: Kafka
  let admin: Admin | undefined
  let producer: Producer | undefined
  let detector: ServedDetector | undefined
  let known: KnownProducer
  const result = {
    exactBad: 0,
    exactValid: 0,
    rounds: 0,
    bigRounds: 0,
    rssWarmKiB: 0,
    rssEndKiB: 0,
    rssMaxKiB: 0,
    rssSamples: [] as number[],
    heapWarmMiB: '',
    heapEndMiB: '',
    retainedWarm: { heap: 0, external: 0 },
    retainedEnd: { heap: 0, external: 0 },
    badAtWarm: 0,
    metrics: new Map<string, number>(),
    consumedMetric: 0,
    counts: { rows: 0, perFeature: new Map<string, number>() },
    deadLetters: undefined as DeadLetterCheck | undefined,
    exitDuringRun: undefined as ReturnType<ServedDetector['exit']>,
    stopExit: undefined as { code: number | null; signal: NodeJS.Signals | null } | undefined,
    bulkSeconds: 0,
    produceSeconds: 0,
    cpuSeconds: 0,
  }

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: `fault-bad-${names.id}`,
      brokers: kafkaBrokers().split(','),
      logLevel: logLevel.NOTHING,
    })
    admin = kafka.admin()
    await admin.connect()
    // The corpus' biggest entries are ~1.1 MB: over the broker's default 1 MiB, as a producer
    // with a raised limit could write them. The dead-letter topic is left to the detector.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: names.input,
          numPartitions: PARTITIONS,
          replicationFactor: 1,
          configEntries: [{ name: 'max.message.bytes', value: String(4 * 1_048_576) }],
        },
      ],
    })
    const referenceFile = await writeReference(dir, 5000, 31)
    const httpPort = await freePort()
    const configPath = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, referenceFile, {
      httpPort,
      evaluateInterval: '1s',
      logLevel: 'warn',
    })
    const snapshotDir = join(dir, 'snapshots')
    mkdirSync(snapshotDir)
    detector = await startServedDetector(configPath, httpPort, join(dir, 'detector.log'), [
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${snapshotDir}`,
    ])
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    known = new KnownProducer(producer, names.input, kinds, valid)
    const d = detector

    // 1. The exact pass.
    for (let i = 0; i < kinds.length; i++) {
      known.addValid()
      known.addBad(i)
      if (known.pendingBytes() > 512 * 1024) await known.send()
    }
    known.addValid()
    for (let k = 0; k < valid.length; k++) for (let j = 0; j < 3; j++) known.addValid(-2 - k)
    await known.send()
    result.exactBad = known.produced.bad
    result.exactValid = known.produced.valid
    await waitFor(
      'the exact pass dead-lettered',
      async () =>
        sum(await invalidMetrics(d.url, names.input)) >= result.exactBad ? true : undefined,
      60_000,
    )

    // 2. The bulk pass: small kinds every round, the big ones every 400th round.
    const small = kinds
      .map((k, i) => ({ k, i }))
      .filter(({ k }) => (k.value?.length ?? 0) <= BIG_BYTES)
      .map(({ i }) => i)
    const big = kinds
      .map((k, i) => ({ k, i }))
      .filter(({ k }) => (k.value?.length ?? 0) > BIG_BYTES)
      .map(({ i }) => i)
    const rounds = Math.ceil(BULK_BAD_TARGET / small.length)
    result.rounds = rounds
    // Two parts: the warm-up (40 % of the rounds: every kind, the ~1 MB ones at rounds 100 and
    // 500), then the rest. After each, once everything is dead-lettered, the detector idles 12 s
    // (V8's memory reducer runs a full GC a few seconds after allocation stops) and its RSS is the
    // median of five readings a second apart. Two idle states of one process show whether
    // anything stays behind per event; readings under load mostly show how big the batches in
    // flight were (they are sampled too, four times a second, for the maximum and the series).
    const timeline: number[] = []
    // not while a heap snapshot is written: it needs memory of its own
    let snapshotting = false
    const rssTimer = setInterval(() => {
      if (snapshotting) return
      try {
        timeline.push(rssKiB(d.pid))
      } catch {
        // exited: reported below
      }
    }, 250)
    let activeMs = 0
    const produceRounds = async (from: number, to: number): Promise<void> => {
      const started = Date.now()
      for (let r = from; r < to; r++) {
        const order = r % 400 === 100 ? [...small, ...big] : small
        if (order.length > small.length) result.bigRounds++
        for (let j = 0; j < order.length; j++) {
          if (j % 8 === 0) known.addValid()
          known.addBad(order[j] as number)
        }
        if (known.pendingBytes() > 512 * 1024) await known.send()
      }
      await known.send()
      result.produceSeconds += (Date.now() - started) / 1000
      await waitFor(
        'every bad event so far dead-lettered',
        async () =>
          sum(await invalidMetrics(d.url, names.input)) >= known.produced.bad ? true : undefined,
        180_000,
      )
      activeMs += Date.now() - started
    }
    const idle = async (): Promise<{
      rss: number
      memory: string
      retained: { heap: number; external: number }
    }> => {
      await sleep(12_000)
      const rss = await medianRss(d.pid)
      const m = await memoryMetrics(d.url)
      const memory = `heap ${mib(m.heap)} of ${mib(m.heapTotal)} MiB, external ${mib(m.external)} MiB, ${rssSplit(d.pid)}`
      snapshotting = true
      try {
        return { rss, memory, retained: await retainedMemory(d.pid, d.url, snapshotDir) }
      } finally {
        // RSS settles back within a few seconds of the snapshot
        await sleep(5000)
        snapshotting = false
      }
    }
    try {
      const warmupRounds = Math.floor(rounds * 0.4)
      await produceRounds(0, warmupRounds)
      const warm = await idle()
      result.badAtWarm = known.produced.bad
      await produceRounds(warmupRounds, rounds)
      const end = await idle()
      result.rssWarmKiB = warm.rss
      result.rssEndKiB = end.rss
      result.heapWarmMiB = warm.memory
      result.heapEndMiB = end.memory
      result.retainedWarm = warm.retained
      result.retainedEnd = end.retained
    } finally {
      clearInterval(rssTimer)
    }
    result.bulkSeconds = activeMs / 1000
    result.cpuSeconds = cpuSeconds(d.pid)
    result.rssSamples = timeline
    result.rssMaxKiB = Math.max(...timeline)

    result.metrics = await invalidMetrics(d.url, names.input)
    const metricsText = await (await fetch(`${d.url}/metrics`)).text()
    result.consumedMetric = Number(
      /^driftwatch_events_consumed_total\{[^}]*model="fraud"[^}]*\} (\S+)$/m.exec(
        metricsText,
      )?.[1] ?? 0,
    )
    const client = new Redis(redisUrl())
    try {
      const store = new RedisSketchStore(client, names.keyPrefix)
      result.counts = await waitFor(
        'every valid event in Redis',
        async () => {
          const c = await storedCounts(store, 'fraud', started - 10_000, Date.now() + 60_000, 1000)
          return c.rows >= known.produced.valid ? c : undefined
        },
        60_000,
      ).catch(async () => storedCounts(store, 'fraud', started - 10_000, Date.now() + 60_000, 1000))
    } finally {
      client.disconnect()
    }
    result.deadLetters = await checkDeadLetters(
      kafka,
      names.deadLetter,
      names.input,
      known.produced,
      kinds,
      valid,
      90_000,
    )
    result.exitDuringRun = d.exit()
    result.stopExit = await d.stop()
  }, 420_000)

  afterAll(async () => {
    await detector?.stop()
    await producer?.disconnect().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    if (process.env['DRIFTWATCH_FAULTS_KEEP'] !== '1') rmSync(dir, { recursive: true, force: true })
  })

  it('has at least 50 bad kinds, with every decoder reason the service can reach', () => {
    const reasons = new Set(kinds.map((k) => k.reason))
    console.log(
      `[faults] bad input: ${kinds.length} bad kinds over ${reasons.size} reasons, ${valid.length} valid kinds besides plain events`,
    )
    expect(kinds.length).toBeGreaterThanOrEqual(50)
    expect(reasons.size).toBeGreaterThanOrEqual(14)
  })

  it('never crashes', () => {
    expect(result.exitDuringRun, logTail(detector?.logFile ?? '')).toBeUndefined()
    expect(result.stopExit).toEqual({ code: 0, signal: null })
  })

  it('counts every valid event exactly once, per feature (duplicate eventIds included)', () => {
    const { valid: produced } = known.produced
    console.log(
      `[faults] bad input: ${produced} valid events produced (${result.exactValid} in the exact pass), stored rows ${result.counts.rows}, consumed metric ${result.consumedMetric}`,
    )
    expect(result.counts.rows).toBe(produced)
    for (const feature of allFeatures)
      expect(result.counts.perFeature.get(feature), feature).toBe(produced)
    expect(result.consumedMetric).toBe(produced)
  })

  it('dead-letters every bad event once, with its bytes and the expected reason header', () => {
    const dl = result.deadLetters as DeadLetterCheck
    console.log(
      `[faults] bad input: ${known.produced.bad} bad events produced (${result.exactBad} in the exact pass, ${result.rounds} bulk rounds, ${result.bigRounds} with the ~1 MB entries); ` +
        `dead-letter topic: ${dl.total} messages, ${dl.distinct} distinct source offsets, ${dl.duplicates} duplicates; bulk pass took ${result.bulkSeconds.toFixed(1)} s without the idle pauses (producing ${result.produceSeconds.toFixed(1)} s), detector CPU ${result.cpuSeconds.toFixed(1)} s in all`,
    )
    expect(dl.wrongReason).toEqual([])
    expect(dl.wrongBytes).toEqual([])
    expect(dl.distinct).toBe(known.produced.bad)
    expect(dl.duplicates).toBe(0)
    expect(Object.fromEntries(dl.perReason)).toEqual(
      Object.fromEntries(known.produced.badPerReason),
    )
  })

  it('adds driftwatch_events_invalid_total up, per reason', () => {
    expect(Object.fromEntries(result.metrics)).toEqual(
      Object.fromEntries(known.produced.badPerReason),
    )
    expect(sum(result.metrics)).toBe(known.produced.bad)
  })

  it('keeps nothing per event: heap and Buffers after a full GC, warm-up vs end, within 15 %', () => {
    const { retainedWarm: warm, retainedEnd: end } = result
    const total = (m: { heap: number; external: number }): number => m.heap + m.external
    const growth = (total(end) - total(warm)) / total(warm)
    console.log(
      `[faults] bad input, retained after a full GC: heap ${mib(warm.heap)} → ${mib(end.heap)} MiB, ` +
        `external ${mib(warm.external)} → ${mib(end.external)} MiB (${result.badAtWarm} → ${known.produced.bad} bad events): ${(growth * 100).toFixed(1)} %`,
    )
    expect(total(warm)).toBeGreaterThan(0)
    expect(growth).toBeLessThan(0.15)
  })

  it('keeps RSS under half the Helm chart memory limit, under load and idle', () => {
    const every = Math.max(1, Math.floor(result.rssSamples.length / 25))
    console.log(
      `[faults] bad input RSS series under load (MiB, every ${every / 4} s of activity and idling): ${result.rssSamples
        .filter((_, i) => i % every === 0)
        .map((k) => Math.round(k / 1024))
        .join(' ')}`,
    )
    const growth = (result.rssEndKiB - result.rssWarmKiB) / result.rssWarmKiB
    console.log(
      `[faults] bad input RSS, idle: ${(result.rssWarmKiB / 1024).toFixed(1)} MiB after the warm-up (${result.badAtWarm} bad events; ${result.heapWarmMiB}), ` +
        `${(result.rssEndKiB / 1024).toFixed(1)} MiB at the end (${known.produced.bad}; ${result.heapEndMiB}): ${(growth * 100).toFixed(1)} %; ` +
        `under load max ${(result.rssMaxKiB / 1024).toFixed(1)} MiB over ${result.rssSamples.length} samples`,
    )
    const budgetKiB = chartMemoryLimit() / 2 / 1024
    expect(result.rssWarmKiB).toBeGreaterThan(0)
    expect(result.rssMaxKiB).toBeLessThan(budgetKiB)
    expect(result.rssEndKiB).toBeLessThan(budgetKiB)
  })
})
