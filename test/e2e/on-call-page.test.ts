// The on-call page on a real detector: the service in process on the suite's Kafka and Redis
// (test/global-setup.ts), a stream that is stable for 4 windows of 10 s, then drifted in f01,
// f05, f12 and f03 for 6, then drifted in f01, f05 and f12 only for 6 more (f03's alert fires
// and resolves). Once the evaluator has committed the last complete window, `/` is loaded in
// headless Chromium (Debian's chromium, scripts/ci/install-chromium.sh) and its DOM checked:
// the drifted features first, one sparkline point per evaluated window, "since" the first
// drifted window, the alerts with their start times, and a feature link that opens a page
// drawing both distributions. Above the features, the model's layers in the latest window: data
// quality first, then prediction drift, performance, latency (P50/P95/P99, as computed here from
// the events) and the diagnosis, the same as the status API's `layers`. The screenshots are written to the test's temp folder and, with
// DRIFTWATCH_SCREENSHOT_DIR set, copied there.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatTime } from '../../src/adapters/http/dashboard.js'
import type { ModelStatus } from '../../src/ports/status.js'
import { startApp, type App } from '../../src/app/service.js'
import {
  launchChromium,
  openPage,
  readOnCallDom,
  screenshot,
  type OnCallDom,
} from '../helpers/browser.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'
import { linearQuantile } from '../helpers/quantile.js'

const WINDOW = 10_000
const staying = ['f01', 'f05', 'f12']
// Two hours back, on a window boundary, so phases and windows line up (1 event per ms).
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / WINDOW) * WINDOW
const phases = [
  { events: 40_000, drifted: [] as string[] },
  { events: 60_000, drifted: [...staying, 'f03'] },
  { events: 60_000, drifted: staying },
]
const end = T0 + phases.reduce((n, p) => n + p.events, 0)
// The last window the evaluator can close: its end plus the allowed lateness (1 s) is passed.
const lastWindowEnd = Math.floor((end - 1 - 1000) / WINDOW) * WINDOW
const windows = (lastWindowEnd - T0) / WINDOW

describe('the on-call page of a detector watching a drifting stream', () => {
  let dir: string
  let app: App | undefined
  let browser: Browser | undefined
  let dom: OnCallDom

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-oncall-e2e-'))
    const names = streamNames()
    const kafka = testKafka()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    const referenceFile = await writeReference(dir, 20_000, 2024)
    app = await startApp(streamConfig(names, referenceFile), {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    const producer = kafka.producer()
    await producer.connect()
    let start = T0
    for (const [i, phase] of phases.entries()) {
      await produceAll(
        producer,
        names.input,
        predictionEvents(phase.events, start, 1, {
          model: 'fraud',
          seed: 40 + i,
          drifted: phase.drifted,
          idPrefix: `oncall${i}`,
        }),
      )
      start += phase.events
    }
    await producer.disconnect()
    await withStores(names.keyPrefix, ({ leases }) =>
      waitFor(
        'the last complete window evaluated',
        async () =>
          (await leases.lastEvaluation('fraud'))?.windowEnd === lastWindowEnd ? true : undefined,
        240_000,
      ),
    )
    browser = await launchChromium()
  }, 400_000)

  afterAll(async () => {
    await browser?.close()
    await app?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('lists the drifted features first, each with one point per window and its since-time', async () => {
    if (browser === undefined || app === undefined) throw new Error('not started')
    const { page, problems, requests } = await openPage(browser)
    await page.goto(app.httpUrl)
    dom = await readOnCallDom(page)
    expect(dom.models.map((m) => m.title)).toEqual(['fraud critical'])
    const features = dom.models[0]?.features ?? []
    expect(features).toHaveLength(23)
    expect(windows).toBe(15)
    expect(
      features
        .slice(0, 3)
        .map((f) => f.name)
        .sort(),
    ).toEqual(staying)
    for (const f of features.slice(0, 3)) {
      expect(f.severity, f.name).toBe('critical')
      expect(f.drifting, f.name).toBe(`since ${formatTime(T0 + 40_000)} (11 windows)`)
    }
    for (const f of features.slice(3)) {
      expect(f.severity, f.name).toBe('ok')
      expect(f.drifting, f.name).toBe('not drifting')
    }
    for (const f of features) expect(f.points, f.name).toBe(windows)

    const shot = await screenshot(page, join(dir, 'on-call-e2e.png'))
    expect(shot.width).toBe(1280)
    expect(shot.height).toBeGreaterThan(900)
    expect(shot.colours).toBeGreaterThan(50)
    expect(problems).toEqual([])
    expect(requests.filter((path) => !['/', '/favicon.ico'].includes(path))).toEqual([])
    await page.close()
  })

  it("shows the model's layers above the features, data quality first, as the status API has them", async () => {
    if (app === undefined) throw new Error('not started')
    const layers = dom.models[0]?.layers ?? []
    expect(layers.map((l) => l.layer)).toEqual([
      'data-quality',
      'prediction-drift',
      'performance',
      'latency',
      'diagnosis',
    ])
    const status = (await (
      await fetch(new URL('api/models/fraud/status', app.httpUrl))
    ).json()) as ModelStatus
    expect(status.window?.endMs).toBe(lastWindowEnd)
    expect(status.layers?.window).toEqual(status.window)
    // The latest window's latencies, regenerated from the same seeded events.
    const lastPhase = phases.length - 1
    const startOfLastPhase = end - (phases[lastPhase]?.events ?? 0)
    const latencies = [
      ...predictionEvents(phases[lastPhase]?.events ?? 0, startOfLastPhase, 1, {
        model: 'fraud',
        seed: 40 + lastPhase,
        drifted: phases[lastPhase]?.drifted ?? [],
        idPrefix: `oncall${lastPhase}`,
      }),
    ]
      .map((e) => JSON.parse(e.value) as { timestamp: number; latencyMs: number })
      .filter((e) => e.timestamp >= lastWindowEnd - WINDOW && e.timestamp < lastWindowEnd)
      .map((e) => e.latencyMs)
    expect(latencies).toHaveLength(WINDOW)
    const latency = status.layers?.latency
    expect(latency).toMatchObject({ n: WINDOW, exact: true })
    for (const [name, q] of [
      ['p50', 0.5],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const) {
      const expected = linearQuantile(latencies, q)
      expect(latency?.[name], name).toBeCloseTo(expected, 9)
      const shown = layers.find((l) => l.layer === 'latency')?.values[name]
      expect(Number(shown), name).toBe(latency?.[name])
    }
    expect(layers[0]).toMatchObject({ severity: status.layers?.dataQuality?.severity })
    // no prediction in the test reference, no performance section: said, not left blank
    expect(status.layers?.predictionDrift).toBeNull()
    expect(layers[1]?.text).toBe('no prediction in the reference')
    expect(status.layers?.performance).toBeNull()
    expect(layers[2]?.text).toMatch(/^no labels/)
    expect(status.layers?.diagnosis?.kind).toBe('covariate-shift')
    expect(layers[4]?.text).toContain(status.layers?.diagnosis?.summary ?? '?')
  })

  it('lists the firing alerts and the resolved one with their start times', () => {
    const alerts = dom.models[0]?.alerts ?? []
    // fireAfter 2, resolveAfter 2 (test/helpers/stream.ts): an alert starts at the end of the
    // second drifted window and resolves at the end of the second clean one
    expect(
      alerts
        .filter((a) => a.state === 'FIRING')
        .map((a) => a.feature)
        .sort(),
    ).toEqual(staying)
    for (const a of alerts.filter((x) => x.state === 'FIRING')) {
      expect(a.alertname).toBe('DriftwatchFeatureDrift')
      expect(a.started, a.feature).toBe(formatTime(T0 + 60_000))
    }
    expect(alerts.filter((a) => a.state !== 'FIRING')).toEqual([
      {
        state: 'resolved',
        alertname: 'DriftwatchFeatureDrift',
        feature: 'f03',
        started: formatTime(T0 + 60_000),
        resolved: formatTime(T0 + 120_000),
      },
    ])
  })

  it("a feature's link opens a page that draws its reference and current distributions", async () => {
    if (browser === undefined || app === undefined) throw new Error('not started')
    const f01 = dom.models[0]?.features.find((f) => f.name === 'f01')
    expect(f01?.href).toBe(new URL('models/fraud/features/f01', app.httpUrl).href)
    const api = (await (
      await fetch(new URL('api/models/fraud/features/f01/distribution', app.httpUrl))
    ).json()) as { bins: unknown[] }
    const { page, problems } = await openPage(browser)
    await page.goto(f01?.href ?? '')
    expect(await page.locator('h1').innerText()).toBe('f01: fraud critical')
    expect(await page.locator('table.bins tbody tr').count()).toBe(api.bins.length)
    expect(api.bins.length).toBeGreaterThan(2)
    expect(await page.locator('svg.chart rect.r').count()).toBeGreaterThan(2)
    expect(await page.locator('svg.chart rect.c').count()).toBeGreaterThan(2)
    expect(await page.locator('svg.spark circle.pt').count()).toBe(windows)
    const shot = await screenshot(page, join(dir, 'feature-e2e.png'))
    expect(shot.colours).toBeGreaterThan(20)
    expect(problems).toEqual([])
    await page.close()
  })
})
