// Gradual drift end to end on the real Kafka and Redis that test/global-setup.ts starts: 8 days of
// event time from the simulator's `gradual-drift` scenario (src/core/simulate/scenarios.ts), the
// means of f01, f05 and f12 moving steadily by 0.085 standard deviations over the 8 days, in
// seconds of wall-clock time. 500 events an hour of event time, hourly buckets, 8-hour windows
// hopping every hour: ~190 windows of 6 watched features, each scored by Wasserstein (Evidently's fixed threshold 0.1,
// so a window's drift score is its normed distance over 0.1). No window is far past the drift
// boundary, but the scores climb: once the series is 6 days old the evaluator's trend
// (core/stream/trend.ts) sees a slope over 7 days of ~0.5 and publishes DriftwatchFeatureDriftGradual
// on the alerts topic. The same seed's stable run publishes none.
// The parameters were chosen on the core alone: at 500 events a window the scores of a stable
// feature wander between 0.2 and 0.7, which leaves no room for a slow climb below 1; 8-hour windows
// (4000 events) halve that noise.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import { buildSimulationReference } from '../../src/app/simulate.js'
import { serviceConfigSchema } from '../../src/config/service.js'
import { createEventGenerator, type ScenarioName } from '../../src/core/simulate/scenarios.js'
import type { AlertEvent } from '../../src/core/stream/alerts.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfigInput,
  streamNames,
  testKafka,
} from '../helpers/stream.js'

const hourMs = 3_600_000
const dayMs = 24 * hourMs
const hours = 8 * 24
const perHour = 500
const total = hours * perHour
const windowHours = 8
// Nine days back, on an hour boundary: every event is in the past, windows line up with hours.
const T0 = Math.floor((Date.now() - 9 * dayMs) / hourMs) * hourMs
const end = T0 + hours * hourMs
/** The last window the watermark closes: the one ending an hour before the last event. */
const lastWindowEnd = end - hourMs
const driftFeatures = ['f01', 'f05', 'f12']
/** Watched: the drift features and three that stay put (fewer features, a faster evaluation). */
const watched = [...driftFeatures, 'f02', 'f07', 'country']

interface Run {
  readonly reports: WindowReport[]
  readonly alerts: AlertEvent[]
  readonly deadLetters: number
}

async function runScenario(scenario: ScenarioName, seed: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-e2e-gradual-'))
  const names = streamNames()
  const kafka = testKafka()
  await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
  const snapshotPath = join(dir, 'reference.json')
  await buildSimulationReference({
    rowsPath: join(dir, 'rows.csv'),
    snapshotPath,
    rows: 20_000,
    seed,
    now: () => new Date(T0),
  })
  const generator = createEventGenerator({
    model: 'fraud',
    seed,
    scenario,
    shiftSd: 0.085,
    driftStartsAt: { timeMs: T0 },
    driftRamp: { ms: hours * hourMs },
    idPrefix: `${scenario}-${seed}`,
  })
  const step = hourMs / perHour
  const input = streamConfigInput(names, snapshotPath, {
    logLevel: 'warn',
    window: {
      bucket: '1h',
      size: `${windowHours}h`,
      hop: '1h',
      allowedLateness: '1m',
      retention: '1d',
    },
  }) as { models: Array<Record<string, unknown>> }
  input.models[0] = {
    ...input.models[0],
    features: watched,
    drift: { mode: 'evidently', kinds: { numerical: { test: 'wasserstein' } } },
    // The defaults, written out: the Prometheus rule's criterion.
    gradualDrift: { threshold: 0.3, span: '7d' },
  }
  let app: App | undefined
  try {
    app = await startApp(serviceConfigSchema.parse(input), {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const producer = kafka.producer()
    await producer.connect()
    const messages = function* (): Generator<{ key: string; value: string }> {
      for (let i = 0; i < total; i++) {
        const event = generator.next(T0 + Math.floor(i * step))
        yield { key: event.eventId, value: JSON.stringify(event) }
      }
    }
    expect(await produceAll(producer, names.input, messages())).toBe(total)
    await producer.disconnect()
    await withStores(names.keyPrefix, async ({ leases }) => {
      await waitFor(
        'the last window evaluated',
        async () =>
          ((await leases.lastEvaluation('fraud'))?.windowEnd ?? 0) >= lastWindowEnd
            ? true
            : undefined,
        240_000,
      )
    })
    const reports = (await readTopic(kafka, names.reports, () => false, 5000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
    const alerts = (await readTopic(kafka, names.alerts, () => false, 3000)).map(
      (b) => JSON.parse(b.toString()) as AlertEvent,
    )
    const deadLetters = (await readTopic(kafka, names.deadLetter, () => false, 2000)).length
    return { reports, alerts, deadLetters }
  } finally {
    await app?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

const endOf = (r: WindowReport): number => Date.parse(r.window.end)

describe('gradual-drift: a slow climb over 8 days of event time', () => {
  let run: Run
  beforeAll(async () => {
    run = await runScenario('gradual-drift', 5)
  }, 400_000)

  it('evaluates every hourly window with its trend', () => {
    expect(run.deadLetters).toBe(0)
    const ends = new Set(run.reports.map(endOf))
    expect(ends.size).toBeGreaterThanOrEqual(hours - windowHours)
    const last = run.reports.find((r) => endOf(r) === lastWindowEnd) as WindowReport
    expect(last.nCurrent).toBe(windowHours * perHour)
    expect(last.gradualDrift).toMatchObject({ threshold: 0.3, spanMs: 7 * dayMs })
    // Each drift feature climbed: a slope over the week well past what a stable one shows.
    for (const feature of driftFeatures) {
      const trend = last.gradualDrift?.features.find((f) => f.feature === feature)
      expect(trend?.coveredMs).toBeGreaterThanOrEqual(6 * dayMs)
      expect(trend?.slope, feature).toBeGreaterThan(0.3)
    }
  })

  it('publishes DriftwatchFeatureDriftGradual (warning) for a drift feature, and no critical feature drift', () => {
    const firing = run.alerts.filter((a) => a.status === 'firing')
    const gradual = firing.filter((a) => a.labels['alertname'] === 'DriftwatchFeatureDriftGradual')
    expect(gradual.length).toBeGreaterThanOrEqual(1)
    for (const alert of gradual) {
      expect(alert.labels).toMatchObject({ model: 'fraud', model_version: '', severity: 'warning' })
      expect(driftFeatures).toContain(alert.labels['feature'])
      // Not before the series is 6 days old (the replay's first window ends an hour after T0).
      expect(Date.parse(alert.startsAt)).toBeGreaterThanOrEqual(T0 + hourMs + 6 * dayMs)
      expect(Number(alert.annotations['slope'])).toBeGreaterThanOrEqual(0.3)
    }
    const critical = firing.filter(
      (a) =>
        a.labels['alertname'] === 'DriftwatchFeatureDrift' && a.labels['severity'] === 'critical',
    )
    expect(critical).toEqual([])
    // A resolved gradual alert carries the labels it fired with.
    for (const resolved of run.alerts.filter(
      (a) => a.status === 'resolved' && a.labels['alertname'] === 'DriftwatchFeatureDriftGradual',
    ))
      expect(gradual.map((a) => a.fingerprint)).toContain(resolved.fingerprint)
  })

  it('diagnoses gradual drift in a window where no feature drifted', () => {
    const diagnosed = run.reports.filter((r) => r.diagnosis?.kind === 'gradual-drift')
    expect(diagnosed.length).toBeGreaterThanOrEqual(1)
    for (const r of diagnosed) {
      expect(r.nDrifted).toBe(0)
      expect(r.diagnosis?.topCauses.every((f) => driftFeatures.includes(f))).toBe(true)
      expect(r.diagnosis?.action).toMatch(/^Plan a retrain/)
    }
  })
})

describe('stable: the same 8 days without drift', () => {
  let run: Run
  beforeAll(async () => {
    run = await runScenario('stable', 5)
  }, 400_000)

  it('judges every feature over 6 days and finds no climb', () => {
    const last = run.reports.find((r) => endOf(r) === lastWindowEnd) as WindowReport
    expect(last.gradualDrift?.features.map((f) => f.feature).sort()).toEqual([...watched].sort())
    for (const trend of last.gradualDrift?.features ?? []) {
      expect(trend.coveredMs).toBeGreaterThanOrEqual(6 * dayMs)
      expect(trend.gradual).toBe(false)
    }
  })

  it('publishes no gradual-drift alert', () => {
    const names = run.alerts.map((a) => a.labels['alertname'])
    expect(names).not.toContain('DriftwatchFeatureDriftGradual')
    expect(run.reports.filter((r) => r.diagnosis?.kind === 'gradual-drift')).toEqual([])
  })
})
