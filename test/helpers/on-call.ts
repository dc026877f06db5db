// An evaluation state with a history, for the on-call page's tests without Kafka: 30 windows of
// 10 minutes of model 'fraud' v3, put together with the core's own pieces (recordWindow for the
// history, stepAlert for the alert states, as core/stream/evaluation.ts does per window).
//   - amount (PSI, threshold 0.1): clean, then drifted (critical) from window 20 on;
//   - a feature named like a script tag: drifted (warning) in the last 3 windows only;
//   - country (chi-square p-value): drifted in windows 10–13, so its alert fired and resolved;
//   - tenure: never drifted.

import { stepAlert, initialAlertState, type AlertState } from '../../src/core/stream/alerts.js'
import type { EvaluationState, WindowReport } from '../../src/core/stream/evaluation.js'
import { recordWindow, type VerdictHistory } from '../../src/core/stream/history.js'
import type { FeatureResult, Severity } from '../../src/core/report.js'
import { amountFeature, countryFeature, sampleReport } from './reports.js'

export const HOSTILE_FEATURE = '<script>window.__pwned=1</script>'
export const T0 = Date.UTC(2025, 0, 1, 6)
export const WINDOW_MS = 600_000
export const WINDOWS = 30
export const alertPolicy = { fireAfter: 2, resolveAfter: 2, cooldown: 0 }

const windowStart = (i: number): number => T0 + i * WINDOW_MS

function feature(
  base: FeatureResult,
  name: string,
  statistic: number,
  pValue: number | null,
  drifted: boolean,
  severity: Severity,
): FeatureResult {
  return { ...base, name, statistic, pValue, drifted, severity }
}

export function windowReport(model: string, i: number): WindowReport {
  const amountDrifted = i >= 20
  const hostileDrifted = i >= WINDOWS - 3
  const countryDrifted = i >= 10 && i <= 13
  const features = [
    feature(
      amountFeature,
      'amount',
      amountDrifted ? 0.3 + 0.01 * (i - 20) : 0.02 + 0.001 * i,
      null,
      amountDrifted,
      amountDrifted ? 'critical' : 'ok',
    ),
    feature(
      amountFeature,
      HOSTILE_FEATURE,
      hostileDrifted ? 0.12 : 0.03,
      null,
      hostileDrifted,
      hostileDrifted ? 'warning' : 'ok',
    ),
    feature(
      countryFeature,
      'country',
      countryDrifted ? 40 : 3,
      countryDrifted ? 1e-6 : 0.5,
      countryDrifted,
      countryDrifted ? 'critical' : 'ok',
    ),
    feature(countryFeature, 'tenure', 2, 0.7, false, 'ok'),
  ]
  const end = windowStart(i) + WINDOW_MS
  const id = `${model}:v3:${end}`
  const drift = sampleReport(features)
  return {
    ...drift,
    reportId: id,
    windowId: id,
    revision: 0,
    lateness: { nLate: 0, nAtEvaluation: drift.nCurrent },
    model,
    modelVersion: 'v3',
    window: { start: new Date(windowStart(i)).toISOString(), end: new Date(end).toISOString() },
    referenceId: 'ref-1',
    generatedAt: new Date(end + 5000).toISOString(),
    criticalFeatures: features.filter((f) => f.severity === 'critical').map((f) => f.name),
  }
}

/** The state after `windows` windows (all 30 by default). */
export function onCallState(model: string, windows = WINDOWS): EvaluationState {
  let history: VerdictHistory | undefined
  const alerts: Record<string, AlertState> = {}
  let last: WindowReport | undefined
  for (let i = 0; i < windows; i++) {
    const report = windowReport(model, i)
    history = recordWindow(history, report)
    const at = Date.parse(report.window.end)
    for (const f of report.features) {
      const key = [model, 'v3', 'feature_drift', f.name].join('|')
      alerts[key] = stepAlert(
        alerts[key] ?? initialAlertState,
        { drifted: f.drifted, severity: f.severity, at },
        alertPolicy,
      ).state
    }
    const key = [model, 'v3', 'dataset_drift', ''].join('|')
    alerts[key] = stepAlert(
      alerts[key] ?? initialAlertState,
      { drifted: report.datasetDrift, severity: report.datasetDrift ? 'critical' : 'ok', at },
      alertPolicy,
    ).state
    last = report
  }
  return {
    alerts,
    retrainRequested: [],
    lastReports: last === undefined ? {} : { v3: last },
    ...(history === undefined ? {} : { history }),
  }
}
