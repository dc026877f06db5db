// Kullback–Leibler divergence KL(reference ‖ current), as scipy.stats.entropy(p, q) computes it:
//   p, q   shares over the same bins as PSI (reference deciles or categories), clipped below at
//          1e-4 like PSI's so an empty bin stays finite, then renormalized to sum 1
//   KL     = Σ p·ln(p/q)   (natural log)
// Direction: larger is more drift; not symmetric. Distance test, threshold 0.1, critical 0.2.
// (Evidently fills zero bins with a tiny value instead of clipping; on bins without empty cells
// the two agree.)

import { binnedDistanceTest, shares } from './distributions.js'
import { psiShareFloor } from './psi.js'
import type { DriftTest } from './types.js'

export const klDiv: DriftTest = binnedDistanceTest({
  name: 'kl_div',
  description: 'Kullback–Leibler divergence KL(reference‖current), natural log',
  defaults: { threshold: 0.1, critical: 0.2 },
  distance: (reference, current) => klDivergence(shares(reference), shares(current)),
})

export function klDivergence(reference: Float64Array, current: Float64Array): number {
  const p = normalize(reference.map((s) => Math.max(s, psiShareFloor)))
  const q = normalize(current.map((s) => Math.max(s, psiShareFloor)))
  let kl = 0
  for (let i = 0; i < p.length; i++)
    kl += (p[i] as number) * Math.log((p[i] as number) / (q[i] as number))
  return kl
}

function normalize(values: Float64Array): Float64Array {
  let total = 0
  for (const v of values) total += v
  return values.map((v) => v / total)
}
