// Opens the dashboard page (GET /) in headless Chromium (Debian's /usr/bin/chromium, installed
// by scripts/ci/install-chromium.sh): its inline script and style run under the page's own
// Content-Security-Policy (so the hashes are right), it fetches nothing but api/models, draws a
// table per model with severity colours, and shows names as text, never as markup.

import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpServer, type HttpServer } from '../../src/adapters/http/server.js'
import { createMetrics } from '../../src/adapters/metrics/metrics.js'
import { summarizeReport, type ModelSummary, type StatusSource } from '../../src/ports/status.js'
import { sampleReport } from '../helpers/reports.js'

const CHROMIUM = '/usr/bin/chromium'
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
]

const models: ModelSummary[] = [
  {
    model: 'fraud<img src=x onerror=alert(1)>',
    version: 'v3',
    referenceId: 'ref-1',
    window: { startMs: Date.UTC(2025, 0, 1, 11), endMs: Date.UTC(2025, 0, 1, 12) },
    ...summarizeReport(sampleReport()),
  },
  {
    model: 'churn',
    version: null,
    referenceId: null,
    window: null,
    datasetDrift: null,
    driftShare: null,
    severity: null,
    features: [],
  },
]

const status: StatusSource = {
  health: () => ({ live: true }),
  readiness: () => Promise.resolve({ ready: true, checks: {} }),
  models: () => Promise.resolve(models),
  modelStatus: () => Promise.resolve(null),
  report: () => Promise.resolve(null),
  distributions: () => Promise.resolve(null),
}

describe('dashboard in a browser', () => {
  let server: HttpServer
  let browser: Browser | undefined

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: the dashboard browser test needs Debian's chromium. ` +
          'Run scripts/ci/install-chromium.sh (apt-get install chromium) and re-run the tests.',
      )
    }
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      registry: createMetrics({ defaultMetrics: false }).registry,
      status,
      admin: { replaceReference: () => Promise.reject(new Error('not in this test')) },
    })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('renders per-model feature tables with severity colours, under its CSP', async () => {
    if (browser === undefined) throw new Error('no browser')
    const page = await browser.newPage()
    const problems: string[] = []
    const requests: string[] = []
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning')
        problems.push(`console: ${msg.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`)
      void dialog.dismiss()
    })
    page.on('request', (request) => requests.push(new URL(request.url()).pathname))

    await page.goto(server.url)
    await page.waitForSelector('table')

    const headings = await page.locator('h2').allInnerTexts()
    expect(headings).toEqual(['fraud<img src=x onerror=alert(1)> v3 critical', 'churn no data'])
    expect(await page.locator('img').count()).toBe(0)

    const rows = page.locator('tr.row-critical, tr.row-ok, tr.row-warning')
    expect(await rows.count()).toBe(2)
    expect(await page.locator('tr.row-critical td').first().innerText()).toBe('amount')
    // a string, as the test's tsconfig has no DOM types
    const colour = (selector: string): Promise<string> =>
      page.evaluate<string>(
        `getComputedStyle(document.querySelector(${JSON.stringify(selector)})).backgroundColor`,
      )
    expect(await colour('tr.row-critical .sev')).toBe('rgb(198, 40, 40)')
    expect(await colour('tr.row-ok .sev')).toBe('rgb(46, 125, 50)')
    expect(await page.locator('#error').innerText()).toBe('')

    expect(problems).toEqual([])
    // only its own origin's page and API (the favicon request comes when the browser likes)
    expect(requests).toContain('/api/models')
    expect(requests.filter((path) => !['/', '/api/models', '/favicon.ico'].includes(path))).toEqual(
      [],
    )
    await page.close()
  })
})
