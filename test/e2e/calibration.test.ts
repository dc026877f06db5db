// Sample-size-aware verdicts end to end (issue 8, item 5: the demo's first window of 100 events
// had 11 of 23 features "drifted" a minute before any drift). On the real Kafka and Redis that
// test/global-setup.ts starts, two models read the same demo-like events (20 numerical and 3
// categorical features, windows of 10 s holding 100 events): `fraud` with the default calibrated
// verdicts, `fraud-evidently` with Evidently's fixed thresholds. Three stable windows, then f01,
// f05 and f12 shifted by 1.5 sd.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import { serviceConfigSchema } from '../../src/config/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfigInput,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const drifted = ['f01', 'f05', 'f12']
const perWindow = 100
const windowMs = 10_000
const stableWindows = 3
const driftedWindows = 5
// Two hours back, on a window boundary, so phases and windows line up.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / windowMs) * windowMs
const end = T0 + (stableWindows + driftedWindows) * windowMs
// the last window the watermark passes (allowed lateness 1 s)
const lastWindowEnd = Math.floor((end - 1 - 1000) / windowMs) * windowMs
const models = ['fraud', 'fraud-evidently'] as const

let reports: WindowReport[] = []
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-calibration-'))
  const names = streamNames()
  const kafka = testKafka()
  await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
  const referenceFile = await writeReference(dir, 20_000, 1007)
  const input = streamConfigInput(names, referenceFile, { logLevel: 'warn' })
  const [calibrated] = input['models'] as Array<Record<string, unknown>>
  input['models'] = [
    calibrated,
    { ...calibrated, name: 'fraud-evidently', drift: { mode: 'evidently' } },
  ]
  const config = serviceConfigSchema.parse(input)
  let app: App | undefined
  try {
    app = await startApp(config, {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    // Window by window, each stored in Redis before the next is produced (so its evaluation sees
    // all its events) and evaluated before the one after: a detector's first evaluation judges the
    // newest complete window only, and the first window is the one this test is about.
    const producer = kafka.producer()
    await producer.connect()
    const step = windowMs / perWindow
    await withStores(names.keyPrefix, async ({ sketches, leases }) => {
      for (let w = 0; w < stableWindows + driftedWindows; w++) {
        for (const model of models) {
          await produceAll(
            producer,
            names.input,
            predictionEvents(perWindow, T0 + w * windowMs, step, {
              model,
              seed: 100 + w,
              drifted: w < stableWindows ? [] : drifted,
              idPrefix: `${model}-w${w}`,
            }),
          )
        }
        const start = T0 + w * windowMs
        for (const model of models) {
          await waitFor(
            `window ${w} of ${model} stored`,
            async () => {
              const stored = await storedCounts(sketches, model, start, start + windowMs, 1000)
              return stored.rows === perWindow ? true : undefined
            },
            120_000,
          )
        }
        const due = start
        if (w === 0 || due > lastWindowEnd) continue
        for (const model of models) {
          await waitFor(
            `window ${w} of ${model} evaluated`,
            async () =>
              (await leases.lastEvaluation(model))?.windowEnd === due ? true : undefined,
            120_000,
          )
        }
      }
    })
    await producer.disconnect()
    const expected = (2 * (lastWindowEnd - T0)) / windowMs
    reports = (await readTopic(kafka, names.reports, (m) => m.length >= expected, 30_000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
  } finally {
    await app?.stop()
  }
}, 300_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function windowsOf(model: string): WindowReport[] {
  return reports
    .filter((r) => r.model === model)
    .sort((a, b) => Date.parse(a.window.end) - Date.parse(b.window.end))
}

describe('windows of 100 events', () => {
  it('reports every window of both models, each with its 100 events', () => {
    for (const model of models) {
      const windows = windowsOf(model)
      expect(windows.map((r) => Date.parse(r.window.end))).toEqual(
        Array.from({ length: (lastWindowEnd - T0) / windowMs }, (_, i) => T0 + (i + 1) * windowMs),
      )
      for (const r of windows) expect(r.nCurrent).toBe(perWindow)
    }
  })

  it('calibrated: no stable window flags a feature, each feature showing its noise floor', () => {
    const stable = windowsOf('fraud').slice(0, stableWindows)
    for (const report of stable) {
      expect(report.mode).toBe('calibrated')
      expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual([])
      expect(report.datasetDrift).toBe(false)
      for (const f of report.features) {
        // a floor, or a stated reason why there is none
        if (f.insufficientData === undefined) expect(f.noiseFloor, f.name).toBeTypeOf('number')
      }
    }
  })

  it('evidently: the same stable windows flag features, as the issue saw', () => {
    const first = windowsOf('fraud-evidently')[0]
    expect(first?.mode).toBe('evidently')
    expect(first?.features.filter((f) => f.drifted).length).toBeGreaterThanOrEqual(3)
  })

  it('calibrated: the real drift is flagged from its first window, exactly the shifted features', () => {
    const driftedReports = windowsOf('fraud').slice(stableWindows)
    expect(driftedReports.length).toBeGreaterThanOrEqual(2)
    for (const report of driftedReports) {
      expect(
        report.features
          .filter((f) => f.drifted)
          .map((f) => f.name)
          .sort(),
      ).toEqual(drifted)
      for (const f of report.features.filter((x) => x.drifted))
        expect(f.statistic as number).toBeGreaterThan(f.noiseFloor as number)
    }
  })
})
