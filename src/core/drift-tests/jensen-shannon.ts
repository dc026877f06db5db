// Jensen–Shannon distance, as scipy.spatial.distance.jensenshannon returns it (and Evidently
// thresholds it): the square root of the JS divergence, natural log (base e), so it lies in
// [0, sqrt(ln 2)] ≈ [0, 0.833].
//   p, q   shares over the same bins, each normalized to sum 1
//          numerical: the reference decile bins (Evidently instead bins reference ∪ current into
//          equal-width bins, which a stream cannot know in advance); categorical: the categories
//   m      = (p + q) / 2
//   JS     = sqrt( (Σ p·ln(p/m) + Σ q·ln(q/m)) / 2 ),  0·ln 0 = 0
// Direction: larger is more drift. Distance test, default threshold 0.1 (Evidently's), critical 0.2.

import { binnedDistanceTest, shares } from './distributions.js'
import type { DriftTest } from './types.js'

export const jensenShannon: DriftTest = binnedDistanceTest({
  name: 'jensenshannon',
  description: 'Jensen–Shannon distance (natural log) on reference deciles or categories',
  defaults: { threshold: 0.1, critical: 0.2 },
  distance: (reference, current) => jensenShannonDistance(shares(reference), shares(current)),
})

export function jensenShannonDistance(p: Float64Array, q: Float64Array): number {
  let divergence = 0
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] as number
    const qi = q[i] as number
    const m = (pi + qi) / 2
    if (pi > 0) divergence += pi * Math.log(pi / m)
    if (qi > 0) divergence += qi * Math.log(qi / m)
  }
  return Math.sqrt(Math.max(0, divergence / 2))
}
