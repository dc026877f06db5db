// Population Stability Index, the users' definition (DESIGN.md):
//   bins    numerical: the reference deciles as breakpoints, outer edges open, [e_i, e_{i+1});
//           categorical: the categories either side has.
//   shares  counts / n on each side, clipped below at 1e-4 (an empty bin would be ln 0)
//   PSI     = Σ (cur_i − ref_i) · ln(cur_i / ref_i)          (natural log; 0 = identical)
// Direction: larger is more drift. Distance test, default threshold 0.1 (warning), critical 0.2.
// Exact from profiles: decile counts are exact counts on the reference's breakpoints.

import { binnedCounts, shares } from './distributions.js'
import { insufficient, type DriftTest } from './types.js'

export const psiShareFloor = 1e-4

export const psi: DriftTest = {
  name: 'psi',
  description: 'Population Stability Index on reference deciles (numerical) or categories',
  featureKinds: ['numerical', 'categorical'],
  scoreKind: 'distance',
  severityOn: 'verdict',
  defaults: { threshold: 0.1, critical: 0.2 },
  score(reference, current) {
    const counts = binnedCounts(reference, current)
    if (counts.referenceTotal === 0 || counts.currentTotal === 0) return insufficient('no values on one side')
    return { status: 'ok', statistic: psiOfShares(shares(counts.reference), shares(counts.current)), pValue: null }
  },
}

export function psiOfShares(reference: Float64Array, current: Float64Array): number {
  let sum = 0
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i] as number, psiShareFloor)
    const c = Math.max(current[i] as number, psiShareFloor)
    sum += (c - r) * Math.log(c / r)
  }
  return sum
}
