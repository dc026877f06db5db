// Opens a rendered HTML report in headless Chromium (Debian's /usr/bin/chromium, installed by
// scripts/ci/install-chromium.sh) and checks that it is self-contained and renders cleanly:
// no script errors, no network requests, the verdict and one chart per feature on the page.

import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type {
  DistributionBin,
  DriftReport,
  FeatureResult,
  Severity,
} from '../../src/core/report.js'
import { renderHtmlReport } from '../../src/report/html.js'

const CHROMIUM = '/usr/bin/chromium'
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">'
const HOSTILE_CATEGORY = '<img src="https://evil.example/p.png" onerror="window.__pwned=2">'

// A deterministic, realistic-looking report with 23 features.

function normalShares(edges: readonly number[], mu: number, sigma: number): number[] {
  const cdf = (x: number): number => 0.5 * (1 + erf((x - mu) / (sigma * Math.SQRT2)))
  const out: number[] = []
  for (let i = 0; i <= edges.length; i++) {
    const lo = i === 0 ? 0 : cdf(edges[i - 1] as number)
    const hi = i === edges.length ? 1 : cdf(edges[i] as number)
    out.push(hi - lo)
  }
  return out
}

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26, plenty for test pictures.
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const poly =
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
  const y = 1 - poly * Math.exp(-x * x)
  return x >= 0 ? y : -y
}

function numerical(
  name: string,
  mu: number,
  sigma: number,
  shift: number,
  verdict: Verdict,
  bins = 10,
): FeatureResult {
  const edges = Array.from(
    { length: bins - 1 },
    (_, i) => mu - 2.5 * sigma + (5 * sigma * (i + 1)) / bins,
  )
  const ref = normalShares(edges, mu, sigma)
  const cur = normalShares(edges, mu + shift * sigma, sigma)
  const distribution: DistributionBin[] = ref.map((r, i) => ({
    label: `bin ${i}`,
    lower: i === 0 ? Number.NEGATIVE_INFINITY : (edges[i - 1] as number),
    upper: i === edges.length ? Number.POSITIVE_INFINITY : (edges[i] as number),
    reference: r,
    current: cur[i] ?? 0,
  }))
  return {
    name,
    kind: 'numerical',
    test: 'ks',
    ...verdict,
    threshold: 0.05,
    nReference: 20000,
    nCurrent: 5000,
    metrics: {
      missingShare: 0.004,
      referenceMissingShare: 0.003,
      ks: verdict.statistic ?? Number.NaN,
      ksPValue: verdict.pValue ?? Number.NaN,
      wasserstein: Math.abs(shift) * sigma,
      mean: mu + shift * sigma,
      referenceMean: mu,
      std: sigma,
    },
    distribution,
  }
}

function categorical(
  name: string,
  labels: readonly string[],
  drift: number,
  verdict: Verdict,
): FeatureResult {
  const ref = labels.map((_, i) => 1 / (i + 2))
  const cur = labels.map((_, i) => (1 / (i + 2)) * (1 + drift * Math.sin(i * 1.7)))
  const sr = ref.reduce((a, b) => a + b, 0)
  const sc = cur.reduce((a, b) => a + b, 0)
  return {
    name,
    kind: 'categorical',
    test: 'chisquare',
    ...verdict,
    threshold: 0.05,
    nReference: 20000,
    nCurrent: 5000,
    metrics: {
      missingShare: 0.01,
      referenceMissingShare: 0.01,
      chiSquare: verdict.statistic ?? Number.NaN,
    },
    distribution: labels.map((label, i) => ({
      label,
      reference: (ref[i] ?? 0) / sr,
      current: (cur[i] ?? 0) / sc,
    })),
  }
}

interface Verdict {
  readonly drifted: boolean
  readonly severity: Severity
  readonly statistic: number | null
  readonly pValue: number | null
}

const ok = (statistic: number | null = 0.01, pValue: number | null = 0.5): Verdict => ({
  drifted: false,
  severity: 'ok',
  statistic,
  pValue,
})
const drift = (severity: Severity, statistic: number, pValue: number): Verdict => ({
  drifted: true,
  severity,
  statistic,
  pValue,
})

const features: FeatureResult[] = [
  numerical('age', 41, 12, 0.02, ok()),
  numerical('income', 52000, 18000, 0.6, drift('critical', 0.23, 1e-38), 12),
  numerical('credit_score', 690, 55, -0.35, drift('warning', 0.12, 3e-9)),
  numerical('loan_amount', 15000, 7000, 0.02, ok()),
  numerical('interest_rate', 0.072, 0.018, 0.9, drift('critical', 0.34, 0)),
  numerical('debt_to_income', 0.31, 0.09, 0.1, ok(0.03, 0.09)),
  numerical('months_employed', 64, 40, 0, ok(0.004, 0.99), 45),
  numerical('num_open_accounts', 8, 3, 0.15, { ...ok(0.044, 0.061), severity: 'warning' }),
  numerical('utilization', 0.45, 0.2, -0.05, ok()),
  numerical('session_length_s', 310, 95, 0.45, drift('warning', 0.15, 2e-14)),
  numerical('latency_ms', 120, 30, 0.01, ok(null, null)),
  numerical('tenure_days', 720, 300, 0.03, ok()),
  numerical('page_views', 14, 6, 0.02, ok()),
  numerical('cart_value', 86, 35, 0.04, ok()),
  categorical(
    'country',
    ['US', 'DE', 'FR', 'GB', 'ES', 'IT', 'NL', 'PL'],
    0.9,
    drift('critical', 812, 1e-160),
  ),
  categorical('device', ['mobile', 'desktop', 'tablet'], 0.05, ok(2.1, 0.35)),
  categorical(
    'channel',
    ['organic', 'paid_search', 'email', 'referral', 'social'],
    0.1,
    ok(6.2, 0.18),
  ),
  categorical('plan', ['free', 'basic', 'pro', 'enterprise'], 0.6, drift('warning', 48.9, 1e-10)),
  categorical(
    'merchant_category',
    Array.from({ length: 100 }, (_, i) => `mcc_${5000 + i * 7}`),
    0.3,
    ok(95.1, null),
  ),
  categorical(
    'os_version',
    ['iOS 17', 'iOS 16', 'Android 14', 'Android 13', 'Windows 11'],
    0.1,
    ok(),
  ),
  categorical(HOSTILE_NAME, [HOSTILE_CATEGORY, 'plain'], 0.1, ok(1.1, Number.NaN)),
  categorical('<script>window.__pwned=3</script>', ['a', 'b'], 0.1, ok()),
  {
    name: 'referral_code',
    kind: 'categorical',
    test: 'chisquare',
    statistic: null,
    pValue: null,
    threshold: 0.05,
    drifted: false,
    severity: 'ok',
    insufficientData: { reason: 'no values in the current window' },
    nReference: 20000,
    nCurrent: 0,
    metrics: { missingShare: 1, referenceMissingShare: 0.4 },
    distribution: [],
  },
]

const nDrifted = features.filter((f) => f.drifted).length
const report: DriftReport = {
  datasetDrift: true,
  driftShare: nDrifted / features.length,
  driftShareThreshold: 0.25,
  nDrifted,
  nFeatures: features.length,
  nReference: 20000,
  nCurrent: 5000,
  features,
}

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

describe('HTML report in headless Chromium', () => {
  let dir = ''
  let browser: Browser | undefined
  let page: Page
  let fileUrl = ''
  const errors: string[] = []
  const requests: string[] = []

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: the HTML report browser test needs Debian's chromium. ` +
          'Run scripts/ci/install-chromium.sh (apt-get install chromium) and re-run the tests.',
      )
    }
    expect(features).toHaveLength(23)
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-html-'))
    const file = join(dir, 'report.html')
    await writeFile(
      file,
      renderHtmlReport(report, {
        title: 'Browser test report',
        referenceLabel: 'train.parquet',
        currentLabel: 'prod week 9',
        generatedAt: '2025-03-08T06:00:00Z',
        version: '0.1.0',
      }),
    )
    fileUrl = pathToFileURL(file).href

    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()}`)
    })
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`))
    page.on('requestfailed', (req) =>
      errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ''}`),
    )
    page.on('request', (req) => {
      const url = req.url()
      if (!/^(file|data|about):/i.test(url)) requests.push(url)
    })
    await page.goto(fileUrl, { waitUntil: 'load' })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('loads without errors or network requests', () => {
    expect(errors).toEqual([])
    expect(requests).toEqual([])
  })

  it('shows the dataset verdict', async () => {
    const verdict = await page.locator('#verdict').innerText()
    expect(verdict).toContain('Dataset drift detected')
    expect(verdict).toContain(`${nDrifted} of 23 features drifted`)
  })

  it('draws a chart for every feature', async () => {
    const svgs = await page.locator('svg').count()
    expect(svgs).toBeGreaterThanOrEqual(features.length)
    expect(await page.locator('svg.chart').count()).toBe(features.length)
    expect(await page.locator('article.feature').count()).toBe(features.length)
    // Charts really render: each has a non-trivial laid-out size.
    for (const chart of await page.locator('svg.chart').all()) {
      const box = await chart.boundingBox()
      expect(box?.width).toBeGreaterThan(300)
      expect(box?.height).toBeGreaterThan(80)
    }
  })

  it('renders hostile names as text and runs none of them', async () => {
    const text = await page.locator('body').innerText()
    expect(text).toContain(HOSTILE_NAME)
    expect(text).toContain('<script>window.__pwned=3</script>')
    // (Expressions as strings: the project compiles without the DOM lib.)
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined')
    expect(await page.locator('img').count()).toBe(0)
  })

  it('sorts the table on header clicks without errors', async () => {
    const names = (): Promise<string[]> =>
      page.locator('#features tbody tr td:first-child').allInnerTexts()
    const initial = await names()
    expect(initial).toHaveLength(features.length)
    // Default order: drifted features first.
    const driftedNames = features.filter((f) => f.drifted).map((f) => f.name)
    expect(new Set(initial.slice(0, driftedNames.length))).toEqual(new Set(driftedNames))

    await page.locator('#features thead button', { hasText: 'Feature' }).click()
    const byName = await names()
    expect(byName).toEqual([...byName].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)))
    await page.locator('#features thead button', { hasText: 'Feature' }).click()
    expect(await names()).toEqual([...byName].reverse())

    await page.locator('#features thead button', { hasText: 'p-value' }).click()
    const pValues = await page.locator('#features tbody tr td:nth-child(8)').allInnerTexts()
    const dashes = pValues.filter((p) => p === '—').length
    expect(dashes).toBeGreaterThan(0)
    expect(pValues.slice(-dashes).every((p) => p === '—')).toBe(true)
    const numbers = pValues.slice(0, -dashes).map(Number)
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
    expect(errors).toEqual([])
  })

  it('fits a phone screen without page-level horizontal scrolling', async () => {
    await page.setViewportSize({ width: 400, height: 800 })
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )
    expect(overflow).toBeLessThanOrEqual(0)
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('takes a screenshot', async () => {
    const png = join(dir, 'report.png')
    await page.screenshot({ path: png, fullPage: true })
    expect((await stat(png)).size).toBeGreaterThan(10 * 1024)
    expect(errors).toEqual([])
    expect(requests).toEqual([])
  })
})
