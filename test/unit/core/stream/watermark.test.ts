import { describe, expect, it } from 'vitest'
import { modelWatermarkOf, type IdlePolicy } from '../../../../src/core/stream/watermark.js'

const NOW = 1_800_000_000_000
const idle: IdlePolicy = { idleAfterMs: 60_000, freshMs: 10_000, now: NOW }
const none = Number.NEGATIVE_INFINITY

describe('modelWatermarkOf', () => {
  it('is null before any partition has seen an event of the model', () => {
    expect(modelWatermarkOf([])).toBeNull()
    expect(modelWatermarkOf([{ watermark: none, caughtUpAt: NOW }], idle)).toBeNull()
  })

  it('is the slowest partition that has seen the model; partitions without its events do not count', () => {
    const partitions = [
      { watermark: 5000, caughtUpAt: null },
      { watermark: 3000, caughtUpAt: null },
      { watermark: none, caughtUpAt: null },
    ]
    expect(modelWatermarkOf(partitions)).toBe(3000)
    expect(modelWatermarkOf(partitions, idle)).toBe(3000)
  })

  const newest = { watermark: 1_000_000, caughtUpAt: NOW }
  it.each([
    [
      'caught up just now, lagging past idleAfter: idle',
      { watermark: 1_000_000 - 60_001, caughtUpAt: NOW },
      1_000_000,
    ],
    [
      'caught up, lagging exactly idleAfter: not idle',
      { watermark: 1_000_000 - 60_000, caughtUpAt: NOW },
      940_000,
    ],
    ['lagging far but not caught up (a backlog): holds', { watermark: 100, caughtUpAt: null }, 100],
    [
      'caught up too long ago (its owner is gone): holds',
      { watermark: 100, caughtUpAt: NOW - 10_001 },
      100,
    ],
    [
      'caught up at the edge of freshness: idle',
      { watermark: 100, caughtUpAt: NOW - 10_000 },
      1_000_000,
    ],
    [
      'a clock a little ahead of ours still counts as fresh',
      { watermark: 100, caughtUpAt: NOW + 2000 },
      1_000_000,
    ],
  ])('%s', (_name, slow, expected) => {
    expect(modelWatermarkOf([newest, slow], idle)).toBe(expected)
    // Without an idle policy every partition holds windows back.
    expect(modelWatermarkOf([newest, slow])).toBe(slow.watermark)
  })

  it('never leaves out the newest partition, even when every partition is caught up and fresh', () => {
    const all = [
      { watermark: 900_000, caughtUpAt: NOW },
      { watermark: 1_000_000, caughtUpAt: NOW },
      { watermark: 990_000, caughtUpAt: NOW },
    ]
    expect(modelWatermarkOf(all, idle)).toBe(990_000)
    expect(modelWatermarkOf(all, { ...idle, idleAfterMs: 200_000 })).toBe(900_000)
    expect(modelWatermarkOf(all, { ...idle, idleAfterMs: 0 })).toBe(1_000_000)
  })
})
