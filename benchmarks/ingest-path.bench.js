// Benchmark: the detector's per-event CPU cost without Kafka or Redis, in one process, so that a
// change to the ingest path (decoder, routing, profiles, t-digest, bucket encoding) can be
// measured with less noise than ingest.bench.js allows on a shared machine.
//
// Feeds the same ~650-byte standard events (benchmarks/lib/events.js) as Buffers, in batches of
// 1000 (--batch) per partition over 6 partitions, through the real Ingestor (dist/app/ingest.js) with the
// in-memory store, real Prometheus metrics and a silent logger, flushing every 50,000 events
// (what a 1 s flush interval sees at 50k events/s). Baseline in the same run: JSON.parse of each
// Buffer alone, the floor of any JSON consumer. Reports µs of CPU per event for both (median of
// `runs` after one warm-up run), how much of it was garbage collection, and the ratio.
//
// The same events in Avro (the Confluent wire format, schemas/prediction-event.avsc, features as a
// map) go through the Ingestor with the Avro decoder (dist/adapters/schema-registry), whose
// registry client is replaced by an object that hands out the writer schema: no network, the
// schema lookup happens once either way. Baseline: avsc's decode of each body alone. Printed beside
// the JSON figures, with the ratio of the two detectors.
//
// Run: npm run build && node benchmarks/ingest-path.bench.js [--events=200000] [--runs=5] [--batch=1000]
// [--json-only] (no Avro rows: for a CPU profile of the JSON path, with node --cpu-prof)
// A runner can import { runIngestPathBench, printIngestPathBench } instead.

import { PerformanceObserver } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeMachine, importDist, isMain, listOf, machineInfo, median } from './lib/common.js'
import { eventGenerator } from './lib/events.js'
import { categoricalNames, numericalNames, rowGenerator } from './lib/feature-data.js'

const { Ingestor } = await importDist('app/ingest.js')
const { MemorySketchStore } = await importDist('adapters/memory/sketch-store.js')
const { createMetrics } = await importDist('adapters/metrics/metrics.js')
const { ReferenceBuilder } = await importDist('core/reference.js')
const { layoutOf } = await importDist('core/profile/dataset.js')
const { pino } = await import('pino')
const { AvroEventDecoder } = await importDist('adapters/schema-registry/avro-decoder.js')
const { loadSchema } = await importDist('adapters/schema-registry/schemas.js')
const { default: avro } = await import('avsc')

const PARTITIONS = 6
const FLUSH_EVERY = 50_000

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

// Time in garbage collection, from V8's GC performance entries (delivered on a later tick, so
// each timed run is fenced by short sleeps).
let gcMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration
}).observe({ entryTypes: ['gc'] })

async function cpuTime(fn) {
  await sleep(50)
  const gcBefore = gcMs
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  await fn()
  const used = process.cpuUsage(cpu)
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  await sleep(50)
  return { cpuMs: (used.user + used.system) / 1000, wallMs, gcMs: gcMs - gcBefore }
}

function makeIngestor(profile, decoder) {
  const layout = layoutOf(profile)
  const runtime = {
    name: 'bench',
    spec: { bucket: 60_000, size: 600_000, hop: 300_000, allowedLateness: 60_000 },
    retentionMs: 7_200_000,
    referenceId: 'ref-bench',
    layout,
    kinds: new Map(layout.columns.map((c) => [c.name, c.kind])),
  }
  const noop = async () => {}
  const source = {
    start: noop,
    seek: () => {},
    commit: noop,
    pause: () => {},
    resume: () => {},
    stop: noop,
    connected: () => true,
  }
  const sink = {
    deadLetters: noop,
    report: noop,
    alerts: noop,
    retrain: noop,
    connected: () => true,
  }
  return new Ingestor({
    store: new MemorySketchStore(),
    sink,
    source,
    metrics: createMetrics(),
    logger: pino({ level: 'silent' }),
    models: new Map([['bench', runtime]]),
    maxEventBytes: 1_048_576,
    // Flushes are driven by the feed below, every FLUSH_EVERY events.
    flushIntervalMs: Number.MAX_SAFE_INTEGER,
    now: Date.now,
    ...(decoder === undefined ? {} : { decoder }),
  })
}

/** The events as Kafka would batch them: per partition, consecutive offsets. */
function batchesOf(values, batchSize) {
  const perPartition = Array.from({ length: PARTITIONS }, () => [])
  values.forEach((value, i) => perPartition[i % PARTITIONS].push(value))
  const batches = []
  const offsets = new Array(PARTITIONS).fill(0)
  for (let start = 0; start < perPartition[0].length; start += batchSize) {
    for (let p = 0; p < PARTITIONS; p++) {
      const slice = perPartition[p].slice(start, start + batchSize)
      if (slice.length === 0) continue
      batches.push({
        ref: { topic: 'bench', partition: p },
        highWatermark: String(perPartition[p].length),
        messages: slice.map((value) => ({ offset: String(offsets[p]++), value, timestamp: 0 })),
      })
    }
  }
  return batches
}

async function feed(ingestor, batches) {
  const control = { isRunning: () => true, heartbeat: async () => {} }
  let sinceFlush = 0
  for (const batch of batches) {
    await ingestor.onBatch(batch, control)
    sinceFlush += batch.messages.length
    if (sinceFlush >= FLUSH_EVERY) {
      await ingestor.flush()
      sinceFlush = 0
    }
  }
  await ingestor.flush()
}

/**
 * @param {{ events?: number, runs?: number, referenceRows?: number }} [options]
 */
export async function runIngestPathBench(options = {}) {
  const events = options.events ?? 200_000
  const runs = options.runs ?? 5
  // kafkajs hands over up to maxBytesPerPartition (1 MiB) at a time: ~1600 of these events.
  const batchSize = options.batchSize ?? 1000
  const machine = machineInfo()
  const profile = referenceProfile(options.referenceRows ?? 200_000)
  const next = eventGenerator({
    seed: 2002,
    model: 'bench',
    startTime: Date.now() - 6 * 3_600_000,
    stepMs: 1,
    drifted: true,
  })
  const values = Array.from({ length: events }, () => Buffer.from(next()))
  const batches = batchesOf(values, batchSize)

  let sink = 0
  const parseOnly = () => {
    for (const batch of batches)
      for (const m of batch.messages) sink += JSON.parse(m.value).timestamp > 0 ? 1 : 0
  }
  const baseline = []
  const detector = []
  parseOnly()
  await feed(makeIngestor(profile), batches)
  for (let r = 0; r < runs; r++) {
    baseline.push(await cpuTime(parseOnly))
    const ingestor = makeIngestor(profile)
    detector.push(await cpuTime(() => feed(ingestor, batches)))
  }
  const perEvent = (xs, key) => (median(xs.map((x) => x[key])) * 1000) / events
  const summarize = (xs) => ({
    runs: xs,
    cpuUs: perEvent(xs, 'cpuMs'),
    wallUs: perEvent(xs, 'wallMs'),
    gcUs: perEvent(xs, 'gcMs'),
  })
  const jsonBytes = median(values.map((v) => v.length))
  // --json-only (for a profile of the JSON path alone): no Avro rows.
  if (options.avro === false)
    return {
      machine,
      events,
      runs,
      batchSize,
      jsonBytes,
      baseline: summarize(baseline),
      detector: summarize(detector),
    }
  // Avro: the same events framed with schema id 1.
  const type = avro.Type.forSchema(loadSchema('prediction'), { wrapUnions: false })
  const header = Buffer.from([0, 0, 0, 0, 1])
  const avroValues = values.map((v) => Buffer.concat([header, type.toBuffer(JSON.parse(v))]))
  const avroBatches = batchesOf(avroValues, batchSize)
  const registry = { getSchema: async () => type }
  const avroDecoder = () => new AvroEventDecoder(registry, { deadLetterAfterMs: 60_000 })
  const decodeOnly = () => {
    for (const batch of avroBatches)
      for (const m of batch.messages)
        sink += type.fromBuffer(m.value.subarray(5)).timestamp > 0 ? 1 : 0
  }
  const avroBaseline = []
  const avroDetector = []
  decodeOnly()
  await feed(makeIngestor(profile, avroDecoder()), avroBatches)
  for (let r = 0; r < runs; r++) {
    avroBaseline.push(await cpuTime(decodeOnly))
    const ingestor = makeIngestor(profile, avroDecoder())
    avroDetector.push(await cpuTime(() => feed(ingestor, avroBatches)))
  }
  if (sink === 0) throw new Error('unreachable')
  return {
    machine,
    events,
    runs,
    batchSize,
    baseline: summarize(baseline),
    detector: summarize(detector),
    avroBytes: median(avroValues.map((v) => v.length)),
    jsonBytes,
    avroBaseline: summarize(avroBaseline),
    avroDetector: summarize(avroDetector),
  }
}

export function summaryLines(r) {
  if (r.avroDetector === undefined)
    return [
      `ingest path (in-process, no Kafka/Redis): ${r.detector.cpuUs.toFixed(2)} µs CPU per event (GC ${r.detector.gcUs.toFixed(2)}) ` +
        `vs JSON.parse alone ${r.baseline.cpuUs.toFixed(2)} µs: ${(r.detector.cpuUs / r.baseline.cpuUs).toFixed(2)}x`,
    ]
  return [
    `ingest path (in-process, no Kafka/Redis): ${r.detector.cpuUs.toFixed(2)} µs CPU per event (GC ${r.detector.gcUs.toFixed(2)}) ` +
      `vs JSON.parse alone ${r.baseline.cpuUs.toFixed(2)} µs (GC ${r.baseline.gcUs.toFixed(2)}): ${(r.detector.cpuUs / r.baseline.cpuUs).toFixed(2)}x`,
    `ingest path, Avro (${r.avroBytes} B vs ${r.jsonBytes} B of JSON): ${r.avroDetector.cpuUs.toFixed(2)} µs CPU per event (GC ${r.avroDetector.gcUs.toFixed(2)}) ` +
      `vs avsc decode alone ${r.avroBaseline.cpuUs.toFixed(2)} µs: ${(r.avroDetector.cpuUs / r.avroBaseline.cpuUs).toFixed(2)}x; ` +
      `Avro detector / JSON detector: ${(r.avroDetector.cpuUs / r.detector.cpuUs).toFixed(2)}x`,
  ]
}

export function printIngestPathBench(r) {
  console.log(
    `ingest path, ${r.events} events in batches of ${r.batchSize} per partition, ${r.runs} timed runs after a warm-up, medians`,
  )
  console.log(describeMachine(r.machine))
  for (const [name, x] of [
    ['JSON.parse alone', r.baseline],
    ['Ingestor.onBatch + flush', r.detector],
    ['Avro: avsc decode alone', r.avroBaseline],
    ['Avro: Ingestor.onBatch + flush', r.avroDetector],
  ]) {
    if (x === undefined) continue
    console.log(
      `${name}: ${x.cpuUs.toFixed(2)} µs CPU/event, of which GC ${x.gcUs.toFixed(2)} (wall ${x.wallUs.toFixed(2)}; ` +
        `runs ${listOf(
          x.runs.map((run) => (run.cpuMs * 1000) / r.events),
          2,
        )})`,
    )
  }
  for (const line of summaryLines(r)) console.log(line)
}

function argValue(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3))
}

if (isMain(import.meta)) {
  printIngestPathBench(
    await runIngestPathBench({
      events: argValue('events', 200_000),
      runs: argValue('runs', 5),
      batchSize: argValue('batch', 1000),
      avro: !process.argv.includes('--json-only'),
    }),
  )
}
