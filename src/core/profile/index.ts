// Feature profiles: the one summary every path builds (file check, stream buckets, references),
// and their serialized form. The JSON form is what reference snapshots and Redis hold; it carries
// everything the drift tests read, so decode(encode(p)) scores exactly like p.

import { TDigest, type TDigestJSON } from '../sketch/tdigest.js'
import type { Binning } from './binning.js'
import { cloneCategorical, mergeCategorical, type CategoricalProfile } from './categorical.js'
import { cloneNumerical, mergeNumerical, type NumericalProfile } from './numerical.js'

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
  readonly sum: number
  readonly sumSq: number
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
    sum: profile.sum,
    sumSq: profile.sumSq,
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
export function decodeProfile(json: FeatureProfileJSON): FeatureProfile {
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
  }
  return {
    kind: 'numerical',
    binning,
    count: json.count,
    missing: json.missing,
    nonFinite: json.nonFinite,
    mismatched: json.mismatched ?? 0,
    sum: json.sum,
    sumSq: json.sumSq,
    min: json.min ?? Number.POSITIVE_INFINITY,
    max: json.max ?? Number.NEGATIVE_INFINITY,
    digest: TDigest.fromJSON(json.digest),
    bins: Float64Array.from(json.bins),
    atEdge: Float64Array.from(json.atEdge),
    smallValues:
      json.smallValues === null ? null : new Map(json.smallValues.map(([v, n]) => [v, n])),
  }
}
