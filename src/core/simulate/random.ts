// A small seeded PRNG for the simulator and tests: mulberry32 (Tommy Ettinger's 32-bit generator,
// public domain). Period 2^32 and a few lines of integer arithmetic, so a seed gives the same
// events on every machine and Node version, which Math.random cannot. Good enough for simulated
// data (runs of millions of events, far below the period); not for anything secret.

export interface Random {
  /** uniform in [0, 1) */
  next(): number
  /** uniform in [min, max) */
  uniform(min: number, max: number): number
  /** standard normal (Box–Muller; the second value of each pair is kept for the next call) */
  normal(): number
  /** Poisson(lambda) by Knuth's product method: fine for the small lambdas we use (≤ ~50) */
  poisson(lambda: number): number
  /** true with probability p */
  chance(p: number): boolean
  /** an index drawn with the given weights (they need not sum to 1) */
  weighted(weights: readonly number[]): number
}

/** The raw generator: each call returns the next uniform number in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function createRandom(seed: number): Random {
  const next = mulberry32(seed)
  let spare: number | null = null
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    normal() {
      if (spare !== null) {
        const value = spare
        spare = null
        return value
      }
      // 1 - next() is in (0, 1], so the log is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()))
      const angle = 2 * Math.PI * next()
      spare = radius * Math.sin(angle)
      return radius * Math.cos(angle)
    },
    poisson(lambda) {
      const limit = Math.exp(-lambda)
      let k = 0
      let product = next()
      while (product > limit) {
        k++
        product *= next()
      }
      return k
    },
    chance: (p) => next() < p,
    weighted(weights) {
      let total = 0
      for (const w of weights) total += w
      let r = next() * total
      for (let i = 0; i < weights.length; i++) {
        r -= weights[i] ?? 0
        if (r < 0) return i
      }
      return weights.length - 1
    },
  }
}

/** A seed for an independent stream derived from `seed` (splitmix32-style mixing of seed and salt). */
export function deriveSeed(seed: number, salt: number): number {
  let z = (seed + Math.imul(salt, 0x9e3779b9)) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return (z ^ (z >>> 16)) >>> 0
}
