import { describe, expect, it } from 'vitest'
import {
  classifyModel,
  decodePredictionEvent,
  invalidReasons,
  parseIsoTimestamp,
  type DecodeResult,
  type InvalidReason,
  type PredictionEvent,
} from '../../../src/core/events.js'
import { mulberry32 } from '../../../src/core/simulate/random.js'
import {
  badEventCorpus,
  badEventKnownModels,
  badEventLimits,
  callerDecidedReasons,
  validEventObject,
} from '../../fixtures/bad-events.js'

const limits = { maxBytes: 64 * 1024 }
const bytes = (value: unknown): Buffer =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))

function decoded(result: DecodeResult): PredictionEvent {
  if (!result.ok) throw new Error(`expected a valid event, got ${result.reason}: ${result.detail}`)
  return result.event
}

function rejection(result: DecodeResult): { reason: InvalidReason; detail: string } {
  if (result.ok)
    throw new Error(`expected a rejection, got a valid event ${JSON.stringify(result.event)}`)
  return { reason: result.reason, detail: result.detail }
}

describe('decodePredictionEvent: valid events', () => {
  it('decodes every field of a full event', () => {
    const event = decoded(decodePredictionEvent(bytes(validEventObject()), limits))
    expect(event).toEqual({
      eventId: 'evt-000001',
      model: 'fraud',
      modelVersion: 'v1',
      timestamp: 1_718_000_000_000,
      features: {
        f00: 51.2,
        f01: -0.4312,
        f02: 33.1,
        f03: 0.5,
        f04: 3,
        f05: 97.25,
        country: 'US',
        device: 'mobile',
        plan: 'free',
      },
      prediction: 0,
      scores: { positive: 0.1234, negative: 0.8766 },
      latencyMs: 12.5,
    })
    expect(Object.keys(event.features)).toEqual([
      'f00',
      'f01',
      'f02',
      'f03',
      'f04',
      'f05',
      'country',
      'device',
      'plan',
    ])
  })

  it('gives features and scores no Object.prototype, so absent names read as undefined', () => {
    const event = decoded(decodePredictionEvent(bytes(validEventObject()), limits))
    for (const record of [event.features, event.scores ?? {}]) {
      expect(Reflect.get(record, 'toString')).toBeUndefined()
      expect(Reflect.get(record, 'constructor')).toBeUndefined()
      expect(Reflect.get(record, 'hasOwnProperty')).toBeUndefined()
      expect('valueOf' in record).toBe(false)
      expect(Object.getPrototypeOf(Object.getPrototypeOf(record))).toBeNull()
    }
  })

  it('accepts the minimal event: eventId, model, features', () => {
    const event = decoded(
      decodePredictionEvent(bytes({ eventId: 'e', model: 'm', features: {} }), limits),
    )
    expect(event).toEqual({
      eventId: 'e',
      model: 'm',
      modelVersion: null,
      timestamp: null,
      features: {},
    })
    expect('prediction' in event || 'scores' in event || 'latencyMs' in event).toBe(false)
  })

  it('reads null optional fields as absent', () => {
    const event = decoded(
      decodePredictionEvent(
        bytes({
          eventId: 'e',
          model: 'm',
          modelVersion: null,
          timestamp: null,
          features: {},
          prediction: null,
          scores: null,
          latencyMs: null,
        }),
        limits,
      ),
    )
    expect(event).toEqual({
      eventId: 'e',
      model: 'm',
      modelVersion: null,
      timestamp: null,
      features: {},
    })
  })

  it('keeps null, boolean and string feature values; "NaN" and "Infinity" are just strings', () => {
    const features = {
      a: null,
      b: true,
      c: false,
      d: 'NaN',
      e: 'Infinity',
      f: '',
      g: 0,
      h: 1e308,
      i: 5e-324,
    }
    const event = decoded(
      decodePredictionEvent(bytes({ eventId: 'e', model: 'm', features }), limits),
    )
    expect(event.features).toEqual(features)
  })

  it('accepts string and boolean predictions and any finite scores', () => {
    for (const prediction of ['fraud', true, 0.73, -2]) {
      const event = decoded(
        decodePredictionEvent(
          bytes({ ...validEventObject(), prediction, scores: { a: -3.5, b: 1e10 } }),
          limits,
        ),
      )
      expect(event.prediction).toBe(prediction)
      expect(event.scores).toEqual({ a: -3.5, b: 1e10 })
    }
  })

  it('ignores top-level fields outside the contract', () => {
    const event = decoded(
      decodePredictionEvent(
        bytes({ ...validEventObject(), requestId: 'r-1', meta: { host: 'h', tags: [1, [2]] } }),
        limits,
      ),
    )
    expect(event).not.toHaveProperty('requestId')
    expect(event).not.toHaveProperty('meta')
  })

  it('accepts forbidden words as values, and \\u escapes that spell other keys', () => {
    const text = JSON.stringify({
      ...validEventObject(),
      features: { note: 'constructor', other: '__proto__ prototype' },
    }).replace('"note"', '"\\u006eote"')
    const event = decoded(decodePredictionEvent(bytes(text), limits))
    expect(event.features).toEqual({ note: 'constructor', other: '__proto__ prototype' })
    expect(
      decoded(
        decodePredictionEvent(
          bytes('{"eventId":"e","model":"m","features":{"city":"Z\\u00fcrich"}}'),
          limits,
        ),
      ).features,
    ).toEqual({
      city: 'Zürich',
    })
  })

  it('does not count brackets inside strings as nesting', () => {
    const event = decoded(
      decodePredictionEvent(
        bytes({ ...validEventObject(), features: { s: '[{'.repeat(5000) + '\\"[' } }),
        limits,
      ),
    )
    expect(event.features['s']).toBe('[{'.repeat(5000) + '\\"[')
  })

  it('allows nesting up to maxDepth exactly', () => {
    const text = (depth: number): string =>
      JSON.stringify(validEventObject()).replace(
        '"latencyMs":12.5',
        `"latencyMs":12.5,"meta":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}`,
      )
    expect(decodePredictionEvent(bytes(text(32)), limits).ok).toBe(true)
    expect(rejection(decodePredictionEvent(bytes(text(33)), limits)).reason).toBe('too_deep')
    expect(decodePredictionEvent(bytes(text(5)), { ...limits, maxDepth: 5 }).ok).toBe(true)
    expect(
      rejection(decodePredictionEvent(bytes(text(6)), { ...limits, maxDepth: 5 })).reason,
    ).toBe('too_deep')
  })

  it('accepts a UTF-8 byte order mark, surrounding whitespace and a Uint8Array', () => {
    const text = JSON.stringify(validEventObject())
    expect(
      decodePredictionEvent(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(text)]), limits)
        .ok,
    ).toBe(true)
    expect(decodePredictionEvent(bytes(`\n  ${text}\r\n`), limits).ok).toBe(true)
    expect(decodePredictionEvent(new Uint8Array(bytes(text)), limits).ok).toBe(true)
  })

  it('takes exactly maxBytes', () => {
    const value = bytes(validEventObject())
    expect(decodePredictionEvent(value, { maxBytes: value.length }).ok).toBe(true)
    expect(rejection(decodePredictionEvent(value, { maxBytes: value.length - 1 })).reason).toBe(
      'too_large',
    )
  })

  it('decodes ISO-8601 timestamps to ms since epoch (UTC when no offset is given)', () => {
    const at = (timestamp: string): number | null =>
      decoded(decodePredictionEvent(bytes({ ...validEventObject(), timestamp }), limits)).timestamp
    const utc = Date.UTC(2024, 5, 10, 6, 13, 20)
    expect(at('2024-06-10T06:13:20Z')).toBe(utc)
    expect(at('2024-06-10T06:13:20.123Z')).toBe(utc + 123)
    expect(at('2024-06-10T06:13:20.123456789Z')).toBe(utc + 123)
    expect(at('2024-06-10T06:13:20.5Z')).toBe(utc + 500)
    expect(at('2024-06-10T08:13:20+02:00')).toBe(utc)
    expect(at('2024-06-10T01:43:20-0430')).toBe(utc)
    expect(at('2024-06-10T06:13:20')).toBe(utc)
    expect(at('2024-06-10 06:13:20z')).toBe(utc)
    expect(at('2024-06-10T06:13Z')).toBe(utc - 20_000)
    expect(at('2024-06-10')).toBe(Date.UTC(2024, 5, 10))
    expect(at('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29))
  })

  it('bounds timestamps by now when it is given', () => {
    const now = 1_718_000_000_000
    const at = (timestamp: number, extra: object = {}): DecodeResult =>
      decodePredictionEvent(bytes({ ...validEventObject(), timestamp }), {
        ...limits,
        now,
        ...extra,
      })
    expect(at(now + 86_400_000).ok).toBe(true)
    expect(rejection(at(now + 86_400_001)).reason).toBe('bad_timestamp')
    expect(at(now + 5_000, { maxFutureMs: 5_000 }).ok).toBe(true)
    expect(rejection(at(now + 5_001, { maxFutureMs: 5_000 })).reason).toBe('bad_timestamp')
    expect(at(now - 1e11).ok).toBe(true) // no past limit by default beyond 2000-01-01
    expect(at(now - 60_000, { maxPastMs: 60_000 }).ok).toBe(true)
    expect(rejection(at(now - 60_001, { maxPastMs: 60_000 })).reason).toBe('bad_timestamp')
    // Without now, a far-future timestamp is only bounded by 2100.
    expect(
      decodePredictionEvent(
        bytes({ ...validEventObject(), timestamp: Date.UTC(2090, 0, 1) }),
        limits,
      ).ok,
    ).toBe(true)
  })

  it('names the likely unit mistake in the detail', () => {
    expect(
      rejection(
        decodePredictionEvent(bytes({ ...validEventObject(), timestamp: 1_718_000_000 }), limits),
      ).detail,
    ).toContain('seconds')
    expect(
      rejection(
        decodePredictionEvent(bytes({ ...validEventObject(), timestamp: 1.718e18 }), limits),
      ).detail,
    ).toContain('ns')
  })
})

/** Reasons only the Avro decoder gives (src/adapters/schema-registry; tested against a real registry). */
const avroDecoderReasons: ReadonlySet<InvalidReason> = new Set([
  'unknown_schema',
  'schema_unavailable',
  'invalid_avro',
])

describe('decodePredictionEvent: one case per reason', () => {
  const event = validEventObject()
  const cases: Record<
    Exclude<
      InvalidReason,
      | 'unknown_model'
      | 'unknown_version'
      | 'feature_kind_mismatch'
      | 'clock_skew'
      // decided by the Avro decoder (test/e2e/avro-stream.test.ts, test/faults/schema-registry.test.ts)
      | 'unknown_schema'
      | 'schema_unavailable'
      | 'invalid_avro'
    >,
    Buffer | null
  > = {
    empty: null,
    too_large: bytes('x'.repeat(2_000_001)),
    not_utf8: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]),
    invalid_json: bytes('{"eventId":'),
    not_an_object: bytes('[]'),
    missing_field: bytes({ ...event, eventId: undefined }),
    wrong_type: bytes({ ...event, features: [1, 2] }),
    invalid_value: bytes({ ...event, eventId: '' }),
    bad_timestamp: bytes({ ...event, timestamp: '10/06/2024' }),
    too_deep: bytes('['.repeat(1_000_000)),
    forbidden_key: bytes('{"eventId":"e","model":"m","features":{"__proto__":{"polluted":true}}}'),
    non_finite_number: bytes('{"eventId":"e","model":"m","features":{"x":1e400}}'),
  }

  it.each(Object.entries(cases))('%s', (reason, value) => {
    const result = rejection(decodePredictionEvent(value, { maxBytes: 2_000_000 }))
    expect(result.reason).toBe(reason)
    expect(result.detail.length).toBeGreaterThan(0)
  })

  it('rejects zero bytes as empty too', () => {
    expect(rejection(decodePredictionEvent(Buffer.alloc(0), limits)).reason).toBe('empty')
  })

  it('leaves unknown_model, unknown_version, feature_kind_mismatch and clock_skew to the caller', () => {
    const covered = new Set([
      ...Object.keys(cases),
      'unknown_model',
      'unknown_version',
      'feature_kind_mismatch',
      'clock_skew',
      ...avroDecoderReasons,
    ])
    expect([...covered].sort()).toEqual([...invalidReasons].sort())
    expect(decodePredictionEvent(bytes({ ...event, model: 'nope' }), limits).ok).toBe(true)
  })
})

describe('classifyModel', () => {
  const known = new Map<string, ReadonlySet<string> | null>([
    ['fraud', new Set(['v1', 'v2'])],
    ['churn', null],
  ])
  it.each([
    ['fraud', 'v1', null],
    ['fraud', 'v3', 'unknown_version'],
    ['fraud', null, 'unknown_version'],
    ['churn', 'anything', null],
    ['churn', null, null],
    ['nope', 'v1', 'unknown_model'],
    ['__proto__', null, 'unknown_model'],
    ['constructor', null, 'unknown_model'],
  ] as const)('model %s version %s → %s', (model, modelVersion, expected) => {
    expect(classifyModel({ model, modelVersion }, known)).toBe(expected)
  })
})

describe('bad event corpus', () => {
  it('holds at least 50 payloads covering every reason', () => {
    expect(badEventCorpus.length).toBeGreaterThanOrEqual(50)
    expect(new Set(badEventCorpus.map((e) => e.name)).size).toBe(badEventCorpus.length)
    expect(new Set(badEventCorpus.map((e) => e.reason))).toEqual(
      new Set(invalidReasons.filter((r) => !avroDecoderReasons.has(r))),
    )
  })

  it.each(badEventCorpus.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    const result = decodePredictionEvent(entry.value, badEventLimits)
    if (!callerDecidedReasons.has(entry.reason)) {
      const { reason, detail } = rejection(result)
      expect(reason).toBe(entry.reason)
      expect(detail.length).toBeLessThanOrEqual(200)
      return
    }
    const event = decoded(result)
    if (entry.reason === 'clock_skew') {
      // Decodes (within the decoder's outer day); the ingest compares it with maxClockSkew.
      expect(event.timestamp).toBeGreaterThan(Date.now() + 5 * 60_000)
      expect(classifyModel(event, badEventKnownModels)).toBeNull()
    } else if (entry.reason === 'feature_kind_mismatch') {
      expect(Object.values(event.features).some((v) => v === 'NaN' || v === 'Infinity')).toBe(true)
      expect(classifyModel(event, badEventKnownModels)).toBeNull()
    } else {
      expect(classifyModel(event, badEventKnownModels)).toBe(entry.reason)
    }
  })

  it('decodes a valid event after every bad one (no state carried over)', () => {
    const valid = bytes(validEventObject())
    for (const entry of badEventCorpus) {
      decodePredictionEvent(entry.value, badEventLimits)
      expect(decodePredictionEvent(valid, badEventLimits).ok).toBe(true)
    }
  })

  it('pollutes no prototype', () => {
    for (const entry of badEventCorpus) decodePredictionEvent(entry.value, badEventLimits)
    const probe: Record<string, unknown> = {}
    expect(probe['polluted']).toBeUndefined()
    expect(probe['isAdmin']).toBeUndefined()
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
  })
})

describe('decodePredictionEvent never throws', () => {
  it('on 20,000 seeded mutations of a valid event', () => {
    const random = mulberry32(42)
    const base = bytes(validEventObject())
    const specials = Buffer.from('{}[]",:\\0e-+.\u0000nu'.split('').map((c) => c.charCodeAt(0)))
    const reasons = new Set<string>(invalidReasons)
    const seen = new Map<string, number>()
    for (let i = 0; i < 20_000; i++) {
      const value = Buffer.from(base)
      const edits = 1 + Math.floor(random() * 4)
      let mutated: Buffer = value
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * mutated.length)
        const kind = random()
        if (kind < 0.4) mutated[at] = Math.floor(random() * 256)
        else if (kind < 0.7) mutated[at] = specials[Math.floor(random() * specials.length)] ?? 0
        else if (kind < 0.85) mutated = mutated.subarray(0, at)
        else mutated = Buffer.concat([mutated.subarray(0, at), mutated.subarray(at + 1)])
      }
      const result = decodePredictionEvent(mutated, limits)
      const key = result.ok ? 'ok' : result.reason
      if (!result.ok) {
        expect(reasons.has(result.reason)).toBe(true)
        expect(result.detail.length).toBeLessThanOrEqual(200)
      }
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    // The mutations reach deep into the decoder, not just the JSON parser.
    expect(seen.get('not_utf8')).toBeGreaterThan(0)
    expect(seen.get('invalid_json')).toBeGreaterThan(0)
    expect(seen.get('ok')).toBeGreaterThan(0)
  })
})

describe('parseIsoTimestamp', () => {
  it.each([
    '',
    '2024',
    '2024-06',
    '2024-6-1',
    '20240610T061320Z',
    '2024-06-10T06:13:20+24:00',
    '2024-06-10T24:00:00Z',
    '2024-06-31',
    '2023-02-29',
    'x'.repeat(41),
  ])('rejects %j', (text) => {
    expect(parseIsoTimestamp(text)).toBeNull()
  })
})
