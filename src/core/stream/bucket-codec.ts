// What one partition's share of one time bucket looks like in the store: the dataset profile of
// each model version seen in it. JSON, via the same profile encoding as reference snapshots.

import { mergeDatasets, type DatasetProfile } from '../profile/dataset.js'
import {
  decodeProfile,
  encodeProfile,
  type FeatureProfile,
  type FeatureProfileJSON,
} from '../profile/index.js'
import type { NumericalProfile } from '../profile/numerical.js'

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

export function encodeBucket(bucket: BucketProfiles): string {
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
  text: string,
  options: { readonly exactLimit?: number } = {},
): BucketProfiles {
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
