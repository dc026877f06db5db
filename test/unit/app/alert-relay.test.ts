// AlertRelay: what is announced to Alertmanager and when, on a hand-moved clock, with a
// recording AlertNotifier (the port; the real Alertmanager is in
// test/integration/alertmanager.int.test.ts). Firing alerts go again every resend interval, valid
// for 4 of them; a resolved one goes once, at once, ended; a failed send is retried.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { AlertRelay } from '../../../src/app/alert-relay.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { addRow, createDatasetProfile, layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import type { AlertEvent } from '../../../src/core/stream/alerts.js'
import {
  evaluateWindow,
  initialEvaluationState,
  type WindowOutcome,
} from '../../../src/core/stream/evaluation.js'
import type { AlertNotifier } from '../../../src/ports/alert-notifier.js'

const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }])
for (let i = 0; i < 1000; i++) builder.add({ x: i })
const reference = builder.build()
const H = 3_600_000
const settings = driftSettingsOf(
  driftSectionSchema.parse({ test: 'psi', threshold: 0.1, critical: 1 }),
)

/** Hourly windows (event time far in the past), each shifted by `shift`: 0 is clean, 200 critical. */
function windows(shifts: readonly number[]): WindowOutcome[] {
  let state = initialEvaluationState
  return shifts.map((shift, i) => {
    const current = createDatasetProfile(layoutOf(reference))
    for (let r = 0; r < 1000; r++) addRow(current, { x: (r % 1000) + shift })
    const outcome = evaluateWindow(
      {
        model: 'fraud',
        windowStart: i * H,
        windowEnd: (i + 1) * H,
        referenceId: 'ref-1',
        reference,
        current: new Map([['', current]]),
        features: ['x'],
        settings,
        registry: createDefaultRegistry(),
        alertPolicy: { fireAfter: 1, resolveAfter: 1, cooldown: 0 },
        minCriticalFeatures: 1,
        generatedAt: new Date(0).toISOString(),
        statusUrl: '/api/models/fraud/status',
      },
      state,
    )
    state = outcome.state
    return outcome
  })
}

class RecordingNotifier implements AlertNotifier {
  readonly sent: AlertEvent[][] = []
  failing = false
  notify(alerts: readonly AlertEvent[]): Promise<void> {
    if (this.failing) return Promise.reject(new Error('connection refused'))
    this.sent.push([...alerts])
    return Promise.resolve()
  }
}

function relayOn(notifier: RecordingNotifier, clock: { now: number }) {
  const metrics = createMetrics({ defaultMetrics: false })
  const relay = new AlertRelay({
    notifier,
    resendIntervalMs: 60_000,
    now: () => clock.now,
    logger: pino({ level: 'silent' }),
    metrics,
  })
  const outcomes = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await metrics.alertmanagerNotificationsTotal.get()).values.map((v): [string, number] => [
        String(v.labels.outcome),
        v.value,
      ]),
    )
  return { relay, outcomes }
}

const [firing, stillFiring, resolvedOutcome] = windows([200, 200, 0])
const fired = firing?.alerts.map((a) => a.alert) ?? []
const resolved = resolvedOutcome?.alerts.map((a) => a.alert) ?? []
const T = Date.UTC(2026, 0, 1)

describe('AlertRelay', () => {
  it('the scenario: window 1 fires the feature and the dataset alert, window 3 resolves both', () => {
    expect(fired.map((a) => `${a.labels['alertname']}:${a.status}`)).toEqual([
      'DriftwatchFeatureDrift:firing',
      'DriftwatchDatasetDrift:firing',
    ])
    expect(resolved.map((a) => a.status)).toEqual(['resolved', 'resolved'])
  })

  it('announces firing alerts at once, then again each resend interval, valid for 4 intervals', async () => {
    const notifier = new RecordingNotifier()
    const clock = { now: T }
    const { relay, outcomes } = relayOn(notifier, clock)
    relay.relay('fraud', {
      state: firing?.state ?? initialEvaluationState,
      transitions: fired,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    expect(notifier.sent).toHaveLength(1)
    const first = notifier.sent[0] ?? []
    expect(first.map((a) => a.labels)).toEqual(fired.map((a) => a.labels))
    expect(first.map((a) => a.startsAt)).toEqual(fired.map((a) => a.startsAt))
    expect(first.every((a) => a.endsAt === new Date(T + 240_000).toISOString())).toBe(true)

    // Within the interval, nothing; once it has passed, the same alerts with a later end.
    for (const [step, expected] of [
      [30_000, 1],
      [59_999, 1],
      [60_000, 2],
      [90_000, 2],
      [120_000, 3],
    ] as const) {
      clock.now = T + step
      relay.relay('fraud', {
        state: stillFiring?.state ?? initialEvaluationState,
        transitions: [],
        statusUrl: '/s',
        heldUntil: clock.now + 30_000,
      })
      await relay.drain()
      expect(notifier.sent, `at +${step} ms`).toHaveLength(expected)
    }
    expect(notifier.sent[2]?.map((a) => a.endsAt)).toEqual([
      new Date(T + 360_000).toISOString(),
      new Date(T + 360_000).toISOString(),
    ])
    expect(await outcomes()).toEqual({ sent: 3 })
  })

  it('re-sends on its own timer while the lease is surely held, and stops once it may have passed on', async () => {
    const notifier = new RecordingNotifier()
    const clock = { now: T }
    const { relay } = relayOn(notifier, clock)
    // The evaluator's last word: the lease is ours for 150 s more (a long catch-up follows).
    relay.relay('fraud', {
      state: firing?.state ?? initialEvaluationState,
      transitions: fired,
      statusUrl: '/s',
      heldUntil: T + 150_000,
    })
    await relay.drain()
    for (const step of [30_000, 60_000, 90_000, 120_000, 150_000, 180_000, 240_000]) {
      clock.now = T + step
      relay.tick()
      await relay.drain()
    }
    // at T, +60 s, +120 s; not at +180 s or +240 s, past the lease
    expect(notifier.sent.map((batch) => batch[0]?.endsAt)).toEqual([
      new Date(T + 240_000).toISOString(),
      new Date(T + 300_000).toISOString(),
      new Date(T + 360_000).toISOString(),
    ])
  })

  it('announces a resolve at once, ended now, first in its batch, and only once', async () => {
    const notifier = new RecordingNotifier()
    const clock = { now: T }
    const { relay } = relayOn(notifier, clock)
    relay.relay('fraud', {
      state: firing?.state ?? initialEvaluationState,
      transitions: fired,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    clock.now = T + 5000
    relay.relay('fraud', {
      state: resolvedOutcome?.state ?? initialEvaluationState,
      transitions: resolved,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    expect(notifier.sent).toHaveLength(2)
    const ended = notifier.sent[1] ?? []
    expect(ended.map((a) => a.status)).toEqual(['resolved', 'resolved'])
    expect(ended.map((a) => a.labels)).toEqual(fired.map((a) => a.labels))
    expect(ended.every((a) => a.endsAt === new Date(T + 5000).toISOString())).toBe(true)
    // Nothing fires any more: later turns send nothing, the resolve is not repeated.
    for (const step of [6000, 65_000, 200_000]) {
      clock.now = T + step
      relay.relay('fraud', {
        state: resolvedOutcome?.state ?? initialEvaluationState,
        transitions: [],
        statusUrl: '/s',
        heldUntil: clock.now + 30_000,
      })
      await relay.drain()
    }
    expect(notifier.sent).toHaveLength(2)
  })

  it('retries a failed send after at most 10 s, resolve included, and counts the failure', async () => {
    const notifier = new RecordingNotifier()
    const clock = { now: T }
    const { relay, outcomes } = relayOn(notifier, clock)
    relay.relay('fraud', {
      state: firing?.state ?? initialEvaluationState,
      transitions: fired,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    notifier.failing = true
    clock.now = T + 1000
    relay.relay('fraud', {
      state: resolvedOutcome?.state ?? initialEvaluationState,
      transitions: resolved,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    notifier.failing = false
    clock.now = T + 5000
    relay.relay('fraud', {
      state: resolvedOutcome?.state ?? initialEvaluationState,
      transitions: [],
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    expect(notifier.sent).toHaveLength(1)
    clock.now = T + 11_000
    relay.relay('fraud', {
      state: resolvedOutcome?.state ?? initialEvaluationState,
      transitions: [],
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    expect(notifier.sent).toHaveLength(2)
    const retried = notifier.sent[1] ?? []
    expect(retried.map((a) => a.status)).toEqual(['resolved', 'resolved'])
    // ended when it resolved, not when the retry went out
    expect(retried.every((a) => a.endsAt === new Date(T + 1000).toISOString())).toBe(true)
    expect(await outcomes()).toEqual({ sent: 2, failed: 1 })
  })

  it('drops a resolve it could not send once Alertmanager has let the alert lapse anyway', async () => {
    const notifier = new RecordingNotifier()
    const clock = { now: T }
    const { relay } = relayOn(notifier, clock)
    notifier.failing = true
    relay.relay('fraud', {
      state: resolvedOutcome?.state ?? initialEvaluationState,
      transitions: resolved,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    notifier.failing = false
    clock.now = T + 240_000
    relay.relay('fraud', {
      state: resolvedOutcome?.state ?? initialEvaluationState,
      transitions: [],
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    expect(notifier.sent).toEqual([])
  })

  it('after losing and regaining the lease, announces at once', async () => {
    const notifier = new RecordingNotifier()
    const clock = { now: T }
    const { relay } = relayOn(notifier, clock)
    relay.relay('fraud', {
      state: firing?.state ?? initialEvaluationState,
      transitions: fired,
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    relay.released('fraud')
    clock.now = T + 1000
    relay.relay('fraud', {
      state: stillFiring?.state ?? initialEvaluationState,
      transitions: [],
      statusUrl: '/s',
      heldUntil: clock.now + 30_000,
    })
    await relay.drain()
    expect(notifier.sent).toHaveLength(2)
  })
})
