// An Avro event reader specialised to a writer schema, the Avro twin of the JSON reader
// (core/event-reader.ts): it reads the Avro binary body of an event once and writes the features
// straight into the same per-feature slots, instead of avsc decoding the record and its features
// map into objects that are then checked and copied (adapters/schema-registry/avro-decoder.ts).
//
// compileAvroPlan() turns a writer schema (the JSON of the registry's schema, as avsc's
// Type.schema() gives it) into a plan, or null for a schema whose shape it does not know: a
// record whose fields are scalars (null, boolean, int, long, float, double, string, or unions of
// them), a `features` that is a map of scalars or a record of scalar fields (the two shapes
// schemas/prediction-event.avsc allows), and a `scores` that is a map of scalars, each optionally
// in a union with null. schemas/prediction-event.avsc is one such schema.
//
// Like the JSON reader it is an accelerator, not a second definition of the contract: it accepts
// only events whose outcome it can prove equal to avsc's decode followed by
// decodePredictionRecord (core/events.ts), and answers null for anything else, where the caller
// takes that general path, which gives the outcome and the reason. So it declines a truncated
// body or trailing bytes, a varint longer than 7 bytes (avsc reads those too, but they need more
// care than they are worth), a union index out of range, a boolean byte other than 0 or 1, a
// forbidden or repeated feature name, a non-finite number, and any value that fails a check.
// Strings are decoded as avsc decodes them (Buffer's UTF-8 decoding), so a non-ASCII category is
// the same string either way. test/unit/core/avro-event-reader.test.ts compares both on the Avro
// test corpus and on random and corrupted bodies.

import {
  fEventId,
  fFeatures,
  fieldNames,
  fLatency,
  fModel,
  forbiddenKeys,
  fPrediction,
  fScores,
  fTimestamp,
  fVersion,
  noPrototype,
  type EventReader,
  type ReadEvent,
} from './event-reader.js'
import { decodeTimestamp, maxIdLength, type DecodeLimits } from './events.js'

// Avro types, as a plan's shapes name them.
const tNull = 0
const tBoolean = 1
const tInt = 2
const tLong = 3
const tFloat = 4
const tDouble = 5
const tString = 6
const tMap = 7
const tRecord = 8

const primitiveTypes: Readonly<Record<string, number>> = {
  null: tNull,
  boolean: tBoolean,
  int: tInt,
  long: tLong,
  float: tFloat,
  double: tDouble,
  string: tString,
}

/** The type of one value: a single type, or a union of them (in the writer's branch order). */
interface Shape {
  readonly union: boolean
  /** The branches' types; one entry when not a union. */
  readonly types: Uint8Array
  /** Of the map branch: the values' shape. */
  readonly values: Shape | null
  /** Of the record branch: its fields' names and shapes. */
  readonly fields: ReadonlyArray<{ readonly name: string; readonly shape: Shape }> | null
}

/** A writer schema the reader can read, compiled once per schema. */
export interface AvroPlan {
  readonly fields: ReadonlyArray<{ readonly field: number; readonly shape: Shape }>
  /** For features as a record: each field's slot in the last reader it was read with. */
  recordSlots: { reader: EventReader; slots: Int32Array } | null
}

/** Doubles and floats are read by copying their bytes over these (little-endian hosts only). */
const scratch = new Uint8Array(8)
const scratchDouble = new Float64Array(scratch.buffer)
const scratchFloat = new Float32Array(scratch.buffer)
const littleEndian = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f

/** The plan of a writer schema, or null when the reader does not know its shape. */
export function compileAvroPlan(schema: unknown): AvroPlan | null {
  if (!littleEndian || !isObject(schema) || schema['type'] !== 'record') return null
  const writerFields = schema['fields']
  if (!Array.isArray(writerFields)) return null
  const fields: Array<{ field: number; shape: Shape }> = []
  const present = new Set<number>()
  for (const f of writerFields as unknown[]) {
    if (!isObject(f) || typeof f['name'] !== 'string') return null
    // -1 for a field outside the event's (read and ignored, as the decoder does).
    const field = (fieldNames as readonly string[]).indexOf(f['name'])
    const shape = shapeOf(
      f['type'],
      field === fFeatures ? 'features' : field === fScores ? 'scores' : 'scalar',
    )
    if (shape === null) return null
    if (field !== -1) present.add(field)
    fields.push({ field, shape })
  }
  // Without these the general decoder rejects every event: nothing to read fast.
  if (!present.has(fEventId) || !present.has(fModel) || !present.has(fFeatures)) return null
  return { fields, recordSlots: null }
}

type Role = 'scalar' | 'features' | 'scores' | 'featureRecord'

/**
 * The shape of a field's type: scalars (or unions of them) anywhere; `features` may also be a
 * map of scalars or a record of scalar fields, `scores` a map of scalars, each beside null.
 */
function shapeOf(type: unknown, role: Role): Shape | null {
  const branches = Array.isArray(type) ? (type as unknown[]) : [type]
  if (branches.length === 0) return null
  const types = new Uint8Array(branches.length)
  let values: Shape | null = null
  let fields: Array<{ name: string; shape: Shape }> | null = null
  for (const [i, branch] of branches.entries()) {
    const name = typeof branch === 'string' ? branch : isObject(branch) ? branch['type'] : null
    if (typeof name !== 'string') return null
    const primitive = primitiveTypes[name]
    if (primitive !== undefined) {
      // {"type": "long", "logicalType": ...} and the like read as their primitive.
      if (isObject(branch) && typeof branch['type'] !== 'string') return null
      types[i] = primitive
      continue
    }
    if (!isObject(branch) || role === 'scalar' || role === 'featureRecord') return null
    if (values !== null || fields !== null) return null // two complex branches
    if (name === 'map') {
      values = shapeOf(branch['values'], 'scalar')
      if (values === null) return null
      types[i] = tMap
    } else if (name === 'record' && role === 'features') {
      const recordFields = branch['fields']
      if (!Array.isArray(recordFields)) return null
      fields = []
      for (const f of recordFields as unknown[]) {
        if (!isObject(f) || typeof f['name'] !== 'string' || forbiddenKeys.has(f['name']))
          return null
        const shape = shapeOf(f['type'], 'featureRecord')
        if (shape === null) return null
        fields.push({ name: f['name'], shape })
      }
      types[i] = tRecord
    } else return null
  }
  // A union of one complex type with nulls only: `features: ["null", {map}]` and the like.
  if ((values !== null || fields !== null) && types.some((t) => t !== tNull && t < tMap))
    return null
  if ((role === 'features' || role === 'scores') && values === null && fields === null) {
    // A scalar features or scores: every event is rejected (or, scores, ignored when null); let
    // the general decoder say so.
    return null
  }
  return { union: Array.isArray(type), types, values, fields }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

// A value, as readValue() leaves it in `#kind`.
const kNumber = 0
const kString = 1
const kTrue = 2
const kFalse = 3
const kNull = 4
const kMap = 5
const kRecord = 6

type Utf8Slice = (this: Uint8Array, start: number, end: number) => string
const bufferPrototype = Buffer.prototype as unknown as {
  latin1Slice: Utf8Slice
  utf8Slice: Utf8Slice
}
const latin1Slice = bufferPrototype.latin1Slice
const utf8Slice = bufferPrototype.utf8Slice

export class AvroEventReader {
  readonly #slots: EventReader
  #bytes: Uint8Array = new Uint8Array(0)
  #at = 0
  #kind = kNull
  #number = 0
  #textStart = 0
  #textEnd = 0
  #lastModel = ''
  #lastVersion = ''

  /** `slots`: the JSON reader whose slots the features go into. */
  constructor(slots: EventReader) {
    this.#slots = slots
  }

  get slots(): EventReader {
    return this.#slots
  }

  /**
   * The event whose Avro body (written with the plan's schema) is value[start..], its features
   * left in the slots until the next read; null where the general decoder must decide (see the
   * header). Never throws.
   */
  read(
    plan: AvroPlan,
    value: Uint8Array,
    start: number,
    limits: DecodeLimits,
    join = true,
  ): ReadEvent | null {
    if (value.length > limits.maxBytes) return null
    this.#slots.beginEvent()
    this.#bytes = value
    this.#at = start
    try {
      return this.#event(plan, limits, join)
    } finally {
      this.#bytes = emptyBytes
    }
  }

  #event(plan: AvroPlan, limits: DecodeLimits, join: boolean): ReadEvent | null {
    let eventId: string | null = null
    let model: string | null = null
    let version: string | null = null
    let timestamp: number | null = null
    let prediction: number | string | boolean | undefined
    let scores: Record<string, number> | undefined
    let latency: number | undefined
    for (const { field, shape } of plan.fields) {
      if (!this.#value(shape)) return null
      const kind = this.#kind
      switch (field) {
        case fEventId:
          if (kind !== kString) return null
          eventId = this.#id()
          if (eventId === null) return null
          if (!join) eventId = ''
          break
        case fModel:
          if (kind !== kString) return null
          if (this.#sameAscii(this.#lastModel)) model = this.#lastModel
          else {
            model = this.#id()
            if (model === null) return null
            // Kept only when ASCII: #sameAscii compares bytes with characters.
            if (this.#ascii(this.#textStart, this.#textEnd)) this.#lastModel = model
          }
          break
        case fVersion:
          if (kind === kNull) version = null
          else if (kind !== kString) return null
          else if (this.#sameAscii(this.#lastVersion)) version = this.#lastVersion
          else {
            version = this.#id()
            if (version === null) return null
            // Kept only when ASCII: #sameAscii compares bytes with characters.
            if (this.#ascii(this.#textStart, this.#textEnd)) this.#lastVersion = version
          }
          break
        case fTimestamp: {
          if (kind === kNull) {
            timestamp = null
            break
          }
          const raw = kind === kNumber ? this.#number : kind === kString ? this.#text() : null
          if (raw === null) return null
          const ms = decodeTimestamp(raw, limits)
          if (typeof ms !== 'number') return null
          timestamp = ms
          break
        }
        case fFeatures:
          if (kind === kMap) {
            if (!this.#featureMap(shape.values as Shape)) return null
          } else if (kind === kRecord) {
            if (!this.#featureRecord(plan, shape)) return null
          } else return null // null features: missing_field
          break
        case fPrediction:
          if (kind === kNumber) {
            if (!Number.isFinite(this.#number)) return null
            prediction = this.#number
          } else if (kind === kString) prediction = this.#text()
          else if (kind === kTrue || kind === kFalse) prediction = kind === kTrue
          else prediction = undefined // null: absent
          break
        case fScores:
          if (kind === kMap) {
            const read = this.#scores(shape.values as Shape, join)
            if (read === null) return null
            scores = join ? read : undefined
          } else if (kind === kNull) scores = undefined
          else return null
          break
        case fLatency:
          if (kind === kNumber) {
            if (!Number.isFinite(this.#number) || this.#number < 0) return null
            latency = this.#number
          } else if (kind === kNull) latency = undefined
          else return null
          break
        default:
          // A field outside the contract, of a scalar type (compileAvroPlan): ignored.
          break
      }
    }
    if (this.#at !== this.#bytes.length) return null // trailing bytes: avsc rejects them
    if (eventId === null || model === null) return null
    const event: ReadEvent = { eventId, model, modelVersion: version, timestamp }
    if (prediction !== undefined) event.prediction = prediction
    if (scores !== undefined) event.scores = scores
    if (latency !== undefined) event.latencyMs = latency
    return event
  }

  /** The features map, its first block count under the cursor; false to decline. */
  #featureMap(values: Shape): boolean {
    const slots = this.#slots
    let guess = 0
    for (;;) {
      let count = this.#long()
      if (Number.isNaN(count)) return false
      if (count === 0) return true
      if (count < 0) {
        count = -count
        if (Number.isNaN(this.#long())) return false // the block's size in bytes
      }
      for (; count > 0; count--) {
        if (!this.#string()) return false
        const start = this.#textStart
        const end = this.#textEnd
        let slot: number
        if (this.#ascii(start, end)) {
          slot = slots.slotOfAscii(this.#bytes, start, end, guess)
          if (slot === -1 && isForbidden(this.#bytes, start, end)) return false
        } else slot = slots.slotOf(utf8Slice.call(this.#bytes, start, end))
        if (!this.#value(values)) return false
        if (!this.#feature(slot)) return false
        if (slot !== -1) guess = slot + 1
      }
    }
  }

  /** Features as a record: every field present, null when its value is null. */
  #featureRecord(plan: AvroPlan, shape: Shape): boolean {
    const slots = this.#slots
    let cached = plan.recordSlots
    if (cached === null || cached.reader !== slots) {
      const fields = shape.fields as NonNullable<Shape['fields']>
      cached = { reader: slots, slots: Int32Array.from(fields, (f) => slots.slotOf(f.name)) }
      plan.recordSlots = cached
    }
    const fields = shape.fields as NonNullable<Shape['fields']>
    const recordSlots = cached.slots
    for (let i = 0; i < fields.length; i++) {
      if (!this.#value((fields[i] as { shape: Shape }).shape)) return false
      if (!this.#feature(recordSlots[i] as number)) return false
    }
    return true
  }

  /** The value under `#kind` as the feature in `slot` (-1: checked only); false to decline. */
  #feature(slot: number): boolean {
    const kind = this.#kind
    if (kind === kNumber) {
      if (!Number.isFinite(this.#number)) return false
      return slot === -1 || this.#slots.writeNumber(slot, this.#number)
    }
    if (slot === -1) return true
    if (kind === kString) {
      const start = this.#textStart
      const end = this.#textEnd
      const text = this.#ascii(start, end)
        ? this.#slots.asciiTextOf(slot, this.#bytes, start, end)
        : utf8Slice.call(this.#bytes, start, end)
      return this.#slots.writeOther(slot, text)
    }
    return this.#slots.writeOther(slot, kind === kTrue ? true : kind === kFalse ? false : null)
  }

  /** The scores map (with no Object.prototype; empty when not `keep`); null to decline. */
  #scores(values: Shape, keep: boolean): Record<string, number> | null {
    const scores: Record<string, number> = {}
    for (;;) {
      let count = this.#long()
      if (Number.isNaN(count)) return null
      if (count === 0) return Object.setPrototypeOf(scores, noPrototype) as Record<string, number>
      if (count < 0) {
        count = -count
        if (Number.isNaN(this.#long())) return null
      }
      for (; count > 0; count--) {
        if (!this.#string()) return null
        const name = this.#text()
        if (forbiddenKeys.has(name)) return null
        if (!this.#value(values) || this.#kind !== kNumber || !Number.isFinite(this.#number))
          return null
        if (keep) scores[name] = this.#number
      }
    }
  }

  /** Reads one value of `shape`, leaving its kind in `#kind`; false to decline. */
  #value(shape: Shape): boolean {
    let type: number
    if (shape.union) {
      const b = this.#bytes[this.#at]
      // One byte: a union index below 64, zig-zag encoded (even).
      if (b === undefined || b >= 0x80 || (b & 1) !== 0) return false
      const index = b >> 1
      if (index >= shape.types.length) return false
      this.#at++
      type = shape.types[index] as number
    } else type = shape.types[0] as number
    switch (type) {
      case tNull:
        this.#kind = kNull
        return true
      case tBoolean: {
        const b = this.#bytes[this.#at++]
        if (b === 0) this.#kind = kFalse
        else if (b === 1) this.#kind = kTrue
        else return false
        return true
      }
      case tInt:
      case tLong: {
        const n = this.#long()
        if (Number.isNaN(n)) return false
        this.#kind = kNumber
        this.#number = n
        return true
      }
      case tFloat:
      case tDouble: {
        const size = type === tDouble ? 8 : 4
        const bytes = this.#bytes
        const at = this.#at
        if (at + size > bytes.length) return false
        for (let i = 0; i < size; i++) scratch[i] = bytes[at + i] as number
        this.#at = at + size
        this.#kind = kNumber
        this.#number = type === tDouble ? (scratchDouble[0] as number) : (scratchFloat[0] as number)
        return true
      }
      case tString:
        this.#kind = kString
        return this.#string()
      case tMap:
        this.#kind = kMap
        return true
      default:
        this.#kind = kRecord
        return true
    }
  }

  /** A string's length and bytes under the cursor; sets the text range. */
  #string(): boolean {
    const length = this.#long()
    if (!(length >= 0)) return false // NaN or negative
    const start = this.#at
    const end = start + length
    if (end > this.#bytes.length) return false
    this.#textStart = start
    this.#textEnd = end
    this.#at = end
    return true
  }

  /**
   * A zig-zag varint of at most 7 bytes under the cursor (49 bits: exact in a double, as avsc
   * reads it); NaN when longer or cut short.
   */
  #long(): number {
    const bytes = this.#bytes
    let i = this.#at
    let b = bytes[i++]
    if (b === undefined) return Number.NaN
    if (b < 0x80) {
      this.#at = i
      return (b & 1) === 0 ? b >> 1 : -((b + 1) >> 1)
    }
    let n = b & 0x7f
    let scale = 128
    for (let k = 1; k < 7; k++) {
      b = bytes[i++]
      if (b === undefined) return Number.NaN
      n += (b & 0x7f) * scale
      if (b < 0x80) {
        this.#at = i
        return n % 2 === 0 ? n / 2 : -(n + 1) / 2
      }
      scale *= 128
    }
    return Number.NaN
  }

  /** The text range as an id (eventId, model, modelVersion): 1 to 256 characters; null if not. */
  #id(): string | null {
    const text = this.#text()
    return text.length === 0 || text.length > maxIdLength ? null : text
  }

  #text(): string {
    const start = this.#textStart
    const end = this.#textEnd
    return this.#ascii(start, end)
      ? latin1Slice.call(this.#bytes, start, end)
      : utf8Slice.call(this.#bytes, start, end)
  }

  #ascii(start: number, end: number): boolean {
    const bytes = this.#bytes
    for (let i = start; i < end; i++) if ((bytes[i] as number) >= 0x80) return false
    return true
  }

  /** Whether the text range is the ASCII string `text` (non-empty). */
  #sameAscii(text: string): boolean {
    const start = this.#textStart
    if (text.length === 0 || this.#textEnd - start !== text.length) return false
    const bytes = this.#bytes
    for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false
    return true
  }
}

function isForbidden(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start
  return (length === 9 || length === 11) && forbiddenKeys.has(latin1Slice.call(bytes, start, end))
}

const emptyBytes = new Uint8Array(0)
