// Decoding one Kafka message value into a prediction event (docs/architecture.md, Contracts: input event).
//
// This is the detector's hot path, and invariant 3 says bad input never stops the stream: the
// decoder never throws on data. Every rejection is a value with a reason from a closed list
// (a metric label and the dead-letter reason) and a short detail for people.
//
// Order of checks, cheapest and most dangerous first:
//   1. empty / too_large on the byte length, before anything reads the bytes;
//   2. not_utf8: TextDecoder in fatal mode decodes and validates in one pass;
//   3. too_deep, on the text, before JSON.parse: counting '{' and '[' with indexOf (native, under
//      0.1 µs for a ~600-byte event) proves most events shallow without a JS loop; only when
//      there are more brackets than maxDepth does a string-aware scan run. No recursion anywhere,
//      so a 1e6-deep `[[[[…` payload costs one linear scan and cannot blow the stack;
//   4. invalid_json / not_an_object from JSON.parse;
//   5. forbidden_key: JSON.parse makes `__proto__` an ordinary own property (it never calls the
//      setter), so parsing itself cannot pollute a prototype; the danger is later code copying or
//      merging these objects. We reject the three keys anywhere in the document. A substring test
//      proves most events free of them; only if one of the words, or a `\u` escape that could
//      spell one, appears in the text do we walk the parsed tree (iteratively) to look at keys;
//   6. the fields, in a fixed order. Top-level fields outside the contract are ignored:
//      producers add request ids and host names, and that is no reason to drop an event.
//
// `features` and `scores` come back with no Object.prototype in their chain, so
// `features['toString']` is undefined for an event that lacks that feature. Measured on
// ~640-byte events against JSON.parse itself (CPU time, min of 25 runs): copying the features
// into `Object.create(null)` costs ~60 % of the parse (a null-prototype object is a dictionary
// in V8), setPrototypeOf(x, null) or onto any object, in place, ~20–35 % per object (V8 does not
// cache prototype transitions for JSON.parse's maps), a Map ~75 %; a spread copy, which clones
// the hidden class, then re-parented onto one shared frozen prototype-less object: ~6 %.

export const invalidReasons = [
  /** null value (tombstone) or zero bytes */
  'empty',
  /** more bytes than limits.maxBytes; not read at all */
  'too_large',
  'not_utf8',
  'invalid_json',
  /** the JSON document is an array, string, number, boolean or null */
  'not_an_object',
  /** eventId, model or features absent (or null) */
  'missing_field',
  /** a field or a feature/score value of the wrong JSON type */
  'wrong_type',
  /** right type, unusable value: empty or over-long id, negative latency */
  'invalid_value',
  /** the model is not configured: decided by classifyModel, not by the decoder */
  'unknown_model',
  /** the model is configured for other versions: decided by classifyModel */
  'unknown_version',
  /** unparseable, before 2000-01-01, after 2100, or outside the limits around `now` */
  'bad_timestamp',
  /**
   * event time further ahead of the wall clock than the model's `window.maxClockSkew`: decided
   * by the caller, which holds the model's config
   */
  'clock_skew',
  /** brackets nested deeper than limits.maxDepth */
  'too_deep',
  /** a `__proto__`, `constructor` or `prototype` key anywhere */
  'forbidden_key',
  /** a number literal beyond float range (1e400), which JSON.parse turns into ±Infinity */
  'non_finite_number',
  /**
   * a feature value of a kind its model's reference does not have there (a string where the
   * reference is numerical): decided by the caller, which holds the reference
   */
  'feature_kind_mismatch',
  /** Avro-framed (magic byte 0), but the registry does not know its schema id, or none is configured */
  'unknown_schema',
  /** Avro-framed, and the schema registry could not be reached for longer than allowed */
  'schema_unavailable',
  /** Avro-framed, but the body does not decode with its writer schema, or is not a record */
  'invalid_avro',
] as const
export type InvalidReason = (typeof invalidReasons)[number]

export type FeatureValue = number | string | boolean | null

export interface PredictionEvent {
  eventId: string
  model: string
  modelVersion: string | null
  /** ms since epoch; null when the event has none (the caller uses the Kafka timestamp) */
  timestamp: number | null
  /** no Object.prototype in its chain: reading a feature the event lacks gives undefined */
  features: Record<string, FeatureValue>
  prediction?: number | string | boolean
  /** class → score; no Object.prototype in its chain */
  scores?: Record<string, number>
  latencyMs?: number
}

export type DecodeResult =
  | { ok: true; event: PredictionEvent }
  | { ok: false; reason: InvalidReason; detail: string; violation?: TypeViolation }

/**
 * Where a rejected event belongs, when its identity and time were readable and only a value broke
 * a type or the schema: the stream counts it in its window's data quality (core/data-quality.ts)
 * besides dead-lettering it. `feature` names the feature at fault, '' when the event as a whole
 * was (features not an object, a bad prediction, scores or latency).
 */
export interface TypeViolation {
  readonly model: string
  readonly modelVersion: string | null
  /** ms since epoch; null when the event has none (the caller uses the Kafka timestamp) */
  readonly timestamp: number | null
  readonly feature: string
}

export interface DecodeLimits {
  readonly maxBytes: number
  /** bracket nesting allowed, the top-level object counting 1; default 32 */
  readonly maxDepth?: number
  /** ms since epoch; enables the maxFutureMs and maxPastMs checks */
  readonly now?: number
  /** how far after `now` a timestamp may be; default 1 day */
  readonly maxFutureMs?: number
  /** how far before `now` a timestamp may be; default: no limit beyond 2000-01-01 */
  readonly maxPastMs?: number
}

export const defaultMaxDepth = 32
export const defaultMaxFutureMs = 86_400_000
/** eventId, model and modelVersion longer than this are invalid_value (they become keys and labels). */
export const maxIdLength = 256
/** 2000-01-01T00:00:00Z: earlier timestamps are mistakes (often seconds instead of ms). */
export const minTimestampMs = 946_684_800_000
/** 2100-01-01T00:00:00Z: later ones are mistakes too (often µs or ns instead of ms). */
export const maxTimestampMs = 4_102_444_800_000

const maxDetailLength = 200
const maxNameInDetail = 64
const forbiddenKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** The prototype of every features and scores object: empty, and itself without a prototype. */
const noPrototype: object = Object.freeze(Object.create(null) as object)

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Never throws: every outcome is a value. */
export function decodePredictionEvent(
  value: Buffer | Uint8Array | null,
  limits: DecodeLimits,
): DecodeResult {
  if (value === null || value.length === 0)
    return invalid('empty', value === null ? 'null message value' : 'zero bytes')
  if (value.length > limits.maxBytes) {
    return invalid('too_large', `${value.length} bytes > maxBytes ${limits.maxBytes}`)
  }

  let text: string
  try {
    text = utf8.decode(value)
  } catch {
    return invalid('not_utf8', `not valid UTF-8 (${value.length} bytes)`)
  }

  const maxDepth = limits.maxDepth ?? defaultMaxDepth
  if (deeperThan(text, maxDepth))
    return invalid('too_deep', `brackets nested deeper than ${maxDepth}`)

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error: unknown) {
    return invalid('invalid_json', error instanceof Error ? error.message : 'JSON.parse failed')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return invalid(
      'not_an_object',
      `top-level JSON ${parsed === null ? 'null' : jsonType(parsed)}, expected an object`,
    )
  }

  if (mayHoldForbiddenKey(text)) {
    const path = findForbiddenKey(parsed)
    if (path !== null) return invalid('forbidden_key', `forbidden key at ${path}`)
  }

  return decodeFields(parsed as Record<string, unknown>, limits)
}

/**
 * The field checks alone, for an event another decoder already parsed (an Avro record decoded
 * with its writer schema): the same rules and reasons as JSON events. Never throws.
 */
export function decodePredictionRecord(
  doc: Record<string, unknown>,
  limits: DecodeLimits,
): DecodeResult {
  return decodeFields(doc, limits)
}

function decodeFields(doc: Record<string, unknown>, limits: DecodeLimits): DecodeResult {
  const eventId = doc['eventId']
  const idProblem = checkId('eventId', eventId, true)
  if (idProblem !== null) return idProblem

  const model = doc['model']
  const modelProblem = checkId('model', model, true)
  if (modelProblem !== null) return modelProblem

  const rawVersion = doc['modelVersion']
  const versionProblem = checkId('modelVersion', rawVersion, false)
  if (versionProblem !== null) return versionProblem

  const time = decodeTimestamp(doc['timestamp'], limits)
  if (typeof time !== 'number' && time !== null) return time

  // From here on, a rejected event has a readable identity and time: attributed to its window.
  const source = {
    model: model as string,
    modelVersion: (rawVersion ?? null) as string | null,
    timestamp: time,
  }
  const violated = (result: DecodeResult, feature = ''): DecodeResult =>
    result.ok ? result : { ...result, violation: { ...source, feature } }
  const rawFeatures = doc['features']
  if (rawFeatures === undefined || rawFeatures === null)
    return violated(invalid('missing_field', 'features is missing'))
  if (typeof rawFeatures !== 'object' || Array.isArray(rawFeatures)) {
    return violated(
      invalid('wrong_type', `features: expected an object, got ${jsonType(rawFeatures)}`),
    )
  }
  const features: Record<string, unknown> = { ...rawFeatures }
  Object.setPrototypeOf(features, noPrototype)
  for (const name in features) {
    const v = features[name]
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        return violated(
          invalid('non_finite_number', `${pathTo('features', name)}: number out of float range`),
          name,
        )
    } else if (v !== null && typeof v !== 'string' && typeof v !== 'boolean') {
      return violated(
        invalid(
          'wrong_type',
          `${pathTo('features', name)}: expected number, string, boolean or null, got ${jsonType(v)}`,
        ),
        name,
      )
    }
  }

  const event: PredictionEvent = {
    eventId: eventId as string,
    model: model as string,
    modelVersion: rawVersion === undefined ? null : (rawVersion as string | null),
    timestamp: time,
    features: features as Record<string, FeatureValue>,
  }

  const prediction = doc['prediction']
  if (prediction !== undefined && prediction !== null) {
    if (typeof prediction === 'number') {
      if (!Number.isFinite(prediction))
        return violated(invalid('non_finite_number', 'prediction: number out of float range'))
    } else if (typeof prediction !== 'string' && typeof prediction !== 'boolean') {
      return violated(
        invalid(
          'wrong_type',
          `prediction: expected number, string or boolean, got ${jsonType(prediction)}`,
        ),
      )
    }
    event.prediction = prediction
  }

  const rawScores = doc['scores']
  if (rawScores !== undefined && rawScores !== null) {
    if (typeof rawScores !== 'object' || Array.isArray(rawScores)) {
      return violated(
        invalid('wrong_type', `scores: expected an object, got ${jsonType(rawScores)}`),
      )
    }
    const scores: Record<string, unknown> = { ...rawScores }
    Object.setPrototypeOf(scores, noPrototype)
    for (const name in scores) {
      const p = scores[name]
      if (typeof p !== 'number')
        return violated(
          invalid('wrong_type', `${pathTo('scores', name)}: expected a number, got ${jsonType(p)}`),
        )
      if (!Number.isFinite(p))
        return violated(
          invalid('non_finite_number', `${pathTo('scores', name)}: number out of float range`),
        )
    }
    event.scores = scores as Record<string, number>
  }

  const latency = doc['latencyMs']
  if (latency !== undefined && latency !== null) {
    if (typeof latency !== 'number')
      return violated(
        invalid('wrong_type', `latencyMs: expected a number, got ${jsonType(latency)}`),
      )
    if (!Number.isFinite(latency))
      return violated(invalid('non_finite_number', 'latencyMs: number out of float range'))
    if (latency < 0) return violated(invalid('invalid_value', `latencyMs: negative (${latency})`))
    event.latencyMs = latency
  }

  return { ok: true, event }
}

/** eventId and model are required non-empty strings; modelVersion may be absent or null. */
function checkId(field: string, v: unknown, required: boolean): DecodeResult | null {
  if (typeof v === 'string') {
    if (v.length === 0) return invalid('invalid_value', `${field}: empty string`)
    if (v.length > maxIdLength)
      return invalid('invalid_value', `${field}: ${v.length} characters > ${maxIdLength}`)
    return null
  }
  if (v === undefined || v === null)
    return required ? invalid('missing_field', `${field} is missing`) : null
  return invalid('wrong_type', `${field}: expected a string, got ${jsonType(v)}`)
}

// ---------------------------------------------------------------------------------------------
// Timestamps: ms since epoch as a number, or an ISO-8601 string.

// Date, or date and time with optional fraction (any number of digits; ms kept) and offset.
// A date-time without an offset is read as UTC, not the host's zone (Date.parse would use local
// time), so that a run never depends on where it runs.
const isoPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/
const maxIsoLength = 40

export function decodeTimestamp(v: unknown, limits: DecodeLimits): number | null | DecodeResult {
  if (v === undefined || v === null) return null
  let ms: number
  if (typeof v === 'number') {
    if (!Number.isFinite(v))
      return invalid('non_finite_number', 'timestamp: number out of float range')
    ms = v
  } else if (typeof v === 'string') {
    const parsed = parseIsoTimestamp(v)
    if (parsed === null) return invalid('bad_timestamp', `timestamp: not ISO-8601: ${quote(v)}`)
    ms = parsed
  } else {
    return invalid(
      'wrong_type',
      `timestamp: expected ms since epoch or an ISO-8601 string, got ${jsonType(v)}`,
    )
  }

  if (ms < minTimestampMs) {
    const hint =
      ms >= minTimestampMs / 1000 && ms < maxTimestampMs / 1000 ? ' (seconds instead of ms?)' : ''
    return invalid('bad_timestamp', `timestamp ${ms} is before 2000-01-01${hint}`)
  }
  if (ms >= maxTimestampMs) {
    const hint = ms >= minTimestampMs * 1000 ? ' (µs or ns instead of ms?)' : ''
    return invalid('bad_timestamp', `timestamp ${ms} is after 2100-01-01${hint}`)
  }
  const now = limits.now
  if (now !== undefined) {
    const future = limits.maxFutureMs ?? defaultMaxFutureMs
    if (ms > now + future)
      return invalid(
        'bad_timestamp',
        `timestamp ${ms} is more than ${future} ms ahead of now (${now})`,
      )
    const past = limits.maxPastMs
    if (past !== undefined && ms < now - past) {
      return invalid('bad_timestamp', `timestamp ${ms} is more than ${past} ms before now (${now})`)
    }
  }
  return ms
}

/** ms since epoch, or null when `text` is not an ISO-8601 date or date-time we accept. */
export function parseIsoTimestamp(text: string): number | null {
  if (text.length > maxIsoLength) return null
  const m = isoPattern.exec(text)
  if (m === null) return null
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = m[4] === undefined ? 0 : Number(m[4])
  const minute = m[5] === undefined ? 0 : Number(m[5])
  const second = m[6] === undefined ? 0 : Number(m[6])
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  // 60 is a leap second; Date.UTC carries it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return null
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10])
    const offsetMins = Number(m[11])
    if (offsetHours > 23 || offsetMins > 59) return null
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

// ---------------------------------------------------------------------------------------------
// Depth and forbidden keys, without recursion.

/** Whether brackets outside strings nest deeper than `maxDepth`. */
export function deeperThan(text: string, maxDepth: number): boolean {
  // Fewer brackets than the limit cannot nest past it, whatever strings contain: most events
  // stop here after a few native indexOf calls.
  let brackets = 0
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
    if (++brackets > maxDepth) return scanDepth(text, maxDepth)
  }
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) {
    if (++brackets > maxDepth) return scanDepth(text, maxDepth)
  }
  return false
}

function scanDepth(text: string, maxDepth: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return true
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth-- // may go below 0 in broken JSON; JSON.parse rejects that next
    }
  }
  return false
}

function mayHoldForbiddenKey(text: string): boolean {
  return (
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype') ||
    text.includes('\\u')
  )
}

/** The path of the first forbidden key in the parsed document, or null. Iterative. */
function findForbiddenKey(root: object): string | null {
  // Paths are built only for containers pushed and for the key found, not for every key.
  const stack: Array<{ node: unknown; path: string }> = [{ node: root, path: '' }]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, path } = item
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i]
        if (typeof child === 'object' && child !== null) {
          stack.push({ node: child, path: `${path}[${i}]` })
        }
      }
    } else if (typeof node === 'object' && node !== null) {
      for (const key of Object.keys(node)) {
        if (forbiddenKeys.has(key)) return pathTo(path, key)
        const child = (node as Record<string, unknown>)[key]
        if (typeof child === 'object' && child !== null) {
          stack.push({ node: child, path: pathTo(path, key) })
        }
      }
    }
  }
  return null
}

const plainName = /^[A-Za-z_$][\w$]{0,63}$/

function pathTo(parent: string, key: string): string {
  if (plainName.test(key)) return parent === '' ? key : `${parent}.${key}`
  return `${parent}[${quote(key)}]`
}

// ---------------------------------------------------------------------------------------------
// Model routing: only the caller knows which models and versions are configured.

/**
 * Why a decoded event cannot be routed, or null when it can. `knownModels` maps each model to
 * its accepted versions, or to null when any version (and none) is accepted. A model with a
 * version list rejects events without a version: they cannot be told apart from another one.
 */
export function classifyModel(
  event: Pick<PredictionEvent, 'model' | 'modelVersion'>,
  knownModels: ReadonlyMap<string, ReadonlySet<string> | null>,
): 'unknown_model' | 'unknown_version' | null {
  const versions = knownModels.get(event.model)
  if (versions === undefined) return 'unknown_model'
  if (versions === null) return null
  return event.modelVersion !== null && versions.has(event.modelVersion) ? null : 'unknown_version'
}

// ---------------------------------------------------------------------------------------------

function invalid(reason: InvalidReason, detail: string): DecodeResult {
  return {
    ok: false,
    reason,
    detail: detail.length > maxDetailLength ? `${detail.slice(0, maxDetailLength - 1)}…` : detail,
  }
}

/** A name or value from the payload, quoted and clipped, for a detail. */
function quote(text: string): string {
  return JSON.stringify(text.length > maxNameInDetail ? `${text.slice(0, maxNameInDetail)}…` : text)
}

function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}
