// evaluateWindow: one report per model version, alert transitions shaped like Alertmanager's, and
// retrain requests, from one window's merged profiles and the previous evaluation state.

import { describe, expect, it } from 'vitest'
import { driftSectionSchema, driftSettingsOf } from '../../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import {
  addRow,
  createDatasetProfile,
  layoutOf,
  type DatasetProfile,
} from '../../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../../src/core/reference.js'
import {
  evaluateWindow,
  firingAlerts,
  initialEvaluationState,
  type EvaluationState,
  type WindowOutcome,
} from '../../../../src/core/stream/evaluation.js'

const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
for (let i = 0; i < 1000; i++) builder.add({ x: i })
const reference = builder.build()
const registry = createDefaultRegistry()
// PSI on the reference deciles: a shift of 100 gives ~0.76 (warning), 200 ~1.6 (critical).
const settings = driftSettingsOf(
  driftSectionSchema.parse({ test: 'psi', threshold: 0.1, critical: 1 }),
)
const H = 3_600_000

function current(shift: number, rows = 1000): DatasetProfile {
  const profile = createDatasetProfile(layoutOf(reference))
  for (let i = 0; i < rows; i++) addRow(profile, { x: (i % 1000) + shift })
  return profile
}

function evaluate(
  windowEnd: number,
  versions: Record<string, DatasetProfile>,
  previous: EvaluationState = initialEvaluationState,
): WindowOutcome {
  return evaluateWindow(
    {
      model: 'fraud',
      windowStart: windowEnd - H,
      windowEnd,
      referenceId: 'ref-1',
      reference,
      current: new Map(Object.entries(versions)),
      features: ['x'],
      settings,
      registry,
      alertPolicy: { fireAfter: 1, resolveAfter: 1, cooldown: 0 },
      minCriticalFeatures: 1,
      generatedAt: new Date(windowEnd).toISOString(),
      statusUrl: '/api/models/fraud/status',
    },
    previous,
  )
}

/** Runs windows one after the other, each hour, threading the state. */
function sequence(shifts: readonly number[]): WindowOutcome[] {
  let state = initialEvaluationState
  return shifts.map((shift, i) => {
    const outcome = evaluate((i + 1) * H, { v1: current(shift) }, state)
    state = outcome.state
    return outcome
  })
}

describe('evaluateWindow', () => {
  it('reports each model version with rows, sorted, with a reportId of model:version:windowEnd', () => {
    const out = evaluate(H, { v2: current(0), v1: current(0), v3: current(0, 0) })
    expect(out.reports.map((r) => r.reportId)).toEqual([`fraud:v1:${H}`, `fraud:v2:${H}`])
    expect(out.reports[0]?.window).toEqual({
      start: new Date(0).toISOString(),
      end: new Date(H).toISOString(),
    })
    expect(out.reports.map((r) => r.nCurrent)).toEqual([1000, 1000])
  })

  it('sends only transitions: firing once, nothing while it lasts, resolved once', () => {
    const out = sequence([0, 100, 100, 0, 0])
    const statuses = out.map((o) =>
      o.alerts.map((a) => `${a.alert.labels['alertname']}:${a.alert.status}`),
    )
    expect(statuses).toEqual([
      [],
      ['DriftwatchFeatureDrift:firing', 'DriftwatchDatasetDrift:firing'],
      [],
      ['DriftwatchFeatureDrift:resolved', 'DriftwatchDatasetDrift:resolved'],
      [],
    ])
    const fired = out[1]?.alerts[0]?.alert
    const resolved = out[3]?.alerts[0]?.alert
    expect(fired?.labels).toEqual({
      alertname: 'DriftwatchFeatureDrift',
      model: 'fraud',
      model_version: 'v1',
      feature: 'x',
      severity: 'warning',
    })
    expect(fired?.startsAt).toBe(new Date(2 * H).toISOString())
    expect(fired?.endsAt).toBe('0001-01-01T00:00:00Z')
    expect(resolved?.startsAt).toBe(fired?.startsAt)
    expect(resolved?.endsAt).toBe(new Date(4 * H).toISOString())
    expect(resolved?.fingerprint).toBe(fired?.fingerprint)
  })

  it('resolves an alert under the labels it fired with, even after its severity rose', () => {
    const out = sequence([100, 200, 0])
    const fired = out[0]?.alerts.find((a) => a.alert.labels['feature'] === 'x')?.alert
    const resolved = out[2]?.alerts.find((a) => a.alert.labels['feature'] === 'x')?.alert
    expect(fired?.labels['severity']).toBe('warning')
    expect(out[1]?.reports[0]?.features[0]?.severity).toBe('critical')
    expect(resolved?.status).toBe('resolved')
    expect(resolved?.labels).toEqual(fired?.labels)
  })

  it('asks for a retrain once per stretch of critical windows, again after it clears', () => {
    const out = sequence([200, 200, 0, 200])
    expect(out.map((o) => o.retrain.map((r) => r.reportId))).toEqual([
      [`fraud:v1:${H}`],
      [],
      [],
      [`fraud:v1:${4 * H}`],
    ])
    expect(out[0]?.retrain[0]?.criticalFeatures).toEqual(['x'])
  })

  it('lists the alerts firing in a state as the firing transition announced them', () => {
    const out = sequence([100, 200, 200, 0, 0])
    const fired = out[0]?.alerts.map((a) => a.alert) ?? []
    expect(fired.map((a) => a.status)).toEqual(['firing', 'firing'])
    // While it fires (severity rose to critical meanwhile): the same labels, start and identity.
    for (const step of [0, 1, 2]) {
      const state = out[step]?.state ?? initialEvaluationState
      const listed = firingAlerts('fraud', state, '/api/models/fraud/status').map((a) => a.alert)
      expect(
        listed.map((a) => a.labels),
        `window ${step + 1}`,
      ).toEqual(fired.map((a) => a.labels))
      expect(listed.map((a) => a.startsAt)).toEqual(fired.map((a) => a.startsAt))
      expect(listed.map((a) => a.fingerprint)).toEqual(fired.map((a) => a.fingerprint))
      expect(listed.every((a) => a.status === 'firing' && a.endsAt === fired[0]?.endsAt)).toBe(true)
      expect(listed[0]?.annotations['report_id']).toBe(`fraud:v1:${(step + 1) * H}`)
    }
    // resolveAfter 1: the clean window 4 resolves both
    expect(out[3]?.alerts.map((a) => a.alert.status)).toEqual(['resolved', 'resolved'])
    expect(firingAlerts('fraud', out[4]?.state ?? initialEvaluationState, '')).toEqual([])
  })

  it('lists nothing for a state without reports or without firing alerts', () => {
    expect(firingAlerts('fraud', initialEvaluationState, '')).toEqual([])
    expect(firingAlerts('fraud', sequence([0, 0])[1]?.state ?? initialEvaluationState, '')).toEqual(
      [],
    )
  })
})
