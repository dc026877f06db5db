// Two-sample Kolmogorov–Smirnov test, matching scipy.stats.ks_2samp(alternative='two-sided',
// method='auto'):
//   D   = sup_x |F_ref(x) − F_cur(x)|, with F the right-continuous empirical CDFs
//   p   = exact lattice-path probability when max(n1, n2) <= 10 000, else kstwo.sf(D, round(n1·n2/(n1+n2)))
// While both profiles keep their values (files up to the reference's in-memory limit, stream
// windows and references of at most 1000 values) D is computed from the sorted values exactly as
// scipy does. Otherwise F is evaluated at every knot of both sketches (profile/cdf.ts): exact at
// the reference breakpoints, digest-interpolated between them; |D − D_exact| is then at most the
// digests' rank error (see BENCHMARKS.md, sketch accuracy).
// p-value test: drift when p < 0.05. Severity follows the users' table on the statistic D:
// critical at D >= 0.2 (a drifted feature with smaller D is a warning).

import { cdfKnots, profileCdf } from '../profile/cdf.js'
import { sortedValues, type NumericalProfile } from '../profile/numerical.js'
import { kolmogorovSmirnovStatistic, ks2SampPValue } from '../stats/ks-distribution.js'
import { insufficient, type DriftTest } from './types.js'

export const ks: DriftTest = {
  name: 'ks',
  description: 'Two-sample Kolmogorov–Smirnov test',
  featureKinds: ['numerical'],
  scoreKind: 'pValue',
  severityOn: 'statistic',
  defaults: { threshold: 0.05, critical: 0.2 },
  score(reference, current) {
    if (reference.kind !== 'numerical' || current.kind !== 'numerical')
      return insufficient('ks needs numerical values')
    if (reference.count === 0 || current.count === 0) return insufficient('no values on one side')
    const statistic = ksStatistic(reference, current)
    return {
      status: 'ok',
      statistic,
      pValue: ks2SampPValue(statistic, reference.count, current.count).pValue,
    }
  },
}

export function ksStatistic(reference: NumericalProfile, current: NumericalProfile): number {
  const refSorted = sortedValues(reference)
  const curSorted = sortedValues(current)
  if (refSorted !== null && curSorted !== null)
    return kolmogorovSmirnovStatistic(refSorted, curSorted)
  // One side exact and the other sketched: the sketch's CDF is smoothed inside its centroids
  // while the exact ECDF jumps at every value, which on discrete data (integers, ties) overstated
  // D by up to a centroid's weight (an age column: 0.040 against 0.023 exact, a false alarm).
  // Both digests smooth alike, so D comes from the two digests, as measured in the benchmark.
  return sketchedKsStatistic(reference, current)
}

/**
 * How much of the centroids' hidden spread is added back to a sketched D. Interpolated CDFs are
 * smoother than the ECDFs they stand for, so their largest gap is too small: within a centroid
 * of w values the real ECDF wanders from the straight line by about sqrt(w)/n. Adding half the
 * combined size of that wander at the maximizing point made the sketched D fall below the exact
 * one in 40–48 % of columns instead of 100 % (benchmarks/sketch-accuracy.bench.js).
 */
export const ksSpreadCorrection = 0.5

/** D from two sketches: both CDFs at every knot of either, corrected for the smoothing. */
export function sketchedKsStatistic(
  reference: NumericalProfile,
  current: NumericalProfile,
): number {
  const fRef = profileCdf(reference)
  const fCur = profileCdf(current)
  let d = 0
  let at = Number.NaN
  for (const x of cdfKnots(reference, current)) {
    const gap = Math.abs(fRef(x) - fCur(x))
    if (gap > d) {
      d = gap
      at = x
    }
  }
  if (d === 0) return 0
  const wander =
    hiddenWeight(reference, at) / reference.count ** 2 +
    hiddenWeight(current, at) / current.count ** 2
  return Math.min(1, d + ksSpreadCorrection * Math.sqrt(wander))
}

/** Weight of the centroid nearest x, less the one value a centroid pins down exactly. */
function hiddenWeight(profile: NumericalProfile, x: number): number {
  const { means, weights } = profile.digest.centroids()
  if (means.length === 0) return 0
  let lo = 0
  let hi = means.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((means[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  if (lo > 0 && Math.abs((means[lo - 1] as number) - x) < Math.abs((means[lo] as number) - x)) lo--
  return Math.max(0, (weights[lo] as number) - 1)
}
