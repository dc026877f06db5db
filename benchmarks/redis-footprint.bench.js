// Benchmark: Redis bytes per model-day at the defaults (issue 12), today's storage against the
// JSON buckets every earlier version wrote, on a real Redis.
//
// The standard events (benchmarks/lib/events.js: 20 numerical + 3 categorical features, the
// model's latency) at 1,000 events/s of event time, round-robin over 6 partitions, go through the
// real Ingestor (dist/app/ingest.js) in batches of 1000 per partition, flushed every 50,000 events
// (what a 1 s flush interval sees at 50k events/s), with the default window spec (1 min buckets,
// 1 h windows, 5 min hop, 1 min allowed lateness, 26 h retention). Its store writes to one Redis
// twice, under two key prefixes, in the same run:
//   baseline  the flush as main stored it before issue 12: each partition's bucket as JSON
//             (encodeBucketJSON of the very profiles flushed; decode(encode) is exact, so these
//             are the bytes the JSON version writes), through the same Lua flush script;
//   current   the flush as this build stores it (binary buckets), then the buckets compacted by
//             the same call the evaluator makes after a window (SketchStore.compactBuckets with
//             compactBucketFields).
// Bytes are Redis' own account of each bucket key: MEMORY USAGE <key> SAMPLES 0 (every field),
// summed over the complete minutes (every partition's watermark past the bucket's close), divided
// by their number: bytes per bucket slot, x 1440 per model-day, x 1560 held at the 26 h retention.
// The checkpoints hash (one small JSON per partition) is the same in both and not counted. Target:
// current / baseline <= 0.2.
//
// Run: npm run build && node benchmarks/redis-footprint.bench.js [--minutes=6]
// (REDIS_URL reuses a running Redis; otherwise one is started and stopped.)
// A runner can import { runRedisFootprintBench, printRedisFootprintBench } instead.

import { Redis } from 'ioredis'
import { describeMachine, importDist, isMain, machineInfo, metOrNot, table } from './lib/common.js'
import { eventGenerator } from './lib/events.js'
import { categoricalNames, numericalNames, rowGenerator } from './lib/feature-data.js'

const { Ingestor } = await importDist('app/ingest.js')
const { createMetrics } = await importDist('adapters/metrics/metrics.js')
const { ReferenceBuilder } = await importDist('core/reference.js')
const { layoutOf } = await importDist('core/profile/dataset.js')
const { RedisSketchStore } = await importDist('adapters/redis/sketch-store.js')
const { startLocalServices } = await importDist('adapters/local-services/index.js')
const { compactBucketFields, decodeBucket, encodeBucketJSON } = await importDist(
  'core/stream/bucket-codec.js',
)
const { encodeBucketBinary } = await importDist('core/stream/bucket-binary.js')
const { pino } = await import('pino')

const PARTITIONS = 6
const FLUSH_EVERY = 50_000
const BATCH = 1000
const MINUTE = 60_000
const TARGET = 0.2
// The defaults of src/config/service.ts.
const SPEC = { bucket: MINUTE, size: 3_600_000, hop: 300_000, allowedLateness: MINUTE }
const RETENTION_MS = 26 * 3_600_000
const EVENTS_PER_MINUTE = 60_000

function referenceProfile(rows) {
  const builder = new ReferenceBuilder([
    ...numericalNames.map((name) => ({ name, kind: 'numerical', reason: 'benchmark' })),
    ...categoricalNames.map((name) => ({ name, kind: 'categorical', reason: 'benchmark' })),
  ])
  const next = rowGenerator({ seed: 1001 })
  const names = [...numericalNames, ...categoricalNames]
  for (let r = 0; r < rows; r++) {
    const row = next()
    const values = {}
    for (let i = 0; i < names.length; i++) values[names[i]] = row[i]
    builder.add(values)
  }
  return builder.build()
}

/** Forwards to `current`, and writes every flush to `baseline` too, with JSON buckets. */
function teeStore(current, baseline) {
  return {
    loadCheckpoints: (model, refs) => current.loadCheckpoints(model, refs),
    loadBucket: (model, start, ref) => current.loadBucket(model, start, ref),
    bucketRows: (model, starts) => current.bucketRows(model, starts),
    readBuckets: (model, starts) => current.readBuckets(model, starts),
    modelWatermark: (model, idle) => current.modelWatermark(model, idle),
    async applyFlush(batch) {
      const outcome = await current.applyFlush(batch)
      if (outcome.status !== 'applied') throw new Error(`flush ${outcome.status}`)
      const asJson = {
        ...batch,
        buckets: batch.buckets.map((b) => ({ ...b, blob: encodeBucketJSON(decodeBucket(b.blob)) })),
      }
      const mirrored = await baseline.applyFlush(asJson)
      if (mirrored.status !== 'applied') throw new Error(`baseline flush ${mirrored.status}`)
      return outcome
    },
  }
}

function makeIngestor(profile, store) {
  const layout = layoutOf(profile)
  const runtime = {
    name: 'bench',
    spec: SPEC,
    retentionMs: RETENTION_MS,
    referenceId: 'ref-bench',
    layout,
    kinds: new Map(layout.columns.map((c) => [c.name, c.kind])),
  }
  const noop = async () => {}
  return new Ingestor({
    store,
    sink: { deadLetters: noop, report: noop, alerts: noop, retrain: noop, connected: () => true },
    source: {
      start: noop,
      seek: () => {},
      commit: noop,
      pause: () => {},
      resume: () => {},
      stop: noop,
      connected: () => true,
    },
    metrics: createMetrics(),
    logger: pino({ level: 'silent' }),
    models: new Map([['bench', runtime]]),
    maxEventBytes: 1_048_576,
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: Date.now,
  })
}

/** Feeds `count` events, round-robin over the partitions, in Kafka-like batches. */
async function feed(ingestor, next, count) {
  const control = { isRunning: () => true, heartbeat: async () => {} }
  const offsets = new Array(PARTITIONS).fill(0)
  let sinceFlush = 0
  for (let done = 0; done < count; done += BATCH * PARTITIONS) {
    const perPartition = Array.from({ length: PARTITIONS }, () => [])
    const n = Math.min(BATCH * PARTITIONS, count - done)
    for (let i = 0; i < n; i++) perPartition[i % PARTITIONS].push(Buffer.from(next()))
    for (let p = 0; p < PARTITIONS; p++) {
      if (perPartition[p].length === 0) continue
      await ingestor.onBatch(
        {
          ref: { topic: 'bench', partition: p },
          highWatermark: String(offsets[p] + perPartition[p].length),
          messages: perPartition[p].map((value) => ({
            offset: String(offsets[p]++),
            value,
            timestamp: 0,
          })),
        },
        control,
      )
    }
    sinceFlush += n
    if (sinceFlush >= FLUSH_EVERY) {
      await ingestor.flush()
      sinceFlush = 0
    }
  }
  await ingestor.flush()
}

/** MEMORY USAGE of each bucket key of the model under `prefix`, by bucket start. */
async function bucketBytes(redis, prefix, starts) {
  const bytes = new Map()
  for (const start of starts) {
    const used = await redis.call(
      'MEMORY',
      'USAGE',
      `${prefix}:{bench}:bucket:${start}`,
      'SAMPLES',
      '0',
    )
    bytes.set(start, Number(used ?? 0))
  }
  return bytes
}

async function fieldSizes(redis, prefix, start) {
  const fields = await redis.hgetallBuffer(`${prefix}:{bench}:bucket:${start}`)
  return Object.entries(fields)
    .filter(([name]) => name !== '#rows')
    .map(([, blob]) => blob.length)
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0)

/** Where a compacted bucket's bytes go, before deflate: digests, breakpoints, the rest. */
function anatomyOf(blob) {
  const bucket = decodeBucket(blob)
  let digests = 0
  let centroids = 0
  let edges = 0
  let numerical = 0
  for (const profile of bucket.values()) {
    const all = [...profile.features.values(), profile.prediction, profile.latency]
    for (const p of all) {
      if (p === undefined || p.kind !== 'numerical') continue
      numerical++
      digests += p.digest.encode().length
      centroids += p.digest.centroids().means.length
      edges += 8 * p.binning.edges.length
    }
  }
  const raw = encodeBucketBinary(bucket, { deflateFrom: Number.POSITIVE_INFINITY }).length
  return { stored: blob.length, raw, digests, centroids, edges, numerical }
}

/** @param {{ minutes?: number, referenceRows?: number }} [options] */
export async function runRedisFootprintBench(options = {}) {
  const minutes = options.minutes ?? 6
  const machine = machineInfo()
  const services = await startLocalServices({ kafka: false, redis: true })
  const redis = new Redis(services.redisUrl, { lazyConnect: false })
  const stamp = Date.now().toString(36)
  const prefixes = { baseline: `fpbase${stamp}`, current: `fpnew${stamp}` }
  try {
    const profile = referenceProfile(options.referenceRows ?? 200_000)
    const current = new RedisSketchStore(redis, prefixes.current)
    const baseline = new RedisSketchStore(redis, prefixes.baseline)
    // Event time: whole minutes, 6 h ago (the flush writes with the real retention).
    const startTime = Math.floor((Date.now() - 6 * 3_600_000) / MINUTE) * MINUTE
    const next = eventGenerator({ seed: 2002, model: 'bench', startTime, stepMs: 1 })
    // Two more minutes, so the measured ones are closed (bucket end + allowed lateness) on every
    // partition.
    const started = performance.now()
    await feed(
      makeIngestor(profile, teeStore(current, baseline)),
      next,
      (minutes + 2) * EVENTS_PER_MINUTE,
    )
    const ingestSeconds = (performance.now() - started) / 1000
    const starts = Array.from({ length: minutes }, (_, i) => startTime + i * MINUTE)

    const baselineBytes = await bucketBytes(redis, prefixes.baseline, starts)
    const binaryBytes = await bucketBytes(redis, prefixes.current, starts)
    const baselineFields = await fieldSizes(redis, prefixes.baseline, starts[0])
    const binaryFields = await fieldSizes(redis, prefixes.current, starts[0])
    const compactStarted = performance.now()
    const compacted = await current.compactBuckets(
      'bench',
      starts.map((start) => ({ start, closesAt: start + SPEC.bucket + SPEC.allowedLateness })),
      compactBucketFields,
    )
    const compactMs = (performance.now() - compactStarted) / minutes
    const currentBytes = await bucketBytes(redis, prefixes.current, starts)
    const compactedFields = await fieldSizes(redis, prefixes.current, starts[0])
    const compactedBlob = await redis.hgetBuffer(
      `${prefixes.current}:{bench}:bucket:${starts[0]}`,
      '*',
    )
    const anatomy = anatomyOf(compactedBlob)
    const ttl = await redis.pttl(`${prefixes.current}:{bench}:bucket:${starts[0]}`)
    const perSlot = (m) => sum([...m.values()]) / minutes
    const result = {
      machine,
      minutes,
      partitions: PARTITIONS,
      eventsPerMinute: EVENTS_PER_MINUTE,
      compacted,
      compactMsPerBucket: compactMs,
      ingestSeconds,
      ttlKeptMs: ttl,
      perSlot: {
        baseline: perSlot(baselineBytes),
        binary: perSlot(binaryBytes),
        current: perSlot(currentBytes),
      },
      fields: { baseline: baselineFields, binary: binaryFields, compacted: compactedFields },
      anatomy,
    }
    result.ratio = result.perSlot.current / result.perSlot.baseline
    result.binaryRatio = result.perSlot.binary / result.perSlot.baseline
    result.met = result.ratio <= TARGET
    return result
  } finally {
    for (const prefix of Object.values(prefixes)) {
      const keys = await redis.keys(`${prefix}:*`)
      if (keys.length > 0) await redis.del(...keys)
    }
    redis.disconnect()
    await services.stop()
  }
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`
const perDay = (slot) => (slot * 1440) / 1e6
const atRetention = (slot) => (slot * (RETENTION_MS / MINUTE)) / 1e9

export function printRedisFootprintBench(r) {
  console.log(
    `Redis footprint: ${r.partitions} partitions, ${r.eventsPerMinute} events/min, ${r.minutes} closed minutes measured (MEMORY USAGE SAMPLES 0 per bucket key), ${describeMachine(r.machine)}`,
  )
  const row = (name, slot) => [
    name,
    kb(slot),
    `${perDay(slot).toFixed(1)} MB`,
    `${atRetention(slot).toFixed(3)} GB`,
    (slot / r.perSlot.baseline).toFixed(3),
  ]
  console.log(
    table([
      ['storage', 'per bucket slot', 'per model-day', 'held at 26 h', 'vs baseline'],
      row('baseline: JSON, one field per partition', r.perSlot.baseline),
      row('binary, one field per partition (before compaction)', r.perSlot.binary),
      row('binary, compacted (what stays)', r.perSlot.current),
    ]),
  )
  const sizes = (xs) => xs.map((x) => kb(x)).join(', ')
  console.log(`  field sizes of the first bucket: JSON ${sizes(r.fields.baseline)}`)
  console.log(`    binary ${sizes(r.fields.binary)}; compacted ${sizes(r.fields.compacted)}`)
  const a = r.anatomy
  console.log(
    `  a compacted bucket: ${kb(a.raw)} before deflate, ${kb(a.stored)} stored; of the ${kb(a.raw)}: t-digests ${kb(a.digests)} (${a.numerical} numerical profiles, ${(a.centroids / a.numerical).toFixed(0)} centroids each), breakpoints ${kb(a.edges)}, counters and the rest ${kb(a.raw - a.digests - a.edges)}`,
  )
  console.log(
    `  ${r.compacted} of ${r.minutes} buckets compacted, ${r.compactMsPerBucket.toFixed(1)} ms each; expiry kept (PTTL ${(r.ttlKeptMs / 3_600_000).toFixed(2)} h); ingest of ${r.minutes + 2} min of events ${r.ingestSeconds.toFixed(1)} s`,
  )
  console.log(`  target current / baseline <= ${TARGET}: ${r.ratio.toFixed(3)} ${metOrNot(r.met)}`)
}

export function summaryLines(r) {
  return [
    `Redis bytes per model-day: ${perDay(r.perSlot.current).toFixed(1)} MB vs ${perDay(r.perSlot.baseline).toFixed(1)} MB JSON ` +
      `(binary alone ${r.binaryRatio.toFixed(3)}), ratio ${r.ratio.toFixed(3)} (target <= ${TARGET}) ${metOrNot(r.met)}`,
  ]
}

if (isMain(import.meta)) {
  const arg = process.argv.find((a) => a.startsWith('--minutes='))
  const result = await runRedisFootprintBench(
    arg === undefined ? {} : { minutes: Number(arg.slice('--minutes='.length)) },
  )
  printRedisFootprintBench(result)
  process.exitCode = 0
}
