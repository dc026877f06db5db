// The on-call page (GET /) and a feature's page in headless Chromium (Debian's /usr/bin/chromium,
// installed by scripts/ci/install-chromium.sh), served by the real HTTP server over the real
// LiveStatus reading an evaluation state with 30 windows of history (test/helpers/on-call.ts):
// worst first, one sparkline point per kept window, "since" times, the alert list, a hostile
// feature name shown as text, the click-through drawing both distributions, all under the
// pages' own Content-Security-Policy (so the hashes are right) and with nothing fetched from
// elsewhere. The end-to-end version, on Kafka and Redis, is test/e2e/on-call-page.test.ts.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../src/adapters/memory/lease-store.js'
import { formatTime } from '../../src/adapters/http/dashboard.js'
import { startHttpServer, type HttpServer } from '../../src/adapters/http/server.js'
import { createMetrics } from '../../src/adapters/metrics/metrics.js'
import { LiveStatus } from '../../src/app/status.js'
import type { ReferenceSnapshot } from '../../src/core/reference.js'
import { launchChromium, openPage, readOnCallDom, screenshot } from '../helpers/browser.js'
import { HOSTILE_FEATURE, T0, WINDOW_MS, WINDOWS, onCallState } from '../helpers/on-call.js'

describe('the on-call page in a browser', () => {
  let server: HttpServer
  let browser: Browser | undefined
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-oncall-'))
    const leases = new MemoryLeaseStore()
    const models = ['quiet', 'fraud<img src=x onerror=alert(1)>', 'new']
    const runtimes = new Map(
      models.map((m) => [m, { snapshot: { id: `ref-${m.length}` } as ReferenceSnapshot }]),
    )
    for (const model of models.slice(0, 2)) {
      const token = await leases.acquire(model, 'test', 60_000)
      const state = onCallState(model, model === 'quiet' ? 15 : WINDOWS)
      await leases.commitEvaluation(
        model,
        token ?? 0,
        T0 + WINDOWS * WINDOW_MS,
        JSON.stringify(state),
      )
    }
    const status = new LiveStatus({
      leases,
      runtimes,
      redisUp: () => Promise.resolve(true),
      kafkaUp: () => Promise.resolve(true),
      storeHealthy: () => true,
      deadLettersHealthy: () => true,
    })
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      registry: createMetrics({ defaultMetrics: false }).registry,
      status,
      admin: { replaceReference: () => Promise.reject(new Error('not in this test')) },
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('puts the worst first, with sparklines, since-times, alerts, under its CSP', async () => {
    if (browser === undefined) throw new Error('no browser')
    const { page, problems, requests } = await openPage(browser)
    await page.goto(server.url)
    const dom = await readOnCallDom(page)

    // 'quiet' (15 windows: nothing drifting in its last, country's alert resolved) comes after the
    // model with critical drift; the model without an evaluation comes last.
    expect(dom.models.map((m) => m.title)).toEqual([
      'fraud<img src=x onerror=alert(1)> v3 critical',
      'quiet v3 ok',
      'new no data',
    ])
    const [fraud, quiet] = dom.models
    expect(fraud?.features.map((f) => [f.name, f.severity])).toEqual([
      ['amount', 'critical'],
      [HOSTILE_FEATURE, 'warning'],
      // p 0.5 is nearer its threshold 0.05 than p 0.7
      ['country', 'ok'],
      ['tenure', 'ok'],
    ])
    // one point per kept window: the ring holds 24 of fraud's 30, all 15 of quiet's
    expect(fraud?.features.map((f) => f.points)).toEqual([24, 24, 24, 24])
    expect(quiet?.features.every((f) => f.points === 15)).toBe(true)
    expect(fraud?.features[0]?.drifting).toBe(
      `since ${formatTime(T0 + 20 * WINDOW_MS)} (10 windows)`,
    )
    expect(fraud?.features[2]?.drifting).toBe('not drifting')
    expect(fraud?.alerts).toEqual([
      {
        state: 'FIRING',
        alertname: 'DriftwatchFeatureDrift',
        feature: 'amount',
        started: formatTime(T0 + 22 * WINDOW_MS),
        resolved: '—',
      },
      {
        state: 'FIRING',
        alertname: 'DriftwatchDatasetDrift',
        feature: 'whole dataset',
        started: formatTime(T0 + 29 * WINDOW_MS),
        resolved: '—',
      },
      {
        state: 'FIRING',
        alertname: 'DriftwatchFeatureDrift',
        feature: HOSTILE_FEATURE,
        started: formatTime(T0 + 29 * WINDOW_MS),
        resolved: '—',
      },
      {
        state: 'resolved',
        alertname: 'DriftwatchFeatureDrift',
        feature: 'country',
        started: formatTime(T0 + 12 * WINDOW_MS),
        resolved: formatTime(T0 + 16 * WINDOW_MS),
      },
    ])
    // names are text: no element came out of them, no script ran
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined')
    // colour repeats the severity written as text
    const colour = (selector: string): Promise<string> =>
      page.evaluate<string>(
        `getComputedStyle(document.querySelector(${JSON.stringify(selector)})).backgroundColor`,
      )
    expect(await colour('tr.row-critical .sev')).toBe('rgb(198, 40, 40)')
    expect(await colour('tr.row-ok .sev')).toBe('rgb(46, 125, 50)')

    const shot = await screenshot(page, join(dir, 'on-call-memory.png'))
    expect(shot.width).toBe(1280)
    expect(shot.height).toBeGreaterThan(600)
    expect(shot.colours).toBeGreaterThan(50)
    expect(problems).toEqual([])
    expect(requests.filter((path) => !['/', '/favicon.ico'].includes(path))).toEqual([])
    await page.close()
  })

  it('the refresh script swaps in a fresh render without errors', async () => {
    if (browser === undefined) throw new Error('no browser')
    const { page, problems } = await openPage(browser)
    await page.clock.install()
    await page.goto(server.url)
    const before = await page.locator('#updated').innerText()
    await page.evaluate(`document.getElementById('updated').textContent = 'stale'`)
    await page.clock.runFor(15_000)
    await page.waitForFunction(`document.getElementById('updated').textContent !== 'stale'`)
    expect(await page.locator('#updated').innerText()).toMatch(/^rendered /)
    expect(before).toMatch(/^rendered /)
    expect(await page.locator('section.model').count()).toBe(3)
    expect(await page.locator('#error').innerText()).toBe('')
    expect(problems).toEqual([])
    await page.close()
  })

  it('a feature link opens its reference-vs-current picture, for a hostile name too', async () => {
    if (browser === undefined) throw new Error('no browser')
    const { page, problems } = await openPage(browser)
    await page.goto(server.url)
    const fraud = page.locator('section.model').first()
    await fraud.locator('tbody tr', { hasText: HOSTILE_FEATURE }).locator('a.picture').click()
    await page.waitForSelector('svg.chart')
    expect(await page.locator('h1').innerText()).toBe(
      `${HOSTILE_FEATURE}: fraud<img src=x onerror=alert(1)> v3 warning`,
    )
    expect(await page.locator('svg.chart rect.r').count()).toBe(2)
    expect(await page.locator('svg.chart rect.c').count()).toBe(2)
    expect(await page.locator('table.bins tbody tr').count()).toBe(2)
    expect(await page.locator('svg.spark circle.pt').count()).toBe(24)
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined')
    const shot = await screenshot(page, join(dir, 'feature-memory.png'))
    expect(shot.colours).toBeGreaterThan(20)
    await page.locator('a', { hasText: 'all models' }).click()
    await page.waitForSelector('section.model')
    expect(new URL(page.url()).pathname).toBe('/')
    expect(problems).toEqual([])
    await page.close()
  })
})
