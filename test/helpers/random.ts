// Seeded randomness for tests: mulberry32 (Tommy Ettinger, public domain) for uniforms and the
// Box–Muller transform for normals. Tiny and deterministic, so a failing case replays exactly.

export type Rng = () => number

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One normal draw; the pair's second value is dropped so that the function stays stateless. */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  const u = 1 - rng()
  const v = rng()
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
