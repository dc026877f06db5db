// Hellinger distance between the binned distributions (Evidently's hellinger):
//   p, q   shares over the reference decile bins (numerical) or the categories, not clipped
//   H      = sqrt( Σ (√p − √q)² ) / √2        ∈ [0, 1]
// Direction: larger is more drift. Distance test, threshold 0.1, critical 0.2.

import { binnedDistanceTest, shares } from './distributions.js'
import type { DriftTest } from './types.js'

export const hellinger: DriftTest = binnedDistanceTest({
  name: 'hellinger',
  description: 'Hellinger distance on reference deciles or categories',
  defaults: { threshold: 0.1, critical: 0.2 },
  distance: (reference, current) => hellingerDistance(shares(reference), shares(current)),
})

export function hellingerDistance(p: Float64Array, q: Float64Array): number {
  let sum = 0
  for (let i = 0; i < p.length; i++)
    sum += (Math.sqrt(p[i] as number) - Math.sqrt(q[i] as number)) ** 2
  return Math.sqrt(sum) / Math.SQRT2
}
