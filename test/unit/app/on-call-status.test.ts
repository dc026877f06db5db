// LiveStatus.onCall reads the evaluation state as the evaluator commits it (here in the memory
// lease store, which follows the Redis store's contract): each feature's history, since when it
// has been drifting, and the model's firing and recently resolved alerts with their times.

import { describe, expect, it } from 'vitest'
import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import type { ReferenceSnapshot } from '../../../src/core/reference.js'
import { LiveStatus } from '../../../src/app/status.js'
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
