// Hellinger distance between the binned distributions (Evidently's hellinger):
//   p, q   shares over the reference decile bins (numerical) or the categories, not clipped
//   H      = sqrt( Σ (√p − √q)² ) / √2        ∈ [0, 1]
// Direction: larger is more drift. Distance test, threshold 0.1, critical 0.2.

import { binnedCounts, shares } from './distributions.js'
import { insufficient, type DriftTest } from './types.js'

export const hellinger: DriftTest = {
  name: 'hellinger',
  description: 'Hellinger distance on reference deciles or categories',
  featureKinds: ['numerical', 'categorical'],
  scoreKind: 'distance',
  severityOn: 'verdict',
  defaults: { threshold: 0.1, critical: 0.2 },
  score(reference, current) {
    const counts = binnedCounts(reference, current)
    if (counts.referenceTotal === 0 || counts.currentTotal === 0) return insufficient('no values on one side')
    const p = shares(counts.reference)
    const q = shares(counts.current)
    let sum = 0
    for (let i = 0; i < p.length; i++) sum += (Math.sqrt(p[i] as number) - Math.sqrt(q[i] as number)) ** 2
    return { status: 'ok', statistic: Math.sqrt(sum) / Math.SQRT2, pValue: null }
  },
}
