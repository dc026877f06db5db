// LiveStatus.onCall reads the evaluation state as the evaluator commits it (here in the memory
// lease store, which follows the Redis store's contract): each feature's history, since when it
// has been drifting, and the model's firing and recently resolved alerts with their times; and the
// model's layers (quality, prediction drift, performance, latency, diagnosis) as stored.

import { describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import type { ReferenceSnapshot } from '../../../src/core/reference.js'
import { LiveStatus } from '../../../src/app/status.js'
import { renderOnCallPage } from '../../../src/adapters/http/dashboard.js'
import {
  assessLatency,
  type LatencyReport,
  type LatencySummary,
} from '../../../src/core/latency.js'
import {
  defaultDegradation,
  evaluatePerformance,
} from '../../../src/core/performance/degradation.js'
import {
  addPair,
  defaultPerformanceSettings,
  emptySummary,
} from '../../../src/core/performance/summary.js'
import { initialAlertState } from '../../../src/core/stream/alerts.js'
import type { WindowReport } from '../../../src/core/stream/evaluation.js'
import { HOSTILE_FEATURE, T0, WINDOW_MS, onCallState } from '../../helpers/on-call.js'

async function statusWith(
  states: Record<string, ReturnType<typeof onCallState> | null>,
): Promise<LiveStatus> {
  const leases = new MemoryLeaseStore()
  const runtimes = new Map<string, { snapshot: ReferenceSnapshot }>()
  for (const [model, state] of Object.entries(states)) {
    runtimes.set(model, { snapshot: { id: `ref-${model}` } as ReferenceSnapshot })
    if (state === null) continue
    const token = await leases.acquire(model, 'me', 60_000)
    await leases.commitEvaluation(model, token ?? 0, T0 + 30 * WINDOW_MS, JSON.stringify(state))
  }
  return new LiveStatus({
    leases,
    runtimes,
    redisUp: () => Promise.resolve(true),
    kafkaUp: () => Promise.resolve(true),
    storeHealthy: () => true,
    deadLettersHealthy: () => true,
  })
}

describe('LiveStatus.onCall', () => {
  it('gives each feature its last 24 windows and since when it drifts', async () => {
    const status = await statusWith({ fraud: onCallState('fraud') })
    const [model] = await status.onCall()
    expect(model?.version).toBe('v3')
    expect(model?.severity).toBe('critical')
    const byName = new Map(model?.features.map((f) => [f.name, f]))
    const amount = byName.get('amount')
    expect(amount?.history).toHaveLength(24)
    expect(amount?.history.map((p) => p.endMs)).toEqual(
      Array.from({ length: 24 }, (_, i) => T0 + (i + 7) * WINDOW_MS),
    )
    expect(amount?.drifting).toEqual({ sinceMs: T0 + 20 * WINDOW_MS, windows: 10, complete: true })
    expect(byName.get(HOSTILE_FEATURE)?.drifting).toEqual({
      sinceMs: T0 + 27 * WINDOW_MS,
      windows: 3,
      complete: true,
    })
    expect(byName.get('country')?.drifting).toBeNull()
    expect(byName.get('tenure')?.history.every((p) => !p.drifted)).toBe(true)
  })

  it('lists firing alerts (worst first) and the recently resolved one, with start times', async () => {
    const status = await statusWith({ fraud: onCallState('fraud') })
    const [model] = await status.onCall()
    expect(model?.alerts).toEqual([
      // fireAfter 2: an alert starts at the end of the second drifted window
      {
        alertname: 'DriftwatchFeatureDrift',
        feature: 'amount',
        firing: true,
        severity: 'critical',
        startedAtMs: T0 + 22 * WINDOW_MS,
        resolvedAtMs: null,
      },
      {
        alertname: 'DriftwatchDatasetDrift',
        feature: null,
        firing: true,
        severity: 'critical',
        startedAtMs: T0 + 29 * WINDOW_MS,
        resolvedAtMs: null,
      },
      {
        alertname: 'DriftwatchFeatureDrift',
        feature: HOSTILE_FEATURE,
        firing: true,
        severity: 'warning',
        startedAtMs: T0 + 29 * WINDOW_MS,
        resolvedAtMs: null,
      },
      {
        alertname: 'DriftwatchFeatureDrift',
        feature: 'country',
        firing: false,
        severity: 'ok',
        startedAtMs: T0 + 12 * WINDOW_MS,
        resolvedAtMs: T0 + 16 * WINDOW_MS,
      },
    ])
  })

  it('says the streak began earlier when the alert state counted more windows than are kept', async () => {
    const state = onCallState('fraud')
    const key = 'fraud|v3|feature_drift|amount'
    const alerts = { ...state.alerts, [key]: { ...state.alerts[key]!, drifted: 40 } }
    const status = await statusWith({ fraud: { ...state, alerts } })
    const amount = (await status.onCall())[0]?.features.find((f) => f.name === 'amount')
    expect(amount?.drifting).toEqual({ sinceMs: T0 + 20 * WINDOW_MS, windows: 40, complete: false })
  })

  it('shows a model without an evaluation yet, and a state stored before history was kept', async () => {
    const { history: _dropped, ...old } = onCallState('legacy')
    const status = await statusWith({ fresh: null, legacy: old })
    const models = await status.onCall()
    expect(models.map((m) => [m.model, m.severity, m.features.length])).toEqual([
      ['fresh', null, 0],
      ['legacy', 'critical', 4],
    ])
    const amount = models[1]?.features.find((f) => f.name === 'amount')
    expect(amount?.history).toEqual([])
    expect(amount?.drifting).toEqual({ sinceMs: T0 + 29 * WINDOW_MS, windows: 10, complete: false })
  })
})

describe('the model layers in the status and on the on-call page', () => {
  // Two versions: v2 then v3, whose last windows carry a performance section (made by the core
  // from labelled pairs) and a latency section (v3 3× slower than v2), with their alerts firing.
  const settings = { ...defaultPerformanceSettings, task: 'binary' as const }
  const degradation = { ...defaultDegradation, metric: 'precision' as const }
  const summary = (falsePositives: number): ReturnType<typeof emptySummary> => {
    const s = emptySummary()
    for (let i = 0; i < 200; i++) {
      const label = i < 100 ? 1 : 0
      const prediction = label === 1 || i - 100 < falsePositives ? 1 : 0
      addPair(s, settings, { prediction }, label)
    }
    return s
  }
  const latency = (version: string, scale: number, previous: LatencySummary | null) =>
    assessLatency({
      version,
      current: { n: 1000, exact: true, p50: 10 * scale, p95: 20 * scale, p99: 30 * scale },
      reference: { n: 1000, exact: true, p50: 10, p95: 20, p99: 30 },
      previous: previous === null ? null : { version: 'v2', summary: previous, windowEnd: '' },
    })

  function state(): ReturnType<typeof onCallState> {
    const base = onCallState('fraud')
    const v3 = base.lastReports['v3'] as WindowReport
    const v2: WindowReport = {
      ...v3,
      modelVersion: 'v2',
      reportId: v3.reportId.replace(':v3:', ':v2:'),
      window: { start: v3.window.start, end: new Date(T0 + 29 * WINDOW_MS).toISOString() },
      latency: latency('v2', 1, null) as LatencyReport,
    }
    const performance = evaluatePerformance(summary(5), summary(60), settings, degradation)
    const v3Layers = {
      ...v3,
      performance,
      latency: latency('v3', 3, { n: 1000, exact: true, p50: 10, p95: 20, p99: 30 }),
    } as WindowReport
    return {
      ...base,
      lastReports: { v2, v3: v3Layers },
      alerts: {
        ...base.alerts,
        'fraud|v3|performance_degradation|': {
          ...initialAlertState,
          firing: true,
          severity: 'critical',
          since: T0 + 29 * WINDOW_MS,
        },
      },
    }
  }

  it('gives the latest window its layers as stored, and every version its latency', async () => {
    const stored = state()
    const status = await statusWith({ fraud: stored })
    const found = await status.modelStatus('fraud')
    const v3 = stored.lastReports['v3'] as WindowReport
    expect(found?.layers).toMatchObject({
      version: 'v3',
      reportId: v3.reportId,
      dataQuality: v3.dataQuality ?? null,
      predictionDrift: null,
      performance: v3.performance,
      latency: v3.latency,
      diagnosis: v3.diagnosis ?? null,
    })
    // precision: 100 / 160 against 100 / 105
    expect(found?.layers?.performance?.value).toBeCloseTo(100 / 160, 12)
    expect(found?.layers?.performance?.baseline).toBeCloseTo(100 / 105, 12)
    expect(found?.layers?.performance?.severity).toBe('critical')
    expect(
      found?.layers?.latencyByVersion.map((v) => [v.version, v.latency?.p99, v.latency?.severity]),
    ).toEqual([
      ['v3', 90, 'critical'],
      ['v2', 30, 'ok'],
    ])
  })

  it('renders the layers above the features, data quality first, with the alert named', async () => {
    const status = await statusWith({ fraud: state() })
    const models = await status.onCall()
    const v3 = models.find((m) => m.version === 'v3')
    expect(
      v3?.alerts.find((a) => a.alertname === 'DriftwatchPerformanceDegradation'),
    ).toMatchObject({
      alertname: 'DriftwatchPerformanceDegradation',
      feature: null,
      firing: true,
    })
    const html = renderOnCallPage(models, T0)
    const section = html.slice(html.indexOf('<h2 id="model-0">'), html.indexOf('<h2 id="model-1">'))
    const layers = [...section.matchAll(/data-layer="([a-z-]+)"/g)].map((m) => m[1])
    expect(layers).toEqual([
      'data-quality',
      'prediction-drift',
      'performance',
      'latency',
      'diagnosis',
    ])
    expect(section.indexOf('<table class="layers">')).toBeLessThan(
      section.indexOf('<table class="features">'),
    )
    expect(section).toContain(
      `precision <span class="v" data-name="precision" data-v="${100 / 160}">`,
    )
    expect(section).toContain('<span class="v" data-name="p99" data-v="90">')
    expect(section).toContain('DriftwatchPerformanceDegradation</td><th scope="row">model</th>')
  })
})
