// Population Stability Index, the users' definition (README, Statistics):
//   bins    numerical: the reference deciles as breakpoints, outer edges open, [e_i, e_{i+1});
//           categorical: the categories either side has.
//   shares  counts / n on each side, clipped below at 1e-4 (an empty bin would be ln 0)
//   PSI     = Σ (cur_i − ref_i) · ln(cur_i / ref_i)          (natural log; 0 = identical)
// Direction: larger is more drift. Distance test, default threshold 0.1 (warning), critical 0.2.
// Exact from profiles: decile counts are exact counts on the reference's breakpoints.

import { binnedDistanceTest, shares } from './distributions.js'
import type { DriftTest } from './types.js'

export const psiShareFloor = 1e-4

export const psi: DriftTest = binnedDistanceTest({
  name: 'psi',
  description: 'Population Stability Index on reference deciles (numerical) or categories',
  defaults: { threshold: 0.1, critical: 0.2 },
  distance: (reference, current) => psiOfShares(shares(reference), shares(current)),
})

export function psiOfShares(reference: Float64Array, current: Float64Array): number {
  let sum = 0
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i] as number, psiShareFloor)
    const c = Math.max(current[i] as number, psiShareFloor)
    sum += (c - r) * Math.log(c / r)
  }
  return sum
}
