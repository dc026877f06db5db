import { describe, expect, it } from 'vitest'
import {
  initialAlertState,
  stepAlert,
  type AlertPolicy,
  type AlertState,
  type AlertTransition,
} from '../../../../src/core/stream/alerts.js'
import {
  bucketStart,
  dueWindowEnds,
  isLate,
  windowBuckets,
  type WindowSpec,
} from '../../../../src/core/stream/windows.js'
import type { Severity } from '../../../../src/core/report.js'

// 1-minute buckets, 10-minute windows every 5 minutes, 1 minute of allowed lateness.
const M = 60_000
const spec: WindowSpec = { bucket: M, size: 10 * M, hop: 5 * M, allowedLateness: M }

describe('windows', () => {
  it.each([
    [0, 0],
    [M - 1, 0],
    [M, M],
    [-1, -M],
    [7 * M + 5, 7 * M],
  ])('an event at %d ms falls in the bucket starting at %d', (t, start) => {
    expect(bucketStart(t, spec)).toBe(start)
  })

  it('calls an event late once the watermark has passed its bucket end plus the lateness', () => {
    const bucket = 10 * M
    expect(isLate(bucket, bucket + 2 * M - 1, spec)).toBe(false)
    expect(isLate(bucket, bucket + 2 * M, spec)).toBe(true)
  })

  it('lists the buckets of a window: size / bucket of them, ending before its end', () => {
    const buckets = windowBuckets(30 * M, spec)
    expect(buckets).toHaveLength(10)
    expect(buckets[0]).toBe(20 * M)
    expect(buckets.at(-1)).toBe(29 * M)
  })

  it.each<[string, number | null, number, number[]]>([
    ['a fresh start reports only the newest due window', null, 31 * M, [30 * M]],
    ['nothing is due until the lateness has passed too', 25 * M, 31 * M - 1, []],
    ['each hop once, oldest first', 10 * M, 31 * M, [15 * M, 20 * M, 25 * M, 30 * M]],
    ['nothing again once reported', 30 * M, 34 * M, []],
  ])('%s', (_name, last, watermark, ends) => {
    expect(dueWindowEnds(last, watermark, spec)).toEqual(ends)
  })
})

describe('alerts', () => {
  const policy: AlertPolicy = { fireAfter: 2, resolveAfter: 2, cooldown: 30 * M }

  /** Runs observations through the state machine; returns the transitions, one per step. */
  function run(
    observations: ReadonlyArray<[drifted: boolean, severity: Severity]>,
    start: AlertState = initialAlertState,
  ): { transitions: AlertTransition[]; state: AlertState } {
    let state = start
    const transitions: AlertTransition[] = []
    observations.forEach(([drifted, severity], i) => {
      const step = stepAlert(state, { drifted, severity, at: (i + 1) * 5 * M }, policy)
      state = step.state
      transitions.push(step.transition)
    })
    return { transitions, state }
  }

  it('fires after fireAfter drifted windows in a row and resolves after resolveAfter clean ones', () => {
    const { transitions, state } = run([
      [true, 'warning'],
      [true, 'warning'],
      [true, 'critical'],
      [false, 'ok'],
      [false, 'ok'],
    ])
    expect(transitions).toEqual([null, 'firing', null, null, 'resolved'])
    expect(state.firing).toBe(false)
  })

  it('does not fire on drift that never lasts fireAfter windows', () => {
    const { transitions } = run([
      [true, 'critical'],
      [false, 'ok'],
      [true, 'critical'],
      [false, 'ok'],
    ])
    expect(transitions).toEqual([null, null, null, null])
  })

  it('keeps firing through one clean window', () => {
    const { transitions, state } = run([
      [true, 'warning'],
      [true, 'warning'],
      [false, 'ok'],
      [true, 'warning'],
    ])
    expect(transitions).toEqual([null, 'firing', null, null])
    expect(state.firing).toBe(true)
  })

  it('raises the severity while firing, never lowers it', () => {
    const { state } = run([
      [true, 'warning'],
      [true, 'warning'],
      [true, 'critical'],
      [true, 'warning'],
    ])
    expect(state.severity).toBe('critical')
  })

  it('does not fire again within the cooldown after a resolve, then does', () => {
    const { transitions } = run([
      [true, 'critical'], // 5 min
      [true, 'critical'], // 10: firing
      [false, 'ok'],
      [false, 'ok'], // 20: resolved
      [true, 'critical'],
      [true, 'critical'], // 30: would fire, but only 10 min after the resolve
      [true, 'critical'], // 35
      [true, 'critical'], // 40
      [true, 'critical'], // 45
      [true, 'critical'], // 50: 30 min after the resolve: fires
    ])
    expect(transitions).toEqual([
      null,
      'firing',
      null,
      'resolved',
      null,
      null,
      null,
      null,
      null,
      'firing',
    ])
  })
})
