// evaluateWindow with the layers after drift: every report carries data quality (with the
// window's volume), impact, conditions and a diagnosis; failed conditions and data-quality
// incidents are alerts of their own, and every alert names the window's diagnosis.

import { describe, expect, it } from 'vitest'
import { driftSectionSchema, driftSettingsOf } from '../../../../src/config/drift.js'
import { parseConditions } from '../../../../src/core/conditions.js'
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
  initialEvaluationState,
  type WindowOutcome,
} from '../../../../src/core/stream/evaluation.js'

const builder = new ReferenceBuilder([
  { name: 'x', kind: 'numerical', reason: 'test' },
  { name: 'y', kind: 'numerical', reason: 'test' },
])
for (let i = 0; i < 1000; i++) builder.add({ x: i, y: (i * 7) % 1000 })
const reference = builder.build()
const registry = createDefaultRegistry()
const settings = driftSettingsOf(
  driftSectionSchema.parse({ test: 'psi', threshold: 0.1, critical: 1 }),
)
const H = 3_600_000

/** `missing` of every 10 rows have no x; y shifted by `shift`. */
function current(
  options: { missing?: number; shift?: number; rows?: number } = {},
): DatasetProfile {
  const profile = createDatasetProfile(layoutOf(reference))
  for (let i = 0; i < (options.rows ?? 1000); i++)
    addRow(profile, {
      x: i % 10 < (options.missing ?? 0) ? null : i % 1000,
      y: ((i * 7) % 1000) + (options.shift ?? 0),
    })
  return profile
}

function sequence(windows: readonly DatasetProfile[]): WindowOutcome[] {
  let state = initialEvaluationState
  return windows.map((profile, i) => {
    const end = (i + 1) * H
    const outcome = evaluateWindow(
      {
        model: 'fraud',
        windowStart: end - H,
        windowEnd: end,
        referenceId: 'ref-1',
        reference,
        current: new Map([['v1', profile]]),
        features: ['x', 'y'],
        settings,
        registry,
        alertPolicy: { fireAfter: 1, resolveAfter: 1, cooldown: 0 },
        minCriticalFeatures: 5,
        generatedAt: new Date(end).toISOString(),
        statusUrl: '/api/models/fraud/status',
        conditions: parseConditions(['feature.x.missingShare <= 0.05', 'precision >= 0.9']),
        importance: { x: 1, y: 3 },
        referenceRate: { perHour: 1000, source: 'config' },
      },
      state,
    )
    state = outcome.state
    return outcome
  })
}

describe('layers after drift in the stream', () => {
  it('a clean window: no incident, conditions passed or unknown, diagnosis none', () => {
    const [out] = sequence([current()])
    const report = out?.reports[0]
    expect(report?.dataQuality).toMatchObject({ severity: 'ok', incident: false, missingShare: 0 })
    expect(report?.dataQuality?.volume).toMatchObject({ severity: 'ok', nEvents: 1000, ratio: 1 })
    expect(report?.conditions?.map((c) => c.passed)).toEqual([true, null])
    expect(report?.diagnosis?.kind).toBe('none')
    expect(report?.impact?.importanceSource).toBe('config')
    expect(out?.alerts).toEqual([])
  })

  it('half of x missing: a data-quality incident, a failed condition, both alerts fire and resolve', () => {
    const outs = sequence([current(), current({ missing: 5 }), current()])
    const bad = outs[1]?.reports[0]
    expect(bad?.dataQuality?.incident).toBe(true)
    expect(bad?.diagnosis).toMatchObject({ kind: 'data-quality', topCauses: ['x'] })
    expect(bad?.conditions?.[0]).toEqual({
      condition: 'feature.x.missingShare <= 0.05',
      metric: 'feature.x.missingShare',
      value: 0.5,
      passed: false,
    })
    const fired = outs[1]?.alerts.map((a) => a.alert) ?? []
    const byName = new Map(fired.map((a) => [a.labels['alertname'], a]))
    expect(byName.get('DriftwatchDataQualityIncident')).toMatchObject({
      status: 'firing',
      labels: { model: 'fraud', model_version: 'v1', severity: 'critical' },
      annotations: { diagnosis: 'data-quality' },
    })
    expect(byName.get('DriftwatchConditionFailed')).toMatchObject({
      status: 'firing',
      labels: { condition: 'feature.x.missingShare <= 0.05', severity: 'critical' },
      annotations: {
        summary: 'condition failed: feature.x.missingShare <= 0.05 (feature.x.missingShare = 0.5)',
      },
    })
    // The unknown condition never fires.
    expect(fired.filter((a) => a.labels['condition'] === 'precision >= 0.9')).toEqual([])
    const resolved = outs[2]?.alerts.map((a) => [a.alert.status, a.alert.labels['alertname']])
    expect(resolved).toEqual(
      expect.arrayContaining([
        ['resolved', 'DriftwatchDataQualityIncident'],
        ['resolved', 'DriftwatchConditionFailed'],
      ]),
    )
  })

  it('y shifted: covariate shift, its alert names the diagnosis and the action', () => {
    const [out] = sequence([current({ shift: 300 })])
    const report = out?.reports[0]
    expect(report?.diagnosis).toMatchObject({ kind: 'covariate-shift', topCauses: ['y'] })
    expect(report?.impact?.ranked[0]).toMatchObject({ feature: 'y', importance: 0.75 })
    const drift = out?.alerts.find((a) => a.alert.labels['feature'] === 'y')?.alert
    expect(drift?.annotations['diagnosis']).toBe('covariate-shift')
    expect(drift?.annotations['action']).toMatch(/^Retrain/)
  })

  it('the volume collapsing is a data-quality incident on its own', () => {
    const [out] = sequence([current({ rows: 100 })])
    expect(out?.reports[0]?.dataQuality).toMatchObject({
      severity: 'critical',
      incident: true,
      volume: { severity: 'critical', nEvents: 100, expected: 1000, ratio: 0.1 },
    })
    expect(out?.reports[0]?.diagnosis?.kind).toBe('data-quality')
  })
})
