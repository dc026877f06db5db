// The streaming detector end to end on the real Kafka and Redis that test/global-setup.ts
// starts: 100,000 stable events, 100,000 with f01, f05 and f12 shifted by 1.5 sd, then 100,000
// stable again. Event time advances 1 ms per event, so each 10 s window holds 10,000 events.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import type { AlertEvent } from '../../src/core/stream/alerts.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import {
  numericalFeatures,
  categoricalFeatures,
  predictionEvents,
} from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const drifted = ['f01', 'f05', 'f12']
const phase = 100_000
const allFeatures = [...numericalFeatures, ...Object.keys(categoricalFeatures)]
// Two hours back, on a 10 s boundary, so phases and windows line up.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000

interface Run {
  readonly reports: WindowReport[]
  readonly alerts: AlertEvent[]
  readonly counts: { rows: number; perFeature: Map<string, number> }
  readonly produced: number
  readonly deadLetters: number
}

async function runStream(
  phases: ReadonlyArray<{ drifted: readonly string[] }>,
  seed: number,
): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-e2e-'))
  const names = streamNames()
  const kafka = testKafka()
  await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
  const referenceFile = await writeReference(dir, 20_000, seed + 1000)
  const config = streamConfig(names, referenceFile)
  let app: App | undefined
  try {
    app = await startApp(config, {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const producer = kafka.producer()
    await producer.connect()
    let produced = 0
    for (const [i, p] of phases.entries()) {
      produced += await produceAll(
        producer,
        names.input,
        predictionEvents(phase, T0 + i * phase, 1, {
          model: 'fraud',
          seed: seed + i,
          drifted: p.drifted,
          idPrefix: `p${i}`,
        }),
      )
    }
    await producer.disconnect()
    const end = T0 + phases.length * phase
    const lastWindowEnd = Math.floor((end - 1 - 1000) / 10_000) * 10_000
    const counts = await withStores(names.keyPrefix, async ({ sketches, leases }) => {
      const complete = await waitFor(
        'every event in Redis',
        async () => {
          const c = await storedCounts(sketches, 'fraud', T0, end, 1000)
          return c.rows === produced ? c : undefined
        },
        180_000,
      )
      await waitFor(
        'the last window evaluated',
        async () =>
          (await leases.lastEvaluation('fraud'))?.windowEnd === lastWindowEnd ? true : undefined,
        120_000,
      )
      return complete
    })
    const windows = (lastWindowEnd - T0) / 10_000
    const reports = (await readTopic(kafka, names.reports, (m) => m.length >= windows, 30_000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
    const alerts = (await readTopic(kafka, names.alerts, () => false, 3000)).map(
      (b) => JSON.parse(b.toString()) as AlertEvent,
    )
    const deadLetters = (await readTopic(kafka, names.deadLetter, () => false, 2000)).length
    return { reports, alerts, counts, produced, deadLetters }
  } finally {
    await app?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

describe('stable → drifted in f01, f05, f12 → stable', () => {
  let run: Run
  beforeAll(async () => {
    run = await runStream([{ drifted: [] }, { drifted }, { drifted: [] }], 7)
  }, 400_000)

  it('stores every event exactly once, per feature', () => {
    expect(run.produced).toBe(3 * phase)
    expect(run.counts.rows).toBe(run.produced)
    for (const feature of allFeatures)
      expect(run.counts.perFeature.get(feature), feature).toBe(run.produced)
    expect(run.deadLetters).toBe(0)
  })

  it('reports each window once', () => {
    const ids = run.reports.map((r) => r.reportId)
    expect(new Set(ids).size).toBe(ids.length)
    expect(run.reports.length).toBeGreaterThanOrEqual(20)
  })

  it('flags exactly the three shifted features as critical while drifted, and nothing else', () => {
    const inPhase = (r: WindowReport, i: number): boolean =>
      Date.parse(r.window.start) >= T0 + i * phase &&
      Date.parse(r.window.end) <= T0 + (i + 1) * phase
    const driftedReports = run.reports.filter((r) => inPhase(r, 1))
    expect(driftedReports.length).toBeGreaterThanOrEqual(8)
    for (const report of driftedReports) {
      expect(
        report.features
          .filter((f) => f.severity === 'critical')
          .map((f) => f.name)
          .sort(),
      ).toEqual(drifted)
      expect(
        report.features
          .filter((f) => f.drifted)
          .map((f) => f.name)
          .sort(),
      ).toEqual(drifted)
      expect(report.nCurrent).toBe(10_000)
    }
    for (const report of run.reports.filter((r) => inPhase(r, 0) || inPhase(r, 2))) {
      expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual([])
    }
  })

  it('fires one alert per drifted feature and resolves each once the stream is stable again', () => {
    const firing = run.alerts.filter((a) => a.status === 'firing')
    const resolved = run.alerts.filter((a) => a.status === 'resolved')
    expect(firing.map((a) => a.labels['feature']).sort()).toEqual(drifted)
    expect(resolved.map((a) => a.labels['feature']).sort()).toEqual(drifted)
    for (const alert of firing) {
      expect(alert.labels).toMatchObject({
        alertname: 'DriftwatchFeatureDrift',
        model: 'fraud',
        severity: 'critical',
      })
      expect(Date.parse(alert.startsAt)).toBeGreaterThan(T0 + phase)
      expect(alert.endsAt).toBe('0001-01-01T00:00:00Z')
    }
    for (const alert of resolved) expect(Date.parse(alert.endsAt)).toBeGreaterThan(T0 + 2 * phase)
  })
})

describe('control: only stable events', () => {
  let run: Run
  beforeAll(async () => {
    run = await runStream([{ drifted: [] }], 11)
  }, 300_000)

  it('raises no alert and counts every event', () => {
    expect(run.alerts).toEqual([])
    expect(run.counts.rows).toBe(phase)
    for (const report of run.reports) expect(report.nDrifted).toBe(0)
  })
})
