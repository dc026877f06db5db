// The Avro reader specialised to a writer schema (src/core/avro-event-reader.ts) against the
// general Avro path (avsc's decode, then decodePredictionRecord), both through the real
// AvroEventDecoder: whatever the reader accepts, decode() accepts with the same fields and the
// same feature values, and the reader accepts the ordinary events. The writer schemas are the
// prediction schema (features as a map), the e2e tests' producer schema (features as a record)
// and one with other types and an extra field; the events are the bad-event corpus written in
// Avro, hand-framed bodies (blocked maps, long varints) and thousands of random and corrupted
// bodies. The registry is a lookup table here: the decoder against a real one is
// test/e2e/avro-stream.test.ts.

import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { AvroEventDecoder } from '../../../src/adapters/schema-registry/avro-decoder.js'
import { loadSchema } from '../../../src/adapters/schema-registry/schemas.js'
import { compileAvroPlan } from '../../../src/core/avro-event-reader.js'
import { EventReader, type ReadEvent } from '../../../src/core/event-reader.js'
import type { DecodeLimits } from '../../../src/core/events.js'
import { mulberry32 } from '../../../src/core/simulate/random.js'
import { expectReadAsDecoded } from '../../helpers/read-event.js'
import { badEventCorpus, badEventLimits, validEventObject } from '../../fixtures/bad-events.js'
import { frame, producerSchema } from '../../helpers/registry.js'

const featureNames = ['f00', 'f01', 'f02', 'f03', 'f04', 'f05', 'country', 'device', 'plan', 'x']

const predictionId = 1
const recordId = 2
const otherId = 3
/** Other types where the prediction schema has doubles and strings, and an extra field. */
const otherSchema = {
  type: 'record',
  name: 'Other',
  fields: [
    { name: 'host', type: ['null', 'string', 'long'], default: null },
    { name: 'model', type: 'string' },
    { name: 'eventId', type: 'string' },
    { name: 'timestamp', type: ['string', 'null', 'double'] },
    {
      name: 'features',
      type: ['null', { type: 'map', values: ['float', 'boolean', 'string', 'null'] }],
    },
    { name: 'prediction', type: ['boolean', 'long', 'string'] },
    { name: 'scores', type: { type: 'map', values: ['float', 'null'] } },
    { name: 'latencyMs', type: ['float', 'null'] },
  ],
}
const schemas = new Map<number, unknown>([
  [predictionId, loadSchema('prediction')],
  [recordId, producerSchema(['f00', 'f01', 'f02', 'zz'], ['country', 'device'])],
  [otherId, otherSchema],
])
const types = new Map(
  [...schemas].map(([id, s]) => [id, avro.Type.forSchema(s as avro.Schema, { wrapUnions: false })]),
)

async function preparedDecoder(): Promise<AvroEventDecoder> {
  const registry = { getSchema: (id: number) => Promise.resolve(types.get(id)) }
  const decoder = new AvroEventDecoder(registry as unknown as SchemaRegistry, {
    deadLetterAfterMs: 1000,
  })
  await decoder.prepare([...types.keys()].map((id) => frame(id, Buffer.alloc(0))))
  return decoder
}

/** Fails unless the reader's outcome for `value` is decode()'s (or the reader declined). */
function agrees(
  decoder: AvroEventDecoder,
  reader: EventReader,
  value: Buffer,
  limits: DecodeLimits,
): ReadEvent | null {
  const read = decoder.read(value, reader, limits, true)
  if (read === null) return null
  const decoded = decoder.decode(value, limits)
  if (!decoded.ok)
    throw new Error(
      `reader accepted what decode() rejects (${decoded.reason}: ${decoded.detail}): ${value.toString('hex')}`,
    )
  expectReadAsDecoded(reader, featureNames, read, decoded.event)
  return read
}

/** `value` in Avro with the writer schema `id`, or null when avsc cannot write it. */
function encode(id: number, value: unknown): Buffer | null {
  try {
    return frame(id, (types.get(id) as avro.Type).toBuffer(value))
  } catch {
    return null
  }
}

// A hand encoder for what avsc never writes: maps in blocks with a byte size, long varints.
function varint(n: number, extraBytes = 0): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1
  const out: number[] = []
  while (z >= 128) {
    out.push((z % 128) | 0x80)
    z = Math.floor(z / 128)
  }
  out.push(z)
  for (let i = 0; i < extraBytes; i++) {
    out[out.length - 1] = (out[out.length - 1] as number) | 0x80
    out.push(0)
  }
  return out
}
const str = (s: string): number[] => {
  const b = [...Buffer.from(s, 'utf8')]
  return [...varint(b.length), ...b]
}
const dbl = (x: number): number[] => {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(x)
  return [...b]
}

/** The prediction schema's body, features written as `blocks` (negative counts with sizes). */
function handBody(blocks: Array<Array<[string, number]>>, varintPadding = 0): Buffer {
  const bytes: number[] = [...str('evt-1'), ...str('fraud'), 2, ...str('v1'), 2]
  bytes.push(...varint(1_718_000_000_000, varintPadding))
  for (const block of blocks) {
    const entries = block.flatMap(([k, x]) => [...str(k), 2, ...dbl(x)])
    bytes.push(...varint(-block.length), ...varint(entries.length), ...entries)
  }
  bytes.push(0, 0, 0, 0) // end of map, null prediction, null scores, null latency
  return frame(predictionId, Buffer.from(bytes))
}

describe('AvroEventReader', () => {
  it('reads the ordinary event of each writer schema as decode() does', async () => {
    const decoder = await preparedDecoder()
    const reader = new EventReader(featureNames)
    const event = validEventObject()
    const features = event['features'] as Record<string, unknown>
    const values = [
      encode(predictionId, event),
      encode(predictionId, { ...event, features: { ...features, 'caf\u00e9': 'd\u00e9j\u00e0' } }),
      encode(recordId, {
        eventId: 'e-1',
        model: 'fraud',
        timestamp: 1_718_000_000_000,
        features: { f00: 1.5, f01: null, f02: -3, zz: 4, country: 'US', device: null },
        prediction: 1,
        latencyMs: 7,
      }),
      encode(otherId, {
        host: 'h',
        model: 'fraud',
        eventId: 'e-2',
        timestamp: '2024-06-10T06:13:20Z',
        features: { f00: 0.5, f01: 3, country: 'US', plan: true, device: null },
        prediction: 'yes',
        scores: { yes: 0.25, no: 0.75 },
        latencyMs: 2.5,
      }),
    ]
    for (const value of values) {
      expect(value).not.toBeNull()
      expect(agrees(decoder, reader, value as Buffer, badEventLimits)).not.toBeNull()
      // Again: the cached strings are reused and still agree.
      expect(agrees(decoder, reader, value as Buffer, badEventLimits)).not.toBeNull()
    }
    const read = decoder.read(values[0] as Buffer, reader, badEventLimits, false)
    expect(read?.eventId).toBe('')
    expect(read?.scores).toBeUndefined()
    expect(read?.model).toBe('fraud')
  })

  it('reads maps in blocks with sizes and long varints, and declines the longest', async () => {
    const decoder = await preparedDecoder()
    const reader = new EventReader(featureNames)
    const blocks: Array<Array<[string, number]>> = [
      [
        ['f00', 1.25],
        ['f01', -2],
      ],
      [['other', 3]],
      [['f02', 0]],
    ]
    expect(agrees(decoder, reader, handBody(blocks), badEventLimits)).not.toBeNull()
    expect(agrees(decoder, reader, handBody(blocks, 1), badEventLimits)).not.toBeNull()
    // 6 + 2 bytes: past the 7 the reader takes, so decode() decides.
    expect(decoder.read(handBody(blocks, 2), reader, badEventLimits, true)).toBeNull()
    expect(decoder.decode(handBody(blocks, 2), badEventLimits).ok).toBe(true)
    // A repeated feature (avsc keeps the last value): declined, decode() decides.
    const repeated = handBody([[['f00', 1]], [['f00', 2]]])
    expect(decoder.read(repeated, reader, badEventLimits, true)).toBeNull()
    expect(decoder.decode(repeated, badEventLimits).ok).toBe(true)
  })

  it('never accepts an event of the bad-event corpus that decode() rejects', async () => {
    const decoder = await preparedDecoder()
    const reader = new EventReader(featureNames)
    let written = 0
    for (const bad of badEventCorpus) {
      let parsed: unknown
      try {
        parsed = JSON.parse(bad.value.toString('utf8'))
      } catch {
        continue
      }
      const value = encode(predictionId, parsed)
      if (value === null) continue
      written++
      agrees(decoder, reader, value, badEventLimits)
    }
    expect(written).toBeGreaterThan(5)
  })

  it('agrees with decode() on 30,000 random and corrupted events', async () => {
    const decoder = await preparedDecoder()
    const reader = new EventReader(featureNames)
    const rng = mulberry32(21)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T
    const numbers = [
      () => rng() * 200 - 100,
      () => Math.floor(rng() * 1e6) - 5e5,
      () => (rng() - 0.5) * 10 ** Math.floor(rng() * 40 - 20),
      () =>
        rng() < 0.2
          ? pick([Number.NaN, Infinity, -Infinity])
          : pick([0, -0, 5e-324, 1.7976931348623157e308]),
    ]
    const strings = ['US', 'mobile', '', 'caf\u00e9', '\u{1F600}', 'constructor', 'x'.repeat(300)]
    const scalar = (): unknown => {
      const r = rng()
      if (r < 0.6) return pick(numbers)()
      if (r < 0.8) return pick(strings)
      return pick([true, false, null])
    }
    const keys = [...featureNames, 'other', '__proto__', 'prototype', 'caf\u00e9']
    let accepted = 0
    let valid = 0
    for (let i = 0; i < 30_000; i++) {
      const id = pick([predictionId, predictionId, recordId, otherId])
      const features: Record<string, unknown> = {}
      const n = Math.floor(rng() * 10)
      for (let f = 0; f < n; f++) {
        const key = rng() < 0.9 ? (featureNames[f] as string) : pick(keys)
        Object.defineProperty(features, key, {
          value: scalar(),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      if (id === recordId)
        for (const name of ['f00', 'f01', 'f02', 'zz', 'country', 'device']) features[name] ??= null
      const event: Record<string, unknown> = {
        eventId: rng() < 0.98 ? `e-${i}` : pick(strings),
        model: rng() < 0.98 ? 'fraud' : pick(strings),
        modelVersion: pick(['v1', null, 'v2', '', 'v\u00e9']),
        timestamp: pick([
          1_718_000_000_000 + i,
          1_718_000_000_000 - i,
          null,
          1_718_000_000,
          '2024-06-10T06:13:20Z',
          'yesterday',
          -1,
          2 ** 52,
        ]),
        features: rng() < 0.97 ? features : null,
        host: pick([null, 'h', 3]),
      }
      if (rng() < 0.7) event['prediction'] = scalar()
      if (rng() < 0.7)
        event['scores'] = rng() < 0.9 ? { yes: pick(numbers)(), no: pick(numbers)() } : null
      if (rng() < 0.7) event['latencyMs'] = rng() < 0.9 ? pick(numbers)() : null
      let value = encode(id, event)
      if (value === null) continue
      // Corruptions: a byte changed, the tail cut, bytes after the body, a random body.
      const m = rng()
      const corrupted = m < 0.16
      if (m < 0.08) {
        const at = 5 + Math.floor(rng() * (value.length - 5))
        value = Buffer.from(value)
        value[at] = Math.floor(rng() * 256)
      } else if (m < 0.12) value = value.subarray(0, 5 + Math.floor(rng() * (value.length - 5)))
      else if (m < 0.14) value = Buffer.concat([value, Buffer.from([pick([0, 1, 2, 0x80])])])
      else if (m < 0.16) {
        const body = Buffer.from(
          Array.from({ length: 1 + Math.floor(rng() * 80) }, () => rng() * 256),
        )
        value = frame(id, body)
      }
      const limits: DecodeLimits = {
        maxBytes: rng() < 0.02 ? 50 : 65_536,
        now: 1_718_000_000_000,
      }
      if (agrees(decoder, reader, value, limits) !== null) accepted++
      // decode() on every one, corrupted too: a corrupted block count of 2^40, which avsc would
      // loop over for hours, is refused before avsc (src/adapters/schema-registry/avro-bounds.ts).
      const decoded = decoder.decode(value, limits)
      if (!corrupted && decoded.ok) valid++
    }
    // The reader is worth having only if it takes most valid events.
    expect(valid).toBeGreaterThan(2000)
    expect(accepted / valid).toBeGreaterThan(0.9)
  })

  it('dead-letters a block count larger than the message at once, before avsc loops over it', async () => {
    const decoder = await preparedDecoder()
    // eventId, model, a null version, a null timestamp, then a features block claiming 2^40
    // entries: avsc would try to read them one by one.
    const absurd = frame(
      predictionId,
      Buffer.from([...str('e'), ...str('m'), 0, 0, ...varint(2 ** 40)]),
    )
    const decoded = decoder.decode(absurd, badEventLimits)
    expect(decoded.ok).toBe(false)
    if (!decoded.ok) {
      expect(decoded.reason).toBe('invalid_avro')
      expect(decoded.detail).toMatch(/a block of 1099511627776 items with 0 bytes left/)
    }
    // A block that fits is left to avsc, which decides as before.
    const fits = handBody([[['f00', 1.5]], [['f01', 2.5]]])
    expect(decoder.decode(fits, badEventLimits).ok).toBe(true)
  })

  it('has no plan for a schema whose shape it does not know', () => {
    expect(
      compileAvroPlan(avro.Type.forSchema(loadSchema('prediction') as avro.Schema).schema()),
    ).not.toBeNull()
    const withArray = {
      type: 'record',
      name: 'A',
      fields: [
        { name: 'eventId', type: 'string' },
        { name: 'model', type: 'string' },
        { name: 'features', type: { type: 'map', values: 'double' } },
        { name: 'tags', type: { type: 'array', items: 'string' } },
      ],
    }
    expect(compileAvroPlan(withArray)).toBeNull()
    expect(compileAvroPlan({ ...withArray, fields: withArray.fields.slice(0, 2) })).toBeNull()
    expect(compileAvroPlan({ ...withArray, fields: withArray.fields.slice(0, 3) })).not.toBeNull()
  })
})
