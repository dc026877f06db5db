// The binary bucket form keeps every number a bucket profile holds, bit for bit, as the JSON form
// did; old JSON buckets still decode (a rolling upgrade meets them); merging a bucket's fields
// gives the same profiles whether they were compacted first or not.

import { describe, expect, it } from 'vitest'
import {
  addRow,
  createDatasetProfile,
  type DatasetProfile,
  type ProfileLayout,
} from '../../../../src/core/profile/dataset.js'
import { encodeProfile, type FeatureProfile } from '../../../../src/core/profile/index.js'
import { addOutputs } from '../../../../src/core/model-outputs.js'
import {
  compactBucketFields,
  compactedField,
  decodeBucket,
  encodeBucket,
  encodeBucketJSON,
  mergeBucketFields,
  windowExactLimit,
  type BucketProfiles,
} from '../../../../src/core/stream/bucket-codec.js'
import { encodeBucketBinary, isBinaryBucket } from '../../../../src/core/stream/bucket-binary.js'
import { ReferenceBuilder } from '../../../../src/core/reference.js'
import { mulberry32, normal } from '../../../helpers/random.js'

function layout(): ProfileLayout {
  const builder = new ReferenceBuilder([
    { name: 'amount', kind: 'numerical', reason: 'test' },
    { name: 'rating', kind: 'numerical', reason: 'test' },
    { name: 'country', kind: 'categorical', reason: 'test' },
  ])
  const rng = mulberry32(7)
  for (let i = 0; i < 2000; i++)
    builder.add({
      amount: normal(rng, 100, 15),
      rating: 1 + Math.floor(rng() * 5),
      country: ['de', 'fr', 'it', 'es'][Math.floor(rng() * 4)],
    })
  const reference = builder.build()
  const columns = [...reference.features].map(([name, p]) =>
    p.kind === 'numerical'
      ? ({ name, kind: 'numerical', binning: p.binning } as const)
      : ({ name, kind: 'categorical', vocabulary: p.vocabulary } as const),
  )
  return {
    columns,
    prediction: { name: 'prediction', kind: 'categorical', vocabulary: new Set(['0', '1']) },
  }
}

/** A partition's bucket: every kind of count a profile keeps, `rows` events per series. */
function bucketOf(seed: number, rows: number): BucketProfiles {
  const rng = mulberry32(seed)
  const bucket: BucketProfiles = new Map()
  for (const version of ['v1', 'v2']) {
    const profile = createDatasetProfile(layout())
    for (let i = 0; i < rows; i++) {
      const u = rng()
      addRow(profile, {
        // missing, non-finite, text in a numerical column, far outside the reference, ordinary
        amount:
          u < 0.02
            ? null
            : u < 0.03
              ? Number.POSITIVE_INFINITY
              : u < 0.04
                ? 'n/a'
                : u < 0.05
                  ? 1e9
                  : normal(rng, version === 'v1' ? 100 : 110, 15),
        rating: 1 + Math.floor(rng() * 3),
        // reference categories, new ones past the unseen cap, missing
        country: u < 0.05 ? null : u < 0.5 ? `new-${Math.floor(rng() * 300)}` : 'de',
      })
      addOutputs(profile, rng() < 0.1 ? 1 : 0, Math.round(rng() * 4000) / 100)
    }
    bucket.set(`ref|${version}`, profile)
  }
  return bucket
}

/** Every number of a bucket, in order, with its exact float bits and the kept values. */
function canonical(bucket: BucketProfiles): string {
  const feature = (p: FeatureProfile): unknown =>
    p.kind === 'categorical'
      ? encodeProfile(p)
      : {
          ...encodeProfile(p),
          values: p.values === null ? null : Array.from(p.values.subarray(0, p.count)),
          exactLimit: p.exactLimit,
          digest: p.digest.toJSON(),
        }
  const dataset = (d: DatasetProfile): unknown => ({
    rows: d.rows,
    features: [...d.features].map(([name, p]) => [name, feature(p)]),
    prediction: d.prediction === undefined ? null : feature(d.prediction),
    latency: d.latency === undefined ? null : feature(d.latency),
  })
  return JSON.stringify(
    [...bucket].map(([series, d]) => [series, dataset(d)]),
    (_, v: unknown) =>
      typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `number:${v}` : v,
  )
}

describe('binary bucket form', () => {
  it('keeps kept values, digests, bins, category counts, data-quality counters and outputs exactly', () => {
    for (const rows of [300, 5000]) {
      const bucket = bucketOf(rows, rows)
      const blob = encodeBucket(bucket)
      expect(isBinaryBucket(blob)).toBe(true)
      const decoded = decodeBucket(blob)
      expect(canonical(decoded)).toBe(canonical(bucket))
      // and what the JSON form kept, the binary form keeps the same
      expect(canonical(decoded)).toBe(canonical(decodeBucket(encodeBucketJSON(bucket))))
    }
  })

  it('holds what a profile counts (the test data reaches every counter)', () => {
    const profile = decodeBucket(encodeBucket(bucketOf(3, 300))).get('ref|v1') as DatasetProfile
    const amount = profile.features.get('amount')
    const country = profile.features.get('country')
    if (amount?.kind !== 'numerical' || country?.kind !== 'categorical') throw new Error('kinds')
    expect(amount.values?.length).toBe(amount.count)
    expect(amount.missing).toBeGreaterThan(0)
    expect(amount.nonFinite).toBeGreaterThan(0)
    expect(amount.mismatched).toBeGreaterThan(0)
    expect(amount.outOfRange).toBeGreaterThan(0)
    expect(profile.features.get('rating')?.kind === 'numerical').toBe(true)
    expect(country.other).toBeGreaterThan(0)
    expect(country.missing).toBeGreaterThan(0)
    expect([...country.counts.keys()].slice(0, 4)).toEqual([...(country.vocabulary ?? [])])
    expect(profile.prediction?.kind).toBe('categorical')
    expect(profile.latency?.count).toBe(300)
  })

  it('deflates a body from 4 KB when that is smaller, and not below', () => {
    const bucket = bucketOf(5, 5000)
    const plain = encodeBucketBinary(bucket, { deflateFrom: Number.POSITIVE_INFINITY })
    const deflated = encodeBucketBinary(bucket)
    expect(plain[5]).toBe(0)
    expect(deflated[5]).toBe(1)
    expect(deflated.length).toBeLessThan(plain.length)
    expect(canonical(decodeBucket(plain))).toBe(canonical(decodeBucket(deflated)))
    const small = createDatasetProfile({ columns: [] })
    expect(encodeBucket(new Map([['ref|', small]]))[5]).toBe(0)
  })

  it('is at most half the size of the JSON form', () => {
    const bucket = bucketOf(9, 5000)
    expect(encodeBucket(bucket).length).toBeLessThan(encodeBucketJSON(bucket).length / 2)
  })

  it('reads JSON buckets of earlier versions, as text or as the bytes Redis returns', () => {
    const bucket = bucketOf(11, 300)
    const json = encodeBucketJSON(bucket)
    expect(canonical(decodeBucket(Buffer.from(json)))).toBe(canonical(decodeBucket(json)))
    expect(canonical(decodeBucket(Buffer.from(json)))).toBe(canonical(bucket))
  })

  it('names a corrupt bucket', () => {
    const blob = encodeBucketBinary(bucketOf(13, 50), { deflateFrom: Number.POSITIVE_INFINITY })
    expect(() => decodeBucket(blob.subarray(0, blob.length - 3))).toThrow(/not a driftwatch bucket/)
    const wrongVersion = blob.slice()
    wrongVersion[4] = 9
    expect(() => decodeBucket(wrongVersion)).toThrow(/unsupported binary version 9/)
  })
})

describe('compacting a bucket', () => {
  const fields = (): Map<string, Uint8Array | string> =>
    new Map<string, Uint8Array | string>([
      ['bench:2', encodeBucket(bucketOf(21, 700))],
      ['bench:0', encodeBucket(bucketOf(22, 400))],
      // a partition still on the JSON form (written before an upgrade)
      ['bench:1', encodeBucketJSON(bucketOf(23, 900))],
    ])

  it('a window reads the same profiles from the compacted field as from the partitions', () => {
    const uncompacted = mergeBucketFields(fields(), { exactLimit: windowExactLimit })
    const compacted = mergeBucketFields(
      new Map([[compactedField, compactBucketFields(fields())]]),
      {
        exactLimit: windowExactLimit,
      },
    )
    expect(canonical(compacted)).toBe(canonical(uncompacted))
    // byte for byte once stored again
    expect(
      Buffer.from(encodeBucket(compacted)).equals(Buffer.from(encodeBucket(uncompacted))),
    ).toBe(true)
  })

  it('keeps the partitions’ kept values (up to the window limit) and sums every counter', () => {
    const merged = mergeBucketFields(fields(), { exactLimit: windowExactLimit })
    const v1 = merged.get('ref|v1') as DatasetProfile
    expect(v1.rows).toBe(700 + 400 + 900)
    const amount = v1.features.get('amount')
    if (amount?.kind !== 'numerical') throw new Error('kind')
    expect(amount.values?.length).toBe(amount.count)
    const parts = [...fields().values()].map((blob) =>
      (decodeBucket(blob).get('ref|v1') as DatasetProfile).features.get('amount'),
    )
    const sum = (key: 'missing' | 'nonFinite' | 'mismatched' | 'outOfRange' | 'count'): number =>
      parts.reduce((s, p) => s + (p?.kind === 'numerical' ? p[key] : 0), 0)
    for (const key of ['missing', 'nonFinite', 'mismatched', 'outOfRange', 'count'] as const)
      expect(amount[key]).toBe(sum(key))
    expect(v1.latency?.count).toBe(2000)
  })

  it('does not depend on the order Redis returns the fields in', () => {
    const reversed = new Map([...fields()].reverse())
    expect(canonical(mergeBucketFields(reversed))).toBe(canonical(mergeBucketFields(fields())))
  })
})
