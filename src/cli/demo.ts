// driftwatch demo: the whole thing on one machine, no Docker. It starts a local Kafka and Redis
// (or uses KAFKA_BROKERS / REDIS_URL), builds a reference from the simulator's stable
// distribution, runs the detector, and produces events that turn from stable to drifted after
// `--drift-after`. The terminal shows a live table of features and each alert as it fires.
// Ctrl-C stops everything it started.
//
// `--speed N` runs event time N times faster than the wall clock (synthetic timestamps), so the
// windows of a minute's traffic pass in seconds; the test suite uses it.

import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Option, type Command } from 'commander'
import type { Kafka } from 'kafkajs'
import { pino } from 'pino'
import { createKafka } from '../adapters/kafka/client.js'
import { startApicurio, startLocalServices } from '../adapters/local-services/index.js'
import { createPredictionEncoder } from '../adapters/schema-registry/avro-encoder.js'
import { startApp } from '../app/service.js'
import { buildSimulationReference, openSimulationProducer, runSimulation } from '../app/simulate.js'
import { parseDuration } from '../config/duration.js'
import { serviceConfigSchema } from '../config/service.js'
import type { AlertEvent } from '../core/stream/alerts.js'
import type { WindowReport } from '../core/stream/evaluation.js'
import { scenarioNames, type ScenarioName } from '../core/simulate/scenarios.js'
import { sortForDisplay, formatNumber } from '../report/text.js'

interface DemoFlags {
  rate: number
  speed: number
  driftAfter: string
  duration?: string
  scenario: ScenarioName
  features?: string
  port: number
  format: 'json' | 'avro'
  release: number
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run local Kafka + Redis, the detector and a simulated stream that drifts (Ctrl-C stops all)',
    )
    .option('--rate <events/s>', 'events per second', Number, 500)
    .option(
      '--speed <factor>',
      'event time runs this many times faster than the wall clock',
      Number,
      1,
    )
    .option('--drift-after <duration>', 'event time before the drift starts', '60s')
    .option('--duration <duration>', 'stop after this much event time (default: until Ctrl-C)')
    .addOption(
      new Option('--scenario <name>', 'drift scenario')
        .choices(scenarioNames)
        .default('sudden-shift'),
    )
    .option('--features <names>', 'features that drift (default: f01,f05,f12)')
    .option(
      '--release <factor>',
      'with the drift, model version v2 takes over from v1 with every latency × factor (0: no release)',
      Number,
      3,
    )
    .option('--port <port>', 'HTTP port for /metrics, /api and the on-call page', Number, 9464)
    .addOption(
      new Option(
        '--format <format>',
        'input events as JSON, or Avro through a schema registry (Apicurio, started here, or SCHEMA_REGISTRY_URL)',
      )
        .choices(['json', 'avro'])
        .default('json'),
    )
    .action(async (flags: DemoFlags) => {
      await runDemo(flags)
    })
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const driftAfterMs = requireDuration('--drift-after', flags.driftAfter)
  const durationMs =
    flags.duration === undefined ? undefined : requireDuration('--duration', flags.duration)
  if (!(Number.isFinite(flags.release) && flags.release >= 0))
    throw new Error(
      `--release: expected a latency factor ≥ 0 (0: no release), got '${flags.release}'`,
    )
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-demo-'))
  const abort = new AbortController()
  // `npm run demo | tee demo.log` and Ctrl-C: tee dies with the same SIGINT, and every later write
  // to stdout fails with EPIPE. Nobody reads any more, so stop quietly and still clean up.
  let outputClosed = false
  const say = (line: string): void => {
    if (!outputClosed) process.stdout.write(line + '\n')
  }
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') throw error
    outputClosed = true
    abort.abort()
  }
  process.stdout.on('error', onOutputError)
  let firstSignalAt = 0
  const onSignal = (): void => {
    // One Ctrl-C can arrive twice (from the terminal and forwarded by npm): only a second press,
    // a moment later, skips the clean-up.
    if (abort.signal.aborted) {
      if (Date.now() - firstSignalAt > 1000) process.exit(130)
      return
    }
    firstSignalAt = Date.now()
    say('\nstopping…')
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const cleanup: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })]
  try {
    say('starting Kafka and Redis (the first run downloads the Kafka jars from Maven Central)…')
    const services = await startLocalServices({ kafka: true, redis: true })
    cleanup.push(() => services.stop())
    let registryUrl: string | undefined
    if (flags.format === 'avro') {
      registryUrl = process.env['SCHEMA_REGISTRY_URL']
      if (registryUrl === undefined || registryUrl === '') {
        say('starting Apicurio Registry (the first run downloads it from Maven Central)…')
        const registry = await startApicurio()
        cleanup.push(() => registry.stop())
        registryUrl = registry.url
      }
      say(`schema registry: ${registryUrl}`)
    }
    const topic = 'predictions'
    const reference = await buildSimulationReference({
      rowsPath: join(dir, 'reference.csv'),
      snapshotPath: join(dir, 'reference.json'),
      rows: 20_000,
      seed: 1,
    })
    say(`reference ${reference.id}: ${reference.rows} stable rows`)
    const run = randomUUID().slice(0, 8)
    const config = serviceConfigSchema.parse({
      kafka: {
        brokers: services.brokers.split(','),
        groupId: `driftwatch-demo-${run}`,
        topics: {
          predictions: [topic],
          reports: `driftwatch.drift-reports`,
          alerts: `driftwatch.alerts`,
          retrain: `driftwatch.retrain`,
          deadLetter: `driftwatch.dead-letter`,
        },
      },
      redis: { url: services.redisUrl, keyPrefix: `demo${run}` },
      http: { port: flags.port },
      flushInterval: '500ms',
      evaluateInterval: '500ms',
      logLevel: 'warn',
      ...(registryUrl === undefined ? {} : { schemaRegistry: { url: registryUrl } }),
      models: [
        {
          name: 'fraud',
          reference: { file: join(dir, 'reference.json') },
          window: { bucket: '5s', size: '30s', hop: '10s', allowedLateness: '2s', retention: '1h' },
          alerts: { fireAfter: 2, resolveAfter: 2 },
        },
      ],
    })
    // The producer, the detector and the watcher share one log file and one way to build their
    // Kafka clients (adapters/kafka/client.ts): the terminal shows only the table.
    const logFile = join(dir, 'driftwatch.log')
    const logger = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false }))
    const producer = await openSimulationProducer({
      kafka: config.kafka,
      logger,
      topic,
      partitions: 3,
    })
    cleanup.push(() => producer.close())
    const app = await startApp(config, { secrets: {}, fromBeginning: false, logger })
    cleanup.push(() => app.stop())
    say(
      `detector running: ${app.httpUrl} (on-call page), ${app.httpUrl}metrics, logs in ${logFile}`,
    )

    const watcher = await watchOutputs(
      createKafka(config.kafka, logger, {}),
      config.kafka.topics.reports,
      config.kafka.topics.alerts,
      run,
      say,
    )
    cleanup.push(() => watcher.stop())

    say(
      `producing ${flags.rate} events/s; ${flags.scenario} in ${flags.features ?? 'f01,f05,f12'} after ${flags.driftAfter} of event time`,
    )
    const step = flags.speed === 1 ? undefined : (1000 * flags.speed) / flags.rate
    const encode =
      registryUrl === undefined
        ? undefined
        : await createPredictionEncoder(topic, {
            url: registryUrl,
            requestTimeoutMs: 10_000,
            compatibility: 'BACKWARD',
          })
    await runSimulation(
      {
        topic,
        model: 'fraud',
        scenario: flags.scenario,
        seed: 1,
        rate: flags.rate,
        driftAfterMs,
        ...(flags.features === undefined ? {} : { driftFeatures: flags.features.split(',') }),
        // A release beside the drift: v2 brings it, and a latency regression (README, "Prediction
        // drift and latency"): the demo shows the model layers and the rollback advice too.
        ...(flags.release > 0 || flags.scenario === 'latency-regression'
          ? { modelVersion: 'v1', nextModelVersion: 'v2', latencyFactor: flags.release || 3 }
          : {}),
        ...(durationMs === undefined ? {} : { durationMs }),
        ...(step === undefined
          ? {}
          : { eventTimeStepMs: step, startTime: fastStartTime(Date.now(), durationMs) }),
        idPrefix: `demo-${run}`,
        signal: abort.signal,
        encode,
      },
      { producer: producer.producer },
    )
    if (!abort.signal.aborted) {
      // Let the last windows close and be reported.
      await new Promise((resolve) => setTimeout(resolve, 3000))
      say(`done: ${watcher.reports()} reports, ${watcher.alerts()} alerts`)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    for (const step of cleanup.reverse()) await step().catch(() => undefined)
    process.stdout.off('error', onOutputError)
  }
}

/**
 * Where event time starts when it runs faster than the wall clock: far enough in the past that it
 * never overtakes the clock (the detector dead-letters events stamped more than
 * `window.maxClockSkew` ahead of it): the whole `--duration` back, or a day when it runs until
 * Ctrl-C (76 minutes of wall time at --speed 20).
 */
function fastStartTime(now: number, durationMs: number | undefined): number {
  return Math.floor((now - (durationMs ?? 86_400_000)) / 10_000) * 10_000
}

function requireDuration(flag: string, text: string): number {
  const ms = parseDuration(text)
  if (ms === null) throw new Error(`${flag}: expected a duration like 60s or 5m, got '${text}'`)
  return ms
}

const colors = {
  ok: '\x1b[32m',
  warning: '\x1b[33m',
  critical: '\x1b[31m',
  reset: '\x1b[0m',
} as const

async function watchOutputs(
  kafka: Kafka,
  reportsTopic: string,
  alertsTopic: string,
  run: string,
  say: (line: string) => void,
): Promise<{ stop(): Promise<void>; reports(): number; alerts(): number }> {
  const consumer = kafka.consumer({ groupId: `driftwatch-demo-watch-${run}` })
  await consumer.connect()
  await consumer.subscribe({ topics: [reportsTopic, alertsTopic], fromBeginning: false })
  const tty = process.stdout.isTTY
  const recentAlerts: string[] = []
  let reports = 0
  let alerts = 0
  await consumer.run({
    eachMessage: ({ topic, message }) => {
      const text = message.value?.toString() ?? '{}'
      if (topic === alertsTopic) {
        const alert = JSON.parse(text) as AlertEvent
        alerts++
        const line = `${alert.status === 'firing' ? 'FIRING  ' : 'RESOLVED'} ${alert.labels['alertname'] ?? ''} ${alert.labels['feature'] ?? ''} severity=${alert.labels['severity'] ?? ''} — ${alert.annotations['summary'] ?? ''}`
        recentAlerts.push(line)
        if (recentAlerts.length > 8) recentAlerts.shift()
        if (!tty) say(line)
        return Promise.resolve()
      }
      const report = JSON.parse(text) as WindowReport
      reports++
      if (!tty) {
        const critical = report.features.filter((f) => f.severity === 'critical').map((f) => f.name)
        say(
          `report ${report.window.end}${report.modelVersion === null ? '' : ` ${report.modelVersion}`}: ${report.nCurrent} events, ${report.nDrifted}/${report.nFeatures} drifted${critical.length > 0 ? `, critical: ${critical.join(', ')}` : ''}`,
        )
        const layers = modelLayers(report)
        if (layers !== '') say(`  ${layers}`)
        if (report.diagnosis !== undefined && report.diagnosis.kind !== 'none')
          say(`  diagnosis: ${report.diagnosis.kind} — ${report.diagnosis.action}`)
        return Promise.resolve()
      }
      const lines = [
        `\x1b[2J\x1b[H driftwatch demo — model fraud, window ${report.window.start} → ${report.window.end}`,
        ` ${report.nCurrent} events; ${report.nDrifted} of ${report.nFeatures} features drifted (dataset drift: ${report.datasetDrift ? 'YES' : 'no'})`,
        ` ${modelLayers(report)}`,
        ` diagnosis: ${report.diagnosis?.kind ?? 'none'} — ${report.diagnosis?.action ?? ''}`,
        '',
        ` ${'feature'.padEnd(10)} ${'test'.padEnd(14)} ${'statistic'.padStart(10)}  severity`,
        ...sortForDisplay(report.features).map(
          (f) =>
            ` ${f.name.padEnd(10)} ${f.test.padEnd(14)} ${formatNumber(f.statistic).padStart(10)}  ${colors[f.severity]}${f.severity}${colors.reset}`,
        ),
        '',
        ' alerts:',
        ...(recentAlerts.length === 0 ? ['  (none yet)'] : recentAlerts.map((l) => `  ${l}`)),
        '',
        ' Ctrl-C stops everything.',
      ]
      say(lines.join('\n'))
      return Promise.resolve()
    },
  })
  return { stop: () => consumer.disconnect(), reports: () => reports, alerts: () => alerts }
}

/** The model's own layers beside the features: prediction drift and latency (README). */
function modelLayers(report: WindowReport): string {
  const parts: string[] = []
  const p = report.predictionDrift
  if (p !== undefined)
    parts.push(
      `prediction: ${p.drifted ? 'DRIFT' : 'no drift'} (${p.test} ${formatNumber(p.statistic)}, ${p.severity})`,
    )
  const l = report.latency
  if (l !== undefined)
    parts.push(
      `latency p50/p95/p99 ${formatNumber(l.p50)}/${formatNumber(l.p95)}/${formatNumber(l.p99)} ms (${l.severity})`,
    )
  return parts.join('; ')
}
