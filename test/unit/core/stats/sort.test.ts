import { describe, expect, it } from 'vitest'
import { sortedCopy } from '../../../../src/core/stats/sort.js'

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
  return true
}

describe('sortedCopy', () => {
  it('equals TypedArray sort, -0 before +0, on mixed signs, magnitudes, ties and infinities', () => {
    let seed = 11
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const special = [
      0,
      -0,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      5e-324,
      1,
      -1,
    ]
    for (const n of [10, 4096, 50_000, 300_000]) {
      const values = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const u = next()
        values[i] =
          u < 0.05
            ? (special[Math.floor(next() * special.length)] as number)
            : u < 0.3
              ? Math.round(next() * 20) - 10
              : (next() - 0.5) * 10 ** (Math.floor(next() * 40) - 20)
      }
      const before = values.slice()
      const sorted = sortedCopy(values)
      expect(sameBits(values, before)).toBe(true) // the input is left as it was
      expect(sameBits(sorted, values.slice().sort())).toBe(true)
    }
  })

  it('sorts only the first n values', () => {
    const values = new Float64Array(10_000).map((_, i) => 10_000 - i)
    const sorted = sortedCopy(values, 5000)
    expect(sorted.length).toBe(5000)
    expect(sameBits(sorted, values.slice(0, 5000).sort())).toBe(true)
  })
})
