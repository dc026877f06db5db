// Measurement: how long a consumer group of `driftwatch run` detectors stalls when one of them
// is restarted (issue 12, "static membership").
//
// Starts local Kafka and Redis (dist/adapters/local-services; KAFKA_BROKERS / REDIS_URL reuse
// running ones), creates a 6-partition topic, keeps `driftwatch simulate` producing into it at a
// steady rate, and runs two detectors in one group (flush interval 250 ms). Each trial waits until
// both detectors own 3 partitions and every partition's checkpoint in Redis moves, then restarts
// detector B:
//   --mode=kill  SIGKILL, then start it again at once (a crash; Kubernetes restarts the pod);
//   --mode=term  SIGTERM, wait for it to exit (it flushes and leaves the group), then start it
//                again (what a rolling restart does).
// From 2 s before the signal it polls every 100 ms: the checkpoints in Redis (hash
// <prefix>:{<model>}:checkpoints, src/adapters/redis/keys.ts), one `nextOffset` per partition
// moved by each flush, and detector A's driftwatch_events_consumed_total on its /metrics. It
// stops once the restarted detector owns partitions and every partition has moved for 4 s.
// Reported per trial, in seconds after the signal:
//   all partitions: when the last partition that paused (no checkpoint move for > 1.5 s) moved
//                   again, i.e. every one of the 6 is consumed again (0: none paused that long);
//   longest pause:  the longest time between two checkpoint moves of one partition, ending after
//                   the signal (about 0.3-0.5 s when nothing pauses: the flush interval);
//   survivor:       when detector A counted events again after its longest pause, and that
//                   pause (a failed poll of its /metrics, counted, can lengthen it);
//   restarted owns: when the restarted detector first reported a partition lag (it owns some).
//
// Run: npm run build && node benchmarks/restart-stall.bench.js [--mode=kill|term] [--trials=3]
//        [--session-timeout=30s] [--heartbeat-interval=3s] [--rate=300]
// (--heartbeat-interval only with a build whose config has kafka.heartbeatInterval.)

import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import kafkajs from 'kafkajs'
import { stringify } from 'yaml'
import { cliArgs, importDist, isMain, median, repoRoot } from './lib/common.js'

const PARTITIONS = 6
const MODEL = 'fraud'
const STALL_MS = 1500
const POLL_MS = 100

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : arg.slice(name.length + 3)
}

function cli(args, log) {
  const out = log === undefined ? 'ignore' : openSync(log, 'a')
  const child = spawn(process.execPath, cliArgs(...args), {
    cwd: repoRoot,
    stdio: ['ignore', out, out],
  })
  if (typeof out === 'number') closeSync(out)
  child.exited = new Promise((resolve) => child.once('exit', resolve))
  return child
}

async function metricsOf(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(1000),
    })
    const text = await response.text()
    let consumed = 0
    const owned = new Set()
    for (const line of text.split('\n')) {
      if (line.startsWith('driftwatch_events_consumed_total{'))
        consumed += Number(line.split(' ').pop())
      const lag = /^driftwatch_consumer_lag\{.*partition="(\d+)".*\} /.exec(line)
      if (lag !== null) owned.add(Number(lag[1]))
    }
    return { consumed, owned }
  } catch {
    return undefined
  }
}

async function checkpointsOf(redis, keyPrefix) {
  const hash = await redis.hgetall(`${keyPrefix}:{${MODEL}}:checkpoints`)
  const offsets = new Map()
  for (const [id, json] of Object.entries(hash))
    offsets.set(Number(id.split(':').pop()), Number(JSON.parse(json).nextOffset))
  return offsets
}

/**
 * Polls until `state.stop`: the times (ms) at which each partition's checkpoint moved, at which
 * detector A's count moved, and when the restarted detector (once `state.restarted`) first owned
 * a partition. Polls of A's /metrics that fail (a loaded machine) are counted, not guessed.
 */
async function observe(redis, keyPrefix, portA, portB, state) {
  const moves = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, []]))
  const lastOffset = new Map()
  const survivorMoves = []
  let survivorPollsFailed = 0
  let lastConsumed
  let restartedOwnsAt
  while (!state.stop) {
    const now = Date.now()
    const [offsets, a, b] = await Promise.all([
      checkpointsOf(redis, keyPrefix),
      metricsOf(portA),
      state.restarted ? metricsOf(portB) : undefined,
    ])
    for (const [p, offset] of offsets) {
      if (lastOffset.has(p) && offset > lastOffset.get(p)) moves.get(p).push(now)
      lastOffset.set(p, offset)
    }
    if (a === undefined) survivorPollsFailed++
    else {
      if (lastConsumed !== undefined && a.consumed > lastConsumed) survivorMoves.push(now)
      lastConsumed = a.consumed
    }
    if (restartedOwnsAt === undefined && b !== undefined && b.owned.size > 0) restartedOwnsAt = now
    state.seen = { moves, survivorMoves, survivorPollsFailed, restartedOwnsAt, now }
    await sleep(POLL_MS)
  }
  return state.seen
}

/** The longest gap between consecutive moves that ends after `after`: { end, length } or undefined. */
function longestGapEndingAfter(times, after) {
  let best
  for (let i = 1; i < times.length; i++) {
    const length = times[i] - times[i - 1]
    if (times[i] > after && (best === undefined || length > best.length))
      best = { end: times[i], length }
  }
  return best
}

async function waitSteady(redis, keyPrefix, portA, portB) {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const [a, b] = await Promise.all([metricsOf(portA), metricsOf(portB)])
    if (a?.owned.size === 3 && b?.owned.size === 3) {
      const state = { stop: false, restarted: false }
      const observed = observe(redis, keyPrefix, portA, portB, state)
      await sleep(2000)
      state.stop = true
      const { moves } = await observed
      if ([...moves.values()].every((m) => m.length > 0)) return
    }
    await sleep(500)
  }
  throw new Error('the two detectors did not settle on 3 partitions each within 120 s')
}

async function main() {
  const mode = option('mode', 'kill')
  const trials = Number(option('trials', '3'))
  const sessionTimeout = option('session-timeout', '30s')
  const heartbeatInterval = option('heartbeat-interval', undefined)
  const rate = Number(option('rate', '300'))
  const { startLocalServices, freePorts } = await importDist('adapters/local-services/index.js')
  const services = await startLocalServices({ kafka: true, redis: true })
  const dir = mkdtempSync(join(tmpdir(), 'dw-restart-'))
  const id = randomUUID().slice(0, 8)
  const topic = `restart-${id}`
  const keyPrefix = `rs${id}`
  const children = []
  const redis = new Redis(services.redisUrl)
  try {
    const kafka = new kafkajs.Kafka({
      brokers: [services.brokers],
      logLevel: kafkajs.logLevel.NOTHING,
    })
    const admin = kafka.admin()
    await admin.connect()
    const outputs = ['dead-letter', 'reports', 'alerts', 'retrain'].map((t) => `${topic}.${t}`)
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS }, ...outputs.map((t) => ({ topic: t }))],
    })
    await admin.disconnect()

    // A reference from the simulator's own stable rows.
    const csv = join(dir, 'reference.csv')
    const reference = join(dir, 'reference.json')
    const brokersArg = ['--brokers', services.brokers, '--topic', `${topic}.scratch`]
    let r = spawnSync(
      process.execPath,
      cliArgs(
        'simulate',
        ...brokersArg,
        '--partitions',
        '1',
        '--count',
        '1',
        '--reference-out',
        csv,
        '--reference-rows',
        '5000',
      ),
      { cwd: repoRoot },
    )
    if (r.status !== 0) throw new Error(`simulate --reference-out: ${r.stderr}`)
    r = spawnSync(process.execPath, cliArgs('reference', 'build', '-i', csv, '-o', reference), {
      cwd: repoRoot,
    })
    if (r.status !== 0) throw new Error(`reference build: ${r.stderr}`)

    const [portA, portB] = await freePorts(2)
    const configFor = (port, name) => {
      const path = join(dir, `${name}.yaml`)
      writeFileSync(
        path,
        stringify({
          kafka: {
            brokers: [services.brokers],
            groupId: `restart-${id}`,
            sessionTimeout,
            ...(heartbeatInterval === undefined ? {} : { heartbeatInterval }),
            topics: {
              predictions: [topic],
              deadLetter: outputs[0],
              reports: outputs[1],
              alerts: outputs[2],
              retrain: outputs[3],
            },
          },
          redis: { url: services.redisUrl, keyPrefix },
          http: { port },
          flushInterval: '250ms',
          evaluateInterval: '1s',
          logLevel: 'info',
          models: [
            {
              name: MODEL,
              reference: { file: reference },
              window: { bucket: '1s', size: '10s', hop: '10s', allowedLateness: '1s' },
            },
          ],
        }),
      )
      return path
    }
    const configA = configFor(portA, 'a')
    const configB = configFor(portB, 'b')
    const producer = cli([
      'simulate',
      '--brokers',
      services.brokers,
      '--topic',
      topic,
      '--rate',
      String(rate),
      '--id-prefix',
      `p${id}`,
    ])
    children.push(producer)
    const a = cli(['run', '--config', configA], join(dir, 'a.log'))
    children.push(a)
    let b = cli(['run', '--config', configB], join(dir, 'b.log'))
    children.push(b)

    console.log(
      `mode=${mode} sessionTimeout=${sessionTimeout} heartbeatInterval=${heartbeatInterval ?? 'default'} ` +
        `rate=${rate}/s partitions=${PARTITIONS} logs=${dir}`,
    )
    const rows = []
    for (let trial = 1; trial <= trials; trial++) {
      await waitSteady(redis, keyPrefix, portA, portB)
      const load = (await import('node:os')).loadavg()[0].toFixed(1)
      // The observer starts before the signal, so a killed member's partitions' pause is measured
      // from their last flush.
      const state = { stop: false, restarted: false }
      const observed = observe(redis, keyPrefix, portA, portB, state)
      await sleep(2000)
      const signalAt = Date.now()
      b.kill(mode === 'kill' ? 'SIGKILL' : 'SIGTERM')
      await b.exited
      const exitedAt = Date.now()
      b = cli(['run', '--config', configB], join(dir, 'b.log'))
      children.push(b)
      state.restarted = true
      // Done once the restarted detector owns partitions, every partition moves, and both have
      // held for 4 s (a rejoin's rebalance pauses the others again).
      const deadline = signalAt + 120_000
      for (;;) {
        await sleep(POLL_MS)
        const seen = state.seen
        const settled =
          seen.restartedOwnsAt !== undefined &&
          seen.now - seen.restartedOwnsAt > 4000 &&
          [...seen.moves.values()].every(
            (times) => times.length > 0 && seen.now - times[times.length - 1] < STALL_MS,
          )
        if (settled || Date.now() > deadline) break
      }
      await sleep(4000)
      state.stop = true
      const seen = await observed
      let allAt = signalAt
      let longestPartitionPause = 0
      for (const times of seen.moves.values()) {
        const gap = longestGapEndingAfter(times, signalAt)
        if (gap === undefined) continue
        longestPartitionPause = Math.max(longestPartitionPause, gap.length)
        if (gap.length > STALL_MS) allAt = Math.max(allAt, gap.end)
      }
      const survivor = longestGapEndingAfter(seen.survivorMoves, signalAt)
      const seconds = (ms) => Math.round(ms) / 1000
      const row = {
        trial,
        load,
        exitS: seconds(exitedAt - signalAt),
        allPartitionsS: seconds(allAt - signalAt),
        longestPartitionPauseS: seconds(longestPartitionPause),
        survivorResumesS: survivor === undefined ? NaN : seconds(survivor.end - signalAt),
        survivorPauseS: survivor === undefined ? NaN : seconds(survivor.length),
        survivorPollsFailed: seen.survivorPollsFailed,
        restartedOwnsS:
          seen.restartedOwnsAt === undefined ? NaN : seconds(seen.restartedOwnsAt - signalAt),
      }
      rows.push(row)
      console.log(JSON.stringify(row))
    }
    const range = (k) => {
      const xs = rows.map((row) => row[k])
      return `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} (median ${median(xs).toFixed(1)})`
    }
    console.log(
      `over ${rows.length} trials, seconds after the signal: all partitions consumed again ` +
        `${range('allPartitionsS')}; longest pause of a partition ${range('longestPartitionPauseS')}; ` +
        `survivor resumes ${range('survivorResumesS')} after a pause of ${range('survivorPauseS')}; ` +
        `restarted detector owns partitions ${range('restartedOwnsS')}`,
    )
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    redis.disconnect()
    await services.stop()
  }
}

if (isMain(import.meta)) await main()
