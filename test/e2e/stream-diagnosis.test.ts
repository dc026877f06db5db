// The layers after drift end to end, on the real Kafka and Redis that test/global-setup.ts starts:
// the simulator's quality-incident scenario (f02, f07 and device null or garbage for two windows)
// between stable stretches. The incident must be diagnosed as data quality, not drift; it fires a
// data-quality-incident alert and the failing condition's alert, which both resolve afterwards;
// GET /api/models/fraud/diagnosis says the same as the last report. During the incident the
// producer also sends events that break a type (f05 as text, where the reference is numerical;
// a negative latency): they go to the dead-letter topic and are counted in their window's data
// quality (`typeViolations`), f05 among the causes.
// Event time advances 1 ms per event, so each 10 s window holds 10,000 events.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { snapshotToJSON } from '../../src/adapters/files/reference-file.js'
import { startApp, type App } from '../../src/app/service.js'
import { serviceConfigSchema } from '../../src/config/service.js'
import { ReferenceBuilder } from '../../src/core/reference.js'
import {
  createEventGenerator,
  defaultFeatures,
  referenceRows,
} from '../../src/core/simulate/scenarios.js'
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

const window = 10_000
const stable = 30_000
const incident = 20_000
const total = stable + incident + stable
const broken = ['device', 'f02', 'f07']
// Two hours back, on a window boundary, so the incident fills exactly windows 4 and 5.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / window) * window
const conditions = ['feature.f02.missingShare <= 0.05', 'rows >= 5000', 'precision >= 0.9']
/** During the incident, beside every 8th event one with f05 as text; every 50th a bad latency. */
const textEvery = 8
const latencyEvery = 50
const textPerWindow = window / textEvery
const latencyPerWindow = window / latencyEvery

interface Run {
  readonly reports: WindowReport[]
  readonly alerts: AlertEvent[]
  readonly diagnosis: {
    model: string
    versions: Array<{ version: string | null; reportId: string; diagnosis: { kind: string } }>
  }
  readonly lastReportId: string
}

async function writeSimulatorReference(dir: string): Promise<string> {
  const builder = new ReferenceBuilder(
    defaultFeatures.map((f) => ({ name: f.name, kind: f.kind, reason: 'test' })),
  )
  // Another seed than the stream's: the reference is an independent sample.
  for (const row of referenceRows(20_000, 99)) builder.add(row)
  const path = join(dir, 'reference.json')
  await writeFile(
    path,
    JSON.stringify(
      snapshotToJSON({
        createdAt: new Date(0).toISOString(),
        source: { kind: 'test' },
        exactBreakpoints: true,
        kindReasons: new Map(),
        profile: builder.build(),
      }),
    ),
  )
  return path
}

async function runIncident(): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-e2e-'))
  const names = streamNames()
  const kafka = testKafka()
  await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
  const input = streamConfigInput(names, await writeSimulatorReference(dir), { logLevel: 'warn' })
  const [model] = input['models'] as Array<Record<string, unknown>>
  const config = serviceConfigSchema.parse({
    ...input,
    // 10,000 events per 10 s window: 3.6 M an hour.
    models: [{ ...model, conditions, expectedRate: 3_600_000 }],
  })
  let app: App | undefined
  try {
    app = await startApp(config, {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const generator = createEventGenerator({
      model: 'fraud',
      seed: 5,
      scenario: 'quality-incident',
      driftStartsAt: { index: stable },
      driftRamp: { events: incident },
      idPrefix: 'qi',
    })
    const producer = kafka.producer()
    await producer.connect()
    const events = function* (): Generator<{ key: string; value: string }> {
      for (let i = 0; i < total; i++) {
        const event = generator.next(T0 + i)
        yield { key: event.eventId, value: JSON.stringify(event) }
        if (i < stable || i >= stable + incident) continue
        // Extra events, besides the counted ones: the windows' rows stay 10,000.
        if (i % textEvery === 0) {
          const text = { ...event, eventId: `${event.eventId}-text` }
          text.features = { ...event.features, f05: 'n/a' }
          yield { key: text.eventId, value: JSON.stringify(text) }
        }
        if (i % latencyEvery === 0) {
          const slow = { ...event, eventId: `${event.eventId}-latency`, latencyMs: -1 }
          yield { key: slow.eventId, value: JSON.stringify(slow) }
        }
      }
    }
    await produceAll(producer, names.input, events())
    await producer.disconnect()
    const lastWindowEnd = Math.floor((T0 + total - 1 - 1000) / window) * window
    await withStores(names.keyPrefix, async ({ leases }) =>
      waitFor(
        'the last window evaluated',
        async () =>
          (await leases.lastEvaluation('fraud'))?.windowEnd === lastWindowEnd ? true : undefined,
        180_000,
      ),
    )
    const windows = (lastWindowEnd - T0) / window
    const reports = (await readTopic(kafka, names.reports, (m) => m.length >= windows, 30_000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
    const alerts = (await readTopic(kafka, names.alerts, () => false, 3000)).map(
      (b) => JSON.parse(b.toString()) as AlertEvent,
    )
    const response = await fetch(new URL('/api/models/fraud/diagnosis', app.httpUrl))
    expect(response.status).toBe(200)
    const diagnosis = (await response.json()) as Run['diagnosis']
    const last = reports.find((r) => Date.parse(r.window.end) === lastWindowEnd)
    return { reports, alerts, diagnosis, lastReportId: last?.reportId ?? '' }
  } finally {
    await app?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

describe('quality-incident: f02, f07 and device broken for two windows between stable ones', () => {
  let run: Run
  beforeAll(async () => {
    run = await runIncident()
  }, 400_000)

  const during = (r: WindowReport): boolean =>
    Date.parse(r.window.start) >= T0 + stable && Date.parse(r.window.end) <= T0 + stable + incident
  const outside = (r: WindowReport): boolean => !during(r)

  it('diagnoses the broken windows as a data-quality incident, not drift', () => {
    const bad = run.reports.filter(during)
    expect(bad).toHaveLength(2)
    for (const report of bad) {
      expect(report.dataQuality).toMatchObject({ severity: 'critical', incident: true })
      expect(report.diagnosis?.kind).toBe('data-quality')
      // f05's values are fine: its text-valued events went to the dead-letter topic, and count
      // in the window's type violations.
      expect([...(report.diagnosis?.topCauses ?? [])].sort()).toEqual([...broken, 'f05'].sort())
      const violations = textPerWindow + latencyPerWindow
      expect(report.dataQuality?.typeViolations).toMatchObject({
        severity: 'critical',
        nEvents: violations,
        features: [{ feature: 'f05', nEvents: textPerWindow }],
      })
      expect(report.dataQuality?.typeViolations?.share).toBeCloseTo(
        violations / (window + violations),
        12,
      )
      expect(report.diagnosis?.summary).toContain('type violations')
      const f05 = report.features.find((f) => f.name === 'f05')
      expect(f05?.dataQuality?.findings).toEqual([
        expect.objectContaining({
          check: 'typeViolation',
          severity: 'critical',
          value: textPerWindow / (window + violations),
        }),
      ])
      // Each broken feature: half missing, the rest garbage (far outside the range, or a
      // category the reference never saw).
      for (const name of broken) {
        const feature = report.features.find((f) => f.name === name)
        expect(feature?.dataQuality?.severity, name).toBe('critical')
        expect(feature?.metrics.missingShare, name).toBeGreaterThan(0.45)
      }
      expect(report.dataQuality?.volume).toMatchObject({ severity: 'ok', nEvents: window })
      expect(report.conditions).toEqual([
        expect.objectContaining({ condition: conditions[0], passed: false }),
        { condition: conditions[1], metric: 'rows', value: window, passed: true },
        { condition: conditions[2], metric: 'precision', value: null, passed: null },
      ])
    }
  })

  it('the stable windows around it are clean: no incident, no drift, diagnosis none', () => {
    const good = run.reports.filter(outside)
    expect(good.length).toBeGreaterThanOrEqual(4)
    for (const report of good) {
      expect(report.dataQuality?.incident, report.reportId).toBe(false)
      expect(report.dataQuality?.typeViolations).toMatchObject({ severity: 'ok', nEvents: 0 })
      expect(report.diagnosis?.kind, report.reportId).toBe('none')
      expect(report.conditions?.map((c) => c.passed)).toEqual([true, true, null])
    }
  })

  it('fires and resolves the incident alert and the failed condition’s alert, nothing for the unknown one', () => {
    const named = (name: string, status: string): AlertEvent[] =>
      run.alerts.filter((a) => a.labels['alertname'] === name && a.status === status)
    const [incidentFiring] = named('DriftwatchDataQualityIncident', 'firing')
    expect(named('DriftwatchDataQualityIncident', 'firing')).toHaveLength(1)
    expect(named('DriftwatchDataQualityIncident', 'resolved')).toHaveLength(1)
    expect(incidentFiring?.labels).toMatchObject({ model: 'fraud', severity: 'critical' })
    expect(incidentFiring?.annotations['diagnosis']).toBe('data-quality')
    const conditionFiring = named('DriftwatchConditionFailed', 'firing')
    expect(conditionFiring.map((a) => a.labels['condition'])).toEqual([conditions[0]])
    expect(named('DriftwatchConditionFailed', 'resolved')).toHaveLength(1)
    // Any feature-drift alert the broken values raise says the diagnosis is data quality.
    for (const alert of run.alerts.filter(
      (a) => a.labels['alertname'] === 'DriftwatchFeatureDrift' && a.status === 'firing',
    )) {
      expect(broken).toContain(alert.labels['feature'])
      expect(alert.annotations['diagnosis']).toBe('data-quality')
    }
  })

  it('GET /api/models/fraud/diagnosis gives the latest diagnosis per version', () => {
    expect(run.diagnosis.model).toBe('fraud')
    expect(run.diagnosis.versions).toHaveLength(1)
    expect(run.diagnosis.versions[0]).toMatchObject({
      version: null,
      reportId: run.lastReportId,
      diagnosis: { kind: 'none' },
    })
  })
})
