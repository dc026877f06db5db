// Wasserstein-1 (earth mover's) distance, as scipy.stats.wasserstein_distance computes it:
//   W1  = ∫ |F_ref(x) − F_cur(x)| dx
// and normed as Evidently's wasserstein test does: W1 / max(std_ref, 0.001), std with ddof 0.
// From profiles the integral runs over the knots of both CDFs (profile/cdf.ts), each interval
// taken at its midpoint: exact where both CDFs are step functions (singleton digests), otherwise
// within the digests' rank error times the range.
// Distance test on the normed value: drift at >= 0.1 (Evidently's default), critical at >= 0.2.

import { cdfKnots, profileCdf } from '../profile/cdf.js'
import { std, type NumericalProfile } from '../profile/numerical.js'
import { insufficient, type DriftTest } from './types.js'

export const wassersteinNormFloor = 0.001

export const wasserstein: DriftTest = {
  name: 'wasserstein',
  description: 'Wasserstein distance normed by the reference standard deviation',
  featureKinds: ['numerical'],
  scoreKind: 'distance',
  severityOn: 'verdict',
  defaults: { threshold: 0.1, critical: 0.2 },
  score(reference, current) {
    if (reference.kind !== 'numerical' || current.kind !== 'numerical') {
      return insufficient('wasserstein needs numerical values')
    }
    if (reference.count === 0 || current.count === 0) return insufficient('no values on one side')
    return { status: 'ok', statistic: wassersteinNormed(reference, current), pValue: null }
  },
}

export function wassersteinDistance(
  reference: NumericalProfile,
  current: NumericalProfile,
): number {
  const fRef = profileCdf(reference)
  const fCur = profileCdf(current)
  const knots = cdfKnots(reference, current)
  let area = 0
  for (let i = 0; i + 1 < knots.length; i++) {
    const lo = knots[i] as number
    const hi = knots[i + 1] as number
    const mid = lo + (hi - lo) / 2
    area += Math.abs(fRef(mid) - fCur(mid)) * (hi - lo)
  }
  return area
}

export function wassersteinNormed(reference: NumericalProfile, current: NumericalProfile): number {
  return wassersteinDistance(reference, current) / Math.max(std(reference), wassersteinNormFloor)
}
