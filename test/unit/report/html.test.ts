import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { DistributionBin, DriftReport, FeatureResult } from '../../../src/core/report.js'
import {
  MAX_BARS,
  escapeHtml,
  featureBars,
  formatNumber,
  formatPValue,
  formatPercent,
  renderHtmlReport,
} from '../../../src/report/html.js'

const HOSTILE = '<script>alert(1)</script>'
const HOSTILE_CATEGORY = '<img src=x onerror="alert(2)">'
const HOSTILE_NEW_CATEGORY = '"><svg onload=alert(3)>'

const meta = {
  title: 'Weekly check & <review>',
  referenceLabel: 'train <2024>',
  currentLabel: 'prod "week 9"',
  generatedAt: '2025-03-08T06:00:00Z',
  version: '0.1.0',
}

function numericalBins(edges: readonly number[], ref: readonly number[], cur: readonly number[]) {
  const bins: DistributionBin[] = []
  for (let i = 0; i <= edges.length; i++) {
    bins.push({
      label: `b${i}`,
      lower: i === 0 ? -Infinity : (edges[i - 1] as number),
      upper: i === edges.length ? Infinity : (edges[i] as number),
      reference: ref[i] ?? 0,
      current: cur[i] ?? 0,
    })
  }
  return bins
}

function feature(overrides: Partial<FeatureResult> & Pick<FeatureResult, 'name'>): FeatureResult {
  return {
    kind: 'numerical',
    test: 'ks',
    statistic: 0.01,
    pValue: 0.5,
    threshold: 0.05,
    drifted: false,
    severity: 'ok',
    nReference: 1000,
    nCurrent: 500,
    metrics: { missingShare: 0, referenceMissingShare: 0 },
    distribution: [],
    ...overrides,
  }
}

const manyCategories = Array.from({ length: 100 }, (_, i) => `cat_${String(i).padStart(3, '0')}`)
const manyCategoryBins: DistributionBin[] = manyCategories.map((label, i) => ({
  label,
  reference: (100 - i) / 5050,
  current: (i + 1) / 5050,
}))

const fineBins = numericalBins(
  Array.from({ length: 44 }, (_, i) => i / 4),
  Array.from({ length: 45 }, () => 1 / 45),
  Array.from({ length: 45 }, () => 1 / 45),
)

const features: FeatureResult[] = [
  feature({
    name: 'age',
    statistic: 0.02,
    pValue: 0.61,
    distribution: numericalBins(
      [1.2, 3.4, 5.6, 9.9],
      [0.1, 0.2, 0.4, 0.2, 0.1],
      [0.05, 0.15, 0.4, 0.25, 0.15],
    ),
    metrics: {
      missingShare: 0.0125,
      referenceMissingShare: 0,
      ks: 0.02,
      ksPValue: 0.61,
      mean: 41.5,
      referenceMean: 40.25,
      psi: Number.NaN,
      wasserstein: Number.POSITIVE_INFINITY,
    },
  }),
  feature({
    name: 'income',
    drifted: true,
    severity: 'critical',
    statistic: 0.31,
    pValue: 1.5e-40,
    distribution: numericalBins([10000, 20000], [0.3, 0.4, 0.3], [0.1, 0.3, 0.6]),
  }),
  feature({
    name: HOSTILE,
    kind: 'categorical',
    test: 'chisquare',
    drifted: true,
    severity: 'warning',
    statistic: Number.NaN,
    pValue: null,
    distribution: [
      { label: HOSTILE_CATEGORY, reference: 0.5, current: 0.4 },
      { label: 'a & b', reference: 0.5, current: 0.6 },
    ],
    metrics: {
      missingShare: 0,
      referenceMissingShare: 0,
      newCategories: [HOSTILE_NEW_CATEGORY],
      newCategoryShare: 0.01,
    },
  }),
  feature({
    name: 'merchant_category',
    kind: 'categorical',
    test: 'chisquare',
    statistic: 12.5,
    pValue: null,
    distribution: manyCategoryBins,
  }),
  feature({
    name: 'fine_grained',
    distribution: fineBins,
  }),
  feature({
    name: 'referral_code',
    kind: 'categorical',
    test: 'chisquare',
    statistic: null,
    pValue: null,
    nCurrent: 0,
    insufficientData: { reason: 'no values in the current window' },
    metrics: { missingShare: 1, referenceMissingShare: 0.25 },
    distribution: [],
  }),
]

const report: DriftReport = {
  datasetDrift: true,
  driftShare: 2 / 6,
  driftShareThreshold: 0.3,
  nDrifted: 2,
  nFeatures: 6,
  nReference: 123456,
  nCurrent: 7890,
  features,
}

const html = renderHtmlReport(report, meta)

/** [name, value] of every attribute of every tag (text and escaped data are not tags). */
function attributes(doc: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const tag of doc.matchAll(
    /<[a-zA-Z][a-zA-Z0-9-]*((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*\/?>/g,
  )) {
    for (const a of (tag[1] ?? '').matchAll(
      /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g,
    )) {
      out.push([(a[1] ?? '').toLowerCase(), a[2] ?? a[3] ?? a[4] ?? ''])
    }
  }
  return out
}

const allowedTags = new Set(
  'html head meta link title style body main header div h1 h2 h3 p span b i s section table thead tbody tr th td button a code svg rect text g line path footer article figure dl dt dd script'.split(
    ' ',
  ),
)

function tableRowOf(name: string): string {
  const rows = html.split('<tr').slice(1)
  const row = rows.find((r) => r.includes(`>${escapeHtml(name)}</a>`))
  if (row === undefined) throw new Error(`no table row for ${name}`)
  return row
}

function sectionOf(name: string): string {
  const sections = html.split('<article').slice(1)
  const section = sections.find((s) => s.includes(`<h3>${escapeHtml(name)}</h3>`))
  if (section === undefined) throw new Error(`no section for ${name}`)
  return section
}

describe('renderHtmlReport', () => {
  it('returns one complete HTML document', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html.trimEnd().endsWith('</html>')).toBe(true)
    expect(html).toContain('<meta charset="utf-8">')
  })

  it('references no external resource', () => {
    expect(html).not.toMatch(/https?:\/\//i)
    expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i)
    // Every URL-valued attribute of every real tag is an in-page anchor or a data: URL.
    const refs = attributes(html).filter(([name]) =>
      [
        'src',
        'href',
        'xlink:href',
        'srcset',
        'action',
        'formaction',
        'poster',
        'background',
        'data',
      ].includes(name),
    )
    expect(refs.length).toBeGreaterThan(features.length)
    for (const [, value] of refs) expect(value).toMatch(/^(#|data:)/)
    expect(html).not.toMatch(/@import|url\(/i)
    expect(html).not.toMatch(/<(iframe|object|embed|img|video|audio|source)\b/i)
    // The only <link> is the empty data: favicon that stops the browser asking for /favicon.ico.
    expect([...html.matchAll(/<link\b[^>]*>/gi)].map((m) => m[0])).toEqual([
      '<link rel="icon" href="data:,">',
    ])
  })

  it('locks the page down with a CSP that allows exactly its one inline script', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    expect(scripts).toHaveLength(1)
    const [, attrs, body] = scripts[0] ?? []
    expect(attrs).toBe('')
    const hash = createHash('sha256')
      .update(body ?? '', 'utf8')
      .digest('base64')
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1]
    expect(csp).toBeDefined()
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain(`script-src 'sha256-${hash}'`)
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/)
  })

  it('escapes every string that comes from the data', () => {
    expect(html).not.toContain(HOSTILE)
    expect(html).not.toContain(HOSTILE_CATEGORY)
    expect(html).not.toContain(HOSTILE_NEW_CATEGORY)
    expect(html).not.toContain('<review>')
    expect(html).not.toContain('<2024>')
    expect(html).not.toContain('"week 9"')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;')
    expect(html).toContain('&quot;&gt;&lt;svg onload=alert(3)&gt;')
    expect(html).toContain('a &amp; b')
    expect(html).toContain('<title>Weekly check &amp; &lt;review&gt;</title>')
    expect(html).toContain('train &lt;2024&gt;')
    expect(html).toContain('prod &quot;week 9&quot;')
    // No markup from data: no tag carries an event handler, and the only tags are the renderer's.
    for (const [name] of attributes(html)) expect(name).not.toMatch(/^on/)
    const markup = html.replace(/(<script>)[\s\S]*?(<\/script>)/, '$1$2')
    const tags = new Set([...markup.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]))
    expect([...tags].filter((t) => !allowedTags.has(t ?? ''))).toEqual([])
  })

  it('shows every feature in the table and in its own section with a chart', () => {
    for (const f of features) {
      expect(tableRowOf(f.name)).toContain('class="spark"')
      expect(sectionOf(f.name)).toContain('<svg class="chart"')
    }
    expect(html.match(/<svg class="chart"/g)).toHaveLength(features.length)
    expect(html.match(/<article /g)).toHaveLength(features.length)
  })

  it('puts the dataset verdict first', () => {
    const verdict = html.indexOf('Dataset drift detected')
    expect(verdict).toBeGreaterThan(0)
    expect(verdict).toBeLessThan(html.indexOf('<table'))
    expect(html).toContain('2 of 6 features drifted: drift share 33.3% ≥ threshold 30%')
    expect(html).toContain('123,456')
    expect(html).toContain('7,890')

    const calm = renderHtmlReport(
      { ...report, datasetDrift: false, nDrifted: 1, driftShare: 1 / 6 },
      meta,
    )
    expect(calm).toContain('No dataset drift')
    expect(calm).not.toContain('Dataset drift detected')
    expect(calm).toContain('drift share 16.7% &lt; threshold 30%')
  })

  it('sorts drifted and critical features first', () => {
    const order = [...html.matchAll(/<a href="#feature-\d+">([^<]*)<\/a>/g)].map((m) => m[1])
    expect(order.slice(0, 2)).toEqual(['income', escapeHtml(HOSTILE)])
    expect(order.at(-1)).toBe('referral_code')
  })

  it('links table rows to existing sections', () => {
    const anchors = [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1])
    expect(anchors).toHaveLength(features.length)
    for (const id of anchors) expect(html).toContain(`id="${id}"`)
  })

  it('never prints NaN, Infinity or undefined, and shows — for missing numbers', () => {
    const text = html.replace(/<script[\s\S]*?<\/script>/, '')
    expect(text).not.toMatch(/NaN|Infinity|undefined|\bnull\b/)
    const hostileRow = tableRowOf(HOSTILE)
    expect(hostileRow).toContain('<td class="n" data-v="">—</td>') // NaN statistic, null p-value
    expect(hostileRow.match(/>—</g)).toHaveLength(2)
    expect(tableRowOf('merchant_category')).toMatch(/data-v="">—</)
    const age = sectionOf('age')
    expect(age).toContain('<dt>PSI</dt><dd>—</dd>')
    expect(age).toContain('<dt>Wasserstein distance</dt><dd>—</dd>')
    expect(age).toContain('<dt>Mean (current)</dt><dd>41.5</dd>')
    expect(age).toContain('<dt>Missing (current)</dt><dd>1.3%</dd>')
    // Metrics that are absent are not listed.
    expect(age).not.toContain('χ²')
  })

  it('labels numerical bins with their edges, open outer bins with < and ≥', () => {
    const age = sectionOf('age')
    expect(age).toContain('>&lt; 1.2</text>')
    expect(age).toContain('>[1.2, 3.4)</text>')
    expect(age).toContain('>[5.6, 9.9)</text>')
    expect(age).toContain('>≥ 9.9</text>')
    const income = sectionOf('income')
    expect(income).toContain('>[10000, 20000)</text>')
  })

  it('labels the share axis with nice ticks', () => {
    const small = renderHtmlReport(
      {
        ...report,
        features: [
          feature({
            name: 'flat',
            kind: 'categorical',
            distribution: Array.from({ length: 12 }, (_, i) => ({
              label: `c${i}`,
              reference: i === 0 ? 0.09 : 0.91 / 11,
              current: 1 / 12,
            })),
          }),
        ],
      },
      meta,
    )
    const ticks = [...small.matchAll(/<text x="\d+" y="[\d.]+">([\d.]+%)<\/text>/g)].map(
      (m) => m[1],
    )
    expect(ticks).toEqual(['0.0%', '2.5%', '5.0%', '7.5%', '10.0%'])
  })

  it('folds 100 categories into at most MAX_BARS bars', () => {
    const section = sectionOf('merchant_category')
    const groups = section.match(/<g><title>/g) ?? []
    expect(groups.length).toBeLessThanOrEqual(MAX_BARS)
    expect(groups.length).toBeGreaterThan(10)
    expect(section).toContain(`Other (${100 - (MAX_BARS - 1)} categories)`)
    expect(section).toContain('100 bins shown as 30 bars')
    const bars = featureBars(features[3] as FeatureResult)
    expect(bars).toHaveLength(MAX_BARS)
    const sum = (pick: (b: { reference: number; current: number }) => number) =>
      bars.reduce((s, b) => s + pick(b), 0)
    expect(sum((b) => b.reference)).toBeCloseTo(1, 9)
    expect(sum((b) => b.current)).toBeCloseTo(1, 9)
    // The biggest categories on either side survive the fold.
    const labels = bars.map((b) => b.label)
    expect(labels).toContain('cat_000')
    expect(labels).toContain('cat_099')
  })

  it('merges neighbouring numerical bins past MAX_BARS, keeping edges and mass', () => {
    const bars = featureBars(features[4] as FeatureResult)
    expect(bars.length).toBeLessThanOrEqual(MAX_BARS)
    expect(bars[0]?.label).toBe('< 0.25')
    expect(bars.at(-1)?.label).toMatch(/^≥ /)
    expect(bars.reduce((s, b) => s + b.reference, 0)).toBeCloseTo(1, 9)
  })

  it('explains features with insufficient data', () => {
    const section = sectionOf('referral_code')
    expect(section).toContain('Insufficient data: no values in the current window')
    expect(section).toContain('No distribution data')
    expect(tableRowOf('referral_code')).toContain('Insufficient data')
  })

  it('has severity badges and the test name', () => {
    expect(tableRowOf('income')).toContain('<span class="badge sev-critical">critical</span>')
    expect(tableRowOf(HOSTILE)).toContain('<span class="badge sev-warning">warning</span>')
    expect(tableRowOf('age')).toContain('<span class="badge sev-ok">ok</span>')
    expect(tableRowOf('age')).toContain('<code>ks</code>')
  })

  it('is pure: same input, same output', () => {
    expect(renderHtmlReport(report, meta)).toBe(html)
  })

  it('renders an empty report', () => {
    const empty = renderHtmlReport(
      {
        ...report,
        features: [],
        nFeatures: 0,
        nDrifted: 0,
        driftShare: Number.NaN,
        datasetDrift: false,
      },
      { referenceLabel: 'r', currentLabel: 'c', generatedAt: 'now', version: '0' },
    )
    expect(empty).toContain('<title>Data drift report</title>')
    expect(empty).toContain('0 of 0 features drifted: drift share — vs threshold 30%')
    expect(empty).not.toMatch(/NaN/)
  })
})

describe('formatting', () => {
  it('formats numbers compactly and never as NaN', () => {
    expect(formatNumber(null)).toBe('—')
    expect(formatNumber(undefined)).toBe('—')
    expect(formatNumber(Number.NaN)).toBe('—')
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe('—')
    expect(formatNumber(0)).toBe('0')
    expect(formatNumber(0.123456)).toBe('0.1235')
    expect(formatNumber(12345.6)).toBe('12,346')
    expect(formatNumber(2.5e-7)).toBe('2.5e-7')
    expect(formatNumber(3e9)).toBe('3e9')
  })

  it('formats p-values and shares', () => {
    expect(formatPValue(null)).toBe('—')
    expect(formatPValue(0)).toBe('0')
    expect(formatPValue(0.04567)).toBe('0.0457')
    expect(formatPValue(1.23e-12)).toBe('1.2e-12')
    expect(formatPercent(Number.NaN)).toBe('—')
    expect(formatPercent(0)).toBe('0%')
    expect(formatPercent(0.5)).toBe('50%')
    expect(formatPercent(0.0004)).toBe('<0.1%')
    expect(formatPercent(0.99999)).toBe('>99.9%')
    expect(formatPercent(1)).toBe('100%')
  })

  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
  })
})
