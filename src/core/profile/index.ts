// Feature profiles: the one summary every path builds (file check, stream buckets, references),
// and their serialized form. The JSON form is what reference snapshots and Redis hold; it carries
// everything the drift tests read, so decode(encode(p)) scores exactly like p.

import { TDigest, type TDigestJSON } from '../sketch/tdigest.js'
import type { Binning } from './binning.js'
import { cloneCategorical, mergeCategorical, type CategoricalProfile } from './categorical.js'
import {
  cloneNumerical,
  defaultExactLimit,
  mergeNumerical,
  scaleOf,
  type NumericalProfile,
} from './numerical.js'

export type FeatureProfile = NumericalProfile | CategoricalProfile

export function mergeProfiles<P extends FeatureProfile>(into: P, other: P): P {
  if (into.kind === 'numerical' && other.kind === 'numerical')
    return mergeNumerical(into, other) as P
  if (into.kind === 'categorical' && other.kind === 'categorical')
    return mergeCategorical(into, other) as P
  throw new RangeError(`cannot merge a ${into.kind} profile with a ${other.kind} profile`)
}

export function cloneProfile<P extends FeatureProfile>(profile: P): P {
  return (profile.kind === 'numerical' ? cloneNumerical(profile) : cloneCategorical(profile)) as P
}

export interface NumericalProfileJSON {
  readonly kind: 'numerical'
  readonly edges: readonly number[]
  readonly decileEdges: readonly number[]
  readonly count: number
  readonly missing: number
  readonly nonFinite: number
  /** Written only when non-zero, so snapshots of typed data keep their shape. */
  readonly mismatched?: number
  /**
   * Moments: mean, and the sum of squared deviations divided by scale² (see numerical.ts).
   * Profiles stored before these were kept carry `sum` and `sumSq` instead; both decode.
   */
  readonly mean?: number
  readonly m2?: number
  readonly scale?: number
  readonly sum?: number
  readonly sumSq?: number
  /** The widened reference range, [lower, upper]; null for an infinite end. */
  readonly range?: readonly [number | null, number | null]
  readonly outOfRange?: number
  /** The finite values, while the profile keeps them and there are at most serializedValueLimit. */
  readonly values?: readonly number[]
  /** null when the profile holds no finite value (JSON has no Infinity). */
  readonly min: number | null
  readonly max: number | null
  readonly digest: TDigestJSON
  readonly bins: readonly number[]
  readonly atEdge: readonly number[]
  readonly smallValues: ReadonlyArray<readonly [number, number]> | null
}

export interface CategoricalProfileJSON {
  readonly kind: 'categorical'
  readonly vocabulary: readonly string[] | null
  readonly unseenCap: number
  readonly count: number
  readonly missing: number
  readonly counts: ReadonlyArray<readonly [string, number]>
  readonly other: number
}

export type FeatureProfileJSON = NumericalProfileJSON | CategoricalProfileJSON

/**
 * Kept values are written only up to this many: a stream bucket carries them, a reference
 * snapshot of millions of rows does not (its file would grow without bound).
 */
export const serializedValueLimit = defaultExactLimit

export function encodeProfile(profile: FeatureProfile): FeatureProfileJSON {
  if (profile.kind === 'categorical') {
    return {
      kind: 'categorical',
      vocabulary: profile.vocabulary === null ? null : [...profile.vocabulary],
      unseenCap: profile.unseenCap,
      count: profile.count,
      missing: profile.missing,
      counts: [...profile.counts],
      other: profile.other,
    }
  }
  return {
    kind: 'numerical',
    edges: [...profile.binning.edges],
    decileEdges: [...profile.binning.decileEdges],
    count: profile.count,
    missing: profile.missing,
    nonFinite: profile.nonFinite,
    ...(profile.mismatched > 0 ? { mismatched: profile.mismatched } : {}),
    mean: profile.mean,
    m2: profile.m2,
    scale: profile.scale,
    ...(profile.binning.range === undefined
      ? {}
      : {
          range: [
            finiteOrNull(profile.binning.range.lower),
            finiteOrNull(profile.binning.range.upper),
          ],
        }),
    outOfRange: profile.outOfRange,
    ...(profile.values !== null && profile.count <= serializedValueLimit
      ? { values: Array.from(profile.values.subarray(0, profile.count)) }
      : {}),
    min: profile.count === 0 ? null : profile.min,
    max: profile.count === 0 ? null : profile.max,
    digest: profile.digest.toJSON(),
    bins: [...profile.bins],
    atEdge: [...profile.atEdge],
    smallValues: profile.smallValues === null ? null : [...profile.smallValues],
  }
}

/**
 * Rebuilds a profile from its JSON form. `binning` lets profiles decoded against one reference
 * share its breakpoints object; it must equal the encoded edges.
 */
export function decodeProfile(
  json: FeatureProfileJSON,
  options: { readonly exactLimit?: number } = {},
): FeatureProfile {
  if (json.kind === 'categorical') {
    return {
      kind: 'categorical',
      vocabulary: json.vocabulary === null ? null : new Set(json.vocabulary),
      unseenCap: json.unseenCap,
      count: json.count,
      missing: json.missing,
      counts: new Map(json.counts.map(([category, n]) => [category, n])),
      other: json.other,
    }
  }
  const binning: Binning = {
    edges: Float64Array.from(json.edges),
    decileEdges: Int32Array.from(json.decileEdges),
    ...(json.range === undefined
      ? {}
      : {
          range: {
            lower: json.range[0] ?? Number.NEGATIVE_INFINITY,
            upper: json.range[1] ?? Number.POSITIVE_INFINITY,
          },
        }),
  }
  const values =
    json.values !== undefined && json.values.length === json.count
      ? Float64Array.from(json.values)
      : null
  return {
    kind: 'numerical',
    binning,
    count: json.count,
    missing: json.missing,
    nonFinite: json.nonFinite,
    mismatched: json.mismatched ?? 0,
    ...momentsOf(json),
    outOfRange: json.outOfRange ?? 0,
    exactLimit: options.exactLimit ?? defaultExactLimit,
    values,
    min: json.min ?? Number.POSITIVE_INFINITY,
    max: json.max ?? Number.NEGATIVE_INFINITY,
    digest: TDigest.fromJSON(json.digest),
    bins: Float64Array.from(json.bins),
    atEdge: Float64Array.from(json.atEdge),
    smallValues:
      json.smallValues === null ? null : new Map(json.smallValues.map(([v, n]) => [v, n])),
  }
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null
}

/** Moments from either stored form: mean/m2/scale, or the older sum/sumSq. */
function momentsOf(json: NumericalProfileJSON): { mean: number; m2: number; scale: number } {
  if (json.mean !== undefined && json.m2 !== undefined && json.scale !== undefined)
    return { mean: json.mean, m2: json.m2, scale: json.scale }
  const n = json.count
  if (n === 0) return { mean: 0, m2: 0, scale: 1 }
  const sum = json.sum ?? 0
  const mean = sum / n
  const scale = Math.max(scaleOf(json.min ?? 0), scaleOf(json.max ?? 0))
  const m2 = Math.max(0, (json.sumSq ?? 0) - sum * mean) / scale / scale
  return { mean, m2, scale }
}
