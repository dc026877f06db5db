// The terminal form of a drift report: verdict first, then data-quality findings (they come before
// drift: a drift statistic on an emptied or retyped column means nothing), the diagnosis with its
// impact ranking, the test-suite conditions, then one line per feature, drifted first.

import { performanceMetricNames } from '../core/performance/metrics.js'
import type { DriftReport, FeatureResult } from '../core/report.js'

export function renderTextReport(report: DriftReport): string {
  const lines: string[] = []
  const verdict = report.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'
  lines.push(
    `${verdict}: ${report.nDrifted} of ${report.nFeatures} features drifted ` +
      `(share ${formatNumber(report.driftShare)}, threshold ${formatNumber(report.driftShareThreshold)}); ` +
      `reference ${report.nReference} rows, current ${report.nCurrent} rows`,
  )
  lines.push(...dataQualityLines(report))
  lines.push(...diagnosisLines(report))
  lines.push(...conditionLines(report))
  lines.push(...modelLayerLines(report))
  if (report.mode !== undefined) {
    lines.push(
      report.mode === 'calibrated'
        ? `calibrated verdicts: threshold and noise floor, false-alarm rate ${formatNumber(report.falseAlarmRate)} per window; minCount ${report.minCount ?? 0}`
        : `evidently-compatible verdicts: fixed thresholds; minCount ${report.minCount ?? 0}`,
    )
  }
  lines.push('')
  const header = [
    'feature',
    'kind',
    'test',
    'statistic',
    'p-value',
    'threshold',
    'floor',
    'drift',
    'severity',
    'quality',
    'missing',
  ]
  const rows = sortForDisplay(report.features).map((f) => [
    f.name,
    f.kind,
    f.test,
    formatNumber(f.statistic),
    formatNumber(f.pValue),
    formatNumber(f.threshold),
    formatNumber(f.noiseFloor),
    f.insufficientData === undefined
      ? f.drifted
        ? 'DRIFT'
        : '-'
      : `n/a (${f.insufficientData.reason})`,
    f.severity,
    f.dataQuality?.severity ?? '-',
    formatNumber(f.metrics.missingShare),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const format = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  lines.push(format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format))
  for (const f of report.features) {
    const cap = f.categoryCap
    if (cap === undefined) continue
    lines.push(
      `note: ${f.name}: category cap reached (reference keeps ${cap.referenceCategories} categories; ` +
        `${formatNumber(cap.referenceFoldedShare)} of reference, ${formatNumber(cap.currentFoldedShare)} of current values folded into __other__` +
        `${cap.unseenCapReached ? '; more new categories than kept by name' : ''}): distances and new-category share are approximate`,
    )
  }
  return lines.join('\n') + '\n'
}

const severityRank = { critical: 0, warning: 1, ok: 2 } as const

/**
 * Prediction drift, performance with label drift, and latency (core/prediction-drift.ts,
 * core/performance/degradation.ts, core/latency.ts), when reported.
 */
function modelLayerLines(report: DriftReport): string[] {
  const lines: string[] = []
  const p = report.predictionDrift
  if (p !== undefined) {
    const verdict =
      p.insufficientData !== undefined
        ? `n/a (${p.insufficientData.reason})`
        : `${p.drifted ? 'DRIFT' : 'no drift'}, ${p.severity}`
    lines.push(
      `prediction (${p.kind}): ${verdict}; ${p.test} ${formatNumber(p.statistic)} (threshold ${formatNumber(p.threshold)})`,
    )
  }
  lines.push(...performanceLines(report))
  const l = report.latency
  if (l !== undefined) {
    const against = [
      ...(l.reference === null ? [] : [`×${formatNumber(l.reference.p99Ratio)} the reference's`]),
      ...(l.previous === null
        ? []
        : [`×${formatNumber(l.previous.p99Ratio)} ${l.previousVersion ?? ''}'s`]),
    ]
    lines.push(
      `latency ms: p50 ${formatNumber(l.p50)}, p95 ${formatNumber(l.p95)}, p99 ${formatNumber(l.p99)}` +
        (l.insufficientData !== undefined
          ? `; not judged (${l.insufficientData.reason})`
          : `; ${l.severity}${against.length === 0 ? '' : ` (p99 ${against.join(', ')})`}`),
    )
  }
  return lines
}

/** The performance section: the judged metric against the baseline, then every metric measured. */
function performanceLines(report: DriftReport): string[] {
  const p = report.performance
  if (p === undefined) return []
  const drop =
    p.drop === null
      ? ''
      : `, drop ${p.dropIs === 'absolute' ? `${formatNumber(p.drop * 100)} points` : `${formatNumber(p.drop * 100)} %`}`
  const verdict =
    p.insufficientData !== undefined
      ? `not judged (${p.insufficientData.reason})`
      : p.severity === 'ok'
        ? 'ok'
        : `DEGRADED, ${p.severity}`
  const lines = [
    `performance (${p.metric}): ${formatNumber(p.value)} vs baseline ${formatNumber(p.baseline)}${drop}; ${verdict}; ${p.nLabels} labels`,
  ]
  const measured = (m: typeof p.current): string =>
    performanceMetricNames
      .filter((name) => m[name] !== undefined)
      .map((name) => `${name} ${formatNumber(m[name])}`)
      .join(', ')
  if (measured(p.current) !== '') lines.push(`  current:   ${measured(p.current)}`)
  if (p.reference !== null && measured(p.reference) !== '')
    lines.push(`  reference: ${measured(p.reference)}`)
  const d = report.labelDrift
  if (d !== undefined) {
    const labelVerdict =
      d.insufficientData !== undefined
        ? `n/a (${d.insufficientData.reason})`
        : `${d.drifted ? 'DRIFT' : 'no drift'}, ${d.severity}`
    lines.push(
      `label drift (prior shift): ${labelVerdict}; ${d.test} ${formatNumber(d.statistic)} (threshold ${formatNumber(d.threshold)})`,
    )
  }
  return lines
}

function dataQualityLines(report: DriftReport): string[] {
  const summary = report.dataQuality
  if (summary === undefined) return []
  if (summary.severity === 'ok') return ['data quality: ok']
  const lines = [
    `DATA QUALITY ${summary.severity.toUpperCase()}: ${summary.nCritical} critical, ${summary.nWarning} warning`,
  ]
  const flagged = report.features.filter(
    (f) => f.dataQuality !== undefined && f.dataQuality.severity !== 'ok',
  )
  flagged.sort(
    (a, b) =>
      severityRank[a.dataQuality?.severity ?? 'ok'] -
        severityRank[b.dataQuality?.severity ?? 'ok'] || a.name.localeCompare(b.name),
  )
  for (const feature of flagged) {
    for (const finding of feature.dataQuality?.findings ?? []) {
      lines.push(`  ${finding.severity.padEnd(8)}  ${feature.name}: ${finding.reason}`)
    }
  }
  return lines
}

function diagnosisLines(report: DriftReport): string[] {
  const d = report.diagnosis
  if (d === undefined) return []
  const lines = [`diagnosis: ${d.kind}: ${d.summary}`, `  action: ${d.action}`]
  if (d.alsoSeen.length > 0) lines.push(`  also seen: ${d.alsoSeen.join(', ')}`)
  const impact = report.impact
  const ranked = (impact?.ranked ?? []).filter((e) => e.drifted).slice(0, 5)
  if (impact !== undefined && ranked.length > 0) {
    lines.push(
      `  impact (${impact.importanceSource === 'config' ? 'configured importance' : 'equal weights'} × drift score): ` +
        ranked
          .map(
            (e) =>
              `${e.feature} ${formatNumber(e.impact)} (${formatNumber(e.importance)} × ${formatNumber(e.driftScore)})`,
          )
          .join(', '),
    )
  }
  return lines
}

function conditionLines(report: DriftReport): string[] {
  const conditions = report.conditions ?? []
  if (conditions.length === 0) return []
  const failed = conditions.filter((c) => c.passed === false).length
  const unknown = conditions.filter((c) => c.passed === null).length
  const lines = [
    `conditions: ${conditions.length - failed - unknown} passed, ${failed} failed, ${unknown} unknown`,
  ]
  for (const c of conditions) {
    const status = c.passed === null ? 'unknown' : c.passed ? 'passed' : 'FAILED'
    const value = c.value === null ? 'not measured' : `${c.metric} = ${formatNumber(c.value)}`
    lines.push(`  ${status.padEnd(8)}  ${c.condition} (${value})`)
  }
  return lines
}

export function sortForDisplay(features: readonly FeatureResult[]): FeatureResult[] {
  // The worse of drift and data quality: an emptied column sorts with the drifted ones.
  const rank = (f: FeatureResult): number =>
    Math.min(severityRank[f.severity], severityRank[f.dataQuality?.severity ?? 'ok'])
  return [...features].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
}

export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—'
  if (x === 0) return '0'
  const abs = Math.abs(x)
  if (abs >= 1e6 || abs < 1e-4) return x.toExponential(2)
  return Number(x.toPrecision(4)).toString()
}
