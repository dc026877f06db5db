// Concept drift end to end on the real Kafka and Redis (test/global-setup.ts): the features never
// change, but the labels do. 40,000 predictions whose labels agree with them as in the baseline
// (92 %), then 40,000 whose labels agree only 70 % of the time. Labels go to the labels topic,
// some before their prediction (they wait), most after. Event time advances 1 ms per event, so
// each 10 s window holds 10,000 predictions. The predictions carry a latency, and the status API
// (`GET /api/models/fraud/status`) must give the latest window's layers as stored: its
// performance as in the published report, its P50/P95/P99 as computed here from the events.

import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { RedisLabelStore } from '../../src/adapters/redis/label-store.js'
import { startApp, type App } from '../../src/app/service.js'
import { serviceConfigSchema } from '../../src/config/service.js'
import { summariesOfFields } from '../../src/core/performance/join.js'
import type { AlertEvent } from '../../src/core/stream/alerts.js'
import type { ModelStatus } from '../../src/ports/status.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { featureRow } from '../helpers/prediction-events.js'
import { mulberry32, type Rng } from '../helpers/random.js'
import { waitFor } from '../helpers/redis-counts.js'
import { redisUrl } from '../helpers/services.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfigInput,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'
import { linearQuantile } from '../helpers/quantile.js'

const phase = 40_000
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000
/** Labels of the first phase sent before their predictions: they wait as early labels. */
const early = 3000

interface Pair {
  readonly prediction: number
  readonly label: number
}

/** A positive-class score, and a label that agrees with the predicted class with `agreement`. */
function pair(rng: Rng, agreement: number): Pair {
  const positive = rng() < 0.3
  const score = Number((positive ? 0.5 + 0.5 * rng() : 0.5 * rng()).toFixed(4))
  const predicted = positive ? 1 : 0
  return { prediction: score, label: rng() < agreement ? predicted : 1 - predicted }
}

interface Run {
  readonly reports: WindowReport[]
  readonly alerts: AlertEvent[]
  readonly deadLetters: string[]
  readonly joined: number
  readonly summaryRows: number
  /** The status API once its latest window is the last complete one, with a verdict. */
  readonly status: ModelStatus
  /** The on-call page, fetched right after the status. */
  readonly page: string
  /** Every prediction's event time and latency. */
  readonly latencies: ReadonlyArray<{ readonly timestamp: number; readonly latencyMs: number }>
}

async function run(): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-concept-'))
  const names = streamNames()
  const labelsTopic = `labels-${names.id}`
  const kafka = testKafka()
  await createTopics(kafka, [
    { topic: names.input, numPartitions: 3 },
    { topic: labelsTopic, numPartitions: 2 },
  ])
  const referenceFile = await writeReference(dir, 20_000, 1234)
  const baselineRng = mulberry32(99)
  const baselineRows = Array.from({ length: 5000 }, () => pair(baselineRng, 0.92))
  const baselineFile = join(dir, 'baseline.csv')
  await writeFile(
    baselineFile,
    ['prediction,label', ...baselineRows.map((r) => `${r.prediction},${r.label}`)].join('\n'),
  )
  const input = streamConfigInput(names, referenceFile, { logLevel: 'warn' }) as {
    kafka: { topics: Record<string, unknown> }
    models: Array<Record<string, unknown>>
  }
  input.kafka.topics['labels'] = labelsTopic
  input.models[0] = {
    ...input.models[0],
    performance: { task: 'binary', baseline: { file: baselineFile }, minLabels: 1000 },
  }
  const config = serviceConfigSchema.parse(input)

  // Everything is generated up front: predictions and labels per phase.
  const rng = mulberry32(7)
  const predictions: Array<{ key: string; value: string }> = []
  const labels: Array<{ key: string; value: string }> = []
  // Latencies from their own generator, so that the pairs stay those of the seed above.
  const latencyRng = mulberry32(8)
  const latencies: Array<{ timestamp: number; latencyMs: number }> = []
  for (let i = 0; i < 2 * phase; i++) {
    const eventId = `e-${i}`
    const { prediction, label } = pair(rng, i < phase ? 0.92 : 0.7)
    const timestamp = T0 + i
    const latencyMs = Number((5 + 40 * latencyRng() ** 3).toFixed(2))
    latencies.push({ timestamp, latencyMs })
    predictions.push({
      key: eventId,
      value: JSON.stringify({
        eventId,
        model: 'fraud',
        timestamp,
        features: featureRow(rng, new Set()),
        prediction,
        latencyMs,
      }),
    })
    labels.push({
      key: eventId,
      value: JSON.stringify({ eventId, model: 'fraud', label, timestamp: timestamp + 60_000 }),
    })
  }
  const bad = [
    { key: 'x', value: 'not json' },
    { key: 'y', value: JSON.stringify({ eventId: 'y', model: 'nobody', label: 1 }) },
  ]

  let app: App | undefined
  const client = new Redis(redisUrl())
  try {
    app = await startApp(config, {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const producer = kafka.producer()
    await producer.connect()
    await produceAll(producer, labelsTopic, [...labels.slice(0, early), ...bad])
    await produceAll(producer, names.input, predictions)
    await produceAll(producer, labelsTopic, labels.slice(early))
    await producer.disconnect()

    const store = new RedisLabelStore(client, names.keyPrefix)
    const buckets: number[] = []
    for (let t = T0; t < T0 + 2 * phase; t += 1000) buckets.push(t)
    const joined = await waitFor(
      'every label joined',
      async () => {
        const counts = await store.bucketLabels('fraud', buckets)
        const total = [...counts.values()].reduce((a, b) => a + b, 0)
        return total === labels.length ? total : undefined
      },
      180_000,
    )
    let summaryRows = 0
    for (const fields of (await store.readPerformance('fraud', buckets)).values())
      for (const summary of summariesOfFields(fields).values()) summaryRows += summary.get('n') ?? 0

    // The alert comes once the drifted windows have their labels (first report or revision).
    const alerts = (
      await readTopic(
        kafka,
        names.alerts,
        (m) => m.some((b) => b.toString().includes('DriftwatchPerformanceDegradation')),
        120_000,
      )
    ).map((b) => JSON.parse(b.toString()) as AlertEvent)
    const reports = (await readTopic(kafka, names.reports, () => false, 3000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
    const deadLetters = await readReasons(kafka, names.deadLetter, 2, 10_000)
    // The last window the evaluator can close: its end plus the allowed lateness (1 s) is passed.
    const lastWindowEnd = Math.floor((T0 + 2 * phase - 1 - 1000) / 10_000) * 10_000
    const statusUrl = new URL('api/models/fraud/status', app.httpUrl)
    const status = await waitFor(
      'the status of the last window, with a performance verdict',
      async () => {
        const body = (await (await fetch(statusUrl)).json()) as ModelStatus
        return body.window?.endMs === lastWindowEnd &&
          body.layers?.performance?.insufficientData === undefined
          ? body
          : undefined
      },
      60_000,
    )
    const page = await (await fetch(app.httpUrl)).text()
    // The reports published up to the status's revision of the window.
    const published = (
      await readTopic(
        kafka,
        names.reports,
        (m) => m.some((b) => b.toString().includes(`"reportId":"${status.layers?.reportId}"`)),
        30_000,
      )
    ).map((b) => JSON.parse(b.toString()) as WindowReport)
    return {
      reports: published.length > reports.length ? published : reports,
      alerts,
      deadLetters,
      joined,
      summaryRows,
      status,
      page,
      latencies,
    }
  } finally {
    await app?.stop()
    client.disconnect()
    await rm(dir, { recursive: true, force: true })
  }
}

/** The `driftwatch-reason` header of the first `n` dead letters. */
async function readReasons(
  kafka: ReturnType<typeof testKafka>,
  topic: string,
  n: number,
  timeoutMs: number,
): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` })
  const reasons: string[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          reasons.push(message.headers?.['driftwatch-reason']?.toString() ?? '')
          if (reasons.length >= n) resolve()
          return Promise.resolve()
        },
      })
      setTimeout(resolve, timeoutMs)
    })
  } finally {
    await consumer.disconnect()
  }
  return reasons
}

/** The newest revision of each window's report. */
function latest(reports: readonly WindowReport[]): WindowReport[] {
  const byWindow = new Map<string, WindowReport>()
  for (const r of reports) {
    const seen = byWindow.get(r.windowId)
    if (seen === undefined || r.revision > seen.revision) byWindow.set(r.windowId, r)
  }
  return [...byWindow.values()].sort((a, b) => a.window.end.localeCompare(b.window.end))
}

describe('concept drift: labels change, features do not', () => {
  let result: Run
  beforeAll(async () => {
    result = await run()
  }, 400_000)

  it('joins every label exactly once, early ones included', () => {
    expect(result.joined).toBe(2 * phase)
    expect(result.summaryRows).toBe(2 * phase)
  })

  it('sends bad label events to the dead-letter topic with a reason', () => {
    expect(result.deadLetters.sort()).toEqual(['invalid_json', 'unknown_model'])
  })

  it('reports performance per window against the baseline: ok, then critical', () => {
    const windows = latest(result.reports)
    const inPhase = (r: WindowReport, i: number): boolean =>
      Date.parse(r.window.start) >= T0 + i * phase &&
      Date.parse(r.window.end) <= T0 + (i + 1) * phase
    const stable = windows.filter((r) => inPhase(r, 0))
    const drifted = windows.filter((r) => inPhase(r, 1))
    expect(stable.length).toBeGreaterThanOrEqual(3)
    expect(drifted.length).toBeGreaterThanOrEqual(3)
    for (const r of stable) {
      expect(r.performance).toMatchObject({ metric: 'accuracy', severity: 'ok' })
      expect(r.performance?.nLabels).toBeGreaterThanOrEqual(1000)
      expect(r.performance?.value).toBeCloseTo(0.92, 1)
    }
    for (const r of drifted) {
      expect(r.performance).toMatchObject({ metric: 'accuracy', severity: 'critical' })
      expect(r.performance?.nLabels).toBeGreaterThanOrEqual(1000)
      expect(r.performance?.drop).toBeGreaterThan(0.15)
      // The label prior moves with it (33 % positive labels before, 42 % after): reported,
      // though a shift this small stays under the default categorical threshold.
      expect(r.labelDrift).toMatchObject({ name: 'label', kind: 'categorical' })
      expect(r.labelDrift?.statistic).toBeGreaterThan(0)
      // The diagnosis: performance fell while neither features nor labels drifted.
      expect(r.diagnosis?.kind).toBe('concept-drift')
      expect(r.diagnosis?.action).toMatch(/^Retrain on recent labelled data/)
    }
    for (const r of stable) expect(r.diagnosis?.kind).toBe('none')
    for (const r of result.reports) expect(r.nDrifted).toBe(0)
  })

  it('fires a performance degradation alert and no feature drift alert', () => {
    const firing = result.alerts.filter((a) => a.status === 'firing')
    expect(firing.map((a) => a.labels['alertname'])).toEqual(['DriftwatchPerformanceDegradation'])
    expect(firing[0]?.labels).toMatchObject({ model: 'fraud', severity: 'critical' })
    expect(firing[0]?.annotations).toMatchObject({ diagnosis: 'concept-drift' })
    expect(Date.parse(firing[0]?.startsAt ?? '')).toBeGreaterThan(T0 + phase)
  })

  it("gives the latest window's layers in the status API: performance as reported, latency from the events", () => {
    const { status } = result
    const layers = status.layers
    expect(layers?.window).toEqual(status.window)
    const report = result.reports.find((r) => r.reportId === layers?.reportId)
    expect(report).toBeDefined()
    // stored state, not a recomputation: the published report's sections, to the last digit
    expect(layers?.performance).toEqual(report?.performance)
    expect(layers?.performance).toMatchObject({ metric: 'accuracy', severity: 'critical' })
    expect(layers?.performance?.value).toBeCloseTo(0.7, 1)
    expect(layers?.performance?.current.precision).toBeGreaterThan(0)
    expect(layers?.labelDrift?.name).toBe('label')
    expect(layers?.dataQuality).toEqual(report?.dataQuality)
    expect(layers?.diagnosis?.kind).toBe('concept-drift')
    // P50/P95/P99 of the window's events, exactly (numpy's linear quantiles)
    const start = layers?.window.startMs ?? NaN
    const values = result.latencies
      .filter((e) => e.timestamp >= start && e.timestamp < start + 10_000)
      .map((e) => e.latencyMs)
    expect(values).toHaveLength(10_000)
    expect(layers?.latency).toMatchObject({ n: 10_000, exact: true, severity: 'ok' })
    expect(layers?.latency?.p50).toBeCloseTo(linearQuantile(values, 0.5), 9)
    expect(layers?.latency?.p95).toBeCloseTo(linearQuantile(values, 0.95), 9)
    expect(layers?.latency?.p99).toBeCloseTo(linearQuantile(values, 0.99), 9)
    expect(layers?.latencyByVersion).toEqual([
      { version: null, window: layers?.window, latency: layers?.latency },
    ])
  })

  it('shows the same layers on the on-call page, above the features', () => {
    const { status, page } = result
    const table = page.slice(
      page.indexOf('<table class="layers">'),
      page.indexOf('</table>', page.indexOf('<table class="layers">')),
    )
    expect(page.indexOf('<table class="layers">')).toBeLessThan(
      page.indexOf('<table class="features">'),
    )
    expect([...table.matchAll(/data-layer="([a-z-]+)"/g)].map((m) => m[1])).toEqual([
      'data-quality',
      'prediction-drift',
      'performance',
      'latency',
      'diagnosis',
    ])
    const shown = (name: string): number =>
      Number(new RegExp(`data-name="${name}" data-v="([^"]*)"`).exec(table)?.[1] ?? NaN)
    const performance = status.layers?.performance
    expect(shown('accuracy')).toBe(performance?.value)
    expect(shown('baseline')).toBe(performance?.baseline)
    expect(shown('precision')).toBe(performance?.current.precision)
    expect(shown('nLabels')).toBe(performance?.nLabels)
    expect(shown('p50')).toBe(status.layers?.latency?.p50)
    expect(shown('p99')).toBe(status.layers?.latency?.p99)
    expect(table).toContain('<b class="diagnosis-kind">concept-drift</b>')
  })
})
