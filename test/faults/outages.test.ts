// docs/architecture.md, guarantee 5, "outages pause, never lose", proved against real services: the
// built `driftwatch run` process consumes a steady stream while first its Redis and then its
// Kafka broker go away and come back on the same port with their data.
//
// Redis: our own redis-server with the AOF on (appendfsync always) in a kept directory, killed
// with SIGKILL — a crash, not a polite shutdown — and started again on the same port and
// directory 30 s later. With `appendfsync always` Redis writes a command to the AOF before it
// answers, so every flush the detector saw succeed is in the file and survives the kill; this is
// the setting under which "acknowledged" means "held". (An RDB `SHUTDOWN SAVE` would only prove
// the easier case of a clean stop.)
//
// Kafka: our own single-node KRaft broker in a kept directory, stopped and started again on the
// same ports and log dirs (so topics, the group's committed offsets and the data are all still
// there). Producers cannot write to a dead broker, so ours pauses while it is down; the detector
// is what is under test.
//
// Measured throughout: /readyz every 250 ms, the group's committed offsets (kafkajs admin
// fetchOffsets) every 500 ms, the process' liveness. At the end: exact per-feature counts in Redis.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import { startKafka, type LocalKafka } from '../../src/adapters/local-services/kafka.js'
import { startRedis, type LocalRedis } from '../../src/adapters/local-services/redis.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { logTail, startServedDetector, type ServedDetector } from '../helpers/detector-process.js'
import {
  categoricalFeatures,
  numericalFeatures,
  predictionEvents,
} from '../helpers/prediction-events.js'
import { storedCounts, waitFor } from '../helpers/redis-counts.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'
import {
  streamNames,
  writeReference,
  writeStreamConfig,
  type StreamNames,
} from '../helpers/stream.js'

const allFeatures = [...numericalFeatures, ...Object.keys(categoricalFeatures)]
const PARTITIONS = 3
const BUCKET_MS = 1000
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// The detector as a process

/** The detector's warnings and errors, by message, with how often each came. */
function logSummary(path: string): string {
  const counts = new Map<string, number>()
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as {
        level?: number
        msg?: string
        component?: string
        err?: string
        error?: string
      }
      if ((entry.level ?? 0) < 40) continue
      const key =
        `${entry.level === 40 ? 'warn' : 'error'} [${entry.component ?? ''}] ${entry.msg ?? ''}${entry.err === undefined ? '' : `: ${entry.err}`}${entry.error === undefined ? '' : ` (${entry.error})`}`.slice(
          0,
          200,
        )
      counts.set(key, (counts.get(key) ?? 0) + 1)
    } catch {
      // not a log line
    }
  }
  return [...counts].map(([key, n]) => `  ${n} × ${key}`).join('\n')
}

interface ReadyAnswer {
  readonly status: number
  readonly body: { ready?: boolean; checks?: Record<string, { ok: boolean }> } | null
}

async function readyz(url: string): Promise<ReadyAnswer> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })
    return { status: res.status, body: (await res.json()) as ReadyAnswer['body'] }
  } catch {
    return { status: 0, body: null }
  }
}

// ---------------------------------------------------------------------------------------------
// Samplers and the steady stream

interface Sample<T> {
  readonly t: number
  readonly value: T
}

/**
 * Starts `probe` every `everyMs` until stopped, without waiting for the one before (a readiness
 * answer may take the Kafka probe's 2 s), and keeps every answer with the time it was asked.
 */
function sampler<T>(
  probe: () => Promise<T>,
  everyMs: number,
): { samples: Array<Sample<T>>; stop: () => Promise<void> } {
  const samples: Array<Sample<T>> = []
  const pending = new Set<Promise<void>>()
  const timer = setInterval(() => {
    const t = Date.now()
    const p: Promise<void> = probe()
      .then((value) => void samples.push({ t, value }))
      // a probe that throws (Kafka admin while the broker is down) is simply not recorded
      .catch(() => undefined)
      .finally(() => pending.delete(p))
    pending.add(p)
  }, everyMs)
  return {
    samples,
    stop: async () => {
      clearInterval(timer)
      await Promise.all([...pending])
      samples.sort((a, b) => a.t - b.t)
    },
  }
}

async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [answer] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return (answer?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
}

async function endOffsetsTotal(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0)
}

/** Produces `perTick` events and one bad one every 100 ms, event time = wall clock, while `on`. */
class SteadyStream {
  produced = 0
  bad = 0
  #on = true
  #stopped = false
  #batch = 0
  readonly #loop: Promise<void>

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly perTick: number,
  ) {
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const started = Date.now()
      if (this.#on) {
        const messages = [
          ...predictionEvents(this.perTick, Date.now(), 1, {
            model: 'fraud',
            seed: 1000 + this.#batch,
            idPrefix: `b${this.#batch}`,
          }),
        ]
        this.#batch++
        // And one bad event per partition: dead letters must come out exactly once across the
        // outage too, and every batch the outage interrupts holds one.
        const bad = Array.from({ length: PARTITIONS }, (_, partition) => ({
          partition,
          value: `{"not json ${this.#batch}`,
        }))
        await this.producer.send({ topic: this.topic, acks: -1, messages: [...messages, ...bad] })
        this.produced += messages.length
        this.bad += bad.length
      }
      await sleep(Math.max(0, 100 - (Date.now() - started)))
    }
  }

  /** Stops producing after the send in flight, which is counted. */
  async pause(): Promise<void> {
    this.#on = false
    await sleep(250)
  }

  resume(): void {
    this.#on = true
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
  }
}

function makeKafka(brokers: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  })
}

/** Creates the input topic, writes the config and starts the detector and a producer. */
async function startScenario(
  admin: Admin,
  kafka: Kafka,
  dir: string,
  names: StreamNames,
  referenceSeed: number,
  connection: { redisUrl?: string; brokers?: string },
): Promise<{ detector: ServedDetector; producer: Producer }> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: names.input, numPartitions: PARTITIONS, replicationFactor: 1 }],
  })
  const referenceFile = await writeReference(dir, 5000, referenceSeed)
  const httpPort = await freePort()
  const configPath = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, referenceFile, {
    ...connection,
    httpPort,
    evaluateInterval: '1s',
  })
  const detector = await startServedDetector(configPath, httpPort, join(dir, 'detector.log'))
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  return { detector, producer }
}

/**
 * Once the stream has stopped: the counts in Redis (waiting for them to be exact), the committed
 * offsets (waiting for them to reach the end), the dead letters and the invalid-events metric.
 */
async function settleAndMeasure(
  kafka: Kafka,
  admin: Admin,
  redis: string,
  names: StreamNames,
  from: number,
  detectorUrl: string,
  stream: { produced: number; bad: number },
): Promise<{
  counts: { rows: number; perFeature: Map<string, number> }
  committedEnd: number
  deadLetters: { total: number; distinct: number; reasons: string[] }
  invalidMetric: number
  endOffsets: number
}> {
  const counts = await exactCounts(redis, names, from, stream.produced, 90_000)
  await waitFor(
    'the committed offsets to reach the end',
    async () =>
      (await committedTotal(admin, names.groupId, names.input)) === stream.produced + stream.bad
        ? true
        : undefined,
    30_000,
  ).catch(() => undefined)
  return {
    counts,
    committedEnd: await committedTotal(admin, names.groupId, names.input),
    deadLetters: await readDeadLetters(kafka, names.deadLetter, names.input, stream.bad, 30_000),
    invalidMetric: await invalidTotal(detectorUrl),
    endOffsets: await endOffsetsTotal(admin, names.input),
  }
}

async function exactCounts(
  redis: string,
  names: StreamNames,
  from: number,
  expected: number,
  timeoutMs: number,
): Promise<{ rows: number; perFeature: Map<string, number> }> {
  const client = new Redis(redis)
  try {
    const store = new RedisSketchStore(client, names.keyPrefix)
    let last = { rows: -1, perFeature: new Map<string, number>() }
    try {
      return await waitFor(
        `${expected} events in Redis`,
        async () => {
          last = await storedCounts(store, 'fraud', from, Date.now() + 60_000, BUCKET_MS)
          return last.rows === expected ? last : undefined
        },
        timeoutMs,
        500,
      )
    } catch {
      return last
    }
  } finally {
    client.disconnect()
  }
}

/** Dead letters of `source` on `topic`: how many, and how many distinct source offsets. */
async function readDeadLetters(
  kafka: Kafka,
  topic: string,
  source: string,
  expected: number,
  timeoutMs: number,
): Promise<{ total: number; distinct: number; reasons: string[] }> {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${topic}-${Date.now()}` })
  const seen = new Set<string>()
  const reasons = new Set<string>()
  let total = 0
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      void consumer.run({
        eachMessage: async ({ message }) => {
          const h = (name: string): string => message.headers?.[name]?.toString() ?? ''
          if (h('driftwatch-source-topic') !== source) return
          total++
          reasons.add(h('driftwatch-reason'))
          seen.add(`${h('driftwatch-source-partition')}:${h('driftwatch-source-offset')}`)
          if (seen.size >= expected) {
            clearTimeout(timer)
            // a little longer, for duplicates behind the last one
            setTimeout(resolve, 1500)
          }
        },
      })
    })
  } finally {
    await consumer.disconnect()
  }
  return { total, distinct: seen.size, reasons: [...reasons] }
}

async function invalidTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return [...text.matchAll(/^driftwatch_events_invalid_total\{[^}]*\} (\S+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  )
}

function firstIndex<T>(
  samples: ReadonlyArray<Sample<T>>,
  from: number,
  test: (v: T) => boolean,
): number {
  return samples.findIndex((s) => s.t >= from && test(s.value))
}

const redisNotOk = (a: ReadyAnswer): boolean =>
  a.status === 503 && a.body?.checks?.['redis']?.ok === false
const kafkaNotOk = (a: ReadyAnswer): boolean =>
  a.status === 503 && a.body?.checks?.['kafka']?.ok === false

// ---------------------------------------------------------------------------------------------
// The two scenarios run at the same time (each on its own services), to keep the file near two
// minutes; each describe waits for its own.

const starters: Array<() => void> = []
beforeAll(() => {
  for (const start of starters) start()
})

describe('Redis outage: 30 s down (SIGKILL), started again on the same port with its AOF', () => {
  const OUTAGE_MS = 30_000
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-fault-redis-'))
  const names = streamNames()
  const started = Date.now()
  let redis: LocalRedis | undefined
  let detector: ServedDetector | undefined
  let kafka: Kafka
  let admin: Admin
  let producer: Producer
  const result = {
    killedAt: 0,
    restartedAt: 0,
    downMs: 0,
    produced: 0,
    bad: 0,
    deadLetters: { total: 0, distinct: 0, reasons: [] as string[] },
    invalidMetric: 0,
    counts: { rows: 0, perFeature: new Map<string, number>() },
    readyzSamples: [] as Array<Sample<ReadyAnswer>>,
    committedSamples: [] as Array<Sample<number>>,
    committedAtKill: 0,
    committedEnd: 0,
    endOffsets: 0,
    exitDuringRun: undefined as ReturnType<ServedDetector['exit']>,
    stopExit: undefined as { code: number | null; signal: NodeJS.Signals | null } | undefined,
    pausedLogLines: 0,
    resumedLogLines: 0,
    refusedBatchLogLines: 0,
  }

  let scenario: Promise<void> | undefined
  starters.push(() => {
    scenario = run()
    scenario.catch(() => undefined) // reported by the beforeAll below
  })
  beforeAll(() => scenario, 240_000)

  async function run(): Promise<void> {
    redis = await startRedis({ dataDir: join(dir, 'redis'), appendOnly: true })
    kafka = makeKafka(kafkaBrokers(), `fault-redis-${names.id}`)
    admin = kafka.admin()
    await admin.connect()
    ;({ detector, producer } = await startScenario(admin, kafka, dir, names, 17, {
      redisUrl: redis.url,
    }))

    const stream = new SteadyStream(producer, names.input, 50) // ~500 events/s
    const url = detector.url
    const ready = sampler(() => readyz(url), 250)
    const committed = sampler(() => committedTotal(admin, names.groupId, names.input), 500)
    await sleep(6000)
    result.committedAtKill = await committedTotal(admin, names.groupId, names.input)

    // The crash.
    const port = redis.port
    process.kill(redis.pid, 'SIGKILL')
    result.killedAt = Date.now()
    await redis.stop() // only settles the supervisor: the process is already gone
    await sleep(OUTAGE_MS)
    redis = await startRedis({ dataDir: join(dir, 'redis'), appendOnly: true, port })
    result.restartedAt = Date.now()
    result.downMs = result.restartedAt - result.killedAt

    await sleep(6000)
    await stream.stop()
    result.produced = stream.produced
    result.bad = stream.bad
    Object.assign(
      result,
      await settleAndMeasure(kafka, admin, redis.url, names, started - 5000, url, stream),
    )
    await ready.stop()
    await committed.stop()
    result.readyzSamples = ready.samples
    result.committedSamples = committed.samples
    result.exitDuringRun = detector.exit()
    result.stopExit = await detector.stop()
    const log = readFileSync(detector.logFile, 'utf8')
    result.pausedLogLines = log.split('\n').filter((l) => l.includes('pausing consumption')).length
    result.resumedLogLines = log
      .split('\n')
      .filter((l) => l.includes('resuming consumption')).length
    result.refusedBatchLogLines = log
      .split('\n')
      .filter((l) => l.includes('Error when calling eachBatch')).length
  }

  afterAll(async () => {
    await detector?.stop()
    await producer?.disconnect().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    await redis?.stop()
    if (process.env['DRIFTWATCH_FAULTS_KEEP'] !== '1') rmSync(dir, { recursive: true, force: true })
  })

  it('keeps running: no crash, and a clean exit on SIGTERM afterwards', () => {
    console.log(`[faults] detector warnings and errors:\n${logSummary(detector?.logFile ?? '')}`)
    expect(result.exitDuringRun, logTail(detector?.logFile ?? '')).toBeUndefined()
    expect(result.stopExit).toEqual({ code: 0, signal: null })
    // The ingest path saw the outage one of two ways, depending on where the kill fell: a flush
    // failed (consumption paused, then resumed), or every batch needed state from Redis and was
    // refused (kafkajs delivers it again later) while nothing unflushed was left to fail a flush.
    expect(result.pausedLogLines + result.refusedBatchLogLines).toBeGreaterThanOrEqual(1)
    if (result.pausedLogLines > 0) expect(result.resumedLogLines).toBeGreaterThanOrEqual(1)
  })

  it('answers /readyz 503 with redis not ok while Redis is down, 200 once it is back', () => {
    const { readyzSamples: samples, killedAt, restartedAt } = result
    const firstDown = firstIndex(samples, killedAt, redisNotOk)
    expect(firstDown).toBeGreaterThanOrEqual(0)
    const detectMs = (samples[firstDown] as Sample<ReadyAnswer>).t - killedAt
    expect(detectMs).toBeLessThan(5000)
    // status 0: no answer within 5 s (a loaded machine), neither ready nor not: counted apart
    const during = samples.filter(
      (s) => s.t >= killedAt + detectMs && s.t < restartedAt && s.value.status !== 0,
    )
    expect(during.length).toBeGreaterThan(50)
    expect(
      during
        .filter((s) => !redisNotOk(s.value))
        .map((s) => ({ t: s.t - killedAt, status: s.value.status })),
    ).toEqual([])
    const firstUp = firstIndex(samples, restartedAt, (a) => a.status === 200)
    expect(firstUp).toBeGreaterThanOrEqual(0)
    const recoverMs = (samples[firstUp] as Sample<ReadyAnswer>).t - restartedAt
    expect(recoverMs).toBeLessThan(10_000)
    // and it stays ready afterwards
    expect(
      samples
        .slice(firstUp)
        .filter((s) => s.value.status !== 200 && s.value.status !== 0)
        .map((s) => ({ t: s.t - restartedAt, ...s.value })),
    ).toEqual([])
    const unanswered = samples.filter((s) => s.value.status === 0).length
    console.log(
      `[faults] redis: readyz 503 ${detectMs} ms after the kill, 200 again ${recoverMs} ms after the restart (${samples.length} probes, ${unanswered} unanswered within 5 s)`,
    )
  })

  it('pauses consumption: the committed offset does not move while Redis is down', () => {
    const { committedSamples: samples, killedAt, restartedAt } = result
    // A commit already in flight at the kill may land just after it: its flush was in Redis.
    const during = samples.filter((s) => s.t >= killedAt + 3000 && s.t < restartedAt)
    expect(during.length).toBeGreaterThan(20)
    const frozen = (during[0] as Sample<number>).value
    expect(during.filter((s) => s.value !== frozen)).toEqual([])
    expect(frozen).toBeGreaterThan(0)
    const after = samples.filter((s) => s.t > restartedAt)
    expect(Math.max(...after.map((s) => s.value))).toBeGreaterThan(frozen)
    console.log(
      `[faults] redis: committed offset ${result.committedAtKill} at the kill, frozen at ${frozen} for ${during.length} samples, ${result.committedEnd} at the end`,
    )
  })

  it('loses nothing: every produced event is counted exactly once, per feature', () => {
    const { produced, counts } = result
    console.log(
      `[faults] redis outage: down ${result.downMs} ms; produced ${produced}, stored rows ${counts.rows}, ` +
        `per feature min ${Math.min(...counts.perFeature.values())} max ${Math.max(...counts.perFeature.values())}; ` +
        `committed ${result.committedEnd} of ${result.endOffsets}`,
    )
    expect(result.downMs).toBeGreaterThanOrEqual(OUTAGE_MS)
    expect(produced).toBeGreaterThan(15_000)
    expect(counts.rows).toBe(produced)
    for (const feature of allFeatures)
      expect(counts.perFeature.get(feature), feature).toBe(produced)
    expect(result.endOffsets).toBe(produced + result.bad)
    expect(result.committedEnd).toBe(produced + result.bad)
  })

  it('dead-letters each bad event exactly once, and the metric agrees', () => {
    console.log(
      `[faults] ${result.bad} bad events produced; dead-letter topic: ${result.deadLetters.total} letters, ${result.deadLetters.distinct} distinct offsets; invalid metric ${result.invalidMetric}`,
    )
    expect(result.deadLetters.reasons).toEqual(['invalid_json'])
    expect(result.deadLetters.distinct).toBe(result.bad)
    expect(result.deadLetters.total).toBe(result.bad)
    expect(result.invalidMetric).toBe(result.bad)
  })
})

describe('Kafka outage: the broker stopped and started again (same ports, same log dirs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-fault-kafka-'))
  const names = streamNames()
  const started = Date.now()
  let broker: LocalKafka | undefined
  let detector: ServedDetector | undefined
  let kafka: Kafka
  let admin: Admin | undefined
  let producer: Producer | undefined
  const result = {
    stoppedAt: 0,
    stopMs: 0,
    restartedAt: 0,
    restartMs: 0,
    downMs: 0,
    produced: 0,
    bad: 0,
    deadLetters: { total: 0, distinct: 0, reasons: [] as string[] },
    invalidMetric: 0,
    producedBefore: 0,
    counts: { rows: 0, perFeature: new Map<string, number>() },
    readyzSamples: [] as Array<Sample<ReadyAnswer>>,
    committedEnd: 0,
    endOffsets: 0,
    exitDuringRun: undefined as ReturnType<ServedDetector['exit']>,
    stopExit: undefined as { code: number | null; signal: NodeJS.Signals | null } | undefined,
  }

  let scenario: Promise<void> | undefined
  starters.push(() => {
    scenario = run()
    scenario.catch(() => undefined) // reported by the beforeAll below
  })
  beforeAll(() => scenario, 300_000)

  async function run(): Promise<void> {
    const kafkaDir = join(dir, 'kafka')
    broker = await startKafka({ dataDir: kafkaDir })
    const ports = { port: broker.port, controllerPort: broker.controllerPort }
    kafka = makeKafka(broker.brokers, `fault-kafka-${names.id}`)
    admin = kafka.admin()
    await admin.connect()
    ;({ detector, producer } = await startScenario(admin, kafka, dir, names, 23, {
      brokers: broker.brokers,
    }))

    const stream = new SteadyStream(producer, names.input, 50)
    const url = detector.url
    const ready = sampler(() => readyz(url), 250)
    await sleep(6000)
    await stream.pause()
    result.producedBefore = stream.produced
    await admin.disconnect()
    await producer.disconnect()

    const stopStarted = Date.now()
    await broker.stop()
    result.stoppedAt = Date.now()
    result.stopMs = result.stoppedAt - stopStarted
    await sleep(10_000)
    const restartStarted = Date.now()
    broker = await startKafka({ dataDir: kafkaDir, ports })
    result.restartedAt = Date.now()
    result.restartMs = result.restartedAt - restartStarted
    result.downMs = result.restartedAt - result.stoppedAt

    await producer.connect()
    await admin.connect()
    stream.resume()
    await sleep(6000)
    await stream.stop()
    result.produced = stream.produced
    result.bad = stream.bad
    Object.assign(
      result,
      await settleAndMeasure(kafka, admin, redisUrl(), names, started - 5000, url, stream),
    )
    await ready.stop()
    result.readyzSamples = ready.samples
    result.exitDuringRun = detector.exit()
    result.stopExit = await detector.stop()
  }

  afterAll(async () => {
    await detector?.stop()
    await producer?.disconnect().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    await broker?.stop()
    if (process.env['DRIFTWATCH_FAULTS_KEEP'] !== '1') rmSync(dir, { recursive: true, force: true })
  })

  it('keeps running: no crash, and a clean exit on SIGTERM afterwards', () => {
    console.log(`[faults] detector warnings and errors:\n${logSummary(detector?.logFile ?? '')}`)
    expect(result.exitDuringRun, logTail(detector?.logFile ?? '')).toBeUndefined()
    expect(result.stopExit).toEqual({ code: 0, signal: null })
  })

  it('is not ready while the broker is down, and ready again after', () => {
    const { readyzSamples: samples, stoppedAt, restartedAt } = result
    const firstDown = firstIndex(samples, stoppedAt - result.stopMs, kafkaNotOk)
    expect(
      firstDown,
      JSON.stringify(samples.filter((s) => s.t > stoppedAt).slice(0, 3)),
    ).toBeGreaterThanOrEqual(0)
    const detectMs = (samples[firstDown] as Sample<ReadyAnswer>).t - stoppedAt
    expect(detectMs).toBeLessThan(15_000)
    // Down until the restarted broker answers (startKafka returns once it serves group requests;
    // the detector may reconnect a moment before that).
    const during = samples.filter(
      (s) =>
        s.t >= stoppedAt + Math.max(0, detectMs) &&
        s.t < restartedAt - 2000 &&
        s.value.status !== 0,
    )
    expect(during.length).toBeGreaterThan(20)
    expect(
      during
        .filter((s) => !kafkaNotOk(s.value))
        .map((s) => ({ t: s.t - stoppedAt, status: s.value.status })),
    ).toEqual([])
    // Redis is fine all along: a flush that cannot write the dead-letter topic blames Kafka.
    expect(
      during
        .filter((s) => s.value.body?.checks?.['redis']?.ok !== true)
        .map((s) => ({ t: s.t - stoppedAt, checks: s.value.body?.checks })),
    ).toEqual([])
    const firstUp = firstIndex(samples, restartedAt, (a) => a.status === 200)
    expect(firstUp).toBeGreaterThanOrEqual(0)
    const recoverMs = (samples[firstUp] as Sample<ReadyAnswer>).t - restartedAt
    expect(recoverMs).toBeLessThan(30_000)
    console.log(
      `[faults] kafka: readyz 503 ${detectMs} ms after the broker stopped, 200 again ${recoverMs} ms after it was back`,
    )
  })

  it('resumes consumption and loses nothing: exact per-feature counts', () => {
    const { produced, counts } = result
    console.log(
      `[faults] kafka outage: stop took ${result.stopMs} ms, down ${result.downMs} ms (restart took ${result.restartMs} ms); ` +
        `produced ${result.producedBefore} before + ${produced - result.producedBefore} after = ${produced}, stored rows ${counts.rows}, ` +
        `per feature min ${Math.min(...counts.perFeature.values())} max ${Math.max(...counts.perFeature.values())}; committed ${result.committedEnd} of ${result.endOffsets}`,
    )
    expect(result.producedBefore).toBeGreaterThan(2000)
    expect(produced).toBeGreaterThan(result.producedBefore + 1000)
    expect(counts.rows).toBe(produced)
    for (const feature of allFeatures)
      expect(counts.perFeature.get(feature), feature).toBe(produced)
    expect(result.endOffsets).toBe(produced + result.bad)
    expect(result.committedEnd).toBe(produced + result.bad)
  })

  it('dead-letters each bad event exactly once, and the metric agrees', () => {
    console.log(
      `[faults] ${result.bad} bad events produced; dead-letter topic: ${result.deadLetters.total} letters, ${result.deadLetters.distinct} distinct offsets; invalid metric ${result.invalidMetric}`,
    )
    expect(result.deadLetters.reasons).toEqual(['invalid_json'])
    expect(result.deadLetters.distinct).toBe(result.bad)
    expect(result.deadLetters.total).toBe(result.bad)
    expect(result.invalidMetric).toBe(result.bad)
  })
})
