// The dashboard page: one self-contained HTML document (no external scripts, styles, fonts or
// images) that polls `api/models` and draws one feature table per model. Data reaches the DOM
// only through textContent, never innerHTML, so a feature name cannot inject markup. The page
// is served with a Content-Security-Policy that allows exactly its own inline script and style
// (by hash), and fetches to its own origin.

import { createHash } from 'node:crypto'

const style = `
:root { color-scheme: light dark; --ok: #2e7d32; --warning: #ed8f00; --critical: #c62828; --muted: #777; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .25rem; }
.meta, #updated { color: var(--muted); font-size: .85rem; }
#error { color: var(--critical); font-weight: 600; }
table { border-collapse: collapse; margin-top: .5rem; min-width: 40rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid rgba(127, 127, 127, .3); text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev { font-weight: 600; border-radius: .25rem; padding: .05rem .4rem; color: #fff; }
.sev-ok { background: var(--ok); }
.sev-warning { background: var(--warning); }
.sev-critical { background: var(--critical); }
.sev-none { background: var(--muted); }
tr.row-warning td { background: rgba(237, 143, 0, .08); }
tr.row-critical td { background: rgba(198, 40, 40, .1); }
`

const script = `
'use strict'
const POLL_MS = 5000
const fmt = (x) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : '\\u2014')
const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? (100 * x).toFixed(1) + ' %' : '\\u2014')
function el(tag, text, className) {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = String(text)
  if (className !== undefined) node.className = className
  return node
}
function severityBadge(severity) {
  const known = severity === 'ok' || severity === 'warning' || severity === 'critical'
  return el('span', known ? severity : 'no data', 'sev sev-' + (known ? severity : 'none'))
}
function modelSection(model) {
  const section = el('section')
  const title = el('h2', model.model + (model.version ? ' ' + model.version : '') + ' ')
  title.append(severityBadge(model.severity))
  section.append(title)
  const meta = []
  if (model.window) meta.push('window ' + model.window.start + ' \\u2192 ' + model.window.end)
  if (typeof model.driftShare === 'number') meta.push('drifted features ' + pct(model.driftShare) + (model.datasetDrift ? ' (dataset drift)' : ''))
  meta.push('reference ' + (model.referenceId || 'none'))
  section.append(el('div', meta.join(' \\u00b7 '), 'meta'))
  if (!model.features || model.features.length === 0) {
    section.append(el('p', 'No evaluated window yet.', 'meta'))
    return section
  }
  const table = el('table')
  const head = el('tr')
  for (const h of ['feature', 'kind', 'test', 'statistic', 'threshold', 'p-value', 'missing', 'severity']) head.append(el('th', h))
  table.append(head)
  for (const f of model.features) {
    const row = el('tr', undefined, 'row-' + f.severity)
    row.append(el('td', f.name), el('td', f.kind), el('td', f.test))
    row.append(el('td', fmt(f.statistic), 'num'), el('td', fmt(f.threshold), 'num'))
    row.append(el('td', fmt(f.pValue), 'num'), el('td', pct(f.missingShare), 'num'))
    const cell = el('td')
    cell.append(severityBadge(f.severity))
    row.append(cell)
    table.append(row)
  }
  section.append(table)
  return section
}
async function refresh() {
  const error = document.getElementById('error')
  try {
    const response = await fetch('api/models', { cache: 'no-store' })
    if (!response.ok) throw new Error('HTTP ' + response.status)
    const body = await response.json()
    const models = document.getElementById('models')
    models.replaceChildren(...body.models.map(modelSection))
    if (body.models.length === 0) models.append(el('p', 'No models configured.', 'meta'))
    error.textContent = ''
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString()
  } catch (e) {
    error.textContent = 'Could not load api/models: ' + (e && e.message ? e.message : e)
  }
}
refresh()
setInterval(refresh, POLL_MS)
`

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`

export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>driftwatch</title>
<style>${style}</style>
</head>
<body>
<h1>driftwatch</h1>
<div id="updated">loading\u2026</div>
<div id="error" role="alert"></div>
<main id="models"></main>
<script>${script}</script>
</body>
</html>
`

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
