// The on-call page at `/` and its per-feature pages, rendered on the server from StatusSource:
// what is worst comes first (models by their worst severity, features by severity then by how
// far past its threshold), each model's alerts with their start times, then its layers in the
// latest window in the users' diagnosis order (data quality, prediction drift, performance,
// latency, then the diagnosis: quality, drift, impact, decision), then its features, each
// with its statistic over the last windows, since when it has been drifting, and a link to its
// reference-vs-current picture. Self-contained: no external scripts, styles, fonts or images, so it
// works offline. Every name is user data and goes through escapeHtml; the pages are served
// with a Content-Security-Policy that allows exactly their own inline style and script (by
// hash). The one script re-fetches the page every 15 s and swaps in its new content. Severity
// is always written out as text, colour only repeats it.

import { createHash } from 'node:crypto'
import type { Severity } from '../../core/report.js'
import type {
  FeatureDistribution,
  FeatureHistoryPoint,
  FeatureVerdict,
  OnCallAlert,
  OnCallFeature,
  OnCallModel,
  VersionLayers,
} from '../../ports/status.js'
import {
  distributionChartCss,
  distributionChartSvg,
  escapeHtml,
  formatNumber,
  formatPValue,
  formatPercent,
} from '../../report/html.js'

const style = `
:root { --ok: #2e7d32; --warning: #b26a00; --critical: #c62828; --muted: #5d6677; --line: #dde2ea; --accent: #3b5bdb; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1f2430; background: #fff; }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 .25rem; }
h3 { font-size: .95rem; margin: 1rem 0 .25rem; }
a { color: var(--accent); }
.meta, #updated { color: var(--muted); font-size: .85rem; }
#error { color: var(--critical); font-weight: 600; }
table { border-collapse: collapse; margin-top: .35rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
table.alerts, table.layers { margin-bottom: 1rem; }
table.layers td:last-child { max-width: 60rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
thead th { font-size: .8rem; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev { font-weight: 600; border-radius: .25rem; padding: .05rem .4rem; color: #fff; font-size: .8rem; white-space: nowrap; }
.sev-ok { background: var(--ok); }
.sev-warning { background: var(--warning); }
.sev-critical { background: var(--critical); }
.sev-none { background: var(--muted); }
tr.row-warning > * { background: rgba(178, 106, 0, .07); }
tr.row-critical > * { background: rgba(198, 40, 40, .08); }
.spark { display: block; }
.spark .line { fill: none; stroke: #5d6677; stroke-width: 1.2; }
.spark .thr { stroke: var(--critical); stroke-width: 1; stroke-dasharray: 3 2; }
.spark .pt { stroke: #fff; stroke-width: .8; }
.spark .pt-ok { fill: var(--ok); }
.spark .pt-warning { fill: var(--warning); }
.spark .pt-critical { fill: var(--critical); }
.spark .pt-none { fill: #fff; stroke: var(--muted); }
.since { white-space: nowrap; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
tbody th { max-width: 22rem; overflow-wrap: anywhere; }
.firing { color: var(--critical); font-weight: 600; }
.resolved { color: var(--ok); font-weight: 600; }
.summary { display: flex; gap: 1.25rem; flex-wrap: wrap; margin: .5rem 0 0; }
.legend { display: flex; gap: 1rem; font-size: .85rem; color: var(--muted); margin: .5rem 0; }
.legend i { width: 12px; height: 12px; border-radius: 3px; display: inline-block; margin-right: .35rem; vertical-align: -1px; }
.legend .lr { background: #a4aebd; } .legend .lc { background: #3b5bdb; }
.fig { max-width: 760px; }
${distributionChartCss}
`

const script = `
'use strict'
// Re-fetch this page and swap in its content: the server renders, the browser only refreshes.
const REFRESH_MS = 15000
async function refresh() {
  const error = document.getElementById('error')
  try {
    const response = await fetch(location.href, { cache: 'no-store' })
    if (!response.ok) throw new Error('HTTP ' + response.status)
    const next = new DOMParser().parseFromString(await response.text(), 'text/html')
    const content = next.getElementById('content')
    if (content === null) throw new Error('the page has no content')
    document.getElementById('content').replaceWith(document.adoptNode(content))
    error.textContent = ''
  } catch (e) {
    error.textContent = 'Could not refresh: ' + (e && e.message ? e.message : e)
  }
}
setInterval(refresh, REFRESH_MS)
`

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`

export const dashboardCsp = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(style)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const rank: Readonly<Record<Severity, number>> = { ok: 0, warning: 1, critical: 2 }
const rankOf = (s: Severity | null): number => (s === null ? -1 : rank[s])

/**
 * How far past (above 1) or short of (below 1) its threshold a feature is: the statistic over
 * the threshold for distance tests; for p-value tests, which drift when p < threshold, the
 * p-value's order of magnitude over the threshold's, so that it reads the same way.
 */
function thresholdRatio(f: {
  readonly statistic: number | null
  readonly pValue: number | null
  readonly threshold: number
}): number {
  if (f.pValue !== null) {
    if (!(f.threshold > 0 && f.threshold < 1)) return 0
    return Math.log10(Math.max(f.pValue, 1e-300)) / Math.log10(f.threshold)
  }
  if (f.statistic === null || !(f.threshold > 0)) return 0
  return f.statistic / f.threshold
}

/** Models by their worst severity, then drift share and name; their features worst first. */
function sortForOnCall(models: readonly OnCallModel[]): OnCallModel[] {
  return models
    .map((m) => ({
      ...m,
      features: [...m.features].sort(
        (a, b) =>
          rank[b.severity] - rank[a.severity] ||
          Number(b.drifted) - Number(a.drifted) ||
          thresholdRatio(b) - thresholdRatio(a) ||
          a.name.localeCompare(b.name),
      ),
    }))
    .sort(
      (a, b) =>
        rankOf(b.severity) - rankOf(a.severity) ||
        b.alerts.filter((x) => x.firing).length - a.alerts.filter((x) => x.firing).length ||
        (b.driftShare ?? -1) - (a.driftShare ?? -1) ||
        a.model.localeCompare(b.model) ||
        (a.version ?? '').localeCompare(b.version ?? ''),
    )
}

/** A UTC time to the second, as on-call people compare it with logs: `2025-01-01 12:00:00 UTC`. */
export function formatTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—'
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

function timeElement(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—'
  return `<time datetime="${new Date(ms).toISOString()}">${formatTime(ms)}</time>`
}

function badge(severity: Severity | null): string {
  const text = severity ?? 'no data'
  return `<span class="sev sev-${severity ?? 'none'}">${text}</span>`
}

function modelTitle(m: { readonly model: string; readonly version: string | null }): string {
  return escapeHtml(m.model + (m.version === null ? '' : ` ${m.version}`))
}

/** The feature page's address, relative to `/`. */
function featureHref(model: string, version: string | null, feature: string): string {
  const path = `models/${encodeURIComponent(model)}/features/${encodeURIComponent(feature)}`
  return version === null ? path : `${path}?version=${encodeURIComponent(version)}`
}

const SPARK_W = 150
const SPARK_H = 30

/**
 * The statistic over the last windows: one point per window (coloured and titled by its
 * severity; hollow when the test had too little data), a line through them, and, for distance
 * tests, the threshold as a dashed line. p-value tests are decided on another scale than their
 * statistic, so theirs has no threshold line.
 */
function sparklineSvg(feature: OnCallFeature): string {
  const points = feature.history
  const n = points.length
  const label = `${feature.test} statistic over the last ${n} windows`
  if (n === 0)
    return `<svg class="spark" width="${SPARK_W}" height="${SPARK_H}" role="img" aria-label="${escapeHtml(label)}: no history yet" data-points="0"></svg>`
  const distance = feature.pValue === null
  const values = points.flatMap((p) => (p.statistic === null ? [] : [p.statistic]))
  const top = Math.max(...values, distance ? feature.threshold : 0, 1e-12) * 1.1
  const bottom = Math.min(0, ...values)
  const pad = 4
  const x = (i: number): number =>
    n === 1 ? SPARK_W / 2 : pad + (i * (SPARK_W - 2 * pad)) / (n - 1)
  const y = (v: number): number =>
    SPARK_H - pad - ((v - bottom) / (top - bottom)) * (SPARK_H - 2 * pad)
  const r = (v: number): string => String(Math.round(v * 10) / 10)
  const out: string[] = []
  const last = points[n - 1] as FeatureHistoryPoint
  out.push(
    `<svg class="spark" width="${SPARK_W}" height="${SPARK_H}" viewBox="0 0 ${SPARK_W} ${SPARK_H}" role="img" data-points="${n}" ` +
      `aria-label="${escapeHtml(`${label}, latest ${formatNumber(last.statistic)} (${last.severity})`)}">`,
  )
  if (distance && feature.threshold > 0) {
    const ty = r(y(feature.threshold))
    out.push(`<line class="thr" x1="0" x2="${SPARK_W}" y1="${ty}" y2="${ty}"/>`)
  }
  const line = points
    .map((p, i) => (p.statistic === null ? null : `${r(x(i))},${r(y(p.statistic))}`))
    .filter((p) => p !== null)
  if (line.length > 1) out.push(`<polyline class="line" points="${line.join(' ')}"/>`)
  points.forEach((p, i) => {
    const cy = p.statistic === null ? SPARK_H - pad : y(p.statistic)
    const title =
      `window ${formatTime(p.startMs)} → ${formatTime(p.endMs)}: ` +
      `${feature.test} ${formatNumber(p.statistic)}` +
      (p.pValue === null ? '' : `, p ${formatPValue(p.pValue)}`) +
      `, threshold ${formatNumber(p.threshold)}, ${p.drifted ? 'drifted' : 'no drift'} (${p.severity})`
    out.push(
      `<circle class="pt pt-${p.statistic === null ? 'none' : p.severity}" cx="${r(x(i))}" cy="${r(cy)}" r="${p.drifted ? 3 : 2.2}"><title>${escapeHtml(title)}</title></circle>`,
    )
  })
  out.push('</svg>')
  return out.join('')
}

function sinceCell(f: OnCallFeature): string {
  if (f.drifting === null) return '<td class="since">not drifting</td>'
  const windows = `${f.drifting.windows} window${f.drifting.windows === 1 ? '' : 's'}`
  return f.drifting.complete
    ? `<td class="since">since ${timeElement(f.drifting.sinceMs)} (${windows})</td>`
    : `<td class="since">since before ${timeElement(f.drifting.sinceMs)} (${windows})</td>`
}

function featureRow(m: OnCallModel, f: OnCallFeature): string {
  const href = featureHref(m.model, m.version, f.name)
  return (
    `<tr class="row-${f.severity}" data-feature="${escapeHtml(f.name)}">` +
    `<th scope="row">${escapeHtml(f.name)}</th>` +
    `<td>${badge(f.severity)}</td>` +
    `<td>${escapeHtml(f.test)}</td>` +
    `<td class="num">${formatNumber(f.statistic)}</td>` +
    `<td class="num">${formatPValue(f.pValue)}</td>` +
    `<td class="num">${formatNumber(f.threshold)}</td>` +
    `<td>${sparklineSvg(f)}</td>` +
    sinceCell(f) +
    `<td><a class="picture" href="${escapeHtml(href)}">reference vs current<span class="vh"> of ${escapeHtml(f.name)}</span></a></td>` +
    '</tr>'
  )
}

/** Alerts about the dataset as a whole; the model layers' alerts are about the model. */
const datasetAlerts: ReadonlySet<OnCallAlert['alertname']> = new Set([
  'DriftwatchDatasetDrift',
  'DriftwatchDataQualityIncident',
])

function alertRow(a: OnCallAlert): string {
  const name =
    a.feature !== null
      ? escapeHtml(a.feature)
      : datasetAlerts.has(a.alertname)
        ? 'whole dataset'
        : 'model'
  return (
    `<tr class="alert alert-${a.firing ? 'firing' : 'resolved'}">` +
    `<td class="${a.firing ? 'firing' : 'resolved'}">${a.firing ? 'FIRING' : 'resolved'}</td>` +
    `<td>${a.alertname}</td><th scope="row">${name}</th>` +
    `<td>${a.firing ? badge(a.severity) : '—'}</td>` +
    `<td class="started">${timeElement(a.startedAtMs)}</td>` +
    `<td class="resolved-at">${timeElement(a.resolvedAtMs)}</td>` +
    '</tr>'
  )
}

/** A number cell that carries its exact value for tools (`data-v`), shown rounded. */
function valueCell(name: string, x: number | null | undefined): string {
  const exact = x === null || x === undefined || !Number.isFinite(x) ? '' : String(x)
  return `<span class="v" data-name="${name}" data-v="${exact}">${formatNumber(x)}</span>`
}

function driftVerdict(v: FeatureVerdict): string {
  return (
    `${v.drifted ? 'drifted' : 'no drift'}: ${escapeHtml(v.test)} ${valueCell('statistic', v.statistic)}` +
    (v.pValue === null ? '' : `, p ${formatPValue(v.pValue)}`) +
    `, threshold ${formatNumber(v.threshold)}`
  )
}

/**
 * The version's layers in its latest window, one row each, in the order people diagnose:
 * is the data sound, did the predictions move, did performance fall, is it slow, and so what.
 */
function layersTable(l: VersionLayers): string {
  const rows: string[] = []
  const row = (layer: string, title: string, severity: Severity | null, text: string): void => {
    rows.push(
      `<tr class="row-${severity ?? 'none'}" data-layer="${layer}"><th scope="row">${title}</th>` +
        `<td>${severity === null ? '—' : badge(severity)}</td><td>${text}</td></tr>`,
    )
  }
  const q = l.dataQuality
  row(
    'data-quality',
    'Data quality',
    q?.severity ?? null,
    q === null
      ? 'not assessed'
      : `${q.nCritical} critical, ${q.nWarning} warning` +
          (q.missingShare === undefined ? '' : `; missing ${formatPercent(q.missingShare)}`) +
          (q.volume === undefined
            ? ''
            : `; volume ${valueCell('volumeRatio', q.volume.ratio)}× expected (${escapeHtml(q.volume.reason)})`),
  )
  const pd = l.predictionDrift
  row(
    'prediction-drift',
    'Prediction drift',
    pd?.severity ?? null,
    pd === null ? 'no prediction in the reference' : driftVerdict(pd),
  )
  const p = l.performance
  if (p === null) {
    row('performance', 'Performance', null, 'no labels (no <code>performance:</code> section)')
  } else {
    const drop =
      p.drop === null
        ? ''
        : `, drop ${p.dropIs === 'absolute' ? `${formatNumber(p.drop * 100)} points` : formatPercent(p.drop)}`
    const others = (['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'mae', 'rmse'] as const)
      .filter((name) => name !== p.metric && p.current[name] !== undefined)
      .map((name) => `${name} ${valueCell(name, p.current[name])}`)
    const labels = l.labelDrift === null ? '' : `; labels ${driftVerdict(l.labelDrift)}`
    row(
      'performance',
      'Performance',
      p.insufficientData === undefined ? p.severity : null,
      `${escapeHtml(p.metric)} ${valueCell(p.metric, p.value)} vs baseline ${valueCell('baseline', p.baseline)}${drop}` +
        (p.insufficientData === undefined
          ? ''
          : ` (not judged: ${escapeHtml(p.insufficientData.reason)})`) +
        `; ${valueCell('nLabels', p.nLabels)} labels` +
        (others.length === 0 ? '' : `; ${others.join(', ')}`) +
        labels,
    )
  }
  const t = l.latency
  row(
    'latency',
    'Latency',
    t === null || t.insufficientData !== undefined ? null : t.severity,
    t === null
      ? 'no latencies'
      : `P50 ${valueCell('p50', t.p50)} ms, P95 ${valueCell('p95', t.p95)} ms, P99 ${valueCell('p99', t.p99)} ms` +
          (t.reference === null
            ? ''
            : `; P99 ×${formatNumber(t.reference.p99Ratio)} the reference's`) +
          (t.previous === null
            ? ''
            : `; ×${formatNumber(t.previous.p99Ratio)} ${escapeHtml(t.previousVersion ?? '')}'s`) +
          (t.insufficientData === undefined
            ? ''
            : ` (not judged: ${escapeHtml(t.insufficientData.reason)})`),
  )
  const d = l.diagnosis
  row(
    'diagnosis',
    'Diagnosis',
    null,
    d === null
      ? 'none'
      : `<b class="diagnosis-kind">${escapeHtml(d.kind)}</b>: ${escapeHtml(d.summary)} ` +
          `<span class="action">${escapeHtml(d.action)}</span>` +
          (d.topCauses.length === 0 ? '' : ` (causes: ${escapeHtml(d.topCauses.join(', '))})`),
  )
  return (
    '<table class="layers"><caption>The model in its latest window: quality, drift, impact, decision</caption>' +
    '<thead><tr><th scope="col">Layer</th><th scope="col">Severity</th><th scope="col">Latest window</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  )
}

function modelSection(m: OnCallModel, index: number): string {
  const out: string[] = []
  const id = `model-${index}`
  out.push(`<section class="model" aria-labelledby="${id}" data-model="${escapeHtml(m.model)}">`)
  out.push(`<h2 id="${id}">${modelTitle(m)} ${badge(m.severity)}</h2>`)
  const meta: string[] = []
  if (m.window !== null)
    meta.push(`latest window ${formatTime(m.window.startMs)} → ${formatTime(m.window.endMs)}`)
  if (m.driftShare !== null)
    meta.push(
      `drifted features ${formatPercent(m.driftShare)}${m.datasetDrift === true ? ' (dataset drift)' : ''}`,
    )
  meta.push(`reference ${escapeHtml(m.referenceId ?? 'none')}`)
  out.push(`<div class="meta">${meta.join(' · ')}</div>`)
  if (m.features.length === 0) {
    out.push('<p class="meta">No evaluated window yet.</p></section>')
    return out.join('')
  }
  if (m.alerts.length === 0) {
    out.push(
      '<h3>Alerts</h3><p class="meta alerts-none">No firing or recently resolved alerts.</p>',
    )
  } else {
    out.push(
      '<table class="alerts"><caption>Alerts: firing, then recently resolved</caption><thead><tr>' +
        '<th scope="col">State</th><th scope="col">Alert</th><th scope="col">Feature</th>' +
        '<th scope="col">Severity</th><th scope="col">Started</th><th scope="col">Resolved</th>' +
        '</tr></thead><tbody>',
    )
    for (const a of m.alerts) out.push(alertRow(a))
    out.push('</tbody></table>')
  }
  if (m.layers !== null) out.push(layersTable(m.layers))
  const windows = m.features.reduce((n, f) => Math.max(n, f.history.length), 0)
  out.push(
    `<table class="features"><caption>Features, worst first</caption><thead><tr>` +
      '<th scope="col">Feature</th><th scope="col">Severity</th><th scope="col">Test</th>' +
      '<th scope="col">Statistic</th><th scope="col">p-value</th><th scope="col">Threshold</th>' +
      `<th scope="col">Last ${windows} windows</th><th scope="col">Drifting</th>` +
      '<th scope="col">Distributions</th></tr></thead><tbody>',
  )
  for (const f of m.features) out.push(featureRow(m, f))
  out.push('</tbody></table>')
  out.push('</section>')
  return out.join('')
}

function page(title: string, content: string, withScript: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${style}</style>
</head>
<body>
<div id="error" role="alert"></div>
${content}
${withScript ? `<script>${script}</script>` : ''}
</body>
</html>
`
}

/** The on-call page: `models` as StatusSource.onCall gives them, rendered at `nowMs`. */
export function renderOnCallPage(models: readonly OnCallModel[], nowMs: number): string {
  const sorted = sortForOnCall(models)
  const count = (s: Severity): number => sorted.filter((m) => m.severity === s).length
  const firing = sorted.reduce((n, m) => n + m.alerts.filter((a) => a.firing).length, 0)
  const summary =
    `<div class="summary"><span>${sorted.length} model${sorted.length === 1 ? '' : 's'}</span>` +
    `<span>${count('critical')} critical</span><span>${count('warning')} warning</span>` +
    `<span>${firing} firing alert${firing === 1 ? '' : 's'}</span></div>`
  const body =
    sorted.length === 0
      ? '<p class="meta">No models configured.</p>'
      : sorted.map((m, i) => modelSection(m, i)).join('')
  const content =
    `<main id="content"><h1>driftwatch: on call</h1>` +
    `<div id="updated">rendered ${formatTime(nowMs)} · refreshes every 15 s · times are window times</div>` +
    `${summary}${body}</main>`
  return page('driftwatch: on call', content, true)
}

/**
 * One feature's page: its verdict, its statistic over the last windows, and its reference and
 * current distributions of the latest window as bars, with the same numbers as a table.
 */
export function renderFeaturePage(
  distribution: FeatureDistribution,
  model: OnCallModel | undefined,
  version: string | null,
): string {
  const feature = model?.features.find((f) => f.name === distribution.feature)
  const name = escapeHtml(distribution.feature)
  const title = `${name}: ${modelTitle({ model: distribution.model, version })}`
  const out: string[] = []
  // Relative, so the page works behind a path prefix: /models/<m>/features/<f> → /.
  out.push('<main id="content"><p><a href="../../../">← all models</a></p>')
  out.push(`<h1>${title} ${feature === undefined ? '' : badge(feature.severity)}</h1>`)
  const meta = [`${escapeHtml(distribution.kind)} feature`]
  if (distribution.window !== null)
    meta.push(
      `window ${formatTime(distribution.window.startMs)} → ${formatTime(distribution.window.endMs)}`,
    )
  meta.push(`reference ${escapeHtml(distribution.referenceId ?? 'none')}`)
  out.push(`<div class="meta">${meta.join(' · ')}</div>`)
  if (feature !== undefined) {
    out.push(
      `<p>${escapeHtml(feature.test)} statistic ${formatNumber(feature.statistic)}` +
        (feature.pValue === null ? '' : `, p-value ${formatPValue(feature.pValue)}`) +
        `, threshold ${formatNumber(feature.threshold)}: ${feature.drifted ? 'drifted' : 'no drift'}` +
        (feature.drifting === null
          ? ''
          : `, ${feature.drifting.complete ? 'since' : 'since before'} ${formatTime(feature.drifting.sinceMs)} (${feature.drifting.windows} windows)`) +
        '.</p>',
    )
    out.push(`<div>${sparklineSvg(feature)}</div>`)
  }
  out.push(
    '<h2>Reference vs current</h2><div class="legend"><span><i class="lr"></i>reference</span>' +
      '<span><i class="lc"></i>current (latest window)</span></div>',
  )
  out.push(
    `<div class="fig">${distributionChartSvg(
      { name: distribution.feature, kind: distribution.kind, distribution: distribution.bins },
      { referenceLabel: 'reference', currentLabel: 'current window' },
    )}</div>`,
  )
  out.push(
    '<table class="bins"><caption>Share of rows per bin</caption><thead><tr>' +
      '<th scope="col">Bin</th><th scope="col">Reference</th><th scope="col">Current</th>' +
      '<th scope="col">Current − reference</th></tr></thead><tbody>',
  )
  for (const b of distribution.bins) {
    out.push(
      `<tr><th scope="row">${escapeHtml(b.label)}</th><td class="num">${formatPercent(b.reference)}</td>` +
        `<td class="num">${formatPercent(b.current)}</td>` +
        `<td class="num">${formatPercent(b.current - b.reference)}</td></tr>`,
    )
  }
  out.push('</tbody></table></main>')
  return page(`driftwatch: ${title}`, out.join(''), false)
}
