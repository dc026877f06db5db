// The discrete distributions the binned tests compare. Numerical features: counts in the
// reference's decile bins. Categorical features (and numerical ones with at most five distinct
// values, which Evidently compares like categories): counts over the union of the categories
// either side has — a category both sides lack would add 0/0 terms, so it is left out.

import { decileCounts } from '../profile/binning.js'
import { otherCategory } from '../profile/categorical.js'
import type { FeatureProfile } from '../profile/index.js'
import type { NumericalProfile } from '../profile/numerical.js'
import { insufficient, type DriftTest, type DriftTestDefaults } from './types.js'

export interface PairedCounts {
  readonly keys: readonly string[]
  readonly reference: Float64Array
  readonly current: Float64Array
  readonly referenceTotal: number
  readonly currentTotal: number
}

/** Decile-bin counts (numerical) or category counts (categorical). */
export function binnedCounts(reference: FeatureProfile, current: FeatureProfile): PairedCounts {
  if (reference.kind === 'numerical' && current.kind === 'numerical') {
    const ref = decileCounts(reference.binning, reference.bins)
    const cur = decileCounts(current.binning, current.bins)
    const keys = Array.from({ length: ref.length }, (_, i) => `bin${i}`)
    return {
      keys,
      reference: ref,
      current: cur,
      referenceTotal: reference.count,
      currentTotal: current.count,
    }
  }
  return categoryCounts(reference, current)
}

/** Counts per category over the union of both sides; numerical features by exact value. */
export function categoryCounts(reference: FeatureProfile, current: FeatureProfile): PairedCounts {
  const ref = countsByCategory(reference)
  const cur = countsByCategory(current)
  const keys = [...new Set([...ref.keys(), ...cur.keys()])]
    .filter((key) => (ref.get(key) ?? 0) > 0 || (cur.get(key) ?? 0) > 0)
    .sort()
  return {
    keys,
    reference: Float64Array.from(keys, (key) => ref.get(key) ?? 0),
    current: Float64Array.from(keys, (key) => cur.get(key) ?? 0),
    referenceTotal: reference.count,
    currentTotal: current.count,
  }
}

function countsByCategory(profile: FeatureProfile): Map<string, number> {
  if (profile.kind === 'numerical') {
    const small = profile.smallValues ?? new Map<number, number>()
    return new Map([...small].map(([value, n]) => [String(value), n]))
  }
  const counts = new Map(profile.counts)
  if (profile.other > 0) counts.set(otherCategory, (counts.get(otherCategory) ?? 0) + profile.other)
  return counts
}

/** Distinct values over both sides while both are small, else null ("many"). */
export function distinctValues(reference: FeatureProfile, current: FeatureProfile): number | null {
  if (reference.kind === 'numerical' && current.kind === 'numerical') {
    if (reference.smallValues === null || current.smallValues === null) return null
    return new Set([...reference.smallValues.keys(), ...current.smallValues.keys()]).size
  }
  return categoryCounts(reference, current).keys.length
}

export function hasSmallValues(profile: NumericalProfile): boolean {
  return profile.smallValues !== null
}

export function shares(counts: Float64Array): Float64Array {
  let total = 0
  for (const n of counts) total += n
  return counts.map((n) => (total === 0 ? 0 : n / total))
}

/**
 * A distance test on the binned distributions (PSI, Jensen–Shannon, KL, Hellinger): the shape all
 * of them share, so each test file holds only its formula.
 */
export function binnedDistanceTest(spec: {
  readonly name: string
  readonly description: string
  readonly defaults: DriftTestDefaults
  /** The distance between the reference's and the current bin counts (not yet normalized). */
  readonly distance: (reference: Float64Array, current: Float64Array) => number
}): DriftTest {
  return {
    name: spec.name,
    description: spec.description,
    featureKinds: ['numerical', 'categorical'],
    scoreKind: 'distance',
    severityOn: 'verdict',
    defaults: spec.defaults,
    score(reference, current) {
      const counts = binnedCounts(reference, current)
      if (counts.referenceTotal === 0 || counts.currentTotal === 0)
        return insufficient('no values on one side')
      return {
        status: 'ok',
        statistic: spec.distance(counts.reference, counts.current),
        pValue: null,
      }
    },
  }
}
