import { describe, expect, it } from 'vitest'
import {
  driftedStreak,
  historyLength,
  recordWindow,
  reviseWindow,
  type VerdictHistory,
} from '../../../../src/core/stream/history.js'
import { T0, WINDOW_MS, windowReport } from '../../../helpers/on-call.js'

function historyOf(windows: number): VerdictHistory {
  let history: VerdictHistory | undefined
  for (let i = 0; i < windows; i++) history = recordWindow(history, windowReport('fraud', i))
  return history ?? {}
}

describe('the verdict history ring', () => {
  it('keeps the newest windows per version, oldest first, at most historyLength', () => {
    const windows = historyOf(30).v3 ?? []
    expect(historyLength).toBe(24)
    expect(windows).toHaveLength(24)
    expect(windows[0]?.startMs).toBe(T0 + 6 * WINDOW_MS)
    expect(windows[23]?.endMs).toBe(T0 + 30 * WINDOW_MS)
    expect(windows[23]?.features['amount']).toEqual({
      statistic: 0.39,
      pValue: null,
      threshold: 0.1,
      drifted: true,
      severity: 'critical',
    })
  })

  it('replaces a window recorded twice instead of adding it again', () => {
    const once = historyOf(5)
    const again = recordWindow(once, windowReport('fraud', 4))
    expect(again.v3?.map((w) => w.windowId)).toEqual(once.v3?.map((w) => w.windowId))
  })

  it('takes a revision in place when the window is still kept, ignores it when not', () => {
    const history = historyOf(30)
    const report = windowReport('fraud', 25)
    const revised = {
      ...report,
      revision: 1,
      features: report.features.map((f) => ({ ...f, drifted: false, severity: 'ok' as const })),
    }
    const after = reviseWindow(history, revised)
    const entry = after?.v3?.find((w) => w.windowId === report.windowId)
    expect(entry?.revision).toBe(1)
    expect(entry?.features['amount']?.drifted).toBe(false)
    const gone = { ...windowReport('fraud', 2), revision: 1 }
    expect(reviseWindow(history, gone)).toBe(history)
  })

  it('finds where the current drifted streak starts, and whether it began before the ring', () => {
    const windows = historyOf(30).v3 ?? []
    expect(driftedStreak(windows, 'amount')).toEqual({
      startMs: T0 + 20 * WINDOW_MS,
      windows: 10,
      complete: true,
    })
    expect(driftedStreak(windows, 'country')).toBeNull()
    expect(driftedStreak(windows, 'no such feature')).toBeNull()
    // drifted in every kept window of a full ring: it may have begun earlier
    const allDrifted = windows.map((w) => ({
      ...w,
      features: { ...w.features, amount: { ...w.features['amount']!, drifted: true } },
    }))
    expect(driftedStreak(allDrifted, 'amount')).toEqual({
      startMs: T0 + 6 * WINDOW_MS,
      windows: 24,
      complete: false,
    })
    // ... but not when the ring is not full: nothing came before
    expect(driftedStreak(allDrifted.slice(0, 5), 'amount')?.complete).toBe(true)
  })
})
