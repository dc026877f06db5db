// Benchmark: the streaming detector's ingest rate against a bare Kafka consumer, and its memory
// as the stream goes on.
//
// Starts local Kafka and Redis (dist/adapters/local-services; KAFKA_BROKERS / REDIS_URL reuse
// running ones), produces 1,000,000 standard events (benchmarks/lib/events.js: 20 numerical +
// 3 categorical features, ~650 bytes of JSON) to a 6-partition topic once, then in the same run:
//   (a) baseline: a bare kafkajs consumer group that only JSON.parses each message
//       (benchmarks/lib/kafka-baseline-consumer.js), a child process, timed from spawn until it
//       has parsed all events;
//   (b) the detector: `node bin/driftwatch.js run --config <yaml> --from-beginning` (flush
//       interval 1 s), a child process, timed from spawn until its checkpoints in Redis
//       (hash <prefix>:{<model>}:checkpoints, src/adapters/redis/keys.ts) reach every
//       partition's end offset;
//   events/s of both and the ratio detector / baseline (target >= 0.8). Also reported: the rate
//   from a tenth of the events to the end (start-up excluded) and events per CPU-second, which
//   other work on a shared machine distorts less. Baseline and detector runs alternate.
// Then, with the last detector still running, more events are produced, in steps, up to
// --rss-events in all (default 10,000,000): after each step (3M, 10M) the bench waits for the
// detector to catch up and samples its peak RSS (VmHWM) and RSS; peak RSS must stay flat from 1M
// to the end (target: within +10 %). The producer streams: events are generated per send, never
// held. After each run the bench checks the detector's count: the rows in its Redis buckets add
// up to the events produced, none late, none dead-lettered.
//
// Event time advances 1 ms per event (1,000 events/s of event time; 16.7 min per 1M), so
// one-minute buckets open and close and 10-minute windows (hop 5 min) are evaluated while the
// benchmark runs, as in production.
//
// Stream targets (issue 12), each printed with its ratio and MET / NOT MET:
//   - detector / bare kafkajs + JSON.parse >= 0.8 (above);
//   - two detectors in one consumer group (each takes 3 of the 6 partitions) / one >= 1.6,
//     timed the same way, once, in the last run (--no-pair skips it);
//   - with Avro input >= 1.0 x the JSON baseline: the same events Avro-encoded (Confluent wire
//     format, schemas/prediction-event.avsc) on a second topic, a real schema registry
//     (Apicurio; SCHEMA_REGISTRY_URL reuses one), a detector configured with it in every run,
//     against the same baseline (--no-avro skips it);
//   - peak RSS flat: after --rss-events (default 10M) against after 1M (measureLongRun).
//
// Time on an idle 2-core machine, defaults: ~10 min (producing 1M ~0.5 min, 2 x (baseline +
// detector + Avro detector) + the pair ~4 min, the 9M more events ~5 min: the long run is
// producer-bound, kafkajs + the event generator ~30-40 µs CPU per event against the detector's
// ~16; measured at load 6-8: 11-14k events/s).
//
// Run: npm run build && node benchmarks/ingest.bench.js [--events=1000000] [--rss-events=10000000]
//      [--runs=2] [--no-pair] [--no-avro]   (--rss-events=0: no long run; --extra=N: --rss-events=events+N)
// Before/after: DW_BENCH_COMPARE_DIST=<another build's dist> adds that build's detector to every
// run (before this build's), against the same topic and baseline.
// Profile the detector: DW_BENCH_PROFILE_DIR=/tmp/prof node benchmarks/ingest.bench.js --runs=1 --extra=0
// (a .cpuprofile per detector run, written when it stops).
// A runner can import { runIngestBench, printIngestBench } instead; main() runs only when
// invoked directly.

import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import kafkajs from 'kafkajs'
import {
  cacheDir,
  cliArgsAt,
  distDir,
  describeMachine,
  importDist,
  isMain,
  listOf,
  machineInfo,
  median,
  metOrNot,
  mib,
  procMemory,
  repoRoot,
  table,
} from './lib/common.js'
import { eventGenerator } from './lib/events.js'
import { categoricalNames, numericalNames, rowGenerator } from './lib/feature-data.js'

const { Kafka, logLevel } = kafkajs
const { startLocalServices } = await importDist('adapters/local-services/index.js')
const { ReferenceBuilder } = await importDist('core/reference.js')
const { snapshotToJSON } = await importDist('adapters/files/reference-file.js')
const { decodeBucket } = await importDist('core/stream/bucket-codec.js')

const MODEL = 'bench'
const PARTITIONS = 6
const RATIO_TARGET = 0.8
const AVRO_TARGET = 1.0
const PAIR_TARGET = 1.6
const RSS_TARGET = 1.1
const DEFAULT_RSS_EVENTS = 10_000_000
// Where the long run samples the detector's memory besides its first and last event (the first
// is --events, 1M by default).
const RSS_MARKS = [1_000_000, 3_000_000]
const CLOCK_TICKS = 100 // USER_HZ; `getconf CLK_TCK` is 100 on Linux
const WAIT_LIMIT_MS = 20 * 60_000

function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}

/** Samples a process' memory every 200 ms until stopped; keeps the maximum RSS seen. */
function memorySampler(pid) {
  let last = null
  let maxRss = 0
  const timer = setInterval(() => {
    const m = procMemory(pid)
    if (m === null) return
    last = m
    if (m.rss > maxRss) maxRss = m.rss
  }, 200)
  return {
    now: () => procMemory(pid) ?? last,
    maxRss: () => maxRss,
    stop: () => clearInterval(timer),
  }
}

function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
    }, timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

function writeReference(path, rows) {
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
  const json = snapshotToJSON({
    createdAt: new Date(0).toISOString(),
    source: { kind: 'benchmark' },
    exactBreakpoints: true,
    kindReasons: new Map(),
    profile: builder.build(),
  })
  writeFileSync(path, JSON.stringify(json) + '\n')
}

/** Produces `count` events round-robin over the partitions; a few sends in flight. */
async function produce(producer, topic, source, count) {
  const started = process.hrtime.bigint()
  const perSend = 1000 * PARTITIONS
  const inFlight = []
  for (let sent = 0; sent < count;) {
    const n = Math.min(perSend, count - sent)
    const messages = new Array(n)
    // As Buffers: kafkajs encodes a string value at about twice the CPU (measured: 60 -> 32 µs
    // per event, producer included), and the long run's 9M events are producer-bound.
    for (let i = 0; i < n; i++)
      messages[i] = { partition: source.index++ % PARTITIONS, value: Buffer.from(source.next()) }
    inFlight.push(producer.send({ topic, acks: -1, messages }))
    if (inFlight.length >= 4) await inFlight.shift()
    sent += n
  }
  await Promise.all(inFlight)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  return { count, ms, perSecond: (count / ms) * 1000 }
}

async function endOffsets(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic)
  return new Map(offsets.map((o) => [`${topic}:${o.partition}`, BigInt(o.high)]))
}

/**
 * Polls the model's checkpoint hash until every partition's nextOffset reaches `ends`.
 * Returns the times (hrtime ms) when a tenth of the way was passed and when it was done.
 */
async function waitForCheckpoints(redis, key, starts, ends, children, describe) {
  const all = Array.isArray(children) ? children : [children]
  let total = 0n
  for (const [id, end] of ends) total += end - (starts.get(id) ?? 0n)
  let tenthAt = null
  const limit = performance.now() + WAIT_LIMIT_MS
  for (;;) {
    const exited = all.find((child) => child.exitCode !== null || child.signalCode !== null)
    if (exited !== undefined) {
      throw new Error(
        `the detector exited (${exited.exitCode ?? exited.signalCode}) before catching up: ${describe()}`,
      )
    }
    const stored = await redis.hgetall(key)
    let covered = 0n
    let complete = true
    for (const [id, end] of ends) {
      const json = stored[id]
      const next = json === undefined ? 0n : BigInt(JSON.parse(json).nextOffset)
      const start = starts.get(id) ?? 0n
      const reached = next < end ? next : end
      if (reached > start) covered += reached - start
      if (next < end) complete = false
    }
    const now = performance.now()
    if (tenthAt === null && covered * 10n >= total) tenthAt = now
    if (complete) return { tenthAt: tenthAt ?? now, doneAt: now, late: sumLate(stored) }
    if (now > limit)
      throw new Error(
        `the detector did not catch up within ${WAIT_LIMIT_MS / 60_000} min: ${describe()}`,
      )
    await sleep(100)
  }
}

function sumLate(stored) {
  let late = 0
  for (const json of Object.values(stored)) late += JSON.parse(json).late
  return late
}

/** Rows the detector holds in its Redis buckets, over every bucket, partition and series. */
async function countedRows(redis, prefix) {
  let rows = 0
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${prefix}:{${MODEL}}:bucket:*`,
      'COUNT',
      1000,
    )
    cursor = next
    for (const key of keys) {
      for (const [field, blob] of Object.entries(await redis.hgetallBuffer(key))) {
        // '#rows' is the bucket's row counter (src/adapters/redis/lua/apply-flush.lua), not a blob.
        if (field.startsWith('#')) continue
        // Buckets are stored binary (src/core/stream/bucket-binary.ts): decoded as the store does.
        for (const profile of decodeBucket(blob).values()) rows += profile.rows
      }
    }
  } while (cursor !== '0')
  return rows
}

async function deleteKeys(redis, prefix) {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== '0')
}

async function runBaseline({ brokers, topic, groupId, expected }) {
  const script = join(repoRoot, 'benchmarks', 'lib', 'kafka-baseline-consumer.js')
  const started = performance.now()
  const child = spawn(process.execPath, [script, brokers, topic, groupId, String(expected)], {
    cwd: repoRoot,
  })
  const memory = memorySampler(child.pid)
  const marks = {}
  let stderr = ''
  child.stderr.on('data', (b) => (stderr += b))
  let buffered = ''
  child.stdout.on('data', (b) => {
    buffered += b
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, nl))
      buffered = buffered.slice(nl + 1)
      marks[line.at] = { ...line, t: performance.now() }
    }
  })
  let peakRss = 0
  const hwmTimer = setInterval(() => {
    const m = procMemory(child.pid)
    if (m !== null && m.hwm > peakRss) peakRss = m.hwm
  }, 50)
  await waitForExit(child, WAIT_LIMIT_MS)
  clearInterval(hwmTimer)
  memory.stop()
  if (marks.done === undefined)
    throw new Error(`baseline consumer failed (${child.exitCode}): ${stderr.slice(-2000)}`)
  if (marks.done.withFeatures !== expected)
    throw new Error(
      `baseline parsed ${marks.done.withFeatures} events with features, expected ${expected}`,
    )
  const wallMs = marks.done.t - started
  const steadyMs = marks.done.t - marks.tenth.t
  return {
    events: expected,
    wallMs,
    steadyMs,
    cpuMs: marks.done.cpuMs,
    peakRss: Math.max(peakRss, memory.maxRss()),
    perSecond: (expected / wallMs) * 1000,
    steadyPerSecond: ((expected - marks.tenth.count) / steadyMs) * 1000,
    perCpuSecond: (expected / marks.done.cpuMs) * 1000,
  }
}

function detectorConfig({ brokers, redisUrl, names, referenceFile, registryUrl }) {
  return [
    ...avroConfigLines(registryUrl),
    'kafka:',
    `  brokers: [${brokers
      .split(',')
      .map((b) => JSON.stringify(b))
      .join(', ')}]`,
    '  clientId: driftwatch-bench',
    `  groupId: ${names.groupId}`,
    '  topics:',
    `    predictions: [${names.topic}]`,
    `    deadLetter: ${names.deadLetter}`,
    `    reports: ${names.reports}`,
    `    alerts: ${names.alerts}`,
    `    retrain: ${names.retrain}`,
    'redis:',
    `  url: ${JSON.stringify(redisUrl)}`,
    `  keyPrefix: ${names.keyPrefix}`,
    'http:',
    '  port: 0',
    'flushInterval: 1s',
    'evaluateInterval: 1s',
    'logLevel: warn',
    'models:',
    `  - name: ${MODEL}`,
    '    reference:',
    `      file: ${JSON.stringify(referenceFile)}`,
    '    window: { bucket: 1m, size: 10m, hop: 5m, allowedLateness: 1m, retention: 2h }',
    '',
  ].join('\n')
}

async function runDetector({
  dir,
  brokers,
  redisUrl,
  redis,
  admin,
  names,
  referenceFile,
  ends,
  expected,
  keepRunning,
  dist = distDir,
  instances = 1,
  registryUrl,
}) {
  const configFile = join(dir, `${names.keyPrefix}.yaml`)
  writeFileSync(
    configFile,
    detectorConfig({ brokers, redisUrl, names, referenceFile, registryUrl }),
  )
  const started = performance.now()
  // DW_BENCH_PROFILE_DIR=<dir>: the detector writes a V8 CPU profile there when it stops.
  const profile = process.env.DW_BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DW_BENCH_PROFILE_DIR}`]
    : []
  // `instances` detectors in one consumer group (the same config): they share the partitions.
  const children = []
  const logFiles = []
  for (let i = 0; i < instances; i++) {
    const logFile = join(dir, `${names.keyPrefix}${instances > 1 ? `-${i}` : ''}.log`)
    const logFd = openSync(logFile, 'w')
    children.push(
      spawn(
        process.execPath,
        [...profile, ...cliArgsAt(dist, 'run', '--config', configFile, '--from-beginning')],
        { cwd: repoRoot, stdio: ['ignore', logFd, logFd] },
      ),
    )
    closeSync(logFd)
    logFiles.push(logFile)
  }
  const child = children[0]
  const samplers = children.map((c) => memorySampler(c.pid))
  const memory = {
    now: () => {
      const each = samplers.map((m) => m.now())
      return {
        rss: Math.max(...each.map((m) => m?.rss ?? 0)),
        hwm: Math.max(...each.map((m) => m?.hwm ?? 0)),
      }
    },
    maxRss: () => Math.max(...samplers.map((m) => m.maxRss())),
    stop: () => samplers.forEach((m) => m.stop()),
  }
  const describe = () =>
    logFiles.map((f) => `see ${f}:\n${readFileSync(f, 'utf8').slice(-2000)}`).join('\n')
  const checkpoints = `${names.keyPrefix}:{${MODEL}}:checkpoints`
  try {
    const waited = await waitForCheckpoints(redis, checkpoints, new Map(), ends, children, describe)
    const cpuMs = children.reduce((sum, c) => sum + cpuMsOf(c.pid), 0)
    const atDone = memory.now()
    const counted = await countedRows(redis, names.keyPrefix)
    const deadLetters = [...(await endOffsets(admin, names.deadLetter)).values()].reduce(
      (a, b) => a + b,
      0n,
    )
    const reports = [...(await endOffsets(admin, names.reports)).values()].reduce(
      (a, b) => a + b,
      0n,
    )
    if (counted + waited.late !== expected || deadLetters !== 0n) {
      throw new Error(
        `detector counted ${counted} events (+${waited.late} late, ${deadLetters} dead letters), expected ${expected}`,
      )
    }
    const wallMs = waited.doneAt - started
    const steadyMs = waited.doneAt - waited.tenthAt
    const result = {
      events: expected,
      instances,
      wallMs,
      steadyMs,
      cpuMs,
      rssAtDone: atDone.rss,
      peakRss: atDone.hwm,
      perSecond: (expected / wallMs) * 1000,
      steadyPerSecond: ((expected * 0.9) / steadyMs) * 1000,
      perCpuSecond: (expected / cpuMs) * 1000,
      counted,
      late: waited.late,
      reports: Number(reports),
      logFile: logFiles.join(', '),
    }
    if (!keepRunning) {
      memory.stop()
      for (const c of children) c.kill('SIGTERM')
      await Promise.all(children.map((c) => waitForExit(c, 30_000)))
      return { result }
    }
    return { result, running: { child, memory, checkpoints, describe } }
  } catch (error) {
    memory.stop()
    for (const c of children) c.kill('SIGKILL')
    throw error
  }
}

/**
 * The memory target's long run: the last detector, still running after its first `events`,
 * gets more events in steps up to `rssEvents` in all (RSS_MARKS between them); after each step
 * the bench waits until the detector has caught up and samples its peak RSS (VmHWM) and RSS.
 * Checks that the detector counted every event. Ratio: peak RSS at the end / after `events`.
 */
async function measureLongRun({
  producer,
  admin,
  redis,
  topic,
  source,
  running,
  keyPrefix,
  first,
  events,
  rssEvents,
  log,
}) {
  const marks = [...RSS_MARKS.filter((m) => m > events && m < rssEvents), rssEvents]
  const samples = [
    { events, rss: first.rssAtDone, peakRss: first.peakRss, producedMs: 0, catchUpMs: 0 },
  ]
  const started = performance.now()
  let starts = await endOffsets(admin, topic)
  let late = 0
  for (const mark of marks) {
    const count = mark - samples[samples.length - 1].events
    log(`long run: producing ${count} more events (to ${mark}) while the last detector runs`)
    const stepStart = performance.now()
    const driverCpu = process.cpuUsage()
    const detectorCpuMs = cpuMsOf(running.child.pid)
    const produced = await produce(producer, topic, source, count)
    const producedAt = performance.now()
    const ends = await endOffsets(admin, topic)
    const waited = await waitForCheckpoints(
      redis,
      running.checkpoints,
      starts,
      ends,
      running.child,
      running.describe,
    )
    late = waited.late
    starts = ends
    const m = running.memory.now()
    const driverUsed = process.cpuUsage(driverCpu)
    samples.push({
      events: mark,
      rss: m.rss,
      peakRss: m.hwm,
      producedPerSecond: produced.perSecond,
      // Consumption overlaps production, so this rate is not comparable to the table's.
      perSecond: (count / (waited.doneAt - stepStart)) * 1000,
      catchUpMs: waited.doneAt - producedAt,
      stepMs: waited.doneAt - stepStart,
      // CPU of the step: the producer (this process) and the detector; with the broker's, what
      // bounds the step on an idle machine.
      driverCpuMs: (driverUsed.user + driverUsed.system) / 1000,
      detectorCpuMs: cpuMsOf(running.child.pid) - detectorCpuMs,
    })
    log(
      `long run: ${mark} events, peak RSS ${mib(m.hwm).toFixed(0)} MiB, RSS ${mib(m.rss).toFixed(0)} MiB, ` +
        `${((waited.doneAt - stepStart) / 1000).toFixed(0)} s for the step`,
    )
  }
  const counted = await countedRows(redis, keyPrefix)
  if (counted + late !== rssEvents)
    throw new Error(`detector counted ${counted} (+${late} late) of ${rssEvents} events`)
  const last = samples[samples.length - 1]
  // The target is flat from 1M on (before, windows are still filling): the ratio is to the
  // sample at 1M when the run took one (--events below 1M), else to the first.
  const base = samples.find((x) => x.events >= 1_000_000 && x !== last) ?? samples[0]
  const peakRatio = last.peakRss / base.peakRss
  return {
    events: rssEvents,
    samples,
    rss: last.rss,
    peakRss: last.peakRss,
    maxSampledRss: running.memory.maxRss(),
    counted,
    late,
    wallMs: performance.now() - started,
    baseEvents: base.events,
    rssRatio: last.rss / base.rss,
    peakRatio,
    met: peakRatio <= RSS_TARGET,
  }
}

function longRunSummaryLines(r) {
  if (r.longRun === null)
    return [`ingest memory (peak RSS flat to 10M events): not run (--rss-events=${r.rssEvents})`]
  const x = r.longRun
  const [start] = x.samples
  return [
    `ingest memory: detector peak RSS ${x.samples.map((s) => `${mib(s.peakRss).toFixed(0)} MiB after ${s.events}`).join(', ')} events: ` +
      `ratio ${x.events} / ${x.baseEvents} ${x.peakRatio.toFixed(3)} (target <= ${r.rssTarget}: ${metOrNot(x.met)})` +
      (x.events < 10_000_000
        ? ` (to ${x.events} only; the target says 10M: --rss-events=10000000)`
        : '') +
      `; current RSS ${mib(start.rss).toFixed(0)} -> ${mib(x.rss).toFixed(0)} MiB`,
  ]
}

function printLongRun(r) {
  if (r.longRun === null) return
  const x = r.longRun
  console.log(
    `long run, the last detector kept running (${(x.wallMs / 1000).toFixed(0)} s after its first ${x.samples[0].events} events; ` +
      `counted ${x.counted} rows, late ${x.late}):`,
  )
  const lines = [
    [
      'events',
      'peak RSS MiB',
      'RSS MiB',
      'produced/s',
      'consumed/s',
      'catch-up s',
      'step s',
      'CPU s producer / detector',
    ],
  ]
  for (const s of x.samples) {
    lines.push([
      String(s.events),
      mib(s.peakRss).toFixed(0),
      mib(s.rss).toFixed(0),
      s.producedPerSecond === undefined ? '' : String(Math.round(s.producedPerSecond)),
      s.perSecond === undefined ? '' : String(Math.round(s.perSecond)),
      s.perSecond === undefined ? '' : (s.catchUpMs / 1000).toFixed(1),
      s.stepMs === undefined ? '' : (s.stepMs / 1000).toFixed(1),
      s.stepMs === undefined
        ? ''
        : `${(s.driverCpuMs / 1000).toFixed(1)} / ${(s.detectorCpuMs / 1000).toFixed(1)}`,
    ])
  }
  console.log(table(lines))
}

// ---------------------------------------------------------------------------------------------
// Avro input, measured: a real schema registry (Apicurio, started by the same local-services
// code as the Avro e2e tests, dist/adapters/local-services/apicurio.js; SCHEMA_REGISTRY_URL
// reuses a running one), the same events Avro-encoded with schemas/prediction-event.avsc in the
// Confluent wire format on a second topic, and the detector configured with the registry.

/** The detector config's `schemaRegistry` section; none for JSON runs. */
function avroConfigLines(registryUrl) {
  if (registryUrl === undefined) return []
  return ['schemaRegistry:', `  url: ${JSON.stringify(registryUrl)}`]
}

async function startBenchRegistry(log) {
  const given = process.env.SCHEMA_REGISTRY_URL?.trim()
  if (given) return { url: given, stop: () => Promise.resolve() }
  log('starting a local schema registry (Apicurio) for the Avro runs')
  const { startApicurio } = await importDist('adapters/local-services/apicurio.js')
  return startApicurio({ log: (line) => log(`apicurio: ${line}`) })
}

/**
 * Registers the prediction schema for `topic` and produces `count` events to it: the JSON
 * topic's events (same seed, same times), each Avro-encoded as a producer with a registry would.
 */
async function produceAvroEvents({ producer, admin, registryUrl, topic, count, startTime }) {
  const { default: avro } = await import('avsc')
  const schema = JSON.parse(
    readFileSync(join(repoRoot, 'schemas', 'prediction-event.avsc'), 'utf8'),
  )
  const response = await fetch(
    `${registryUrl}/subjects/${encodeURIComponent(`${topic}-value`)}/versions`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    },
  )
  if (!response.ok)
    throw new Error(
      `registering the prediction schema: HTTP ${response.status} ${await response.text()}`,
    )
  const { id: schemaId } = await response.json()
  const type = avro.Type.forSchema(schema, { wrapUnions: false })
  const header = Buffer.alloc(5)
  header.writeInt32BE(schemaId, 1)
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
  })
  const json = eventGenerator({ seed: 2002, model: MODEL, startTime, stepMs: 1, drifted: true })
  const source = {
    index: 0,
    next: () => Buffer.concat([header, type.toBuffer(JSON.parse(json()))]),
  }
  const produced = await produce(producer, topic, source, count)
  const bytes = Buffer.concat([header, type.toBuffer(JSON.parse(json()))]).length
  return { produced, bytes, ends: await endOffsets(admin, topic) }
}

/** One detector run on the Avro topic, timed as the JSON runs are (runDetector). */
async function runAvroDetector(options, run) {
  const n = { ...names(options.id, `${run}a`), topic: options.topic }
  options.prefixes.push(n.keyPrefix)
  options.topics.push(n.deadLetter, n.reports, n.alerts, n.retrain)
  const { result } = await runDetector({
    ...options.common,
    names: n,
    ends: options.ends,
    expected: options.events,
    keepRunning: false,
    registryUrl: options.registryUrl,
  })
  return result
}

/** The Avro rate against the JSON baseline of the same run (its median). */
function avroSummary(avroRuns, baselinePerSecond, bytes) {
  const perSecond = median(avroRuns.map((x) => x.perSecond))
  const steadyPerSecond = median(avroRuns.map((x) => x.steadyPerSecond))
  const perCpuSecond = median(avroRuns.map((x) => x.perCpuSecond))
  const ratio = perSecond / baselinePerSecond.perSecond
  return {
    runs: avroRuns,
    bytes,
    perSecond,
    steadyPerSecond,
    perCpuSecond,
    ratio,
    steadyRatio: steadyPerSecond / baselinePerSecond.steadyPerSecond,
    cpuRatio: perCpuSecond / baselinePerSecond.perCpuSecond,
    met: ratio >= AVRO_TARGET,
  }
}

function names(id, run) {
  const base = `bench-${id}-r${run}`
  return {
    topic: `bench-${id}-predictions`,
    groupId: `${base}-detector`,
    deadLetter: `${base}-dlq`,
    reports: `${base}-reports`,
    alerts: `${base}-alerts`,
    retrain: `${base}-retrain`,
    keyPrefix: `bench${id}r${run}`,
  }
}

/**
 * Every measurement; see the header. `compareDist`: another build's dist/ to run as well.
 * `rssEvents`: events the last detector sees in all (the long run); `extraEvents`, if given,
 * sets it to events + extraEvents.
 * @param {{ events?: number, rssEvents?: number, extraEvents?: number, runs?: number,
 *   referenceRows?: number,
 *   compareDist?: string, log?: (line: string) => void }} [options]
 */
export async function runIngestBench(options = {}) {
  const events = options.events ?? 1_000_000
  const rssEvents =
    options.extraEvents !== undefined
      ? events + options.extraEvents
      : (options.rssEvents ?? DEFAULT_RSS_EVENTS)
  const runs = options.runs ?? 2
  const compareDist = options.compareDist
  const pairs = options.pairs ?? true
  const withAvro = options.avro ?? true
  const referenceRows = options.referenceRows ?? 200_000
  const log = options.log ?? ((line) => process.stderr.write(`[ingest bench] ${line}\n`))
  const machine = machineInfo()
  const dir = cacheDir('ingest')
  const id = randomUUID().slice(0, 8)
  const reused =
    Boolean(process.env.KAFKA_BROKERS?.trim()) || Boolean(process.env.REDIS_URL?.trim())

  log('starting local Kafka and Redis')
  const services = await startLocalServices(
    { kafka: true, redis: true },
    { log: (line) => log(`services: ${line}`) },
  )
  const kafka = new Kafka({
    clientId: 'bench-driver',
    brokers: services.brokers.split(','),
    logLevel: logLevel.ERROR,
  })
  const admin = kafka.admin()
  const producer = kafka.producer()
  const redis = new Redis(services.redisUrl, { lazyConnect: true })
  const prefixes = []
  const topics = []
  let running
  let registry
  try {
    await Promise.all([admin.connect(), producer.connect(), redis.connect()])
    const referenceFile = join(dir, `reference-${referenceRows}.json`)
    writeReference(referenceFile, referenceRows)

    const topic = names(id, 0).topic
    topics.push(topic)
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    })
    const source = {
      index: 0,
      next: eventGenerator({
        seed: 2002,
        model: MODEL,
        startTime: Date.now() - 6 * 3_600_000,
        stepMs: 1,
        drifted: true,
      }),
    }
    log(`producing ${events} events to ${topic} (${PARTITIONS} partitions)`)
    const produced = await produce(producer, topic, source, events)
    const ends = await endOffsets(admin, topic)
    const eventBytes = Buffer.byteLength(
      eventGenerator({ seed: 2002, model: MODEL, startTime: Date.now(), stepMs: 1 })(),
    )
    let avroInput = null
    if (withAvro) {
      registry = await startBenchRegistry(log)
      const avroTopic = `${topic}-avro`
      topics.push(avroTopic)
      log(`producing ${events} Avro events to ${avroTopic}`)
      const avroEvents = await produceAvroEvents({
        producer,
        admin,
        registryUrl: registry.url,
        topic: avroTopic,
        count: events,
        startTime: Date.now() - 6 * 3_600_000,
      })
      avroInput = {
        id,
        topic: avroTopic,
        ends: avroEvents.ends,
        bytes: avroEvents.bytes,
        events,
        registryUrl: registry.url,
        prefixes,
        topics,
        common: {
          dir,
          brokers: services.brokers,
          redisUrl: services.redisUrl,
          redis,
          admin,
          referenceFile,
        },
      }
    }
    const avroRuns = []

    const baseline = []
    const detector = []
    const compared = []
    let pair = null
    for (let r = 0; r < runs; r++) {
      log(`run ${r + 1}/${runs}: baseline consumer`)
      baseline.push(
        await runBaseline({
          brokers: services.brokers,
          topic,
          groupId: `bench-${id}-r${r + 1}-baseline`,
          expected: events,
        }),
      )
      if (compareDist !== undefined) {
        log(`run ${r + 1}/${runs}: detector of ${compareDist}`)
        const c = names(id, `${r + 1}c`)
        prefixes.push(c.keyPrefix)
        topics.push(c.deadLetter, c.reports, c.alerts, c.retrain)
        const other = await runDetector({
          dir,
          brokers: services.brokers,
          redisUrl: services.redisUrl,
          redis,
          admin,
          names: c,
          referenceFile,
          ends,
          expected: events,
          keepRunning: false,
          dist: compareDist,
        })
        compared.push(other.result)
      }
      if (pairs && r === runs - 1) {
        log(`run ${r + 1}/${runs}: two detectors in one group`)
        const p = names(id, `${r + 1}p`)
        prefixes.push(p.keyPrefix)
        topics.push(p.deadLetter, p.reports, p.alerts, p.retrain)
        const both = await runDetector({
          dir,
          brokers: services.brokers,
          redisUrl: services.redisUrl,
          redis,
          admin,
          names: p,
          referenceFile,
          ends,
          expected: events,
          keepRunning: false,
          instances: 2,
        })
        pair = both.result
      }
      if (avroInput !== null) {
        log(`run ${r + 1}/${runs}: detector, Avro input`)
        avroRuns.push(await runAvroDetector(avroInput, r + 1))
      }
      log(`run ${r + 1}/${runs}: detector`)
      const n = names(id, r + 1)
      prefixes.push(n.keyPrefix)
      topics.push(n.deadLetter, n.reports, n.alerts, n.retrain)
      const outcome = await runDetector({
        dir,
        brokers: services.brokers,
        redisUrl: services.redisUrl,
        redis,
        admin,
        names: n,
        referenceFile,
        ends,
        expected: events,
        keepRunning: r === runs - 1 && rssEvents > events,
      })
      detector.push(outcome.result)
      running = outcome.running
    }

    const longRun =
      running === undefined
        ? null
        : await measureLongRun({
            producer,
            admin,
            redis,
            topic,
            source,
            running,
            keyPrefix: names(id, runs).keyPrefix,
            first: detector[detector.length - 1],
            events,
            rssEvents,
            log,
          })

    const b = {
      perSecond: median(baseline.map((x) => x.perSecond)),
      steadyPerSecond: median(baseline.map((x) => x.steadyPerSecond)),
      perCpuSecond: median(baseline.map((x) => x.perCpuSecond)),
    }
    const d = {
      perSecond: median(detector.map((x) => x.perSecond)),
      steadyPerSecond: median(detector.map((x) => x.steadyPerSecond)),
      perCpuSecond: median(detector.map((x) => x.perCpuSecond)),
    }
    const ratio = d.perSecond / b.perSecond
    const c =
      compareDist === undefined
        ? null
        : {
            dist: compareDist,
            runs: compared,
            perSecond: median(compared.map((x) => x.perSecond)),
            steadyPerSecond: median(compared.map((x) => x.steadyPerSecond)),
            perCpuSecond: median(compared.map((x) => x.perCpuSecond)),
          }
    if (c !== null) {
      c.ratios = {
        endToEnd: c.perSecond / b.perSecond,
        steady: c.steadyPerSecond / b.steadyPerSecond,
        cpu: c.perCpuSecond / b.perCpuSecond,
      }
    }
    const avro = avroInput === null ? null : avroSummary(avroRuns, b, avroInput.bytes)
    const pairResult =
      pair === null
        ? null
        : {
            ...pair,
            ratio: pair.perSecond / d.perSecond,
            steadyRatio: pair.steadyPerSecond / d.steadyPerSecond,
            met: pair.perSecond / d.perSecond >= PAIR_TARGET,
          }
    return {
      machine,
      events,
      rssEvents,
      avro,
      avroTarget: AVRO_TARGET,
      pair: pairResult,
      pairTarget: PAIR_TARGET,
      partitions: PARTITIONS,
      eventBytes,
      produced,
      baseline: { runs: baseline, ...b },
      detector: { runs: detector, ...d },
      compared: c,
      ratios: {
        endToEnd: ratio,
        steady: d.steadyPerSecond / b.steadyPerSecond,
        cpu: d.perCpuSecond / b.perCpuSecond,
      },
      target: RATIO_TARGET,
      met: ratio >= RATIO_TARGET,
      longRun,
      rssTarget: RSS_TARGET,
      command: 'node bin/driftwatch.js run --config <yaml> --from-beginning',
    }
  } finally {
    if (running !== undefined) {
      running.memory.stop()
      running.child.kill('SIGTERM')
      await waitForExit(running.child, 30_000)
    }
    await registry?.stop()
    if (reused) {
      // Shared services: remove what this run made. Our own services go away with stop().
      await Promise.all(prefixes.map((p) => deleteKeys(redis, p))).catch(() => undefined)
      await admin.deleteTopics({ topics }).catch(() => undefined)
    }
    await Promise.allSettled([admin.disconnect(), producer.disconnect(), redis.quit()])
    await services.stop()
  }
}

export function summaryLines(r) {
  const lines = [
    `ingest: detector ${Math.round(r.detector.perSecond)} events/s vs bare kafkajs + JSON.parse ${Math.round(r.baseline.perSecond)} events/s: ` +
      `ratio ${r.ratios.endToEnd.toFixed(2)} (target >= ${r.target}: ${metOrNot(r.met)}); ` +
      `start-up excluded ${r.ratios.steady.toFixed(2)}, per CPU-second ${r.ratios.cpu.toFixed(2)}`,
  ]
  if (r.avro !== null) lines.push(avroSummaryLine(r))
  if (r.pair !== null) {
    lines.push(
      `ingest, two detectors in one group vs one: ${Math.round(r.pair.perSecond)} vs ${Math.round(r.detector.perSecond)} events/s: ` +
        `ratio ${r.pair.ratio.toFixed(2)} (target >= ${r.pairTarget}: ${metOrNot(r.pair.met)}); start-up excluded ${r.pair.steadyRatio.toFixed(2)}; ` +
        `CPU ${(r.pair.cpuMs / 1000).toFixed(1)} s for both`,
    )
  }
  lines.push(...longRunSummaryLines(r))
  return lines
}

/** The Avro target's line: measured with a real schema registry, against the JSON baseline. */
function avroSummaryLine(r) {
  return (
    `ingest, Avro input (schema registry, ${r.avro.bytes} B events): detector ${Math.round(r.avro.perSecond)} events/s vs bare kafkajs + JSON.parse ` +
    `${Math.round(r.baseline.perSecond)} events/s of the same events as JSON: ratio ${r.avro.ratio.toFixed(2)} ` +
    `(target >= ${r.avroTarget}: ${metOrNot(r.avro.met)}); start-up excluded ${r.avro.steadyRatio.toFixed(2)}, per CPU-second ${r.avro.cpuRatio.toFixed(2)}`
  )
}

export function printIngestBench(r) {
  const k = (x) => String(Math.round(x))
  const s = (ms) => (ms / 1000).toFixed(2)
  console.log(
    `ingest, ${r.events} events of ~${r.eventBytes} bytes (20 numerical + 3 categorical features) on ${r.partitions} partitions; ` +
      `${r.baseline.runs.length} runs each, alternating, medians`,
  )
  console.log(describeMachine(r.machine))
  console.log(`produced at ${k(r.produced.perSecond)} events/s (${s(r.produced.ms)} s)`)
  const lines = [
    [
      'case',
      'events/s',
      'start-up excluded',
      'per CPU-second',
      'wall s, each run',
      'CPU s, each run',
      'peak RSS MiB',
    ],
  ]
  const add = (name, x) =>
    lines.push([
      name,
      k(x.perSecond),
      k(x.steadyPerSecond),
      k(x.perCpuSecond),
      listOf(
        x.runs.map((run) => run.wallMs / 1000),
        2,
      ),
      listOf(
        x.runs.map((run) => run.cpuMs / 1000),
        2,
      ),
      x.runs.map((run) => mib(run.peakRss).toFixed(0)).join(' / '),
    ])
  add('kafkajs + JSON.parse (baseline)', r.baseline)
  add('driftwatch run', r.detector)
  if (r.avro !== null) add('driftwatch run, Avro input', r.avro)
  if (r.pair !== null) add('driftwatch run, two instances', { ...r.pair, runs: [r.pair] })
  lines.push([
    'detector / baseline',
    r.ratios.endToEnd.toFixed(2),
    r.ratios.steady.toFixed(2),
    r.ratios.cpu.toFixed(2),
    '',
    '',
    '',
  ])
  if (r.compared !== null) {
    add('driftwatch run, compared build', r.compared)
    lines.push([
      'compared build / baseline',
      r.compared.ratios.endToEnd.toFixed(2),
      r.compared.ratios.steady.toFixed(2),
      r.compared.ratios.cpu.toFixed(2),
      '',
      '',
      '',
    ])
  }
  console.log(table(lines))
  if (r.compared !== null)
    console.log(`compared build: ${r.compared.dist} (its runs alternate with the others)`)
  console.log(
    `detector counted every event (Redis buckets: ${r.detector.runs.map((x) => x.counted).join(' / ')} rows, ` +
      `late ${r.detector.runs.map((x) => x.late).join(' / ')}, no dead letters); windows reported: ${r.detector.runs.map((x) => x.reports).join(' / ')}`,
  )
  console.log(`command: ${r.command}`)
  printLongRun(r)
  for (const line of summaryLines(r)) console.log(line)
}

function argValue(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3))
}

if (isMain(import.meta)) {
  printIngestBench(
    await runIngestBench({
      events: argValue('events', 1_000_000),
      rssEvents: argValue('rss-events', DEFAULT_RSS_EVENTS),
      extraEvents: argValue('extra', undefined),
      runs: argValue('runs', 2),
      compareDist: process.env.DW_BENCH_COMPARE_DIST || undefined,
      pairs: !process.argv.includes('--no-pair'),
      avro: !process.argv.includes('--no-avro'),
    }),
  )
}
