// What one partition's share of one time bucket looks like in the store: the dataset profile of
// each model version seen in it. Written in the binary form (bucket-binary.ts); read in it or in
// the JSON form every bucket had before (the same profile encoding as reference snapshots), which
// a rolling upgrade meets in buckets written by the previous version.

import { mergeDatasets, type DatasetProfile } from '../profile/dataset.js'
import {
  decodeProfile,
  encodeProfile,
  type FeatureProfile,
  type FeatureProfileJSON,
} from '../profile/index.js'
import type { NumericalProfile } from '../profile/numerical.js'
import { decodeBucketBinary, encodeBucketBinary, isBinaryBucket } from './bucket-binary.js'

/** Series (`${referenceId}|${modelVersion}`) → profile of its events; see RoutedEvent. */
export type BucketProfiles = Map<string, DatasetProfile>

interface BucketJSON {
  readonly v: 1
  readonly versions: ReadonlyArray<
    readonly [
      string,
      {
        readonly rows: number
        readonly features: ReadonlyArray<readonly [string, FeatureProfileJSON]>
        /** The model's outputs (core/model-outputs.ts), when the bucket has them. */
        readonly prediction?: FeatureProfileJSON
        readonly latency?: FeatureProfileJSON
        /** Events that broke a type, by feature ('' for the event); see DatasetProfile. */
        readonly typeViolations?: ReadonlyArray<readonly [string, number]>
      },
    ]
  >
}

/** A stored bucket: the binary form, or the JSON form of earlier versions (text or its bytes). */
export type BucketBlob = string | Uint8Array

/** The form a bucket is stored in. */
export function encodeBucket(bucket: BucketProfiles): Uint8Array {
  return encodeBucketBinary(bucket)
}

/** The JSON form, as every version before the binary one stored it (and the benchmark's baseline). */
export function encodeBucketJSON(bucket: BucketProfiles): string {
  const json: BucketJSON = {
    v: 1,
    versions: [...bucket].map(([version, profile]) => [
      version,
      {
        rows: profile.rows,
        features: [...profile.features].map(([name, p]) => [name, encodeProfile(p)] as const),
        ...(profile.prediction === undefined
          ? {}
          : { prediction: encodeProfile(profile.prediction) }),
        ...(profile.latency === undefined ? {} : { latency: encodeProfile(profile.latency) }),
        ...(profile.typeViolations === undefined
          ? {}
          : { typeViolations: [...profile.typeViolations] }),
      },
    ]),
  }
  return JSON.stringify(json)
}

/**
 * Values a window merged from decoded buckets keeps exactly: each bucket carries at most 1000
 * (profile/index.ts), and a window of up to this many, all from such buckets, scores KS and
 * Wasserstein exactly. 8 bytes a value, in memory only while the window is evaluated.
 */
export const windowExactLimit = 100_000

export function decodeBucket(
  blob: BucketBlob,
  options: { readonly exactLimit?: number } = {},
): BucketProfiles {
  if (typeof blob !== 'string' && isBinaryBucket(blob)) return decodeBucketBinary(blob, options)
  const text =
    typeof blob === 'string'
      ? blob
      : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('utf8')
  const json = JSON.parse(text) as BucketJSON
  const versions = json.versions as unknown
  if (json.v !== 1 || !Array.isArray(versions))
    throw new TypeError('not a driftwatch bucket (version 1)')
  const bucket: BucketProfiles = new Map()
  for (const [version, body] of json.versions) {
    const features = new Map<string, FeatureProfile>()
    for (const [name, profile] of body.features) features.set(name, decodeProfile(profile, options))
    const profile: DatasetProfile = { rows: body.rows, features }
    if (body.prediction !== undefined) profile.prediction = decodeProfile(body.prediction, options)
    if (body.latency?.kind === 'numerical')
      profile.latency = decodeProfile(body.latency, options) as NumericalProfile
    if (body.typeViolations !== undefined) profile.typeViolations = new Map(body.typeViolations)
    bucket.set(version, profile)
  }
  return bucket
}

/** Folds `other` into `into`, version by version. */
export function mergeBuckets(into: BucketProfiles, other: BucketProfiles): BucketProfiles {
  for (const [version, profile] of other) {
    const existing = into.get(version)
    if (existing === undefined)
      into.set(version, mergeDatasets({ rows: 0, features: new Map() }, profile))
    else mergeDatasets(existing, profile)
  }
  return into
}

export function seriesKey(referenceId: string, modelVersion: string): string {
  return `${referenceId}|${modelVersion}`
}

export function parseSeriesKey(key: string): { referenceId: string; modelVersion: string } {
  const bar = key.indexOf('|')
  return { referenceId: key.slice(0, bar), modelVersion: key.slice(bar + 1) }
}

/**
 * The field a bucket's partitions are merged into once no partition can write the bucket again
 * (adapters/redis/sketch-store.ts compacts). '*' cannot start a partition id (topic names).
 */
export const compactedField = '*'

/**
 * One bucket's profiles, merged over its fields: the compacted field first, then the partitions
 * in the order of their ids, each into a fresh accumulator, and the result put through the stored
 * form once. The compactor stores exactly that stored form (`compacted`) and a window reads every
 * bucket through this merge, so a window scores the same whether its buckets were compacted or
 * not, byte for byte: the merges happen in one order, and the stored form's round trip is exact
 * and resets what a merge leaves behind besides the numbers (a t-digest's next merge direction).
 * `compacted` is absent when there is one field: it is read as it is.
 */
export function mergeBucket(
  fields: ReadonlyMap<string, BucketBlob>,
  options: { readonly exactLimit?: number } = {},
): { readonly profiles: BucketProfiles; readonly compacted?: Uint8Array } {
  const names = [...fields.keys()].sort((a, b) =>
    a === compactedField ? -1 : b === compactedField ? 1 : a < b ? -1 : a > b ? 1 : 0,
  )
  if (names.length === 1) return { profiles: decodeBucket(fields.get(names[0]!)!, options) }
  const merged: BucketProfiles = new Map()
  for (const name of names) mergeBuckets(merged, decodeBucket(fields.get(name)!, options))
  // Stored once and read by every window over it: worth deflate's slower, tighter level.
  const compacted = encodeBucketBinary(merged, { level: 6 })
  return { profiles: decodeBucket(compacted, options), compacted }
}

export function mergeBucketFields(
  fields: ReadonlyMap<string, BucketBlob>,
  options: { readonly exactLimit?: number } = {},
): BucketProfiles {
  return mergeBucket(fields, options).profiles
}

/** The compacted blob of a bucket's fields: what SketchStore.compactBuckets stores. */
export function compactBucketFields(fields: ReadonlyMap<string, BucketBlob>): Uint8Array {
  const { profiles, compacted } = mergeBucket(fields, { exactLimit: windowExactLimit })
  return compacted ?? encodeBucketBinary(profiles, { level: 6 })
}
