import { describe, expect, it } from 'vitest'
import { quantileSorted } from '../../../../src/core/stats/quantile.js'

// Values printed by numpy 2.4.6: np.quantile(np.arange(1, 11), q) (method 'linear').
describe('quantileSorted (numpy linear)', () => {
  const a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  it.each([
    [0, 1],
    [0.1, 1.9],
    [0.25, 3.25],
    [0.5, 5.5],
    [0.9, 9.1],
    [1, 10],
  ])('q=%s → %s', (q, expected) => {
    expect(quantileSorted(a, q)).toBeCloseTo(expected, 12)
  })

  it('returns tied values exactly, so ties stay in one bin', () => {
    const ties = [0, 0, 0, 0, 0, 0, 1, 2, 3, 4]
    for (let k = 1; k <= 5; k++) expect(quantileSorted(ties, k / 10)).toBe(0)
  })

  it('is NaN on an empty sample', () => {
    expect(quantileSorted([], 0.5)).toBeNaN()
  })
})
