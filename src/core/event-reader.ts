// A JSON event reader specialised to the input contract's shape, for the detector's hot path:
// it reads the message bytes once, checking as it goes, and writes the features straight into
// per-feature slots (a Float64Array for numbers) instead of building a string, a parsed object
// and a copy of its features per event. Measured on the benchmark's ~650-byte events it does
// the work of TextDecoder + JSON.parse + the field checks in less CPU than JSON.parse alone
// (BENCHMARKS.md, ingest path).
//
// It is an accelerator, not a second definition of the contract: it accepts only events whose
// outcome it can prove equal to decodePredictionEvent's (core/events.ts), and answers null for
// anything else, where the caller takes the general decoder, which gives the outcome and the
// reason. So it handles a flat event of ASCII text without escapes, whose `features` and
// `scores` are objects of scalars and whose other top-level values are scalars; it declines a
// byte >= 0x80, a backslash, a forbidden key, a repeated field or feature, any value that
// fails a check, and anything that is not plain JSON. Every event it accepts is valid under the
// general decoder with the same fields (test/unit/core/event-reader.test.ts compares both on
// valid, invalid and random events).
//
// Numbers: a literal of at most 15 digits without an exponent is its digits as an integer
// (exact below 2^53) divided by a power of ten (exact up to 10^22), one correctly rounded
// operation, so the same double JSON.parse gives (Clinger's fast path); any other literal, once
// its JSON syntax is checked, goes through Number(), which the language defines to give the
// same value as JSON.parse.

import type { CellValue } from './profile/dataset.js'
import {
  decodeTimestamp,
  defaultMaxDepth,
  maxIdLength,
  type DecodeLimits,
  type PredictionEvent,
} from './events.js'

/**
 * The event's fields but its features, which the reader leaves in its slots. `eventId` and
 * `scores`, which only the label join reads, are kept only when asked for (read's `join`);
 * otherwise `eventId` is '' and `scores` absent, though both are checked all the same.
 */
export type ReadEvent = Omit<PredictionEvent, 'features'>

/** Keys refused anywhere in an event (they would reach an object's prototype). */
export const forbiddenKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])
/** The prototype of a scores object: none, so that no key resolves to Object.prototype's. */
export const noPrototype: object = Object.freeze(Object.create(null) as object)
/** 10^k for k = 0..22, each exact in a double. */
const powersOfTen = Float64Array.from({ length: 23 }, (_, k) => 10 ** k)

const quote = 0x22
const backslash = 0x5c
const comma = 0x2c
const colon = 0x3a
const openBrace = 0x7b
const closeBrace = 0x7d

// Top-level fields, by the index the readers give them (this one and core/avro-event-reader.ts).
export const fieldNames = [
  'eventId',
  'model',
  'modelVersion',
  'timestamp',
  'features',
  'prediction',
  'scores',
  'latencyMs',
] as const
export const fEventId = 0
export const fModel = 1
export const fVersion = 2
export const fTimestamp = 3
export const fFeatures = 4
export const fPrediction = 5
export const fScores = 6
export const fLatency = 7

// A scalar value, as the scanner leaves it in `#kind`.
const kNumber = 0
const kString = 1
const kTrue = 2
const kFalse = 3
const kNull = 4
const kOther = 5 // an object or array: declined outside `features` and `scores`

const fieldBytes = fieldNames.map((name) => Buffer.from(name, 'latin1'))

export class EventReader {
  /** Feature name → slot. */
  readonly #slots = new Map<string, number>()
  readonly #slotBytes: Buffer[] = []
  /** Per slot: the feature's number, or NaN when its value is anything else (see `others`). */
  readonly numbers: Float64Array
  /** Per slot, where `numbers` holds NaN: the string, boolean or null; undefined when absent. */
  readonly others: Array<string | boolean | null | undefined>
  /** Per slot: the read it was last written in, to tell absent and repeated features. */
  readonly #seen: Int32Array
  #generation = 0
  /** Per slot: the last string value, reused while the bytes repeat (categories do). */
  readonly #lastText: Array<string | undefined>
  #lastModel = ''
  #lastVersion = ''
  // The scanner's state.
  #bytes: Uint8Array = new Uint8Array(0)
  #at = 0
  #kind = kNull
  #number = 0
  #textStart = 0
  #textEnd = 0
  /** The slot the next feature key is expected at: features usually come in the same order. */
  #nextSlot = 0

  /** `features`: the names of the features any configured model reads. */
  constructor(features: Iterable<string>) {
    for (const name of features) {
      if (this.#slots.has(name) || forbiddenKeys.has(name)) continue
      this.#slots.set(name, this.#slotBytes.length)
      this.#slotBytes.push(Buffer.from(name, 'utf8'))
    }
    const n = this.#slotBytes.length
    this.numbers = new Float64Array(n)
    this.others = new Array<string | boolean | null | undefined>(n).fill(undefined)
    this.#seen = new Int32Array(n)
    this.#lastText = new Array<string | undefined>(n).fill(undefined)
  }

  /** The slot of a feature, or -1 when no model reads it. */
  slotOf(name: string): number {
    return this.#slots.get(name) ?? -1
  }

  /** Whether the last event read had the feature in `slot` (null counts as present). */
  has(slot: number): boolean {
    return this.#seen[slot] === this.#generation
  }

  // The slot writes of another reader of the same slots (core/avro-event-reader.ts).

  /** Starts an event: every slot reads as absent until written. */
  beginEvent(): void {
    this.#generation = (this.#generation + 1) | 0
  }

  /** Writes a number into `slot`; false when the event already wrote it (a repeated feature). */
  writeNumber(slot: number, x: number): boolean {
    if (this.#seen[slot] === this.#generation) return false
    this.#seen[slot] = this.#generation
    this.numbers[slot] = x
    return true
  }

  /** Writes a string, boolean or null into `slot`; false when already written. */
  writeOther(slot: number, v: string | boolean | null): boolean {
    if (this.#seen[slot] === this.#generation) return false
    this.#seen[slot] = this.#generation
    this.numbers[slot] = Number.NaN
    this.others[slot] = v
    return true
  }

  /** The slot whose name is the ASCII bytes [start, end), trying `guess` first; -1 for none. */
  slotOfAscii(bytes: Uint8Array, start: number, end: number, guess: number): number {
    const slots = this.#slotBytes
    if (guess < slots.length) {
      const name = slots[guess] as Buffer
      if (name.length === end - start) {
        let i = 0
        while (i < name.length && bytes[start + i] === name[i]) i++
        if (i === name.length) return guess
      }
    }
    return this.#slots.get(latin1(bytes, start, end)) ?? -1
  }

  /** The ASCII bytes [start, end) as the string last written to `slot` when they spell it. */
  asciiTextOf(slot: number, bytes: Uint8Array, start: number, end: number): string {
    const last = this.#lastText[slot]
    if (last !== undefined && last.length === end - start) {
      let i = 0
      while (i < last.length && bytes[start + i] === last.charCodeAt(i)) i++
      if (i === last.length) return last
    }
    const text = latin1(bytes, start, end)
    this.#lastText[slot] = text
    return text
  }

  /**
   * The event, its features left in the slots until the next read; null where the general
   * decoder must decide (see the header). Never throws.
   */
  read(value: Uint8Array, limits: DecodeLimits, join = true): ReadEvent | null {
    if (value.length === 0 || value.length > limits.maxBytes) return null
    // Depth 2 (the event, its features) is all this reader accepts.
    if ((limits.maxDepth ?? defaultMaxDepth) < 2) return null
    this.#generation = (this.#generation + 1) | 0
    this.#bytes = value
    this.#at = 0
    try {
      return this.#event(limits, join)
    } finally {
      this.#bytes = emptyBytes
    }
  }

  #event(limits: DecodeLimits, join: boolean): ReadEvent | null {
    if (this.#skipSpace() !== openBrace) return null
    this.#at++
    let eventId: string | null = null
    let model: string | null = null
    let version: string | null | undefined
    let timestamp: number | null = null
    let features = false
    let prediction: number | string | boolean | undefined
    let scores: Record<string, number> | undefined
    let latency: number | undefined
    let present = 0
    if (this.#skipSpace() === closeBrace) return null // no features
    for (;;) {
      if (!this.#key()) return null
      const field = this.#fieldOf()
      if (field !== -1) {
        const bit = 1 << field
        if ((present & bit) !== 0) return null // repeated: JSON.parse keeps the last one
        present |= bit
      } else if (this.#isForbiddenKey()) return null
      if (this.#skipSpace() !== colon) return null
      this.#at++
      if (field === fFeatures) {
        if (this.#skipSpace() !== openBrace || !this.#features()) return null
        features = true
      } else if (field === fScores) {
        const c = this.#skipSpace()
        if (c === openBrace) {
          const read = this.#scores(join)
          if (read === null) return null
          if (join) scores = read
        } else {
          if (!this.#scalar() || this.#kind !== kNull) return null
        }
      } else {
        if (!this.#scalar()) return null
        const kind = this.#kind
        switch (field) {
          case fEventId:
            if (kind !== kString || !this.#idLength()) return null
            eventId = join ? this.#text() : ''
            break
          case fModel:
            if (kind !== kString || !this.#idLength()) return null
            model = this.#sameText(this.#lastModel)
              ? this.#lastModel
              : (this.#lastModel = this.#text())
            break
          case fVersion:
            if (kind === kNull) version = null
            else if (kind === kString && this.#idLength())
              version = this.#sameText(this.#lastVersion)
                ? this.#lastVersion
                : (this.#lastVersion = this.#text())
            else return null
            break
          case fTimestamp: {
            if (kind === kNull) break
            const raw = kind === kNumber ? this.#number : kind === kString ? this.#text() : null
            if (raw === null) return null
            const ms = decodeTimestamp(raw, limits)
            if (typeof ms !== 'number') return null
            timestamp = ms
            break
          }
          case fPrediction:
            if (kind === kNumber) prediction = this.#number
            else if (kind === kString) prediction = this.#text()
            else if (kind === kTrue || kind === kFalse) prediction = kind === kTrue
            else if (kind !== kNull) return null
            break
          case fLatency:
            if (kind === kNumber) {
              if (this.#number < 0) return null
              latency = this.#number
            } else if (kind !== kNull) return null
            break
          default:
            // A field outside the contract: ignored, if it is a scalar.
            if (kind === kOther) return null
        }
      }
      const c = this.#skipSpace()
      this.#at++
      if (c === comma) {
        this.#skipSpace()
        continue
      }
      if (c !== closeBrace) return null
      break
    }
    if (this.#skipSpace() !== -1) return null // trailing bytes
    if (eventId === null || model === null || !features) return null
    const event: ReadEvent = {
      eventId,
      model,
      modelVersion: version ?? null,
      timestamp,
    }
    if (prediction !== undefined) event.prediction = prediction
    if (scores !== undefined) event.scores = scores
    if (latency !== undefined) event.latencyMs = latency
    return event
  }

  /** The features object, its `{` under the cursor; false to decline. */
  #features(): boolean {
    this.#at++
    this.#nextSlot = 0
    const seen = this.#seen
    const generation = this.#generation
    if (this.#skipSpace() === closeBrace) {
      this.#at++
      return true
    }
    for (;;) {
      if (!this.#key()) return false
      const slot = this.#slotOfKey()
      if (slot === -1 && this.#isForbiddenKey()) return false
      if (this.#skipSpace() !== colon) return false
      this.#at++
      if (!this.#scalar()) return false
      const kind = this.#kind
      if (kind === kOther) return false
      if (slot !== -1) {
        if (seen[slot] === generation) return false // repeated
        seen[slot] = generation
        if (kind === kNumber) this.numbers[slot] = this.#number
        else {
          this.numbers[slot] = Number.NaN
          this.others[slot] =
            kind === kString
              ? this.#slotText(slot)
              : kind === kTrue
                ? true
                : kind === kFalse
                  ? false
                  : null
        }
      }
      const c = this.#skipSpace()
      this.#at++
      if (c === comma) {
        this.#skipSpace()
        continue
      }
      return c === closeBrace
    }
  }

  /**
   * The scores object, its `{` under the cursor, with no Object.prototype (an empty one when not
   * `keep`); null to decline.
   */
  #scores(keep: boolean): Record<string, number> | null {
    this.#at++
    const scores: Record<string, number> = {}
    if (this.#skipSpace() === closeBrace) {
      this.#at++
      return Object.setPrototypeOf(scores, noPrototype) as Record<string, number>
    }
    for (;;) {
      if (!this.#key() || this.#isForbiddenKey()) return null
      const name = keep ? this.#text() : ''
      if (this.#skipSpace() !== colon) return null
      this.#at++
      if (!this.#scalar() || this.#kind !== kNumber) return null
      if (keep) scores[name] = this.#number
      const c = this.#skipSpace()
      this.#at++
      if (c === comma) {
        this.#skipSpace()
        continue
      }
      if (c !== closeBrace) return null
      return Object.setPrototypeOf(scores, noPrototype) as Record<string, number>
    }
  }

  /** A key string under the cursor; sets the text range. */
  #key(): boolean {
    if (this.#bytes[this.#at] !== quote) return false
    return this.#string()
  }

  /** A string under the cursor (at its quote): ASCII, no escapes, no control characters. */
  #string(): boolean {
    const bytes = this.#bytes
    let i = this.#at + 1
    const start = i
    for (;;) {
      const c = bytes[i]
      if (c === undefined) return false
      if (c === quote) break
      if (c < 0x20 || c >= 0x80 || c === backslash) return false
      i++
    }
    this.#textStart = start
    this.#textEnd = i
    this.#at = i + 1
    return true
  }

  /** A scalar value under the cursor (after spaces); kOther for `{` or `[`, not consumed. */
  #scalar(): boolean {
    const c = this.#skipSpace()
    if (c === quote) {
      this.#kind = kString
      return this.#string()
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      this.#kind = kNumber
      return this.#numberLiteral()
    }
    if (c === 0x74 /* t */) return this.#word(trueBytes, kTrue)
    if (c === 0x66 /* f */) return this.#word(falseBytes, kFalse)
    if (c === 0x6e /* n */) return this.#word(nullBytes, kNull)
    if (c === openBrace || c === 0x5b /* [ */) {
      this.#kind = kOther
      return true
    }
    return false
  }

  #word(word: Uint8Array, kind: number): boolean {
    const bytes = this.#bytes
    const at = this.#at
    for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word[i]) return false
    this.#at = at + word.length
    this.#kind = kind
    return true
  }

  /** A JSON number literal under the cursor; false for bad syntax or a non-finite value. */
  #numberLiteral(): boolean {
    const bytes = this.#bytes
    const start = this.#at
    let i = start
    let negative = false
    if (bytes[i] === 0x2d) {
      negative = true
      i++
    }
    let mantissa = 0
    let digits = 0
    let c = bytes[i]
    if (c === 0x30) {
      // A leading zero stands alone.
      i++
      digits = 1
      c = bytes[i]
      if (c !== undefined && c >= 0x30 && c <= 0x39) return false
    } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      do {
        mantissa = mantissa * 10 + (c - 0x30)
        digits++
        c = bytes[++i]
      } while (c !== undefined && c >= 0x30 && c <= 0x39)
    } else return false
    let fraction = 0
    if (c === 0x2e /* . */) {
      c = bytes[++i]
      if (c === undefined || c < 0x30 || c > 0x39) return false
      do {
        mantissa = mantissa * 10 + (c - 0x30)
        digits++
        fraction++
        c = bytes[++i]
      } while (c !== undefined && c >= 0x30 && c <= 0x39)
    }
    let exponent = false
    if (c === 0x65 || c === 0x45 /* e E */) {
      exponent = true
      c = bytes[++i]
      if (c === 0x2b || c === 0x2d) c = bytes[++i]
      if (c === undefined || c < 0x30 || c > 0x39) return false
      do c = bytes[++i]
      while (c !== undefined && c >= 0x30 && c <= 0x39)
    }
    this.#at = i
    if (!exponent && digits <= 15) {
      const x = fraction === 0 ? mantissa : mantissa / (powersOfTen[fraction] as number)
      this.#number = negative ? -x : x
      return true
    }
    const x = Number(latin1(bytes, start, i))
    if (!Number.isFinite(x)) return false
    this.#number = x
    return true
  }

  /** The byte after any JSON whitespace at the cursor (the cursor moves onto it), -1 at the end. */
  #skipSpace(): number {
    const bytes = this.#bytes
    let i = this.#at
    for (;;) {
      const c = bytes[i]
      if (c === undefined) {
        this.#at = i
        return -1
      }
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.#at = i
        return c
      }
      i++
    }
  }

  #fieldOf(): number {
    const length = this.#textEnd - this.#textStart
    for (let f = 0; f < fieldBytes.length; f++) {
      const name = fieldBytes[f] as Buffer
      if (name.length === length && this.#textIs(name)) return f
    }
    return -1
  }

  #slotOfKey(): number {
    const slots = this.#slotBytes
    const guess = this.#nextSlot
    if (guess < slots.length && this.#textIs(slots[guess] as Buffer)) {
      this.#nextSlot = guess + 1
      return guess
    }
    const slot = this.#slots.get(this.#text()) ?? -1
    if (slot !== -1) this.#nextSlot = slot + 1
    return slot
  }

  #textIs(name: Uint8Array): boolean {
    const start = this.#textStart
    if (this.#textEnd - start !== name.length) return false
    const bytes = this.#bytes
    for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) return false
    return true
  }

  #isForbiddenKey(): boolean {
    const length = this.#textEnd - this.#textStart
    if (length === 9) return this.#textIs(protoBytes) || this.#textIs(prototypeBytes)
    return length === 11 && this.#textIs(constructorBytes)
  }

  #idLength(): boolean {
    const length = this.#textEnd - this.#textStart
    return length > 0 && length <= maxIdLength
  }

  #text(): string {
    return latin1(this.#bytes, this.#textStart, this.#textEnd)
  }

  #sameText(text: string): boolean {
    const start = this.#textStart
    if (this.#textEnd - start !== text.length) return false
    const bytes = this.#bytes
    for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false
    return true
  }

  #slotText(slot: number): string {
    const last = this.#lastText[slot]
    if (last !== undefined && this.#sameText(last)) return last
    const text = this.#text()
    this.#lastText[slot] = text
    return text
  }
}

const emptyBytes = new Uint8Array(0)
const trueBytes = Buffer.from('true', 'latin1')
const falseBytes = Buffer.from('false', 'latin1')
const nullBytes = Buffer.from('null', 'latin1')
const protoBytes = Buffer.from('__proto__', 'latin1')
const prototypeBytes = Buffer.from('prototype', 'latin1')
const constructorBytes = Buffer.from('constructor', 'latin1')

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: Latin1Slice }).latin1Slice

/** Bytes below 0x80 as a string (ASCII is its own Latin-1). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  return latin1Slice.call(bytes, start, end)
}

export type { CellValue }
