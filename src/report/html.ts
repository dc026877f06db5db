// The HTML drift report: one self-contained file (inline CSS, inline SVG, one tiny inline script)
// that opens from disk with no network access at all. A Content-Security-Policy forbids every
// fetch, and the only script allowed to run is ours, pinned by its hash, so a hostile feature
// name that somehow slipped past escaping still could not execute.

import { performanceMetricNames } from '../core/performance/metrics.js'
import { createHash } from 'node:crypto'
import type {
  DistributionBin,
  DriftReport,
  FeatureMetrics,
  FeatureResult,
  Severity,
} from '../core/report.js'

export interface HtmlReportMeta {
  readonly title?: string | undefined
  readonly referenceLabel: string
  readonly currentLabel: string
  readonly generatedAt: string
  readonly version: string
}

/** Most bars a chart shows; the rest are folded (categorical) or merged (numerical). */
export const MAX_BARS = 30

const DASH = '—'

// ---------------------------------------------------------------------------------------------
// Escaping and number formatting

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML/SVG element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => escapes[c] ?? c)
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x)
}

function group(n: number): string {
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return n < 0 ? `-${s}` : s
}

function expo(x: number, digits: number): string {
  return x
    .toExponential(digits)
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e')
}

/** A compact number for statistics and thresholds; `—` for null, undefined, NaN and ±Infinity. */
export function formatNumber(x: number | null | undefined): string {
  if (!isNum(x)) return DASH
  if (x === 0) return '0'
  const a = Math.abs(x)
  if (a >= 1e6 || a < 1e-3) return expo(x, 2)
  if (a >= 1e4) return group(Math.round(x))
  return String(Number(x.toPrecision(4)))
}

export function formatPValue(p: number | null | undefined): string {
  if (!isNum(p)) return DASH
  if (p === 0) return '0'
  if (Math.abs(p) < 1e-4) return expo(p, 1)
  return String(Number(p.toPrecision(3)))
}

/** A share in [0, 1] as a percentage. */
export function formatPercent(x: number | null | undefined): string {
  if (!isNum(x)) return DASH
  const v = x * 100
  if (v === 0) return '0%'
  if (Math.abs(v) < 0.1) return v > 0 ? '<0.1%' : '>-0.1%'
  const s = v.toFixed(1)
  if (s === '100.0' && v < 100) return '>99.9%'
  return `${s.replace(/\.0$/, '')}%`
}

function formatCount(n: number): string {
  return isNum(n) ? group(Math.round(n)) : DASH
}

/** Coordinates for SVG: one decimal is plenty and keeps the file small. */
function c(x: number): string {
  return String(Math.round(x * 10) / 10)
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`
}

// ---------------------------------------------------------------------------------------------
// Bars: the distribution folded to at most MAX_BARS bins with readable labels

/** One bar pair of a chart. */
export interface Bar {
  readonly label: string
  readonly reference: number
  readonly current: number
}

interface Interval {
  readonly lower: number | undefined
  readonly upper: number | undefined
  readonly label: string
  readonly reference: number
  readonly current: number
}

function share(x: number): number {
  return isNum(x) && x > 0 ? x : 0
}

function formatEdge(x: number, significant: number): string {
  if (x === 0) return '0'
  const a = Math.abs(x)
  if (a >= 1e6 || a < 1e-4) return expo(x, significant - 1)
  return String(Number(x.toPrecision(significant)))
}

/** The fewest significant digits that keep every distinct bin edge distinct once printed. */
function edgeFormatter(edges: readonly number[]): (x: number) => string {
  const distinct = [...new Set(edges.filter(isNum))]
  for (let significant = 3; significant <= 12; significant++) {
    const seen = new Set<string>()
    for (const e of distinct) seen.add(formatEdge(e, significant))
    if (seen.size === distinct.length) return (x) => formatEdge(x, significant)
  }
  return (x) => String(x)
}

function intervalLabel(bin: Interval, fmt: (x: number) => string): string {
  const { lower, upper } = bin
  const openLow = lower === undefined || lower === -Infinity
  const openHigh = upper === undefined || upper === Infinity
  if (isNum(lower) && isNum(upper))
    return lower === upper ? fmt(lower) : `[${fmt(lower)}, ${fmt(upper)})`
  if (openLow && isNum(upper)) return `< ${fmt(upper)}`
  if (isNum(lower) && openHigh) return `≥ ${fmt(lower)}`
  return bin.label !== '' ? bin.label : 'all values'
}

function hasBounds(bin: DistributionBin): boolean {
  return bin.lower !== undefined || bin.upper !== undefined
}

function numericalBars(bins: readonly DistributionBin[]): Bar[] {
  let intervals: Interval[] = bins.map((b) => ({
    lower: b.lower,
    upper: b.upper,
    label: b.label,
    reference: share(b.reference),
    current: share(b.current),
  }))
  if (intervals.length > MAX_BARS) {
    // Merge neighbours: a histogram stays a histogram, just coarser.
    const size = Math.ceil(intervals.length / MAX_BARS)
    const merged: Interval[] = []
    for (let i = 0; i < intervals.length; i += size) {
      const chunk = intervals.slice(i, i + size)
      const first = chunk[0]
      const last = chunk[chunk.length - 1]
      if (first === undefined || last === undefined) continue
      merged.push({
        lower: first.lower,
        upper: last.upper,
        label: chunk.length === 1 ? first.label : `${first.label} … ${last.label}`,
        reference: chunk.reduce((s, b) => s + b.reference, 0),
        current: chunk.reduce((s, b) => s + b.current, 0),
      })
    }
    intervals = merged
  }
  const edges: number[] = []
  for (const b of intervals) {
    if (b.lower !== undefined) edges.push(b.lower)
    if (b.upper !== undefined) edges.push(b.upper)
  }
  const fmt = edgeFormatter(edges)
  return intervals.map((b) => ({
    label: intervalLabel(b, fmt),
    reference: b.reference,
    current: b.current,
  }))
}

function categoricalBars(bins: readonly DistributionBin[]): Bar[] {
  const bars = bins.map((b) => ({
    label: b.label,
    reference: share(b.reference),
    current: share(b.current),
  }))
  if (bars.length <= MAX_BARS) return bars
  // Keep the categories that matter most on either side, fold the long tail into one bar.
  const ranked = [...bars].sort(
    (a, b) => Math.max(b.reference, b.current) - Math.max(a.reference, a.current),
  )
  const kept = ranked.slice(0, MAX_BARS - 1)
  const rest = ranked.slice(MAX_BARS - 1)
  kept.push({
    label: `Other (${rest.length} categories)`,
    reference: rest.reduce((s, b) => s + b.reference, 0),
    current: rest.reduce((s, b) => s + b.current, 0),
  })
  return kept
}

/** The bars a feature's chart shows, at most MAX_BARS of them. Exported for tests. */
export function featureBars(feature: Pick<FeatureResult, 'kind' | 'distribution'>): Bar[] {
  const bins = feature.distribution
  if (feature.kind === 'numerical' && bins.length > 0 && bins.every(hasBounds)) {
    return numericalBars(bins)
  }
  return categoricalBars(bins)
}

// ---------------------------------------------------------------------------------------------
// Charts

function niceStep(raw: number): number {
  const pow = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= raw) return m * pow
  return 10 * pow
}

function tickLabel(v: number, step: number): string {
  // As few decimals as the step needs: 2.5% steps print 2.5%, 7.5%, 1% steps print 1%, 2%.
  const pctStep = step * 100
  let decimals = 0
  while (
    decimals < 4 &&
    Math.abs(Math.round(pctStep * 10 ** decimals) - pctStep * 10 ** decimals) > 1e-6
  ) {
    decimals++
  }
  return `${(v * 100).toFixed(decimals)}%`
}

function chartSvg(
  bars: readonly Bar[],
  meta: Pick<HtmlReportMeta, 'referenceLabel' | 'currentLabel'>,
  featureName: string,
): string {
  const W = 720
  const aria = `Distribution of ${escapeHtml(featureName)}: ${escapeHtml(meta.referenceLabel)} vs ${escapeHtml(meta.currentLabel)}`
  const max = bars.reduce((m, b) => Math.max(m, b.reference, b.current), 0)
  if (bars.length === 0 || max <= 0) {
    return (
      `<svg class="chart" viewBox="0 0 ${W} 120" role="img" aria-label="${aria}">` +
      `<rect class="empty" x="0.5" y="0.5" width="${W - 1}" height="119" rx="6"/>` +
      `<text class="empty-t" x="${W / 2}" y="64" text-anchor="middle">No distribution data</text></svg>`
    )
  }

  const n = bars.length
  const labelMax = 18
  const shown = bars.map((b) => truncate(b.label, labelMax))
  const longest = shown.reduce((m, s) => Math.max(m, Array.from(s).length), 0)
  const PW0 = W - 60
  const rotate = n > 1 && (longest * 6.2 > PW0 / n - 4 || n > 12)
  const charW = 6
  const sin = Math.sin((40 * Math.PI) / 180)
  const cos = Math.cos((40 * Math.PI) / 180)
  const MT = 12
  const MR = 12
  const H0 = 220
  const MB = rotate ? Math.ceil(18 + longest * charW * sin + 6) : 30
  let ML = 48
  if (rotate) {
    const firstSpan = Array.from(shown[0] ?? '').length * charW * cos
    ML = Math.max(ML, Math.ceil(firstSpan - (W - ML - MR) / n / 2 + 8))
  }
  const PW = W - ML - MR
  const PH = H0 - MT
  const H = H0 + MB
  const step = niceStep(max / 4)
  const top = Math.ceil(max / step - 1e-9) * step
  const y = (v: number): number => MT + PH - (v / top) * PH

  const out: string[] = []
  out.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${aria}">`)
  // Grid and y axis.
  out.push('<g class="grid">')
  for (let i = 0; top > 0 && i * step <= top + 1e-12; i++) {
    const v = i * step
    const yy = c(y(v))
    out.push(`<line x1="${ML}" x2="${W - MR}" y1="${yy}" y2="${yy}"/>`)
  }
  out.push('</g><g class="yl">')
  for (let i = 0; top > 0 && i * step <= top + 1e-12; i++) {
    const v = i * step
    out.push(`<text x="${ML - 6}" y="${c(y(v) + 4)}">${tickLabel(v, step)}</text>`)
  }
  out.push('</g>')
  // Bars, one group per bin, with a hover target carrying the exact numbers.
  const gw = PW / n
  const bw = Math.min(26, gw * 0.38)
  const gap = Math.min(3, gw * 0.06)
  const base = MT + PH
  out.push('<g class="bars">')
  bars.forEach((b, i) => {
    const cx = ML + gw * (i + 0.5)
    const hr = b.reference > 0 ? Math.max(1, (b.reference / top) * PH) : 0
    const hc = b.current > 0 ? Math.max(1, (b.current / top) * PH) : 0
    out.push(
      `<g><title>${escapeHtml(b.label)}\nReference: ${formatPercent(b.reference)}\nCurrent: ${formatPercent(b.current)}</title>` +
        `<rect class="h" x="${c(ML + gw * i)}" y="${MT}" width="${c(gw)}" height="${PH}"/>` +
        (hr > 0
          ? `<rect class="r" x="${c(cx - gap / 2 - bw)}" y="${c(base - hr)}" width="${c(bw)}" height="${c(hr)}"/>`
          : '') +
        (hc > 0
          ? `<rect class="c" x="${c(cx + gap / 2)}" y="${c(base - hc)}" width="${c(bw)}" height="${c(hc)}"/>`
          : '') +
        '</g>',
    )
  })
  out.push('</g>')
  out.push(`<line class="axis" x1="${ML}" x2="${W - MR}" y1="${base}" y2="${base}"/>`)
  // X labels.
  out.push(`<g class="xl${rotate ? ' rot' : ''}">`)
  bars.forEach((_bar, i) => {
    const cx = c(ML + gw * (i + 0.5))
    const label = escapeHtml(shown[i] ?? '')
    if (rotate)
      out.push(`<text transform="translate(${cx},${base + 14}) rotate(-40)">${label}</text>`)
    else out.push(`<text x="${cx}" y="${base + 18}">${label}</text>`)
  })
  out.push('</g></svg>')
  return out.join('')
}

/**
 * One feature's reference-vs-current bar chart, as the report draws it, for other pages (the
 * service's on-call page). Bins that went through JSON have null for their ±Infinity edges.
 * Its classes are styled by `distributionChartCss`.
 */
export function distributionChartSvg(
  feature: { readonly name: string } & Pick<FeatureResult, 'kind' | 'distribution'>,
  labels: Pick<HtmlReportMeta, 'referenceLabel' | 'currentLabel'>,
): string {
  const last = feature.distribution.length - 1
  const distribution = feature.distribution.map((b, i) => {
    const edges = b as { lower?: number | null; upper?: number | null }
    if (edges.lower !== null && edges.upper !== null) return b
    return {
      ...b,
      ...(edges.lower === null ? { lower: i === 0 ? -Infinity : Number.NaN } : {}),
      ...(edges.upper === null ? { upper: i === last ? Infinity : Number.NaN } : {}),
    }
  })
  return chartSvg(featureBars({ kind: feature.kind, distribution }), labels, feature.name)
}

/** The CSS distributionChartSvg's classes need (the report's own rules for its charts). */
export const distributionChartCss = `.chart{display:block;width:100%;height:auto;font-size:11px}
.chart .grid line{stroke:#edf0f4}
.chart .axis{stroke:#9aa3b2}
.chart .yl text{text-anchor:end;fill:#5d6677}
.chart .xl text{text-anchor:middle;fill:#3d4555}
.chart .xl.rot text{text-anchor:end}
.chart .r{fill:#a4aebd}.chart .c{fill:#3b5bdb}
.chart .h{fill:transparent}.chart .bars g:hover .h{fill:#eef2ff}
.chart .empty{fill:#fafbfc;stroke:#e3e7ee;stroke-dasharray:4 4}
.chart .empty-t{fill:#5d6677;font-size:13px}`

/** A tiny overlay of the two histograms for the table row. */
function sparkSvg(bars: readonly Bar[]): string {
  const W = 120
  const H = 30
  const max = bars.reduce((m, b) => Math.max(m, b.reference, b.current), 0)
  if (bars.length === 0 || max <= 0)
    return `<svg class="spark" viewBox="0 0 ${W} ${H}" aria-hidden="true"></svg>`
  const w = W / bars.length
  const yOf = (v: number): string => c(H - 1 - (v / max) * (H - 3))
  const step = (pick: (b: Bar) => number): string => {
    let d = `M0 ${H - 1}`
    bars.forEach((b, i) => {
      d += `V${yOf(pick(b))}H${c(w * (i + 1))}`
    })
    return `${d}V${H - 1}`
  }
  return (
    `<svg class="spark" viewBox="0 0 ${W} ${H}" aria-hidden="true">` +
    `<path class="r" d="${step((b) => b.reference)}Z"/>` +
    `<path class="c" d="${step((b) => b.current)}"/></svg>`
  )
}

// ---------------------------------------------------------------------------------------------
// Page pieces

const severityRank: Record<Severity, number> = { critical: 0, warning: 1, ok: 2 }

/** Sort key: drifted first, then by severity, features without a verdict last. */
function rowRank(f: FeatureResult): number {
  if (f.insufficientData !== undefined && !f.drifted) return 6
  return (f.drifted ? 0 : 3) + (severityRank[f.severity] ?? 2)
}

function severityBadge(s: Severity): string {
  const known = s === 'ok' || s === 'warning' || s === 'critical'
  return `<span class="badge sev-${known ? s : 'unknown'}">${escapeHtml(String(s))}</span>`
}

function driftStatus(f: FeatureResult): string {
  if (f.insufficientData !== undefined) {
    return `<span class="status na" title="${escapeHtml(f.insufficientData.reason)}">Insufficient data</span>`
  }
  return f.drifted
    ? '<span class="status yes">Drift detected</span>'
    : '<span class="status no">No drift</span>'
}

type NumericMetricKey = Exclude<keyof FeatureMetrics, 'newCategories'>
type MetricFormat = 'pct' | 'p' | 'num'

const metricDefs: ReadonlyArray<readonly [NumericMetricKey, string, MetricFormat]> = [
  ['psi', 'PSI', 'num'],
  ['ks', 'K–S statistic', 'num'],
  ['ksPValue', 'K–S p-value', 'p'],
  ['wasserstein', 'Wasserstein distance', 'num'],
  ['wassersteinNormed', 'Wasserstein (normed)', 'num'],
  ['jensenShannon', 'Jensen–Shannon', 'num'],
  ['chiSquare', 'χ² statistic', 'num'],
  ['chiSquarePValue', 'χ² p-value', 'p'],
  ['klDiv', 'KL divergence', 'num'],
  ['hellinger', 'Hellinger distance', 'num'],
  ['zPValue', 'Z-test p-value', 'p'],
  ['referenceMean', 'Mean (reference)', 'num'],
  ['mean', 'Mean (current)', 'num'],
  ['std', 'Std (current)', 'num'],
  ['min', 'Min', 'num'],
  ['p05', 'P5', 'num'],
  ['p50', 'Median', 'num'],
  ['p95', 'P95', 'num'],
  ['max', 'Max', 'num'],
  ['referenceMissingShare', 'Missing (reference)', 'pct'],
  ['missingShare', 'Missing (current)', 'pct'],
  ['nonFiniteShare', 'Non-finite share', 'pct'],
  ['newCategoryShare', 'New categories share', 'pct'],
  ['newCategoryCount', 'New categories', 'num'],
]

function formatMetric(v: number, how: MetricFormat): string {
  return how === 'pct' ? formatPercent(v) : how === 'p' ? formatPValue(v) : formatNumber(v)
}

function metricsList(f: FeatureResult, meta: HtmlReportMeta): string {
  const items: string[] = [
    `<div><dt>Rows (reference)</dt><dd>${formatCount(f.nReference)}</dd></div>`,
    `<div><dt>Rows (current)</dt><dd>${formatCount(f.nCurrent)}</dd></div>`,
  ]
  const m = f.metrics
  for (const [key, label, how] of metricDefs) {
    const v = m[key]
    if (v === undefined) continue
    items.push(`<div><dt>${label}</dt><dd>${formatMetric(v, how)}</dd></div>`)
  }
  let html = `<dl class="metrics">${items.join('')}</dl>`
  const cats = m.newCategories
  if (cats !== undefined && cats.length > 0) {
    const shownCats = cats.slice(0, 20)
    const more = (m.newCategoryCount ?? cats.length) - shownCats.length
    html +=
      `<div class="newcats"><div class="newcats-h">New categories in ${escapeHtml(meta.currentLabel)}</div>` +
      shownCats
        .map((cat) => `<span class="chip">${escapeHtml(truncate(cat, 40))}</span>`)
        .join('') +
      (more > 0 ? `<span class="more">+${more} more</span>` : '') +
      '</div>'
  }
  return html
}

function legend(meta: HtmlReportMeta): string {
  return (
    '<div class="legend">' +
    `<span><i class="lr"></i>Reference: ${escapeHtml(meta.referenceLabel)}</span>` +
    `<span><i class="lc"></i>Current: ${escapeHtml(meta.currentLabel)}</span></div>`
  )
}

function featureSection(f: FeatureResult, id: string, meta: HtmlReportMeta): string {
  const bars = featureBars(f)
  const folded = f.distribution.length > bars.length
  const note = folded
    ? `<p class="note">${f.distribution.length} bins shown as ${bars.length} bars (${f.kind === 'numerical' ? 'neighbouring bins merged' : 'least frequent categories folded into “Other”'}).</p>`
    : ''
  const insufficient =
    f.insufficientData !== undefined
      ? `<p class="warn">Insufficient data: ${escapeHtml(f.insufficientData.reason)}</p>`
      : ''
  const cap = f.categoryCap
  const capNote =
    cap === undefined
      ? ''
      : `<p class="note">Category cap reached: the reference keeps ${formatCount(cap.referenceCategories)} categories by name; ${formatPercent(cap.referenceFoldedShare)} of reference and ${formatPercent(cap.currentFoldedShare)} of current values are folded into “__other__”${cap.unseenCapReached ? ', and more new categories were seen than are kept by name' : ''}. Distances and the new-category share are approximate.</p>`
  const quality = (f.dataQuality?.findings ?? [])
    .map(
      (finding) =>
        `<p class="warn">Data quality ${escapeHtml(finding.severity)}: ${escapeHtml(finding.reason)}</p>`,
    )
    .join('')
  return (
    `<article class="feature card${f.drifted ? ' drifted' : ''}" id="${id}">` +
    '<header class="fh">' +
    `<h3>${escapeHtml(f.name)}</h3>` +
    `<span class="kind">${escapeHtml(f.kind)}</span>${severityBadge(f.severity)}${driftStatus(f)}` +
    '</header>' +
    '<div class="facts">' +
    `<span><b>Test</b> <code>${escapeHtml(f.test)}</code></span>` +
    `<span><b>Statistic</b> ${formatNumber(f.statistic)}</span>` +
    `<span><b>p-value</b> ${formatPValue(f.pValue)}</span>` +
    `<span><b>Threshold</b> ${formatNumber(f.threshold)}</span>` +
    noiseFloorFact(f) +
    '</div>' +
    quality +
    capNote +
    insufficient +
    '<div class="fbody">' +
    `<figure class="fig">${bars.length > 0 ? legend(meta) : ''}${chartSvg(bars, meta, f.name)}${note}</figure>` +
    `<div class="side">${metricsList(f, meta)}</div>` +
    '</div></article>'
  )
}

/** Data-quality findings come before drift: an emptied or retyped column makes drift moot. */
function dataQualitySection(report: DriftReport, idOf: (f: FeatureResult) => string): string {
  const summary = report.dataQuality
  if (summary === undefined) return ''
  const flagged = report.features
    .filter((f) => f.dataQuality !== undefined && f.dataQuality.severity !== 'ok')
    .sort(
      (a, b) =>
        severityRank[a.dataQuality?.severity ?? 'ok'] -
          severityRank[b.dataQuality?.severity ?? 'ok'] || a.name.localeCompare(b.name),
    )
  const rows = flagged.flatMap((f) =>
    (f.dataQuality?.findings ?? []).map(
      (finding) =>
        `<tr><td><a href="#${idOf(f)}">${escapeHtml(f.name)}</a></td>` +
        `<td>${severityBadge(finding.severity)}</td><td>${escapeHtml(finding.reason)}</td></tr>`,
    ),
  )
  const head =
    summary.severity === 'ok'
      ? '<p>No data-quality finding: missing shares and types as in the reference.</p>'
      : `<p>${severityBadge(summary.severity)} ${formatCount(summary.nCritical)} critical, ${formatCount(summary.nWarning)} warning</p>`
  return (
    '<section class="card" id="data-quality"><h2>Data quality</h2>' +
    head +
    (rows.length === 0
      ? ''
      : '<div class="twrap"><table><thead><tr><th>Feature</th><th>Severity</th><th>Finding</th></tr></thead><tbody>' +
        rows.join('') +
        '</tbody></table></div>') +
    '</section>'
  )
}

/** The diagnosis (core/diagnosis.ts), its top causes by impact, and the test-suite conditions. */
function diagnosisSection(report: DriftReport): string {
  const d = report.diagnosis
  const conditions = report.conditions ?? []
  if (d === undefined && conditions.length === 0) return ''
  const ranked = (report.impact?.ranked ?? []).filter((e) => e.drifted).slice(0, 5)
  const diagnosis =
    d === undefined
      ? ''
      : `<p><b>${escapeHtml(d.kind)}</b>: ${escapeHtml(d.summary)}</p>` +
        `<p>Action: ${escapeHtml(d.action)}</p>` +
        (d.alsoSeen.length > 0 ? `<p>Also seen: ${escapeHtml(d.alsoSeen.join(', '))}</p>` : '') +
        (ranked.length === 0
          ? ''
          : '<div class="twrap"><table><thead><tr><th>Feature</th><th>Importance</th><th>Drift score</th><th>Impact</th></tr></thead><tbody>' +
            ranked
              .map(
                (e) =>
                  `<tr><td>${escapeHtml(e.feature)}</td><td class="n">${formatNumber(e.importance)}</td>` +
                  `<td class="n">${formatNumber(e.driftScore)}</td><td class="n">${formatNumber(e.impact)}</td></tr>`,
              )
              .join('') +
            '</tbody></table></div>')
  const rows = conditions.map((c) => {
    const status = c.passed === null ? 'unknown' : c.passed ? 'passed' : 'failed'
    return (
      `<tr><td>${escapeHtml(c.condition)}</td><td>${status === 'failed' ? severityBadge('critical') : ''} ${status}</td>` +
      `<td class="n">${c.value === null ? 'not measured' : formatNumber(c.value)}</td></tr>`
    )
  })
  return (
    '<section class="card" id="diagnosis"><h2>Diagnosis</h2>' +
    diagnosis +
    (rows.length === 0
      ? ''
      : '<h3>Conditions</h3><div class="twrap"><table id="conditions"><thead><tr><th>Condition</th><th>Result</th><th>Value</th></tr></thead><tbody>' +
        rows.join('') +
        '</tbody></table></div>') +
    '</section>'
  )
}

/**
 * The model's layers beside its inputs, when reported: its prediction's drift, its performance
 * against the reference's labels (every metric measured, current and reference) with the labels'
 * drift, and its latency quantiles.
 */
function modelSection(report: DriftReport): string {
  const parts: string[] = []
  const verdictOf = (f: FeatureResult): string =>
    f.insufficientData !== undefined
      ? `n/a (${escapeHtml(f.insufficientData.reason)})`
      : `${severityBadge(f.severity)} ${f.drifted ? 'drifted' : 'no drift'}`
  const p = report.performance
  if (p !== undefined) {
    const drop =
      p.drop === null
        ? DASH
        : p.dropIs === 'absolute'
          ? `${formatNumber(p.drop * 100)} points`
          : formatPercent(p.drop)
    const verdict =
      p.insufficientData !== undefined
        ? `not judged (${escapeHtml(p.insufficientData.reason)})`
        : `${severityBadge(p.severity)} ${p.degraded ? 'degraded' : 'no degradation'}`
    const names = performanceMetricNames.filter(
      (name) => p.current[name] !== undefined || p.reference?.[name] !== undefined,
    )
    parts.push(
      '<h3>Performance</h3>' +
        `<p>${verdict}: ${escapeHtml(p.metric)} ${formatNumber(p.value)} vs baseline ${formatNumber(p.baseline)}, drop ${drop} ` +
        `(warning at ${formatNumber(p.warningDrop)}, critical at ${formatNumber(p.criticalDrop)}, ${p.dropIs}); ${formatCount(p.nLabels)} labelled predictions</p>` +
        (names.length === 0
          ? ''
          : '<div class="twrap"><table id="performance"><thead><tr><th>Metric</th><th class="n">Current</th><th class="n">Reference</th></tr></thead><tbody>' +
            names
              .map(
                (name) =>
                  `<tr data-metric="${name}"><td>${name}</td><td class="n">${formatNumber(p.current[name])}</td>` +
                  `<td class="n">${formatNumber(p.reference?.[name])}</td></tr>`,
              )
              .join('') +
            '</tbody></table></div>'),
    )
  }
  const d = report.labelDrift
  if (d !== undefined)
    parts.push(
      `<p id="label-drift">Label drift (prior shift): ${verdictOf(d)}; ${escapeHtml(d.test)} ${formatNumber(d.statistic)}, threshold ${formatNumber(d.threshold)}</p>`,
    )
  const pd = report.predictionDrift
  if (pd !== undefined)
    parts.push(
      `<h3>Prediction drift</h3><p id="prediction-drift">${verdictOf(pd)}; ${escapeHtml(pd.test)} ${formatNumber(pd.statistic)}, threshold ${formatNumber(pd.threshold)}</p>`,
    )
  const l = report.latency
  if (l !== undefined) {
    const against = [
      ...(l.reference === null ? [] : [`×${formatNumber(l.reference.p99Ratio)} the reference's`]),
      ...(l.previous === null
        ? []
        : [`×${formatNumber(l.previous.p99Ratio)} ${escapeHtml(l.previousVersion ?? '')}'s`]),
    ]
    parts.push(
      `<h3>Latency</h3><p id="latency">P50 ${formatNumber(l.p50)} ms, P95 ${formatNumber(l.p95)} ms, P99 ${formatNumber(l.p99)} ms` +
        (l.insufficientData !== undefined
          ? `; not judged (${escapeHtml(l.insufficientData.reason)})`
          : `; ${severityBadge(l.severity)}${against.length === 0 ? '' : ` P99 ${against.join(', ')}`}`) +
        '</p>',
    )
  }
  if (parts.length === 0) return ''
  return '<section class="card" id="model"><h2>Model</h2>' + parts.join('') + '</section>'
}

/** Calibrated mode: the floor on the verdict's scale, and the false-alarm rate it was set at. */
function noiseFloorFact(f: FeatureResult): string {
  if (f.noiseFloor === undefined || f.noiseFloor === null) return ''
  const value =
    f.noiseFloorOn === 'pValue'
      ? `p &lt; ${formatPValue(f.noiseFloor)}`
      : formatNumber(f.noiseFloor)
  const rate = isNum(f.falseAlarmRate)
    ? ` (false-alarm rate ${formatPValue(f.falseAlarmRate)})`
    : ''
  return `<span title="how far this statistic goes with no drift at this sample size"><b>Noise floor</b> ${value}${rate}</span>`
}

function tableRow(f: FeatureResult, id: string): string {
  const bars = featureBars(f)
  const num = (v: number | null | undefined): string => (isNum(v) ? String(v) : '')
  return (
    `<tr class="${f.drifted ? 'drifted' : ''}">` +
    `<td data-v="${escapeHtml(f.name.toLowerCase())}"><a href="#${id}">${escapeHtml(f.name)}</a></td>` +
    `<td>${escapeHtml(f.kind)}</td>` +
    `<td data-v="${rowRank(f)}">${severityBadge(f.severity)}</td>` +
    `<td data-v="${f.insufficientData !== undefined ? 2 : f.drifted ? 0 : 1}">${driftStatus(f)}</td>` +
    `<td class="dist">${sparkSvg(bars)}</td>` +
    `<td><code>${escapeHtml(f.test)}</code></td>` +
    `<td class="n" data-v="${num(f.statistic)}">${formatNumber(f.statistic)}</td>` +
    `<td class="n" data-v="${num(f.pValue)}">${formatPValue(f.pValue)}</td>` +
    `<td class="n" data-v="${num(f.threshold)}">${formatNumber(f.threshold)}</td>` +
    `<td class="n" data-v="${num(f.metrics.missingShare)}">${formatPercent(f.metrics.missingShare)}</td>` +
    '</tr>'
  )
}

function th(
  label: string,
  type: 'num' | 'str' | null,
  opts: { sorted?: boolean; right?: boolean } = {},
): string {
  if (type === null) return `<th scope="col">${label}</th>`
  return (
    `<th scope="col" data-type="${type}"${opts.sorted === true ? ' aria-sort="ascending"' : ''}${opts.right === true ? ' class="n"' : ''}>` +
    `<button type="button">${label}</button></th>`
  )
}

// Click-to-sort for the feature table. Plain ES5, defensive: it must never throw.
const SORT_SCRIPT = `(function(){try{
var t=document.getElementById('features');if(!t||!t.tBodies||!t.tBodies[0]||!t.tHead)return;
var body=t.tBodies[0],heads=t.tHead.rows[0]?t.tHead.rows[0].cells:[];
function key(r,i,num){var cell=r.cells[i];if(!cell)return null;var v=cell.getAttribute('data-v');
if(v===null)v=cell.textContent||'';if(!num)return v.toLowerCase();if(v==='')return null;
var n=Number(v);return isFinite(n)?n:null}
Array.prototype.forEach.call(heads,function(h){var b=h.querySelector('button');if(!b)return;
b.addEventListener('click',function(){var i=h.cellIndex,num=h.getAttribute('data-type')==='num',
dir=h.getAttribute('aria-sort')==='ascending'?-1:1;
Array.prototype.forEach.call(heads,function(o){o.removeAttribute('aria-sort')});
h.setAttribute('aria-sort',dir===1?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=key(a,i,num),y=key(b,i,num);if(x===y)return 0;
if(x===null)return 1;if(y===null)return -1;return(x<y?-1:1)*dir});
rows.forEach(function(r){body.appendChild(r)})})})
}catch(e){}})();`

const SORT_SCRIPT_HASH = createHash('sha256').update(SORT_SCRIPT, 'utf8').digest('base64')

const CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${SORT_SCRIPT_HASH}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

const CSS = `
:root{--fg:#1f2430;--muted:#5d6677;--line:#e3e7ee;--bg:#f5f7fa;--card:#fff;--ref:#a4aebd;--cur:#3b5bdb;
--ok:#1b7f3b;--ok-bg:#e5f5ea;--warn:#9a5a00;--warn-bg:#fff3dc;--crit:#b3261e;--crit-bg:#fde7e5;color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1200px;margin:0 auto;padding:24px 20px 40px}
a{color:inherit}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:#f0f2f6;border-radius:4px;padding:1px 5px}
h1{font-size:24px;line-height:1.25;margin:2px 0 6px;font-weight:650}
h2{font-size:17px;margin:0 0 12px;font-weight:650}
h3{font-size:16px;margin:0;font-weight:650;overflow-wrap:anywhere}
.brand{font-size:12px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;color:var(--cur)}
.sub{color:var(--muted);margin:0 0 20px;display:flex;flex-wrap:wrap;gap:4px 18px}
.sub b{color:var(--fg);font-weight:600}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.verdict{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,2fr);gap:18px 28px;align-items:center;border-left:6px solid var(--ok)}
.verdict.drift{border-left-color:var(--crit)}
.v-head{display:flex;gap:14px;align-items:flex-start}
.v-icon{flex:none;width:40px;height:40px;border-radius:50%;display:grid;place-items:center;font-size:22px;font-weight:700;background:var(--ok-bg);color:var(--ok)}
.drift .v-icon{background:var(--crit-bg);color:var(--crit)}
.v-title{font-size:20px;font-weight:700;margin:0}
.drift .v-title{color:var(--crit)}.nodrift .v-title{color:var(--ok)}
.v-text{margin:2px 0 0;color:var(--muted)}
.sharebar{position:relative;height:8px;border-radius:4px;background:#edf0f5;margin:12px 0 4px}
.sharebar i{position:absolute;left:0;top:0;bottom:0;border-radius:4px;background:var(--ok)}
.drift .sharebar i{background:var(--crit)}
.sharebar s{position:absolute;top:-4px;bottom:-4px;width:2px;margin-left:-1px;background:var(--fg)}
.sharelegend{display:flex;justify-content:space-between;font-size:12px;color:var(--muted)}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(110px,1fr));gap:10px}
.stat{background:#f8f9fb;border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.stat .k{font-size:12px;color:var(--muted)}
.stat .v{font-size:20px;font-weight:650;line-height:1.3}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:0 0 8px}
.card>.legend{margin-top:-4px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.legend i{width:12px;height:12px;border-radius:3px;display:inline-block}
.legend .lr{background:var(--ref)}.legend .lc{background:var(--cur)}
.twrap{overflow-x:auto;margin:0 -20px;padding:0 20px}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:middle}
td:first-child{white-space:normal;overflow-wrap:anywhere;min-width:170px;max-width:280px;font-weight:600}
td:first-child a{text-decoration:none}td:first-child a:hover{text-decoration:underline}
th{font-size:12px;font-weight:600;color:var(--muted);background:#f8f9fb;position:sticky;top:0}
th.n,td.n{text-align:right}
th button{all:unset;cursor:pointer;display:inline-flex;gap:4px;align-items:center}
th button:focus-visible{outline:2px solid var(--cur);outline-offset:2px;border-radius:2px}
th button::after{content:"↕";opacity:.35;font-size:11px}
th[aria-sort=ascending] button::after{content:"▲";opacity:.8;font-size:9px}
th[aria-sort=descending] button::after{content:"▼";opacity:.8;font-size:9px}
tbody tr:hover{background:#f8f9fc}
tr.drifted td:first-child{box-shadow:inset 3px 0 0 var(--crit)}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;line-height:18px;text-transform:capitalize}
.sev-ok{background:var(--ok-bg);color:var(--ok)}
.sev-warning{background:var(--warn-bg);color:var(--warn)}
.sev-critical{background:var(--crit-bg);color:var(--crit)}
.sev-unknown{background:#eef0f4;color:var(--muted)}
.status{font-size:12px;font-weight:600}
.status.yes{color:var(--crit)}.status.no{color:var(--ok)}.status.na{color:var(--muted)}
.spark{width:120px;height:30px;display:block}
.spark .r{fill:var(--ref);opacity:.55}.spark .c{fill:none;stroke:var(--cur);stroke-width:1.5}
.feature{scroll-margin-top:12px}
.feature.drifted{border-top:3px solid var(--crit)}
.fh{display:flex;flex-wrap:wrap;align-items:center;gap:8px 10px;margin-bottom:6px}
.kind{font-size:12px;color:var(--muted);border:1px solid var(--line);border-radius:999px;padding:0 8px;line-height:18px}
.facts{display:flex;flex-wrap:wrap;gap:4px 20px;color:var(--muted);font-size:13px;margin-bottom:10px}
.facts b{font-weight:600;color:var(--fg);margin-right:2px}
.warn{background:var(--warn-bg);color:var(--warn);border-radius:6px;padding:8px 12px;margin:0 0 10px;overflow-wrap:anywhere}
.fbody{display:grid;grid-template-columns:minmax(0,1fr) 280px;gap:12px 24px;align-items:start}
.fig{margin:0;min-width:0}
.note{font-size:12px;color:var(--muted);margin:4px 0 0}
.chart{display:block;width:100%;height:auto;font-size:11px}
.chart .grid line{stroke:#edf0f4}
.chart .axis{stroke:#9aa3b2}
.chart .yl text{text-anchor:end;fill:var(--muted)}
.chart .xl text{text-anchor:middle;fill:#3d4555}
.chart .xl.rot text{text-anchor:end}
.chart .r{fill:var(--ref)}.chart .c{fill:var(--cur)}
.chart .h{fill:transparent}.chart .bars g:hover .h{fill:#eef2ff}
.chart .empty{fill:#fafbfc;stroke:var(--line);stroke-dasharray:4 4}
.chart .empty-t{fill:var(--muted);font-size:13px}
.metrics{display:grid;grid-template-columns:1fr 1fr;gap:0 14px;margin:0}
.metrics div{padding:5px 0;border-bottom:1px solid #f0f2f5;min-width:0}
.metrics dt{font-size:11.5px;color:var(--muted)}
.metrics dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.newcats{margin-top:12px;font-size:12px}
.newcats-h{color:var(--muted);margin-bottom:4px}
.chip{display:inline-block;background:#eef2ff;color:#2f3f9e;border-radius:4px;padding:1px 6px;margin:0 4px 4px 0;overflow-wrap:anywhere}
.more{color:var(--muted)}
.sec{margin:26px 0 12px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:8px}
@media (max-width:860px){.verdict{grid-template-columns:1fr}.fbody{grid-template-columns:1fr}main{padding:16px 12px 32px}.card{padding:14px}.twrap{margin:0 -14px;padding:0 14px}}
@media (max-width:600px){.fig{overflow-x:auto}.chart{min-width:560px}h1{font-size:20px}}
@media print{body{background:#fff}.card{box-shadow:none;break-inside:avoid}th{position:static}}
`
  .trim()
  .replace(/\n/g, '')

// ---------------------------------------------------------------------------------------------

/** Which verdict mode decided, and (calibrated) at what false-alarm rate; empty for old reports. */
function modeLine(report: DriftReport): string {
  if (report.mode === undefined) return ''
  const insufficient =
    report.nInsufficient !== undefined && report.nInsufficient > 0
      ? `; ${formatCount(report.nInsufficient)} with insufficient data (fewer than ${formatCount(report.minCount ?? 0)} values)`
      : ''
  const how =
    report.mode === 'calibrated'
      ? `Calibrated verdicts: a feature drifts past its threshold and its noise floor, at a false-alarm rate of ${formatPValue(report.falseAlarmRate ?? null)} per window`
      : 'Evidently-compatible verdicts: fixed thresholds'
  return `<p class="v-text">${how}${insufficient}.</p>`
}

export function renderHtmlReport(report: DriftReport, meta: HtmlReportMeta): string {
  const title = meta.title !== undefined && meta.title !== '' ? meta.title : 'Data drift report'
  const ids = new Map<FeatureResult, string>()
  report.features.forEach((f, i) => ids.set(f, `feature-${i + 1}`))
  const idOf = (f: FeatureResult): string => ids.get(f) ?? ''
  const ordered = report.features
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rowRank(a.f) - rowRank(b.f) || a.i - b.i)
    .map(({ f }) => f)

  const drift = report.datasetDrift
  const shareCmp =
    isNum(report.driftShare) && isNum(report.driftShareThreshold)
      ? report.driftShare >= report.driftShareThreshold
        ? '≥'
        : '&lt;'
      : 'vs'
  const clamp01 = (x: number): number => (isNum(x) ? Math.min(1, Math.max(0, x)) : 0)
  const refLabel = escapeHtml(meta.referenceLabel)
  const curLabel = escapeHtml(meta.currentLabel)

  const verdict =
    `<section class="card verdict ${drift ? 'drift' : 'nodrift'}" id="verdict">` +
    '<div>' +
    `<div class="v-head"><div class="v-icon" aria-hidden="true">${drift ? '!' : '✓'}</div><div>` +
    `<p class="v-title">${drift ? 'Dataset drift detected' : 'No dataset drift'}</p>` +
    `<p class="v-text">${formatCount(report.nDrifted)} of ${formatCount(report.nFeatures)} features drifted: ` +
    `drift share ${formatPercent(report.driftShare)} ${shareCmp} threshold ${formatPercent(report.driftShareThreshold)}</p>` +
    (report.dataQuality !== undefined && report.dataQuality.severity !== 'ok'
      ? `<p class="v-text">Data quality: ${severityBadge(report.dataQuality.severity)} ${formatCount(report.dataQuality.nCritical)} critical, ${formatCount(report.dataQuality.nWarning)} warning (<a href="#data-quality">findings</a>)</p>`
      : '') +
    modeLine(report) +
    '</div></div>' +
    `<div class="sharebar" role="img" aria-label="Drift share ${formatPercent(report.driftShare)}, threshold ${formatPercent(report.driftShareThreshold)}">` +
    `<i style="width:${c(clamp01(report.driftShare) * 100)}%"></i><s style="left:${c(clamp01(report.driftShareThreshold) * 100)}%"></s></div>` +
    `<div class="sharelegend"><span>0%</span><span>threshold ${formatPercent(report.driftShareThreshold)}</span><span>100%</span></div>` +
    '</div>' +
    '<div class="stats">' +
    `<div class="stat"><div class="k">Features</div><div class="v">${formatCount(report.nFeatures)}</div></div>` +
    `<div class="stat"><div class="k">Drifted</div><div class="v">${formatCount(report.nDrifted)}</div></div>` +
    `<div class="stat"><div class="k">Drift share</div><div class="v">${formatPercent(report.driftShare)}</div></div>` +
    `<div class="stat" title="${refLabel}"><div class="k">Reference rows</div><div class="v">${formatCount(report.nReference)}</div></div>` +
    `<div class="stat" title="${curLabel}"><div class="k">Current rows</div><div class="v">${formatCount(report.nCurrent)}</div></div>` +
    '</div></section>'

  const table =
    '<section class="card"><h2>Feature drift</h2>' +
    legend(meta) +
    '<div class="twrap"><table id="features"><thead><tr>' +
    th('Feature', 'str') +
    th('Type', 'str') +
    th('Severity', 'num', { sorted: true }) +
    th('Drift', 'num') +
    th('Distribution', null) +
    th('Test', 'str') +
    th('Statistic', 'num', { right: true }) +
    th('p-value', 'num', { right: true }) +
    th('Threshold', 'num', { right: true }) +
    th('Missing', 'num', { right: true }) +
    '</tr></thead><tbody>' +
    ordered.map((f) => tableRow(f, idOf(f))).join('') +
    '</tbody></table></div></section>'

  const sections =
    `<h2 class="sec">Feature details</h2>` +
    ordered.map((f) => featureSection(f, idOf(f), meta)).join('')

  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="color-scheme" content="light">' +
    `<meta name="generator" content="driftwatch ${escapeHtml(meta.version)}">` +
    '<link rel="icon" href="data:,">' +
    `<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body><main>` +
    '<header>' +
    '<div class="brand">driftwatch</div>' +
    `<h1>${escapeHtml(title)}</h1>` +
    '<p class="sub">' +
    `<span>Reference: <b>${refLabel}</b></span>` +
    `<span>Current: <b>${curLabel}</b></span>` +
    `<span>Generated: <b>${escapeHtml(meta.generatedAt)}</b></span>` +
    '</p></header>' +
    verdict +
    dataQualitySection(report, idOf) +
    diagnosisSection(report) +
    modelSection(report) +
    table +
    sections +
    `<footer>Generated by driftwatch ${escapeHtml(meta.version)} · ${escapeHtml(meta.generatedAt)}</footer>` +
    `</main><script>${SORT_SCRIPT}</script></body></html>\n`
  )
}
