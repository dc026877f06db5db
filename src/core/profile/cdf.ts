// The empirical CDF of a numerical profile, as well as a profile knows it.
//
// At each reference breakpoint e_i the profile holds exact counts: #(x < e_i) is the sum of the
// bins below e_i and atEdge[i] is the jump at e_i, so F(e_i) = P(X <= e_i) is exact. Between two
// breakpoints the t-digest interpolates, and its estimate is clamped into the exact bracket
// [F(e_{i-1}), P(X < e_i)], so the error of F anywhere is at most the digest's rank error and never
// more than the mass of the bin x falls in (≤ ~1 % of the reference, by construction).

import { binIndex } from './binning.js'
import type { NumericalProfile } from './numerical.js'

export interface ProfileCdf {
  /** P(X <= x), right-continuous. */
  (x: number): number
}

export function profileCdf(profile: NumericalProfile): ProfileCdf {
  const { edges } = profile.binning
  const n = profile.count
  // below[i] = #(x < edges[i]); through[i] = #(x <= edges[i])
  const below = new Float64Array(edges.length)
  const through = new Float64Array(edges.length)
  let running = 0
  for (let i = 0; i < edges.length; i++) {
    running += profile.bins[i] as number
    below[i] = running
    through[i] = running + (profile.atEdge[i] as number)
  }
  return (x: number): number => {
    if (n === 0) return Number.NaN
    if (x < profile.min) return 0
    if (x >= profile.max) return 1
    const bin = binIndex(edges, x)
    if (bin > 0 && edges[bin - 1] === x) return (through[bin - 1] as number) / n
    const lower = bin === 0 ? 0 : (through[bin - 1] as number) / n
    const upper = bin === edges.length ? 1 : (below[bin] as number) / n
    const estimate = profile.digest.cdf(x)
    return Math.min(upper, Math.max(lower, estimate))
  }
}

/**
 * The points where either CDF may change slope or jump: both digests' centroids, the reference
 * breakpoints, the extremes, and the midpoints between neighbouring centroids.
 */
export function cdfKnots(a: NumericalProfile, b: NumericalProfile): Float64Array {
  const points: number[] = []
  for (const profile of [a, b]) {
    const means = profile.digest.centroids().means
    for (let i = 0; i < means.length; i++) {
      points.push(means[i] as number)
      // halves first: the sum of two values near the double range would overflow
      if (i + 1 < means.length) points.push((means[i] as number) / 2 + (means[i + 1] as number) / 2)
    }
    for (const edge of profile.binning.edges) points.push(edge)
    if (profile.count > 0) points.push(profile.min, profile.max)
  }
  const sorted = Float64Array.from(points).sort()
  let unique = 0
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[unique - 1]) sorted[unique++] = sorted[i] as number
  }
  return sorted.subarray(0, unique)
}
