// Evidently's automatic choice of test (legacy/calculations/stattests/registry.py,
// _get_default_stattest), by column kind, reference size and distinct values over both sides:
//
//   reference n <= 1000:  numerical with <= 5 values → chisquare (> 2 values) or z (<= 2);
//                         other numerical → ks;  categorical → chisquare (> 2 values) or z
//   reference n  > 1000:  numerical with <= 5 values → jensenshannon; other numerical → wasserstein;
//                         categorical → jensenshannon
//
// n counts the reference's non-missing finite values, as Evidently drops NaN/inf first.

import type { FeatureProfile } from '../profile/index.js'
import { distinctValues } from './distributions.js'

export const autoTestName = 'auto'
export const smallReferenceLimit = 1000

export function autoTest(reference: FeatureProfile, current: FeatureProfile): string {
  const distinct = distinctValues(reference, current)
  const few = distinct !== null && distinct <= 5
  if (reference.count <= smallReferenceLimit) {
    if (reference.kind === 'numerical' && !few) return 'ks'
    return distinct !== null && distinct > 2 ? 'chisquare' : 'z'
  }
  if (reference.kind === 'numerical') return few ? 'jensenshannon' : 'wasserstein'
  return 'jensenshannon'
}
