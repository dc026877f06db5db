// The model layers end to end on the real Kafka and Redis that test/global-setup.ts starts, with
// the simulator's own scenarios (src/core/simulate/scenarios.ts) and a reference built from its
// rows as `driftwatch simulate --reference-out` and `reference build` make it (features,
// prediction and latency):
//   latency-regression  50,000 events of v1, then 50,000 of v2 answering 3× slower: v2's
//                       reports say latency critical against v1, and a rollback advice names v1;
//   prior-shift         50,000 stable events, then 50,000 whose predicted classes shift while the
//                       features do not: prediction drift fires, feature drift does not.
// Event time advances 1 ms per event, so each 10 s window holds 10,000 events.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import { buildSimulationReference } from '../../src/app/simulate.js'
import type { PredictionEvent } from '../../src/core/events.js'
import { createEventGenerator, type ScenarioName } from '../../src/core/simulate/scenarios.js'
import type { AlertEvent } from '../../src/core/stream/alerts.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import type { ModelStatus } from '../../src/ports/status.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfig,
  streamNames,
  testKafka,
} from '../helpers/stream.js'
import { linearQuantile } from '../helpers/quantile.js'

const phase = 50_000
const total = 2 * phase
const windowMs = 10_000
// Two hours back, on a 10 s boundary, so phases and windows line up.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / windowMs) * windowMs

interface Run {
  readonly events: PredictionEvent[]
  readonly reports: WindowReport[]
  readonly alerts: AlertEvent[]
  readonly deadLetters: number
  /** `GET /api/models/fraud/status` once the last window is evaluated. */
  readonly status: ModelStatus
}

async function runScenario(scenario: ScenarioName, seed: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-e2e-layers-'))
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
    driftStartsAt: { index: phase },
    idPrefix: `${scenario}-${seed}`,
  })
  const events = Array.from({ length: total }, (_, i) => generator.next(T0 + i))
  let app: App | undefined
  try {
    app = await startApp(streamConfig(names, snapshotPath), {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const producer = kafka.producer()
    await producer.connect()
    const produced = await produceAll(
      producer,
      names.input,
      events.map((e) => ({ key: e.eventId, value: JSON.stringify(e) })),
    )
    await producer.disconnect()
    expect(produced).toBe(total)
    const end = T0 + total
    const lastWindowEnd = Math.floor((end - 1 - 1000) / windowMs) * windowMs
    await withStores(names.keyPrefix, async ({ sketches, leases }) => {
      await waitFor(
        'every event in Redis',
        async () => {
          const c = await storedCounts(sketches, 'fraud', T0, end, 1000)
          return c.rows === total ? c : undefined
        },
        180_000,
      )
      await waitFor(
        'the last window evaluated',
        async () =>
          (await leases.lastEvaluation('fraud'))?.windowEnd === lastWindowEnd ? true : undefined,
        120_000,
      )
    })
    const status = (await (
      await fetch(new URL('api/models/fraud/status', app.httpUrl))
    ).json()) as ModelStatus
    const windows = (lastWindowEnd - T0) / windowMs
    const reports = (await readTopic(kafka, names.reports, (m) => m.length >= windows, 30_000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
    const alerts = (await readTopic(kafka, names.alerts, () => false, 3000)).map(
      (b) => JSON.parse(b.toString()) as AlertEvent,
    )
    const deadLetters = (await readTopic(kafka, names.deadLetter, () => false, 2000)).length
    return { events, reports, alerts, deadLetters, status }
  } finally {
    await app?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

const startOf = (r: WindowReport): number => Date.parse(r.window.start)

describe('latency-regression: v2 takes over with every latency ×3', () => {
  let run: Run
  beforeAll(async () => {
    run = await runScenario('latency-regression', 21)
  }, 400_000)

  it('reports v1 and then v2, every event counted', () => {
    expect(run.deadLetters).toBe(0)
    const v1 = run.reports.filter((r) => r.modelVersion === 'v1')
    const v2 = run.reports.filter((r) => r.modelVersion === 'v2')
    expect(v1.length).toBe(5)
    expect(v2.length).toBeGreaterThanOrEqual(4)
    for (const r of [...v1, ...v2]) expect(r.nCurrent).toBe(windowMs)
  })

  it("gives each window's P50/P95/P99 exactly, as computed from the events themselves", () => {
    for (const report of run.reports) {
      const start = startOf(report)
      const latencies = run.events
        .filter(
          (e) => (e.timestamp as number) >= start && (e.timestamp as number) < start + windowMs,
        )
        .map((e) => e.latencyMs as number)
      expect(report.latency?.n).toBe(latencies.length)
      expect(report.latency?.exact).toBe(true)
      expect(report.latency?.p50).toBeCloseTo(linearQuantile(latencies, 0.5), 9)
      expect(report.latency?.p95).toBeCloseTo(linearQuantile(latencies, 0.95), 9)
      expect(report.latency?.p99).toBeCloseTo(linearQuantile(latencies, 0.99), 9)
    }
  })

  it('judges v1 ok against the reference, and v2 critical against the reference and v1', () => {
    for (const r of run.reports.filter((x) => x.modelVersion === 'v1')) {
      expect(r.latency).toMatchObject({ version: 'v1', previousVersion: null, severity: 'ok' })
      expect(r.latency?.reference?.p99Ratio).toBeGreaterThan(0.8)
      expect(r.latency?.reference?.p99Ratio).toBeLessThan(1.25)
    }
    const lastV1 = run.reports
      .filter((x) => x.modelVersion === 'v1')
      .sort((a, b) => startOf(a) - startOf(b))
      .at(-1) as WindowReport
    for (const r of run.reports.filter((x) => x.modelVersion === 'v2')) {
      expect(r.latency).toMatchObject({
        version: 'v2',
        previousVersion: 'v1',
        severity: 'critical',
        reference: { severity: 'critical' },
        previous: { severity: 'critical', windowEnd: lastV1.window.end, p99: lastV1.latency?.p99 },
      })
      expect(r.latency?.previous?.p99Ratio).toBeGreaterThan(2.4)
      expect(r.latency?.previous?.p99Ratio).toBeLessThan(3.75)
      // Only the latency moved: no feature drift, and the diagnosis says so, naming both versions.
      expect(r.nDrifted).toBe(0)
      expect(r.diagnosis).toMatchObject({
        kind: 'latency-regression',
        summary: 'Latency regression in version v2.',
        action: 'Roll back to version v1.',
      })
    }
  })

  it("gives every version's latest latency and the diagnosis in the status API", () => {
    const layers = run.status.layers
    expect(layers?.version).toBe('v2')
    expect(layers?.diagnosis?.kind).toBe('latency-regression')
    expect(layers?.latencyByVersion.map((v) => v.version)).toEqual(['v2', 'v1'])
    for (const entry of layers?.latencyByVersion ?? []) {
      // the stored sections of each version's last published window, P50/P95/P99 included
      const published = run.reports
        .filter((r) => r.modelVersion === entry.version)
        .sort((a, b) => startOf(a) - startOf(b))
        .at(-1)
      expect(entry.latency).toEqual(published?.latency)
      expect(entry.window).toMatchObject({ end: published?.window.end })
    }
    expect(layers?.latencyByVersion[0]?.latency?.severity).toBe('critical')
    expect(layers?.latencyByVersion[1]?.latency?.severity).toBe('ok')
  })

  it('advises rolling v2 back to v1, once, and alerts on the latency', () => {
    const firing = run.alerts.filter((a) => a.status === 'firing')
    const advice = firing.filter((a) => a.labels['alertname'] === 'DriftwatchRollbackAdvice')
    expect(advice).toHaveLength(1)
    expect(advice[0]?.labels).toMatchObject({
      model: 'fraud',
      model_version: 'v2',
      rollback_to: 'v1',
      severity: 'critical',
    })
    expect(advice[0]?.annotations).toMatchObject({ from_version: 'v2', to_version: 'v1' })
    // fireAfter 2: the second v2 window
    expect(Date.parse(advice[0]?.startsAt ?? '')).toBe(T0 + phase + 2 * windowMs)
    const latency = firing.filter((a) => a.labels['alertname'] === 'DriftwatchLatencyRegression')
    expect(latency.map((a) => a.labels['model_version'])).toEqual(['v2'])
    expect(firing.filter((a) => a.labels['alertname'] === 'DriftwatchFeatureDrift')).toEqual([])
  })
})

describe('prior-shift: the predicted classes move, the features do not', () => {
  let run: Run
  beforeAll(async () => {
    run = await runScenario('prior-shift', 22)
  }, 400_000)

  it('reports prediction drift only after the shift, and no feature drift at all', () => {
    expect(run.deadLetters).toBe(0)
    expect(run.reports.length).toBeGreaterThanOrEqual(9)
    for (const r of run.reports) {
      const shifted = startOf(r) >= T0 + phase
      expect(r.predictionDrift?.name).toBe('prediction')
      expect(r.predictionDrift?.kind).toBe('categorical')
      expect(r.predictionDrift?.drifted, r.window.start).toBe(shifted)
      if (shifted) expect(r.predictionDrift?.severity).toBe('critical')
      expect(r.diagnosis?.kind, r.window.start).toBe(shifted ? 'prior-shift' : 'none')
      expect(r.nDrifted).toBe(0)
      expect(r.nFeatures).toBe(23)
    }
  })

  it('fires a prediction drift alert and no feature drift alert', () => {
    const firing = run.alerts.filter((a) => a.status === 'firing')
    expect(firing.map((a) => a.labels['alertname'])).toEqual(['DriftwatchPredictionDrift'])
    expect(firing[0]?.labels).toMatchObject({ model: 'fraud', model_version: '' })
    expect(Date.parse(firing[0]?.startsAt ?? '')).toBe(T0 + phase + 2 * windowMs)
  })
})
