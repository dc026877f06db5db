// The binary form of a stream bucket (what Redis holds since issue 12): the same content as the
// JSON form of bucket-codec.ts, bit for bit (every float is written as its float64, every count
// that is a whole number as a varint), about a third of its size. Counts arrays that are mostly
// zero (values exactly on a breakpoint, unused bins) are written sparse; a categorical profile's
// counts of its reference vocabulary are written in vocabulary order without repeating the names;
// a t-digest is its own binary form (core/sketch/tdigest.ts).
//
// Layout: "DWBK", a format version (1), a flags byte (bit 0: the body is raw DEFLATE), then the
// body. A body of at least `deflateFrom` bytes is deflated when that makes it smaller: a merged
// bucket of a busy model is mostly digest means, whose high bytes repeat (see BENCHMARKS.md,
// "Redis footprint"); a small bucket is not worth the CPU.

import { deflateRawSync, inflateRawSync } from 'node:zlib'
import type { DatasetProfile } from '../profile/dataset.js'
import type { FeatureProfile } from '../profile/index.js'
import type { Binning } from '../profile/binning.js'
import type { CategoricalProfile } from '../profile/categorical.js'
import { defaultExactLimit, type NumericalProfile } from '../profile/numerical.js'
import { TDigest } from '../sketch/tdigest.js'

const MAGIC = [0x44, 0x57, 0x42, 0x4b] as const // "DWBK"
const FORMAT_VERSION = 1
const FLAG_DEFLATED = 1
const HEADER_BYTES = 6
/** Bodies from this many bytes on are deflated when that saves (see the header). */
export const deflateFrom = 4096

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

class Writer {
  bytes = new Uint8Array(16_384)
  view = new DataView(this.bytes.buffer)
  length = 0

  #room(n: number): void {
    if (this.length + n <= this.bytes.length) return
    let size = this.bytes.length * 2
    while (size < this.length + n) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.bytes.subarray(0, this.length))
    this.bytes = grown
    this.view = new DataView(grown.buffer)
  }

  u8(x: number): void {
    this.#room(1)
    this.bytes[this.length++] = x
  }

  /** Unsigned integer up to 2^53, 7 bits a byte (arithmetic, not 32-bit shifts). */
  uv(x: number): void {
    this.#room(8)
    while (x >= 0x80) {
      this.bytes[this.length++] = (x % 0x80) | 0x80
      x = Math.floor(x / 0x80)
    }
    this.bytes[this.length++] = x
  }

  f64(x: number): void {
    this.#room(8)
    this.view.setFloat64(this.length, x, true)
    this.length += 8
  }

  /** A count: a whole number in [0, 2^52] as the varint 2x; anything else as 1, then float64. */
  num(x: number): void {
    if (Number.isInteger(x) && x >= 0 && x <= 2 ** 52 && !Object.is(x, -0)) this.uv(2 * x)
    else {
      this.uv(1)
      this.f64(x)
    }
  }

  str(s: string): void {
    const encoded = utf8.encode(s)
    this.uv(encoded.length)
    this.raw(encoded)
  }

  raw(b: Uint8Array): void {
    this.#room(b.length)
    this.bytes.set(b, this.length)
    this.length += b.length
  }

  f64s(xs: ArrayLike<number>, n = xs.length): void {
    this.#room(8 * n)
    for (let i = 0; i < n; i++, this.length += 8) this.view.setFloat64(this.length, xs[i]!, true)
  }
}

class Reader {
  readonly view: DataView
  offset = 0
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  #need(n: number): void {
    if (this.offset + n > this.bytes.length)
      throw new TypeError(`not a driftwatch bucket: truncated at byte ${this.offset}`)
  }

  u8(): number {
    this.#need(1)
    return this.bytes[this.offset++]!
  }

  uv(): number {
    let x = 0
    let factor = 1
    for (;;) {
      const b = this.u8()
      x += (b & 0x7f) * factor
      if (b < 0x80) return x
      factor *= 0x80
      if (factor > 2 ** 56) throw new TypeError('not a driftwatch bucket: varint too long')
    }
  }

  f64(): number {
    this.#need(8)
    const x = this.view.getFloat64(this.offset, true)
    this.offset += 8
    return x
  }

  num(): number {
    const v = this.uv()
    return v % 2 === 1 ? this.f64() : v / 2
  }

  str(): string {
    const n = this.uv()
    this.#need(n)
    const s = utf8Decoder.decode(this.bytes.subarray(this.offset, this.offset + n))
    this.offset += n
    return s
  }

  raw(n: number): Uint8Array {
    this.#need(n)
    const b = this.bytes.subarray(this.offset, this.offset + n)
    this.offset += n
    return b
  }

  f64s(n: number): Float64Array {
    this.#need(8 * n)
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++, this.offset += 8) out[i] = this.view.getFloat64(this.offset, true)
    return out
  }
}

/** Whether `blob` is in this binary form (else it is the JSON form, which starts with '{'). */
export function isBinaryBucket(blob: Uint8Array): boolean {
  return MAGIC.every((b, i) => blob[i] === b)
}

export function encodeBucketBinary(
  bucket: ReadonlyMap<string, DatasetProfile>,
  options: { readonly deflateFrom?: number; readonly level?: number } = {},
): Uint8Array {
  const w = new Writer()
  w.uv(bucket.size)
  for (const [series, profile] of bucket) {
    w.str(series)
    w.num(profile.rows)
    w.uv(profile.features.size)
    for (const [name, feature] of profile.features) {
      w.str(name)
      writeProfile(w, feature)
    }
    w.u8(
      (profile.prediction === undefined ? 0 : 1) |
        (profile.latency === undefined ? 0 : 2) |
        (profile.typeViolations === undefined ? 0 : 4),
    )
    if (profile.prediction !== undefined) writeProfile(w, profile.prediction)
    if (profile.latency !== undefined) writeProfile(w, profile.latency)
    if (profile.typeViolations !== undefined) {
      // Events that broke a type, by feature ('' for the event); see DatasetProfile.
      w.uv(profile.typeViolations.size)
      for (const [feature, n] of profile.typeViolations) {
        w.str(feature)
        w.num(n)
      }
    }
  }
  const body = w.bytes.subarray(0, w.length)
  let flags = 0
  let stored = body
  if (body.length >= (options.deflateFrom ?? deflateFrom)) {
    // Level 1 by default: a partition's bucket is rewritten on every flush, and level 1 is 3x
    // faster than 6 here, within 4 % of its size. A compacted bucket is written once: level 6
    // (bucket-codec.ts mergeBucket). See BENCHMARKS.md, Redis footprint.
    const deflated = deflateRawSync(body, { level: options.level ?? 1 })
    if (deflated.length < body.length) {
      stored = deflated
      flags = FLAG_DEFLATED
    }
  }
  const out = new Uint8Array(HEADER_BYTES + stored.length)
  out.set(MAGIC, 0)
  out[4] = FORMAT_VERSION
  out[5] = flags
  out.set(stored, HEADER_BYTES)
  return out
}

export function decodeBucketBinary(
  blob: Uint8Array,
  options: { readonly exactLimit?: number } = {},
): Map<string, DatasetProfile> {
  if (blob.length < HEADER_BYTES || !isBinaryBucket(blob))
    throw new TypeError('not a driftwatch bucket (bad magic)')
  if (blob[4] !== FORMAT_VERSION)
    throw new TypeError(`not a driftwatch bucket: unsupported binary version ${blob[4]}`)
  const flags = blob[5]!
  if ((flags & ~FLAG_DEFLATED) !== 0) throw new TypeError('not a driftwatch bucket: unknown flags')
  const stored = blob.subarray(HEADER_BYTES)
  const body = (flags & FLAG_DEFLATED) !== 0 ? new Uint8Array(inflateRawSync(stored)) : stored
  const r = new Reader(body)
  const exactLimit = options.exactLimit ?? defaultExactLimit
  const bucket = new Map<string, DatasetProfile>()
  const versions = r.uv()
  for (let v = 0; v < versions; v++) {
    const series = r.str()
    const rows = r.num()
    const features = new Map<string, FeatureProfile>()
    const n = r.uv()
    for (let i = 0; i < n; i++) {
      const name = r.str()
      features.set(name, readProfile(r, exactLimit))
    }
    const profile: DatasetProfile = { rows, features }
    const outputs = r.u8()
    if ((outputs & 1) !== 0) profile.prediction = readProfile(r, exactLimit)
    if ((outputs & 2) !== 0) {
      const latency = readProfile(r, exactLimit)
      if (latency.kind !== 'numerical')
        throw new TypeError('not a driftwatch bucket: a categorical latency')
      profile.latency = latency
    }
    if ((outputs & 4) !== 0) {
      const violations = new Map<string, number>()
      const count = r.uv()
      for (let i = 0; i < count; i++) {
        const feature = r.str()
        violations.set(feature, r.num())
      }
      profile.typeViolations = violations
    }
    bucket.set(series, profile)
  }
  if (r.offset !== body.length)
    throw new TypeError(`not a driftwatch bucket: ${body.length - r.offset} trailing bytes`)
  return bucket
}

const NUMERICAL = 0
const CATEGORICAL = 1

function writeProfile(w: Writer, profile: FeatureProfile): void {
  if (profile.kind === 'categorical') writeCategorical(w, profile)
  else writeNumerical(w, profile)
}

function readProfile(r: Reader, exactLimit: number): FeatureProfile {
  const kind = r.u8()
  if (kind === NUMERICAL) return readNumerical(r, exactLimit)
  if (kind === CATEGORICAL) return readCategorical(r)
  throw new TypeError(`not a driftwatch bucket: profile kind ${kind}`)
}

function writeCategorical(w: Writer, p: CategoricalProfile): void {
  w.u8(CATEGORICAL)
  const vocabulary = p.vocabulary === null ? null : [...p.vocabulary]
  w.uv(vocabulary === null ? 0 : vocabulary.length + 1)
  for (const category of vocabulary ?? []) w.str(category)
  w.num(p.unseenCap)
  w.num(p.count)
  w.num(p.missing)
  w.num(p.other)
  const counts = [...p.counts]
  // Counts start with the vocabulary, in its order (createCategoricalProfile): then only the
  // numbers are written for those, and the names of the rest.
  let aligned = vocabulary !== null && counts.length >= vocabulary.length
  for (let i = 0; aligned && i < (vocabulary?.length ?? 0); i++)
    aligned = counts[i]![0] === vocabulary![i]
  w.u8(aligned ? 1 : 0)
  const start = aligned ? (vocabulary as string[]).length : 0
  for (let i = 0; i < start; i++) w.num(counts[i]![1])
  w.uv(counts.length - start)
  for (let i = start; i < counts.length; i++) {
    w.str(counts[i]![0])
    w.num(counts[i]![1])
  }
}

function readCategorical(r: Reader): CategoricalProfile {
  const n = r.uv()
  const vocabulary = n === 0 ? null : Array.from({ length: n - 1 }, () => r.str())
  const unseenCap = r.num()
  const count = r.num()
  const missing = r.num()
  const other = r.num()
  const counts = new Map<string, number>()
  if (r.u8() === 1) for (const category of vocabulary ?? []) counts.set(category, r.num())
  const extra = r.uv()
  for (let i = 0; i < extra; i++) {
    const category = r.str()
    counts.set(category, r.num())
  }
  return {
    kind: 'categorical',
    vocabulary: vocabulary === null ? null : new Set(vocabulary),
    unseenCap,
    count,
    missing,
    counts,
    other,
  }
}

function writeNumerical(w: Writer, p: NumericalProfile): void {
  w.u8(NUMERICAL)
  const { edges, decileEdges, range } = p.binning
  w.uv(edges.length)
  w.f64s(edges)
  w.uv(decileEdges.length)
  for (const index of decileEdges) w.uv(index)
  w.u8(range === undefined ? 0 : 1)
  if (range !== undefined) {
    w.f64(range.lower)
    w.f64(range.upper)
  }
  w.num(p.count)
  w.num(p.missing)
  w.num(p.nonFinite)
  w.num(p.mismatched)
  w.num(p.outOfRange)
  w.f64(p.mean)
  w.f64(p.m2)
  w.f64(p.scale)
  w.f64(p.min)
  w.f64(p.max)
  // Kept values go with the bucket whenever the profile still has them: a merged bucket of
  // several partitions keeps what the window would keep (bucket-codec's windowExactLimit).
  const values = p.values !== null && p.values.length >= p.count ? p.values : null
  w.u8(values === null ? 0 : 1)
  if (values !== null) w.f64s(values, p.count)
  const digest = p.digest.encode()
  w.uv(digest.length)
  w.raw(digest)
  writeCounts(w, p.bins)
  writeCounts(w, p.atEdge)
  const small = p.smallValues
  w.uv(small === null ? 0 : small.size + 1)
  for (const [value, n] of small ?? []) {
    w.f64(value)
    w.num(n)
  }
}

function readNumerical(r: Reader, exactLimit: number): NumericalProfile {
  const edges = r.f64s(r.uv())
  const decileEdges = Int32Array.from({ length: r.uv() }, () => r.uv())
  const binning: Binning =
    r.u8() === 1
      ? { edges, decileEdges, range: { lower: r.f64(), upper: r.f64() } }
      : { edges, decileEdges }
  const count = r.num()
  const missing = r.num()
  const nonFinite = r.num()
  const mismatched = r.num()
  const outOfRange = r.num()
  const mean = r.f64()
  const m2 = r.f64()
  const scale = r.f64()
  const min = r.f64()
  const max = r.f64()
  const values = r.u8() === 1 ? r.f64s(count) : null
  const digest = TDigest.decode(r.raw(r.uv()))
  const bins = readCounts(r)
  const atEdge = readCounts(r)
  const smallCount = r.uv()
  let smallValues: Map<number, number> | null = null
  if (smallCount > 0) {
    smallValues = new Map()
    for (let i = 0; i < smallCount - 1; i++) {
      const value = r.f64()
      smallValues.set(value, r.num())
    }
  }
  return {
    kind: 'numerical',
    binning,
    count,
    missing,
    nonFinite,
    mismatched,
    mean,
    m2,
    scale,
    outOfRange,
    exactLimit,
    values,
    min,
    max,
    digest,
    bins,
    atEdge,
    smallValues,
  }
}

/** Sparse (index gaps and values of the non-zero entries) when fewer than half are non-zero. */
function writeCounts(w: Writer, xs: Float64Array): void {
  let nonZero = 0
  for (const x of xs) if (x !== 0 || Object.is(x, -0)) nonZero++
  w.uv(xs.length)
  w.uv(nonZero)
  if (2 * nonZero < xs.length) {
    let last = -1
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!
      if (x === 0 && !Object.is(x, -0)) continue
      w.uv(i - last - 1)
      w.num(x)
      last = i
    }
  } else for (const x of xs) w.num(x)
}

function readCounts(r: Reader): Float64Array {
  const n = r.uv()
  const nonZero = r.uv()
  const out = new Float64Array(n)
  if (2 * nonZero < n) {
    let i = -1
    for (let k = 0; k < nonZero; k++) {
      i += r.uv() + 1
      if (i >= n) throw new TypeError('not a driftwatch bucket: counts index out of range')
      out[i] = r.num()
    }
  } else for (let i = 0; i < n; i++) out[i] = r.num()
  return out
}
