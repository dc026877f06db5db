// Rebalances (issue "Prove it under faults", part 2; docs/architecture.md, guarantees 1 and 4).
//
// 1. Detector processes join and leave one consumer group while a 6-partition topic is being
//    written: start one, add two, stop one with SIGTERM, add one, then freeze one (SIGSTOP) past
//    its session timeout and wake it (a zombie). Every (bucket, partition) cell in Redis must hold
//    exactly the events produced into it, and the reports topic must carry exactly one report per
//    window: no reportId twice, no window twice, none missing.
// 2. Fencing, at unit level on the real Redis lease store: two Evaluators (src/app/evaluator.ts),
//    the first of which loses its lease in the middle of an evaluation. The stale one must publish
//    nothing (a recording EventSink shows what each one sent).
// 3. The ingest loop's stale-owner paths, in process with two Ingestors (src/app/ingest.ts): a
//    zombie's flush, and a partition revoked while a flush is in flight.
//
// As in crash-safety.test.ts, every partition gets a checkpoint at offset 0 before the detectors
// start and the last evaluation is recorded at T0, so every window from T0 on is reported.

import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Kafka } from 'kafkajs'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { snapshotToJSON } from '../../src/adapters/files/reference-file.js'
import { createMetrics } from '../../src/adapters/metrics/metrics.js'
import { RedisLeaseStore } from '../../src/adapters/redis/lease-store.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { Evaluator, type EvaluatedModel } from '../../src/app/evaluator.js'
import { Ingestor, type ModelRuntime } from '../../src/app/ingest.js'
import { driftSectionSchema, driftSettingsOf } from '../../src/config/drift.js'
import { createDefaultRegistry } from '../../src/core/drift-tests/registry.js'
import { addRow, createDatasetProfile, layoutOf } from '../../src/core/profile/dataset.js'
import {
  compactedField,
  decodeBucket,
  encodeBucket,
  seriesKey,
} from '../../src/core/stream/bucket-codec.js'
import { initialEvaluationState, type WindowReport } from '../../src/core/stream/evaluation.js'
import type {
  BatchControl,
  EventSink,
  EventSource,
  SourceBatch,
} from '../../src/ports/event-source.js'
import type { PartitionRef, SketchStore } from '../../src/ports/sketch-store.js'
import {
  killAllDetectors,
  startDetector,
  stopGracefully,
  type Detector,
} from '../helpers/detector-process.js'
import {
  faultNumerical,
  faultReference,
  faultRow,
  produceInOrder,
} from '../helpers/fault-stream.js'
import { RecordingSink, ScriptedSource } from '../helpers/recording-ports.js'
import { mulberry32 } from '../helpers/random.js'
import { waitFor, withStores } from '../helpers/redis-counts.js'
import { deletePrefix, testPrefix } from '../helpers/redis-stores.js'
import { redisUrl } from '../helpers/services.js'
import {
  createTopics,
  readAll,
  streamNames,
  testKafka,
  writeStreamConfig,
  type StreamNames,
} from '../helpers/stream.js'

const SEED = Number(process.env['DRIFTWATCH_FAULT_SEED'] ?? 20_261_127)
const EVENTS = Number(process.env['DRIFTWATCH_REBALANCE_EVENTS'] ?? 240_000)
const PARTITIONS = 6
/** The stream is written over at least this long (ms). */
const PRODUCE_MS = Number(process.env['DRIFTWATCH_REBALANCE_PRODUCE_MS'] ?? 45_000)
const MODEL = 'fraud'
const STEP_MS = 1
const BUCKET_MS = 1000
const WINDOW_MS = 10_000
const LATENESS_MS = 1000
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / WINDOW_MS) * WINDOW_MS
const END = T0 + EVENTS * STEP_MS
const LAST_WINDOW_END = Math.floor((END - STEP_MS - LATENESS_MS) / WINDOW_MS) * WINDOW_MS
const WINDOWS = (LAST_WINDOW_END - T0) / WINDOW_MS

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits for `entered`, unless `running` settles first (then the gate was never reached: fail). */
async function reached(entered: Promise<void>, running: Promise<unknown>): Promise<void> {
  await Promise.race([
    entered,
    running.then(
      () => Promise.reject(new Error('finished without reaching the gate')),
      (error: unknown) => Promise.reject(error instanceof Error ? error : new Error(String(error))),
    ),
  ])
}

// ---- 1. instances join and leave mid-stream ----

interface Produced {
  /** (bucket start / partition) → events produced into it */
  readonly cells: Map<string, number>
  readonly ends: number[]
}

async function produce(kafka: Kafka, topic: string): Promise<Produced> {
  // Paced over at least PRODUCE_MS so that every membership change meets events still arriving.
  const cells = new Map<string, number>()
  const { ends } = await produceInOrder(
    kafka,
    topic,
    {
      events: EVENTS,
      partitions: PARTITIONS,
      seed: SEED + 100,
      model: MODEL,
      idPrefix: 'r',
      t0: T0,
      stepMs: STEP_MS,
      produceMs: PRODUCE_MS,
    },
    ({ partition, timestamp }) => {
      const key = `${Math.floor(timestamp / BUCKET_MS) * BUCKET_MS}/${partition}`
      cells.set(key, (cells.get(key) ?? 0) + 1)
    },
  )
  return { cells, ends }
}

interface StreamOutcome {
  readonly produced: Produced
  readonly counted: number
  readonly lost: number
  readonly duplicated: number
  readonly late: number
  readonly perFeature: Map<string, number>
  readonly reports: WindowReport[]
  readonly steps: string[]
  /** Checkpointed progress when each membership change was made. */
  readonly changesAt: number[]
  readonly exitCodes: Array<number | null>
  readonly evidence: Record<string, number>
  readonly ms: number
}

let dir = ''
let stream: StreamOutcome

async function runMembershipChanges(): Promise<StreamOutcome> {
  const kafka = testKafka()
  const names: StreamNames = streamNames()
  await createTopics(kafka, [{ topic: names.input, numPartitions: PARTITIONS }])
  const reference = join(dir, 'reference.json')
  await writeFile(reference, JSON.stringify(snapshotToJSON(faultReference(SEED + 1))))
  const config = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, reference)
  const refs = Array.from({ length: PARTITIONS }, (_, partition) => ({
    topic: names.input,
    partition,
  }))
  return withStores(names.keyPrefix, async ({ sketches, leases }) => {
    // Partitions registered at offset 0 and the last evaluation at T0 (see the file header).
    const registered = await sketches.applyFlush({
      model: MODEL,
      partitions: refs.map((ref) => ({
        ref,
        expected: null,
        next: { nextOffset: '0', watermark: T0 - 1, late: 0 },
      })),
      buckets: [],
      retentionMs: 3_600_000,
    })
    expect(registered.status).toBe('applied')
    const token = (await leases.acquire(MODEL, 'test-setup', 60_000)) as number
    expect(
      await leases.commitEvaluation(MODEL, token, T0, JSON.stringify(initialEvaluationState)),
    ).toBe('committed')
    await leases.release(MODEL, 'test-setup')

    const progress = async (): Promise<number> => {
      let sum = 0
      for (const c of (await sketches.loadCheckpoints(MODEL, refs)).values())
        sum += Number(c.nextOffset)
      return sum
    }
    const started = performance.now()
    const logs: string[] = []
    const launch = (name: string): Detector => {
      const log = join(dir, `${name}.log`)
      logs.push(log)
      return startDetector(config, log)
    }
    const steps: string[] = []
    const changesAt: number[] = []
    const step = async (what: string, action: () => Promise<void> | void): Promise<void> => {
      const at = await progress()
      const from = performance.now()
      changesAt.push(at)
      await action()
      steps.push(
        `${((from - started) / 1000).toFixed(1)} s, ${at} of ${EVENTS} checkpointed: ${what} (${((performance.now() - from) / 1000).toFixed(1)} s)`,
      )
    }
    const reach = (share: number): Promise<true> =>
      waitFor(
        `${share * 100} % of the stream counted`,
        async () => ((await progress()) >= share * EVENTS ? true : undefined),
        300_000,
        100,
      )

    const producing = produce(kafka, names.input)
    producing.catch(() => undefined)
    const exitCodes: Array<number | null> = []
    const a = launch('a')
    await reach(0.1)
    let b: Detector | undefined
    let c: Detector | undefined
    await step('start b and c', () => {
      b = launch('b')
      c = launch('c')
    })
    await reach(0.3)
    // SIGTERM is handled once the service has started (src/cli/run.ts): before that it kills the
    // process outright. Stop b only once it is running, so that this is a graceful leave.
    await waitFor(
      'b running',
      async () =>
        readFileSync((b as Detector).log, 'utf8').includes('"msg":"driftwatch running"')
          ? true
          : undefined,
      120_000,
      100,
    )
    await step(
      'stop b (SIGTERM)',
      async () => void exitCodes.push((await stopGracefully([b as Detector]))[0] ?? null),
    )
    await reach(0.5)
    let d: Detector | undefined
    await step('start d', () => void (d = launch('d')))
    // A zombie: c freezes (a GC pause, a stalled VM) past its 30 s session timeout, the group
    // hands its partitions to a and d, then c wakes up with whatever it had not flushed and its
    // timers firing at once: its flush must be fenced, and it must rejoin.
    await reach(0.65)
    await step('pause c with SIGSTOP for 35 s, then SIGCONT', async () => {
      ;(c as Detector).child.kill('SIGSTOP')
      await sleep(35_000)
      ;(c as Detector).child.kill('SIGCONT')
    })
    const produced = await producing
    const outcome = await waitFor(
      'every event counted and the last window evaluated',
      async () => {
        const dead = [a, c as Detector, d as Detector].find(
          (x) => x.child.exitCode !== null || x.child.signalCode !== null,
        )
        if (dead !== undefined) return { dead }
        const checkpoints = await sketches.loadCheckpoints(MODEL, refs)
        const done = refs.every(
          (ref) =>
            checkpoints.get(`${ref.topic}:${ref.partition}`)?.nextOffset ===
            String(produced.ends[ref.partition]),
        )
        return done && (await leases.lastEvaluation(MODEL))?.windowEnd === LAST_WINDOW_END
          ? { dead: undefined }
          : undefined
      },
      300_000,
      250,
    )
    if (outcome.dead !== undefined) {
      const tail = readFileSync(outcome.dead.log, 'utf8').split('\n').slice(-20).join('\n')
      throw new Error(`a detector exited by itself; its log ends:\n${tail}`)
    }
    const ms = performance.now() - started
    await sleep(2000) // room for a late duplicate flush or report to show up
    for (const detector of [a, c as Detector, d as Detector])
      exitCodes.push((await stopGracefully([detector]))[0] ?? null)

    // Every (bucket, partition) cell against what was produced into it.
    let counted = 0
    let lost = 0
    let duplicated = 0
    const perFeature = new Map<string, number>()
    const seen = new Set<string>()
    const starts: number[] = []
    for (let t = T0; t < END; t += BUCKET_MS) starts.push(t)
    for (const [bucket, partitions] of await sketches.readBuckets(MODEL, starts)) {
      const own = new Set([...partitions.keys()].map((id) => id.slice(id.lastIndexOf(':') + 1)))
      for (const [id, blob] of partitions) {
        // A compacted bucket (SketchStore.compactBuckets) holds the partitions without a field
        // of their own there, merged: checked against their cells summed.
        const keys =
          id === compactedField
            ? refs
                .map((ref) => String(ref.partition))
                .filter((p) => !own.has(p))
                .map((p) => `${bucket}/${p}`)
            : [`${bucket}/${id.slice(id.lastIndexOf(':') + 1)}`]
        for (const key of keys) seen.add(key)
        let rows = 0
        for (const profile of decodeBucket(blob).values()) {
          rows += profile.rows
          for (const [name, f] of profile.features) {
            perFeature.set(
              name,
              (perFeature.get(name) ?? 0) +
                (f.kind === 'numerical' ? f.count + f.missing + f.nonFinite : f.count + f.missing),
            )
          }
        }
        counted += rows
        const want = keys.reduce((sum, key) => sum + (produced.cells.get(key) ?? 0), 0)
        if (rows < want) lost += want - rows
        if (rows > want) duplicated += rows - want
      }
    }
    for (const [key, n] of produced.cells) if (!seen.has(key)) lost += n
    let late = 0
    for (const checkpoint of (await sketches.loadCheckpoints(MODEL, refs)).values())
      late += checkpoint.late

    const reports = (await readAll(kafka, names.reports)).map(
      (m) => JSON.parse(m.toString()) as WindowReport,
    )
    const evidence: Record<string, number> = {}
    const messages = [
      'stale flush dropped',
      'batch starts past the checkpoint',
      'lost the evaluator lease',
      'evaluation fenced after publishing',
      'window evaluated',
    ]
    for (const log of logs) {
      const text = readFileSync(log, 'utf8')
      for (const m of messages)
        evidence[m] = (evidence[m] ?? 0) + text.split(`"msg":"${m}`).length - 1
    }
    return {
      produced,
      counted,
      lost,
      duplicated,
      late,
      perFeature,
      reports,
      steps,
      changesAt,
      exitCodes,
      evidence,
      ms,
    }
  })
}

afterAll(async () => {
  killAllDetectors()
  if (dir !== '' && process.env['DRIFTWATCH_FAULT_KEEP_LOGS'] !== '1')
    await rm(dir, { recursive: true, force: true })
})

describe('instances join and leave mid-stream (start 1, add 2, stop 1 with SIGTERM, add 1, freeze 1)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-rebalance-'))
    stream = await runMembershipChanges()
    const ids = new Set(stream.reports.map((r) => r.reportId))
    const windows = new Set(stream.reports.map((r) => r.window.end))
    process.stdout.write(
      [
        '',
        `rebalance (seed ${SEED}): start 1, add 2, stop 1 (SIGTERM), add 1, freeze 1 past its session (SIGSTOP 35 s)`,
        '| changes | produced | counted | lost | duplicated | reports published / unique ids / windows (expected) | wall time |',
        '|---|---|---|---|---|---|---|',
        `| +2, −1, +1, zombie | ${EVENTS} | ${stream.counted} | ${stream.lost} | ${stream.duplicated} | ${stream.reports.length} / ${ids.size} / ${windows.size} (${WINDOWS}) | ${(stream.ms / 1000).toFixed(1)} s |`,
        ...stream.steps,
        `log evidence: ${JSON.stringify(stream.evidence)}`,
        '',
      ].join('\n'),
    )
  }, 600_000)

  it('made every change while the stream was still being counted', () => {
    expect(stream.changesAt).toHaveLength(4)
    for (const at of stream.changesAt) expect(at).toBeLessThan(EVENTS)
  })

  it('counts every event exactly once, in every (bucket, partition) cell', () => {
    expect({
      counted: stream.counted,
      lost: stream.lost,
      duplicated: stream.duplicated,
      late: stream.late,
    }).toEqual({ counted: EVENTS, lost: 0, duplicated: 0, late: 0 })
    for (const name of [...faultNumerical, 'cat'])
      expect(stream.perFeature.get(name), name).toBe(EVENTS)
  })

  it('publishes exactly one report per window: unique reportIds, no window twice, none missing', () => {
    const ids = stream.reports.map((r) => r.reportId)
    expect(new Set(ids).size).toBe(ids.length)
    const ends = stream.reports.map((r) => Date.parse(r.window.end)).sort((x, y) => x - y)
    expect(ends).toEqual(Array.from({ length: WINDOWS }, (_, i) => T0 + (i + 1) * WINDOW_MS))
    for (const report of stream.reports) {
      expect(report.model).toBe(MODEL)
      expect(report.nCurrent).toBe(WINDOW_MS / STEP_MS)
    }
  })

  it('stops every instance cleanly on SIGTERM', () => {
    expect(stream.exitCodes).toEqual([0, 0, 0, 0])
  })
})

// ---- 2. fencing between two evaluators ----

/** A SketchStore whose next readBuckets() (the middle of an evaluation) waits for `release`. */
function gatedStore(store: SketchStore): {
  store: SketchStore
  hold: (release: Promise<void>) => Promise<void>
} {
  let gate: { entered: () => void; release: Promise<void> } | undefined
  const gated: SketchStore = {
    loadCheckpoints: (model, refs) => store.loadCheckpoints(model, refs),
    loadBucket: (model, start, ref) => store.loadBucket(model, start, ref),
    applyFlush: (batch) => store.applyFlush(batch),
    modelWatermark: (model, idle) => store.modelWatermark(model, idle),
    bucketRows: (model, starts) => store.bucketRows(model, starts),
    readBuckets: async (model, starts) => {
      const g = gate
      gate = undefined
      if (g !== undefined) {
        g.entered()
        await g.release
      }
      return store.readBuckets(model, starts)
    },
  }
  return {
    store: gated,
    hold: (release) => new Promise((entered) => (gate = { entered, release })),
  }
}

describe('fencing: an evaluator that loses its lease in the middle of an evaluation', () => {
  const reference = faultReference(SEED + 2)
  const model: EvaluatedModel = {
    name: MODEL,
    spec: { bucket: BUCKET_MS, size: WINDOW_MS, hop: WINDOW_MS, allowedLateness: LATENESS_MS },
    // Evidently's fixed thresholds: a calibrated first evaluation spends a second or two computing
    // the reference's noise floors, longer than the deliberately short leases below, and these
    // cases are about fencing, not verdicts.
    settings: driftSettingsOf(driftSectionSchema.parse({ mode: 'evidently' })),
    features: undefined,
    alertPolicy: { fireAfter: 2, resolveAfter: 2, cooldown: 0 },
    minCriticalFeatures: 3,
    reference: () => reference,
  }
  const ref = { topic: 'fencing-input', partition: 0 }
  let client: Redis
  let prefix: string
  let sketches: RedisSketchStore
  let leases: RedisLeaseStore

  const evaluator = (
    owner: string,
    store: SketchStore,
    sink: EventSink,
    leaseTtlMs: number,
  ): Evaluator =>
    new Evaluator({
      owner,
      store,
      leases,
      sink,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
      registry: createDefaultRegistry(),
      models: [model],
      intervalMs: 60_000,
      leaseTtlMs,
      now: Date.now,
    })

  /** Stores `windows` windows of data (100 rows per bucket) and marks them due; last evaluation at T0. */
  async function seed(windows: number): Promise<void> {
    const layout = layoutOf(reference.profile)
    const rng = mulberry32(SEED + 3)
    const buckets = []
    for (let start = T0; start < T0 + windows * WINDOW_MS; start += BUCKET_MS) {
      const profile = createDatasetProfile(layout)
      for (let i = 0; i < 100; i++) addRow(profile, faultRow(rng))
      buckets.push({
        bucketStart: start,
        ref,
        blob: encodeBucket(new Map([[seriesKey(reference.id, ''), profile]])),
      })
    }
    const watermark = T0 + windows * WINDOW_MS + LATENESS_MS
    expect(
      (
        await sketches.applyFlush({
          model: MODEL,
          partitions: [{ ref, expected: null, next: { nextOffset: '1', watermark, late: 0 } }],
          buckets,
          retentionMs: 3_600_000,
        })
      ).status,
    ).toBe('applied')
    const token = (await leases.acquire(MODEL, 'seed', 60_000)) as number
    expect(
      await leases.commitEvaluation(MODEL, token, T0, JSON.stringify(initialEvaluationState)),
    ).toBe('committed')
    await leases.release(MODEL, 'seed')
  }

  beforeAll(() => {
    client = new Redis(redisUrl())
  })

  afterAll(async () => {
    client.disconnect()
  })

  beforeEach(async () => {
    prefix = testPrefix()
    sketches = new RedisSketchStore(client, prefix)
    leases = new RedisLeaseStore(client, prefix)
  })

  afterEach(async () => {
    await deletePrefix(client, prefix)
  })

  it('a lease that expired and was taken over: the old owner publishes nothing, the new one everything', async () => {
    await seed(3)
    const gate = gatedStore(sketches)
    const oldSink = new RecordingSink()
    const newSink = new RecordingSink()
    const first = evaluator('first', gate.store, oldSink, 300)
    const second = evaluator('second', sketches, newSink, 60_000)
    let release!: () => void
    const entered = gate.hold(new Promise<void>((resolve) => (release = resolve)))
    const running = first.evaluateModel(model)
    await reached(entered, running) // `first` holds the lease and is reading the window's buckets
    await sleep(600) // its lease (300 ms) lapses
    expect(await second.evaluateModel(model)).toBe(3)
    release()
    expect(await running).toBe(0)
    expect(oldSink.published).toEqual({ reports: [], alerts: 0, retrain: 0 })
    expect(newSink.published.reports.map((r) => Date.parse(r.window.end))).toEqual([
      T0 + WINDOW_MS,
      T0 + 2 * WINDOW_MS,
      T0 + 3 * WINDOW_MS,
    ])
    expect((await leases.lastEvaluation(MODEL))?.windowEnd).toBe(T0 + 3 * WINDOW_MS)
  })

  it('a lease that lapsed with nobody taking over: the evaluation in flight is dropped, the next one publishes', async () => {
    await seed(2)
    const gate = gatedStore(sketches)
    const sink = new RecordingSink()
    const only = evaluator('only', gate.store, sink, 300)
    let release!: () => void
    const entered = gate.hold(new Promise<void>((resolve) => (release = resolve)))
    const running = only.evaluateModel(model)
    await reached(entered, running)
    await sleep(600)
    release()
    // Its token is stale even though it gets the lease straight back: nothing from this round.
    expect(await running).toBe(0)
    expect(sink.published.reports).toEqual([])
    expect(await only.evaluateModel(model)).toBe(2)
    expect(sink.published.reports).toHaveLength(2)
  })

  it('a takeover after the fencing check, while the report is being sent: the same reportId twice, one commit', async () => {
    // The limit of fencing with an external sink, documented in evaluator.ts and RELIABILITY.md:
    // the check and the send are two steps, so a report can go out from an owner that is stale by
    // the time it commits. Its commit is refused, and the new owner sends the same reportId again.
    await seed(1)
    const oldSink = new RecordingSink()
    const newSink = new RecordingSink()
    const first = evaluator('first', sketches, oldSink, 300)
    const second = evaluator('second', sketches, newSink, 60_000)
    let release!: () => void
    const entered = oldSink.holdNextReport(new Promise<void>((resolve) => (release = resolve)))
    const running = first.evaluateModel(model)
    await reached(entered, running)
    await sleep(600)
    expect(await second.evaluateModel(model)).toBe(1)
    release()
    expect(await running).toBe(0) // its commit was fenced
    expect(oldSink.published.reports.map((r) => r.reportId)).toEqual(
      newSink.published.reports.map((r) => r.reportId),
    )
    expect((await leases.lastEvaluation(MODEL))?.windowEnd).toBe(T0 + WINDOW_MS)
  })
})

// ---- 3. a stale owner's flush, in process, on the real Redis ----
//
// What a rebalance can do to the ingest loop (src/app/ingest.ts) that the process-level run above
// may or may not hit on a given day: an old owner flushing after the new owner has read the
// checkpoint, and a partition revoked while a flush is in flight. Two Ingestors stand for two
// instances; a scripted EventSource stands for kafkajs (what it delivers, and the seeks and
// commits it is asked for).

/** A SketchStore whose applyFlush() waits for `release()`; `inFlight` resolves once one has begun. */
function heldFlushStore(store: SketchStore): {
  store: SketchStore
  inFlight: Promise<void>
  release: () => void
} {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let entered!: () => void
  const inFlight = new Promise<void>((resolve) => (entered = resolve))
  return {
    store: {
      loadCheckpoints: (model, refs) => store.loadCheckpoints(model, refs),
      loadBucket: (model, start, r) => store.loadBucket(model, start, r),
      readBuckets: (model, starts) => store.readBuckets(model, starts),
      modelWatermark: (model, idle) => store.modelWatermark(model, idle),
      bucketRows: (model, starts) => store.bucketRows(model, starts),
      applyFlush: async (b) => {
        entered()
        await gate
        return store.applyFlush(b)
      },
    },
    inFlight,
    release: () => release(),
  }
}

describe('a stale owner in the ingest loop (two Ingestors, one partition, real Redis)', () => {
  const reference = faultReference(SEED + 4)
  const layout = layoutOf(reference.profile)
  const spec = { bucket: BUCKET_MS, size: WINDOW_MS, hop: WINDOW_MS, allowedLateness: LATENESS_MS }
  const ref: PartitionRef = { topic: 'stale-input', partition: 0 }
  const control: BatchControl = { isRunning: () => true, heartbeat: async () => {} }
  // 300 events, 20 ms apart: six 1 s buckets.
  const rng = mulberry32(SEED + 5)
  const events = Array.from({ length: 300 }, (_, i) => ({
    eventId: `s${i}`,
    model: MODEL,
    timestamp: T0 + i * 20,
    features: faultRow(rng),
  }))
  const batch = (from: number, to: number): SourceBatch => ({
    ref,
    highWatermark: '300',
    messages: events.slice(from, to).map((event, i) => ({
      offset: String(from + i),
      value: Buffer.from(JSON.stringify(event)),
      timestamp: event.timestamp,
    })),
  })
  let client: Redis
  let prefix: string
  let sketches: RedisSketchStore

  const ingestor = (store: SketchStore, source: EventSource): Ingestor =>
    new Ingestor({
      store,
      sink: new RecordingSink(),
      source,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
      models: new Map<string, ModelRuntime>([
        [
          MODEL,
          {
            name: MODEL,
            spec,
            retentionMs: 3_600_000,
            referenceId: reference.id,
            layout,
            kinds: new Map(layout.columns.map((c) => [c.name, c.kind])),
          },
        ],
      ]),
      maxEventBytes: 1_048_576,
      // Flushes happen only when the test calls flush().
      flushIntervalMs: Number.MAX_SAFE_INTEGER,
      now: Date.now,
    })

  /** Rows stored per 1 s bucket, and the checkpoint. */
  async function stored(): Promise<{
    rows: number
    perBucket: number[]
    nextOffset: string | undefined
  }> {
    const starts = Array.from({ length: 6 }, (_, i) => T0 + i * BUCKET_MS)
    const perBucket = starts.map(() => 0)
    for (const [start, partitions] of await sketches.readBuckets(MODEL, starts)) {
      for (const blob of partitions.values())
        for (const p of decodeBucket(blob).values())
          perBucket[(start - T0) / BUCKET_MS] = (perBucket[(start - T0) / BUCKET_MS] ?? 0) + p.rows
    }
    const checkpoint = (await sketches.loadCheckpoints(MODEL, [ref])).get(
      `${ref.topic}:${ref.partition}`,
    )
    return {
      rows: perBucket.reduce((a, b) => a + b, 0),
      perBucket,
      nextOffset: checkpoint?.nextOffset,
    }
  }
  const expectedPerBucket = Array.from({ length: 6 }, () => 50)

  beforeAll(() => {
    client = new Redis(redisUrl())
  })

  afterAll(async () => {
    client.disconnect()
  })

  beforeEach(() => {
    prefix = testPrefix()
    sketches = new RedisSketchStore(client, prefix)
  })

  afterEach(async () => {
    await deletePrefix(client, prefix)
  })

  it('a zombie owner flushing after the new owner moved on: dropped, reloaded, read again from the stored checkpoint', async () => {
    const oldSource = new ScriptedSource()
    const newSource = new ScriptedSource()
    const old = ingestor(sketches, oldSource)
    const owner = ingestor(sketches, newSource)
    old.onAssigned([ref])
    await old.onBatch(batch(0, 200), control) // in memory only
    owner.onAssigned([ref])
    await owner.onBatch(batch(0, 100), control)
    await owner.flush()
    expect((await stored()).nextOffset).toBe('100')

    await old.flush() // expected no checkpoint, finds 100: stale
    expect(oldSource.seeks).toEqual([{ partition: 0, offset: '100' }])
    expect(await stored()).toMatchObject({ rows: 100, nextOffset: '100' })
    // kafkajs may still deliver what it had fetched from the old position: not counted, sought again.
    await old.onBatch(batch(200, 250), control)
    expect(oldSource.seeks).toHaveLength(2)
    await old.onBatch(batch(100, 300), control)
    await old.flush()
    expect(await stored()).toEqual({ rows: 300, perBucket: expectedPerBucket, nextOffset: '300' })
    await owner.onBatch(batch(100, 300), control) // the other one, still reading: its flush is the stale one now
    await owner.flush()
    expect(await stored()).toEqual({ rows: 300, perBucket: expectedPerBucket, nextOffset: '300' })
  })

  it('revoked while its flush is in flight, the flush landing first: the new owner is fenced and resumes after it', async () => {
    const { store: slow, inFlight, release } = heldFlushStore(sketches)
    const oldSource = new ScriptedSource()
    const newSource = new ScriptedSource()
    const old = ingestor(slow, oldSource)
    const owner = ingestor(sketches, newSource)
    old.onAssigned([ref])
    await old.onBatch(batch(0, 100), control)
    const flushing = old.flush()
    await reached(inFlight, flushing)
    old.onRevoked([ref]) // the rebalance lands while the flush is in flight
    owner.onAssigned([ref])
    await owner.onBatch(batch(0, 150), control) // read the (empty) checkpoint before the old flush landed
    release()
    await flushing
    expect((await stored()).nextOffset).toBe('100')
    await owner.flush() // stale: reloads at 100
    expect(newSource.seeks).toEqual([{ partition: 0, offset: '100' }])
    await owner.onBatch(batch(150, 300), control) // fetched before the seek took effect
    await owner.onBatch(batch(100, 300), control)
    await owner.flush()
    expect(await stored()).toEqual({ rows: 300, perBucket: expectedPerBucket, nextOffset: '300' })
  })

  it('revoked while its flush is in flight, the new owner flushing first: the old flush is dropped, and the old owner lets the partition go', async () => {
    const { store: slow, inFlight, release } = heldFlushStore(sketches)
    const oldSource = new ScriptedSource()
    const newSource = new ScriptedSource()
    const old = ingestor(slow, oldSource)
    const owner = ingestor(sketches, newSource)
    old.onAssigned([ref])
    await old.onBatch(batch(0, 100), control)
    const flushing = old.flush()
    await reached(inFlight, flushing)
    old.onRevoked([ref])
    owner.onAssigned([ref])
    await owner.onBatch(batch(0, 150), control)
    await owner.flush()
    release()
    await flushing // stale: dropped
    expect(await stored()).toMatchObject({ rows: 150, nextOffset: '150' })
    // The old owner no longer holds the partition: it must neither seek it nor commit offsets for
    // it (a commit from a member of the current generation would move the group's offset back).
    oldSource.commits.length = 0
    await old.flush()
    expect(oldSource.seeks).toEqual([])
    expect(oldSource.commits).toEqual([])
    await owner.onBatch(batch(150, 300), control)
    await owner.flush()
    expect(await stored()).toEqual({ rows: 300, perBucket: expectedPerBucket, nextOffset: '300' })
  })
})
