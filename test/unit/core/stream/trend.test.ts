// The gradual-drift trend (src/core/stream/trend.ts): slopes checked against values computed by
// hand, the bins' bound, and the criterion of the Prometheus rule DriftwatchFeatureDriftGradual.

import { describe, expect, it } from 'vitest'
import { driftSectionSchema, driftSettingsOf } from '../../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import { addRow, createDatasetProfile, layoutOf } from '../../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../../src/core/reference.js'
import type { AlertEvent } from '../../../../src/core/stream/alerts.js'
import {
  evaluateWindow,
  initialEvaluationState,
  type EvaluationState,
  type WindowOutcome,
  type WindowReport,
} from '../../../../src/core/stream/evaluation.js'
import {
  addScore,
  assessTrend,
  binLengthMs,
  defaultGradualDriftPolicy,
  leastSquaresSlope,
  recordTrend,
  type GradualDriftPolicy,
  type TrendBin,
} from '../../../../src/core/stream/trend.js'

const hour = 3_600_000
const day = 24 * hour
const policy = defaultGradualDriftPolicy
/** An hour boundary, far from 0 (as real window ends are). */
const t0 = 480_000 * hour

function binsOf(points: ReadonlyArray<readonly [number, number]>, p = policy): TrendBin[] {
  let bins: TrendBin[] = []
  for (const [at, score] of points) bins = addScore(bins, at, score, p)
  return bins
}

describe('leastSquaresSlope', () => {
  it('is exact on a line: 0.1 a day', () => {
    // y = 0.2 + 0.1 × days, one window every 6 hours over 3 days.
    const points = Array.from(
      { length: 13 },
      (_, i) => [t0 + i * 6 * hour, 0.2 + 0.025 * i] as const,
    )
    const slope = leastSquaresSlope(binsOf(points), binLengthMs(policy))
    expect((slope as number) * day).toBeCloseTo(0.1, 6)
  })

  it('matches a slope computed by hand on noisy points', () => {
    // t in days: 0, 1, 2, 3; y: 1, 3, 2, 5. t̄ = 1.5, ȳ = 2.75;
    // Σ(t-t̄)(y-ȳ) = (-1.5)(-1.75) + (-0.5)(0.25) + (0.5)(-0.75) + (1.5)(2.25) = 2.625 - 0.125
    // - 0.375 + 3.375 = 5.5; Σ(t-t̄)² = 2.25 + 0.25 + 0.25 + 2.25 = 5; slope = 1.1 a day.
    const points = [
      [t0, 1],
      [t0 + day, 3],
      [t0 + 2 * day, 2],
      [t0 + 3 * day, 5],
    ] as const
    const slope = leastSquaresSlope(binsOf(points), binLengthMs(policy))
    expect((slope as number) * day).toBeCloseTo(1.1, 6)
  })

  it('sums windows that share a bin exactly (not their mean at the bin centre)', () => {
    // Two windows in one hour (minute 10 and 50) and one an hour later at minute 30. In hours:
    // t = 1/6, 5/6, 1.5; y = 0, 1, 1. t̄ = 2.5/3 = 0.8333, ȳ = 2/3.
    // Σ(t-t̄)(y-ȳ) = (-2/3)(-2/3) + 0·(1/3) + (2/3)(1/3) = 4/9 + 2/9 = 2/3;
    // Σ(t-t̄)² = 4/9 + 0 + 4/9 = 8/9; slope = 0.75 an hour.
    const points = [
      [t0 + 10 * 60_000, 0],
      [t0 + 50 * 60_000, 1],
      [t0 + 90 * 60_000, 1],
    ] as const
    const bins = binsOf(points)
    expect(bins).toHaveLength(2)
    expect((leastSquaresSlope(bins, binLengthMs(policy)) as number) * hour).toBeCloseTo(0.75, 6)
  })

  it('has no slope from one window, or from windows all at one time', () => {
    expect(leastSquaresSlope(binsOf([[t0, 0.5]]), hour)).toBeNull()
    expect(
      leastSquaresSlope(
        binsOf([
          [t0, 0.5],
          [t0, 0.9],
        ]),
        hour,
      ),
    ).toBeNull()
    expect(leastSquaresSlope([], hour)).toBeNull()
  })
})

describe('addScore', () => {
  it('keeps one bin an hour and drops the bins wholly older than 7 days', () => {
    let bins: TrendBin[] = []
    // A window every 5 minutes for 9 days.
    for (let at = t0; at <= t0 + 9 * day; at += 5 * 60_000) bins = addScore(bins, at, 0.5, policy)
    expect(bins.length).toBeLessThanOrEqual(169)
    const oldest = bins[0] as TrendBin
    expect((oldest[0] + 1) * hour).toBeGreaterThan(t0 + 2 * day)
    expect(Math.max(...bins.map((b) => b[1]))).toBe(12)
  })

  it('adds nothing for a window without a score', () => {
    expect(addScore([], t0, null, policy)).toEqual([])
  })
})

describe('assessTrend: the rule DriftwatchFeatureDriftGradual', () => {
  /** A score every hour from `from` to `to` (days after t0), rising `perWeek`. */
  const climb = (perWeek: number, from = 0, to = 7, start = 0.2): Array<[number, number]> => {
    const out: Array<[number, number]> = []
    for (let h = from * 24; h <= to * 24; h++)
      out.push([t0 + h * hour, start + (perWeek * h) / (7 * 24)])
    return out
  }

  it('fires on a rise of 0.4 a week that stays below 1', () => {
    const trend = assessTrend('f', binsOf(climb(0.4)), t0 + 7 * day, policy)
    expect(trend.slope).toBeCloseTo(0.4, 6)
    expect(trend.recentMax).toBeCloseTo(0.6, 6)
    expect(trend.coveredMs).toBe(7 * day)
    // 169 hourly windows: the one exactly 7 days old is in a bin that is not wholly older.
    expect(trend.windows).toBe(169)
    expect(trend.gradual).toBe(true)
  })

  it('does not fire on a rise of 0.2 a week (threshold 0.3)', () => {
    expect(assessTrend('f', binsOf(climb(0.2)), t0 + 7 * day, policy).gradual).toBe(false)
  })

  it('does not fire once a window of the last day reached the boundary 1', () => {
    const points = climb(0.4)
    points.push([t0 + 7 * day - 3 * hour, 1.2])
    const trend = assessTrend('f', binsOf(points), t0 + 7 * day, policy)
    expect(trend.recentMax).toBeCloseTo(1.2, 6)
    expect(trend.gradual).toBe(false)
  })

  it('does not judge a series younger than 6 days (the rule: present 6 days ago)', () => {
    const young = climb(0.4, 2, 7.5)
    expect(assessTrend('f', binsOf(young), t0 + 7.5 * day, policy).gradual).toBe(false)
    const old = climb(0.4, 1.4, 7.5)
    expect(assessTrend('f', binsOf(old), t0 + 7.5 * day, policy).gradual).toBe(true)
  })

  it('takes its threshold and span from the policy', () => {
    const daily: GradualDriftPolicy = { enabled: true, threshold: 0.1, spanMs: day }
    const points = Array.from(
      { length: 25 },
      (_, h) => [t0 + h * hour, 0.3 + 0.15 * (h / 24)] as const,
    )
    const trend = assessTrend('f', binsOf(points, daily), t0 + day, daily)
    expect(trend.slope).toBeCloseTo(0.15, 6)
    expect(trend.gradual).toBe(true)
    expect(
      assessTrend('f', binsOf(points, daily), t0 + day, { ...daily, enabled: false }).gradual,
    ).toBe(false)
  })
})

describe('recordTrend', () => {
  it('restarts on a new reference and counts a window once', () => {
    const scores = new Map([['f', 0.5]])
    let { history } = recordTrend(undefined, 'ref-1', '', t0, scores, policy)
    history = recordTrend(history, 'ref-1', '', t0 + hour, scores, policy).history
    // The same window again (a revision): assessed, not added.
    const again = recordTrend(history, 'ref-1', '', t0 + hour, new Map([['f', 9]]), policy)
    expect(again.trends[0]?.windows).toBe(2)
    expect(again.trends[0]?.recentMax).toBe(0.5)
    const next = recordTrend(again.history, 'ref-2', '', t0 + 2 * hour, scores, policy)
    expect(next.trends[0]?.windows).toBe(1)
    expect(Object.keys(next.history.series)).toEqual([''])
  })
})

describe('evaluateWindow: the DriftwatchFeatureDriftGradual alert on the alerts topic', () => {
  // One numerical feature, uniform on 0..999; PSI on its deciles (threshold 0.1, Evidently's
  // fixed thresholds: no noise floor). A shift s moves s/1000 of the values out of the first
  // decile into the last: PSI ≈ 20 (s/1000)², a drift score of ≈ 200 (s/1000)²: 0.72 at s = 60.
  const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
  for (let i = 0; i < 1000; i++) builder.add({ x: i })
  const reference = builder.build()
  const settings = driftSettingsOf(
    driftSectionSchema.parse({ mode: 'evidently', test: 'psi', threshold: 0.1 }),
  )
  const registry = createDefaultRegistry()
  const window = (end: number, shift: number, state: EvaluationState): WindowOutcome => {
    const current = createDatasetProfile(layoutOf(reference))
    for (let i = 0; i < 1000; i++) addRow(current, { x: i + shift })
    return evaluateWindow(
      {
        model: 'fraud',
        windowStart: end - hour,
        windowEnd: end,
        referenceId: 'ref-1',
        reference,
        current: new Map([['', current]]),
        features: ['x'],
        settings,
        registry,
        alertPolicy: { fireAfter: 2, resolveAfter: 2, cooldown: 0 },
        minCriticalFeatures: 1,
        generatedAt: new Date(end).toISOString(),
        statusUrl: '/api/models/fraud/status',
      },
      state,
    )
  }

  it('fires once the series is 6 days old, while no window drifts, and resolves with the same labels', () => {
    let state = initialEvaluationState
    const fired: Array<{ at: number; alert: AlertEvent }> = []
    const reports: WindowReport[] = []
    // 7 days climbing from shift 0 to 60, then the shift jumps to 200 (a window drifts).
    for (let h = 1; h <= 7 * 24 + 3; h++) {
      const shift = h <= 7 * 24 ? Math.round((60 * h) / (7 * 24)) : 200
      const outcome = window(t0 + h * hour, shift, state)
      state = outcome.state
      reports.push(...outcome.reports)
      for (const { alert } of outcome.alerts)
        if (alert.labels['alertname'] === 'DriftwatchFeatureDriftGradual')
          fired.push({ at: t0 + h * hour, alert })
    }
    expect(fired.map((f) => f.alert.status)).toEqual(['firing', 'resolved'])
    const [firing, resolved] = fired as [(typeof fired)[0], (typeof fired)[0]]
    // fireAfter 2: the second window whose series is 6 days old (its first window ends at h = 1).
    expect(firing.at).toBe(t0 + (6 * 24 + 2) * hour)
    expect(firing.alert.labels).toEqual({
      alertname: 'DriftwatchFeatureDriftGradual',
      model: 'fraud',
      model_version: '',
      feature: 'x',
      severity: 'warning',
    })
    expect(Number(firing.alert.annotations['slope'])).toBeGreaterThan(0.3)
    expect(firing.alert.annotations['diagnosis']).toBe('gradual-drift')
    expect(resolved.alert.labels).toEqual(firing.alert.labels)
    expect(resolved.alert.fingerprint).toBe(firing.alert.fingerprint)
    // The diagnosis names it while nothing drifted; the report's section says why.
    const at = reports.find((r) => Date.parse(r.window.end) === firing.at) as WindowReport
    expect(at.nDrifted).toBe(0)
    expect(at.diagnosis).toMatchObject({ kind: 'gradual-drift', topCauses: ['x'] })
    expect(at.gradualDrift?.features[0]).toMatchObject({ feature: 'x', gradual: true })
    expect(at.gradualDrift?.features[0]?.recentMax).toBeLessThan(1)
  })
})
