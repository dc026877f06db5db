// The model layers beside the features: the prediction profile (references, buckets, drift) and
// latency quantiles and their severities (core/model-outputs.ts, core/prediction-drift.ts,
// core/latency.ts). Latency quantiles are checked against numpy on the committed fixture
// test/fixtures/latency/quantiles.json (its generator is next to it).

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseReferenceJSON, snapshotToJSON } from '../../../src/adapters/files/reference-file.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { evaluateDrift, evaluateFeature } from '../../../src/core/evaluate.js'
import {
  assessLatency,
  latencySeverity,
  latencySummary,
  type LatencySummary,
} from '../../../src/core/latency.js'
import {
  addOutputs,
  createLatencyProfile,
  separateOutputs,
} from '../../../src/core/model-outputs.js'
import { evaluatePredictionDrift } from '../../../src/core/prediction-drift.js'
import {
  addRow,
  createDatasetProfile,
  layoutOf,
  type CellValue,
  type DatasetProfile,
} from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder, type ColumnKind } from '../../../src/core/reference.js'
import {
  decodeBucket,
  encodeBucket,
  mergeBuckets,
  windowExactLimit,
} from '../../../src/core/stream/bucket-codec.js'
import {
  evaluateWindow,
  firingAlerts,
  initialEvaluationState,
  type EvaluationState,
  type WindowOutcome,
} from '../../../src/core/stream/evaluation.js'
import { mulberry32, normal } from '../../helpers/random.js'

interface QuantileCase {
  readonly name: string
  readonly values: readonly number[]
  readonly p50: number
  readonly p95: number
  readonly p99: number
}
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/latency/quantiles.json'), 'utf8'),
) as { cases: QuantileCase[] }

const registry = createDefaultRegistry()
const calibrated = driftSettingsOf(driftSectionSchema.parse({}))
const evidently = driftSettingsOf(driftSectionSchema.parse({ mode: 'evidently' }))

/** A reference whose `prediction` column becomes its prediction profile, as files do. */
function referenceWith(
  kind: ColumnKind['kind'],
  rows: ReadonlyArray<Record<string, CellValue>>,
): DatasetProfile {
  const builder = new ReferenceBuilder([
    { name: 'x', kind: 'numerical', reason: 'test' },
    { name: 'prediction', kind, reason: 'test' },
    { name: 'latencyMs', kind: 'numerical', reason: 'test' },
  ])
  for (const row of rows) builder.add(row)
  return separateOutputs(builder.build(), { prediction: 'prediction', latency: 'latencyMs' })
}

function currentOf(
  reference: DatasetProfile,
  rows: ReadonlyArray<Record<string, CellValue>>,
): DatasetProfile {
  const profile = createDatasetProfile(layoutOf(reference))
  for (const row of rows) {
    addRow(profile, row)
    const latency = row['latencyMs']
    addOutputs(profile, row['prediction'], typeof latency === 'number' ? latency : undefined)
  }
  return profile
}

function scores(n: number, seed: number, shift = 0): Array<Record<string, CellValue>> {
  const rng = mulberry32(seed)
  return Array.from({ length: n }, () => {
    const logit = normal(rng, -1 + shift, 1)
    return { x: normal(rng, 0, 1), prediction: 1 / (1 + Math.exp(-logit)), latencyMs: 10 }
  })
}

function classes(n: number, seed: number, positive: number): Array<Record<string, CellValue>> {
  const rng = mulberry32(seed)
  return Array.from({ length: n }, () => ({
    x: normal(rng, 0, 1),
    prediction: rng() < positive,
    latencyMs: 10,
  }))
}

describe('the prediction profile', () => {
  it('leaves the features: a reference built with a prediction column has it apart', () => {
    const reference = referenceWith('numerical', scores(2000, 1))
    expect([...reference.features.keys()]).toEqual(['x'])
    expect(reference.prediction?.kind).toBe('numerical')
    expect(reference.latency?.count).toBe(2000)
  })

  it('round-trips through a reference snapshot and a stream bucket', () => {
    const reference = referenceWith('categorical', classes(2000, 2, 0.2))
    const json = snapshotToJSON({
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { kind: 'test' },
      exactBreakpoints: true,
      kindReasons: new Map([['prediction', 'test']]),
      profile: reference,
      predictionColumn: 'prediction',
    })
    expect(json.prediction?.name).toBe('prediction')
    const decoded = parseReferenceJSON(JSON.parse(JSON.stringify(json)), 'test').profile
    expect(decoded.prediction).toEqual(reference.prediction)
    expect(decoded.latency?.count).toBe(2000)

    const current = currentOf(decoded, classes(500, 3, 0.2))
    const bucket = decodeBucket(encodeBucket(new Map([['ref|v1', current]])))
    const back = bucket.get('ref|v1') as DatasetProfile
    expect(back.prediction).toEqual(current.prediction)
    expect(back.latency?.count).toBe(500)
  })

  it('keeps the ids of snapshots without outputs', () => {
    const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
    for (let i = 0; i < 100; i++) builder.add({ x: i })
    const snapshot = {
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { kind: 'test' },
      exactBreakpoints: true,
      kindReasons: new Map(),
    }
    const plain = snapshotToJSON({ ...snapshot, profile: builder.build() })
    expect(plain.prediction).toBeUndefined()
    expect(plain).not.toHaveProperty('latency')
    const withPrediction = builder.build()
    withPrediction.prediction = builder.build().features.get('x') as DatasetProfile['prediction'] &
      object
    expect(snapshotToJSON({ ...snapshot, profile: withPrediction }).id).not.toBe(plain.id)
  })

  for (const [label, settings] of [
    ['calibrated', calibrated],
    ['evidently', evidently],
  ] as const) {
    it(`gives a score the verdict its values would get as a feature (${label})`, () => {
      const reference = referenceWith('numerical', scores(3000, 4))
      for (const shift of [0, 0.6]) {
        const current = currentOf(reference, scores(2000, 5, shift))
        const options = { settings, registry }
        const result = evaluatePredictionDrift(reference, current, options)
        const asFeature = evaluateFeature(
          'prediction',
          reference.prediction as never,
          current.prediction as never,
          options,
          1,
        )
        expect(result).toEqual(asFeature)
        expect(result?.kind).toBe('numerical')
        expect(result?.drifted).toBe(shift > 0)
      }
    })
  }

  it('treats booleans as classes and flags a shift of the positive share', () => {
    const reference = referenceWith('categorical', classes(3000, 6, 0.1))
    const same = evaluatePredictionDrift(reference, currentOf(reference, classes(2000, 7, 0.1)), {
      settings: calibrated,
      registry,
    })
    const shifted = evaluatePredictionDrift(
      reference,
      currentOf(reference, classes(2000, 8, 0.3)),
      { settings: calibrated, registry },
    )
    expect(same?.kind).toBe('categorical')
    expect(same?.distribution.map((b) => b.label).sort()).toEqual(['false', 'true'])
    expect(same?.drifted).toBe(false)
    expect(shifted?.drifted).toBe(true)
    expect(shifted?.severity).not.toBe('ok')
  })

  it('is not an input feature: the dataset drift share ignores it', () => {
    const reference = referenceWith('numerical', scores(3000, 9))
    const current = currentOf(reference, scores(2000, 10, 1))
    const drift = evaluateDrift(reference, current, { settings: calibrated, registry })
    expect(drift.nFeatures).toBe(1)
    expect(drift.nDrifted).toBe(0)
    expect(
      evaluatePredictionDrift(reference, current, { settings: calibrated, registry })?.drifted,
    ).toBe(true)
  })

  it('is absent when the reference has no prediction', () => {
    const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
    for (let i = 0; i < 100; i++) builder.add({ x: i })
    const reference = builder.build()
    const current = currentOf(reference, scores(100, 11))
    expect(current.prediction).toBeUndefined()
    expect(evaluatePredictionDrift(reference, current, { settings: calibrated, registry })).toBe(
      undefined,
    )
  })
})

describe('latency quantiles against numpy (test/fixtures/latency)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: exact from a window's kept values`, () => {
      // As the stream holds them: buckets of at most 1000 values, encoded, decoded and merged.
      const window = new Map<string, DatasetProfile>()
      for (let i = 0; i < c.values.length; i += 1000) {
        const bucket: DatasetProfile = { rows: 0, features: new Map() }
        for (const v of c.values.slice(i, i + 1000)) addOutputs(bucket, undefined, v)
        mergeBuckets(
          window,
          decodeBucket(encodeBucket(new Map([['s', bucket]])), { exactLimit: windowExactLimit }),
        )
      }
      const summary = latencySummary(window.get('s')?.latency) as LatencySummary
      expect(summary.exact).toBe(true)
      expect(summary.n).toBe(c.values.length)
      expect(summary.p50).toBe(c.p50)
      expect(summary.p95).toBe(c.p95)
      expect(summary.p99).toBe(c.p99)
    })
  }

  it('from the t-digest past the exact limit: within 0.2 % in rank', () => {
    const c = fixture.cases.find((x) => x.name === 'lognormal-20000') as QuantileCase
    const profile = createLatencyProfile(1000)
    for (const v of c.values)
      addOutputs({ rows: 0, features: new Map(), latency: profile }, undefined, v)
    const summary = latencySummary(profile) as LatencySummary
    expect(summary.exact).toBe(false)
    const sorted = [...c.values].sort((a, b) => a - b)
    const rankOf = (x: number): number => sorted.filter((v) => v <= x).length / sorted.length
    for (const [q, value] of [
      [0.5, summary.p50],
      [0.95, summary.p95],
      [0.99, summary.p99],
    ] as const)
      expect(Math.abs(rankOf(value) - q), `q ${q}`).toBeLessThan(0.002)
  })

  it('is null without latencies', () => {
    expect(latencySummary(undefined)).toBeNull()
    expect(latencySummary(createLatencyProfile())).toBeNull()
  })
})

describe('latency severity', () => {
  it('is on the P99 ratio: +50 % warning, +100 % critical', () => {
    expect(latencySeverity(null)).toBe('ok')
    expect(latencySeverity(1)).toBe('ok')
    expect(latencySeverity(1.4999)).toBe('ok')
    expect(latencySeverity(1.5)).toBe('warning')
    expect(latencySeverity(1.9999)).toBe('warning')
    expect(latencySeverity(2)).toBe('critical')
    expect(latencySeverity(3)).toBe('critical')
  })

  const summary = (p99: number, n = 1000): LatencySummary => ({
    n,
    exact: true,
    p50: p99 / 4,
    p95: p99 / 2,
    p99,
  })

  it('takes the worse of the reference and the previous version', () => {
    const report = assessLatency({
      version: 'v2',
      current: summary(300),
      reference: summary(180),
      previous: { version: 'v1', summary: summary(100), windowEnd: '2026-01-01T00:00:00.000Z' },
    })
    expect(report?.reference).toMatchObject({ p99: 180, severity: 'warning' })
    expect(report?.reference?.p99Ratio).toBeCloseTo(300 / 180, 12)
    expect(report?.previous).toMatchObject({ p99: 100, p99Ratio: 3, severity: 'critical' })
    expect(report).toMatchObject({ version: 'v2', previousVersion: 'v1', severity: 'critical' })
  })

  it('judges nothing on fewer than 100 latencies, and compares with no baseline that small', () => {
    const few = assessLatency({
      version: 'v2',
      current: summary(300, 99),
      reference: summary(100),
      previous: null,
    })
    expect(few?.severity).toBe('ok')
    expect(few?.insufficientData?.reason).toContain('99 latencies')
    const smallBaseline = assessLatency({
      version: 'v2',
      current: summary(300),
      reference: summary(100, 50),
      previous: null,
    })
    expect(smallBaseline).toMatchObject({ reference: null, severity: 'ok' })
    expect(assessLatency({ version: null, current: null, reference: null, previous: null })).toBe(
      null,
    )
  })
})

describe('evaluateWindow with prediction and latency', () => {
  const H = 3_600_000
  const reference = referenceWith(
    'categorical',
    classes(3000, 20, 0.1).map((r, i) => ({ ...r, latencyMs: 10 + (i % 10) })),
  )
  const window = (positive: number, latencyFactor: number, seed: number): DatasetProfile =>
    currentOf(
      reference,
      classes(2000, seed, positive).map((r, i) => ({
        ...r,
        latencyMs: (10 + (i % 10)) * latencyFactor,
      })),
    )
  function evaluate(
    end: number,
    versions: Record<string, DatasetProfile>,
    state: EvaluationState,
  ): WindowOutcome {
    return evaluateWindow(
      {
        model: 'fraud',
        windowStart: end - H,
        windowEnd: end,
        referenceId: 'ref-1',
        reference,
        current: new Map(Object.entries(versions)),
        features: ['x'],
        settings: calibrated,
        registry,
        alertPolicy: { fireAfter: 2, resolveAfter: 1, cooldown: 0 },
        minCriticalFeatures: 5,
        generatedAt: new Date(end).toISOString(),
        statusUrl: '/api/models/fraud/status',
      },
      state,
    )
  }

  it('compares a new version with the previous one, and advises the rollback after the alert policy', () => {
    let state = initialEvaluationState
    const outcomes: WindowOutcome[] = []
    // v1 alone, then v2 alone with every latency ×3, two windows (fireAfter 2).
    for (const [i, versions] of [
      { v1: window(0.1, 1, 30) },
      { v2: window(0.1, 3, 31) },
      { v2: window(0.1, 3, 32) },
    ].entries()) {
      const outcome = evaluate((i + 1) * H, versions, state)
      outcomes.push(outcome)
      state = outcome.state
    }
    expect(state.versions).toEqual(['v1', 'v2'])
    const first = outcomes[0]?.reports[0]
    expect(first?.latency).toMatchObject({ version: 'v1', previousVersion: null, severity: 'ok' })
    expect(first?.latency?.reference?.p99Ratio).toBe(1)
    const second = outcomes[1]?.reports[0]
    expect(second?.latency).toMatchObject({
      version: 'v2',
      previousVersion: 'v1',
      severity: 'critical',
      previous: { p99Ratio: 3, severity: 'critical', windowEnd: new Date(H).toISOString() },
    })
    // Predictions did not move: no prediction drift, no feature drift.
    expect(second?.predictionDrift?.drifted).toBe(false)
    expect(second?.nDrifted).toBe(0)
    expect(outcomes[1]?.alerts).toEqual([])
    const fired = outcomes[2]?.alerts.map((a) => a.alert) ?? []
    expect(fired.map((a) => a.labels['alertname']).sort()).toEqual([
      'DriftwatchLatencyRegression',
      'DriftwatchRollbackAdvice',
    ])
    const advice = fired.find((a) => a.labels['alertname'] === 'DriftwatchRollbackAdvice')
    expect(advice?.labels).toMatchObject({
      model: 'fraud',
      model_version: 'v2',
      rollback_to: 'v1',
      severity: 'critical',
    })
    expect(advice?.annotations).toMatchObject({ from_version: 'v2', to_version: 'v1' })
    expect(advice?.annotations['summary']).toContain('from v2 to v1')
    // Re-sent to Alertmanager while it fires (alerts.alertmanager), with the same identity.
    const resent = firingAlerts('fraud', state, '/api/models/fraud/status').map((a) => a.alert)
    expect(resent.map((a) => a.labels['alertname']).sort()).toEqual([
      'DriftwatchLatencyRegression',
      'DriftwatchRollbackAdvice',
    ])
    expect(
      resent.find((a) => a.labels['alertname'] === 'DriftwatchRollbackAdvice')?.fingerprint,
    ).toBe(advice?.fingerprint)
  })

  it('compares versions serving the same window with each other', () => {
    const outcome = evaluate(
      H,
      { v1: window(0.1, 1, 40), v2: window(0.1, 2.5, 41) },
      initialEvaluationState,
    )
    const v2 = outcome.reports.find((r) => r.modelVersion === 'v2')
    expect(v2?.latency?.previous).toMatchObject({
      p99Ratio: 2.5,
      windowEnd: new Date(H).toISOString(),
    })
  })

  it('fires prediction drift when the predicted classes shift, not when they do not', () => {
    let state = initialEvaluationState
    const alerts: string[] = []
    for (const [i, positive] of [0.1, 0.3, 0.3].entries()) {
      const outcome = evaluate((i + 1) * H, { v1: window(positive, 1, 50 + i) }, state)
      state = outcome.state
      alerts.push(...outcome.alerts.map((a) => `${a.alert.status} ${a.alert.labels['alertname']}`))
      expect(outcome.reports[0]?.predictionDrift?.drifted).toBe(positive > 0.1)
      expect(outcome.reports[0]?.nDrifted).toBe(0)
    }
    expect(alerts).toEqual(['firing DriftwatchPredictionDrift'])
  })
})
