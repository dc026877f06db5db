// Headless Chromium for the page tests: Debian's /usr/bin/chromium (scripts/ci/install-chromium.sh)
// driven by playwright-core, with the console, page errors and dialogs recorded as problems, and
// screenshots written to the test's own folder and, when DRIFTWATCH_SCREENSHOT_DIR is set, copied
// there (CI keeps them as artifacts).

import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { summarizePng, type PngSummary } from './png.js'

export const CHROMIUM = '/usr/bin/chromium'
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
]

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the page tests need Debian's chromium. ` +
        'Run scripts/ci/install-chromium.sh (apt-get install chromium) and re-run the tests.',
    )
  }
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS })
}

export interface WatchedPage {
  readonly page: Page
  /** Console errors and warnings, page errors, dialogs: a clean page has none. */
  readonly problems: string[]
  /** Paths of every request the page made. */
  readonly requests: string[]
}

export async function openPage(browser: Browser, width = 1280): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width, height: 900 } })
  const problems: string[] = []
  const requests: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`)
    void dialog.dismiss()
  })
  page.on('request', (request) => requests.push(new URL(request.url()).pathname))
  return { page, problems, requests }
}

/**
 * A full-page screenshot at `path`, copied to DRIFTWATCH_SCREENSHOT_DIR when set; returns what
 * the PNG holds.
 */
export async function screenshot(page: Page, path: string): Promise<PngSummary> {
  await page.screenshot({ path, fullPage: true })
  const keep = process.env['DRIFTWATCH_SCREENSHOT_DIR']
  if (keep !== undefined && keep !== '') {
    await mkdir(keep, { recursive: true })
    await copyFile(path, join(keep, basename(path)))
  }
  return summarizePng(await readFile(path))
}

export interface OnCallDom {
  readonly models: ReadonlyArray<{
    readonly title: string
    readonly features: ReadonlyArray<{
      readonly name: string
      readonly severity: string
      readonly points: number
      readonly drifting: string
      readonly href: string
    }>
    readonly alerts: ReadonlyArray<{
      readonly state: string
      readonly alertname: string
      readonly feature: string
      readonly started: string
      readonly resolved: string
    }>
    /** The model layers' rows, in page order, with the exact values their cells carry. */
    readonly layers: ReadonlyArray<{
      readonly layer: string
      readonly severity: string
      readonly text: string
      readonly values: Readonly<Record<string, string>>
    }>
  }>
}

/** What the rendered on-call page shows, read from the live DOM (as text, as a reader sees it). */
export async function readOnCallDom(page: Page): Promise<OnCallDom> {
  // A string, as the tests' tsconfig has no DOM types.
  return page.evaluate<OnCallDom>(`(() => {
    const text = (node) => (node === null ? '' : node.textContent.trim())
    return {
      models: [...document.querySelectorAll('section.model')].map((section) => ({
        title: text(section.querySelector('h2')),
        features: [...section.querySelectorAll('table.features tbody tr')].map((row) => ({
          name: text(row.querySelector('th')),
          severity: text(row.querySelector('.sev')),
          points: row.querySelectorAll('svg.spark circle.pt').length,
          drifting: text(row.querySelector('td.since')),
          href: row.querySelector('a.picture') === null ? '' : row.querySelector('a.picture').href,
        })),
        alerts: [...section.querySelectorAll('table.alerts tbody tr')].map((row) => ({
          state: text(row.cells[0]),
          alertname: text(row.cells[1]),
          feature: text(row.cells[2]),
          started: text(row.cells[4]),
          resolved: text(row.cells[5]),
        })),
        layers: [...section.querySelectorAll('table.layers tbody tr')].map((row) => ({
          layer: row.getAttribute('data-layer'),
          severity: text(row.cells[1]),
          text: text(row.cells[2]),
          values: Object.fromEntries(
            [...row.querySelectorAll('.v')].map((v) => [v.getAttribute('data-name'), v.getAttribute('data-v')]),
          ),
        })),
      })),
    }
  })()`)
}
