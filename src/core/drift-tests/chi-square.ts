// Pearson's chi-square goodness of fit of the current counts against the reference shares,
// Evidently's chi_stat_test on scipy.stats.chisquare:
//   keys      the categories either side has (numerical features: their ≤ 5 distinct values)
//   expected  reference count × (n_current / n_reference);  observed = current count
//   χ²        = Σ (observed − expected)² / expected,  df = keys − 1,  p = chi2.sf(χ², df)
// A category the reference never had (expected 0, observed > 0) makes χ² infinite and p = 0.
// p-value test: drift when p < 0.05 (Evidently's default); critical when p < 0.001.

import { chi2Sf } from '../stats/special.js'
import { categoryCounts, distinctValues } from './distributions.js'
import { insufficient, type DriftTest } from './types.js'

export const chiSquare: DriftTest = {
  name: 'chisquare',
  description: "Pearson's chi-square test of current counts against reference shares",
  featureKinds: ['categorical', 'numerical'],
  scoreKind: 'pValue',
  severityOn: 'verdict',
  defaults: { threshold: 0.05, critical: 0.001 },
  score(reference, current) {
    if (reference.kind === 'numerical' && distinctValues(reference, current) === null) {
      return insufficient('chisquare needs at most 5 distinct values on a numerical feature')
    }
    const counts = categoryCounts(reference, current)
    if (counts.referenceTotal === 0 || counts.currentTotal === 0)
      return insufficient('no values on one side')
    if (counts.keys.length < 2) return { status: 'ok', statistic: 0, pValue: 1 }
    const scale = counts.currentTotal / counts.referenceTotal
    let statistic = 0
    for (let i = 0; i < counts.keys.length; i++) {
      const expected = (counts.reference[i] as number) * scale
      const observed = counts.current[i] as number
      statistic += expected === 0 ? Number.POSITIVE_INFINITY : (observed - expected) ** 2 / expected
    }
    const pValue =
      statistic === Number.POSITIVE_INFINITY ? 0 : chi2Sf(statistic, counts.keys.length - 1)
    return { status: 'ok', statistic, pValue }
  },
}
