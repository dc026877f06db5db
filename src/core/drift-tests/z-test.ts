// Two-proportion z-test for binary features, Evidently's z_stat_test:
//   p1, p2   share of one value (either: the test is symmetric) in reference and current
//   P        = (p1·n1 + p2·n2) / (n1 + n2)
//   z        = (p1 − p2) / sqrt(P(1 − P)(1/n1 + 1/n2)),   p = 2·(1 − Φ(|z|))
// Both sides constant at the same value: p = 1. p-value test: drift when p < 0.05, critical < 0.001.

import { normalSf } from '../stats/special.js'
import { categoryCounts, distinctValues } from './distributions.js'
import { insufficient, type DriftTest } from './types.js'

export const zTest: DriftTest = {
  name: 'z',
  description: 'Two-proportion z-test for binary features',
  featureKinds: ['categorical', 'numerical'],
  scoreKind: 'pValue',
  severityOn: 'verdict',
  defaults: { threshold: 0.05, critical: 0.001 },
  score(reference, current) {
    const distinct = distinctValues(reference, current)
    if (distinct === null || distinct > 2)
      return insufficient('the z-test needs a feature with at most 2 values')
    const counts = categoryCounts(reference, current)
    const n1 = counts.referenceTotal
    const n2 = counts.currentTotal
    if (n1 === 0 || n2 === 0) return insufficient('no values on one side')
    if (counts.keys.length < 2) return { status: 'ok', statistic: 0, pValue: 1 }
    const p1 = (counts.reference[0] as number) / n1
    const p2 = (counts.current[0] as number) / n2
    const pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return { status: 'ok', statistic: z, pValue: 2 * normalSf(Math.abs(z)) }
  },
}
