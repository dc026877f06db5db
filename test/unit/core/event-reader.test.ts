// The specialised JSON reader (src/core/event-reader.ts) against the general decoder: whatever
// the reader accepts, the decoder accepts with the same fields and the same feature values, and
// the reader accepts the ordinary event. Also the bin lookup table against binIndex.

import { describe, expect, it } from 'vitest'
import { EventReader, type ReadEvent } from '../../../src/core/event-reader.js'
import { decodePredictionEvent, type DecodeLimits } from '../../../src/core/events.js'
import { binIndex, binTableOf, lookupBin } from '../../../src/core/profile/binning.js'
import { mulberry32 } from '../../../src/core/simulate/random.js'
import { expectReadAsDecoded } from '../../helpers/read-event.js'
import { badEventCorpus, badEventLimits, validEventObject } from '../../fixtures/bad-events.js'

const featureNames = ['f00', 'f01', 'f02', 'f03', 'f04', 'f05', 'country', 'device', 'plan', 'x']

/** Fails unless the reader's outcome for `value` is the decoder's (or the reader declined). */
function agrees(reader: EventReader, value: Buffer, limits: DecodeLimits): ReadEvent | null {
  const read = reader.read(value, limits)
  if (read === null) return null
  const decoded = decodePredictionEvent(value, limits)
  if (!decoded.ok)
    throw new Error(
      `reader accepted what the decoder rejects (${decoded.reason}): ${value.toString()}`,
    )
  expectReadAsDecoded(reader, featureNames, read, decoded.event)
  return read
}

describe('EventReader', () => {
  it('reads an ordinary event, every field as the decoder does', () => {
    const reader = new EventReader(featureNames)
    const value = Buffer.from(JSON.stringify({ ...validEventObject(), host: 'a', n: null }))
    const read = agrees(reader, value, badEventLimits)
    expect(read).not.toBeNull()
    expect(read?.eventId).toBe('evt-000001')
    // The same bytes again reuse the cached strings and still agree.
    expect(agrees(reader, value, badEventLimits)).not.toBeNull()
  })

  it('leaves the event id and scores out unless the label join asks', () => {
    const reader = new EventReader(featureNames)
    const value = Buffer.from(JSON.stringify(validEventObject()))
    const read = reader.read(value, badEventLimits, false)
    expect(read?.eventId).toBe('')
    expect(read?.scores).toBeUndefined()
    expect(read?.model).toBe('fraud')
  })

  it('never accepts a payload of the bad-event corpus the decoder rejects', () => {
    const reader = new EventReader(featureNames)
    let declined = 0
    for (const bad of badEventCorpus) {
      const read = agrees(reader, bad.value, badEventLimits)
      if (read === null) declined++
    }
    expect(declined).toBeGreaterThan(badEventCorpus.length / 2)
  })

  it('agrees with the decoder on 20,000 random and mutated events', () => {
    const rng = mulberry32(12)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T
    const numberLiterals = [
      () => String(rng() * 200 - 100),
      () => (rng() * 1000).toFixed(Math.floor(rng() * 8)),
      () => String(Math.floor(rng() * 1e6) - 5e5),
      () => String((rng() - 0.5) * 10 ** Math.floor(rng() * 40 - 20)),
      () => pick(['-0', '0', '0.0', '-0.0', '1E5', '1e+2', '2.5e-3', '123456789012345678']),
      () => pick(['0.1234567890123456789', '9007199254740993', '1e400', '-1e400', '4.9e-324']),
      () => pick(['01', '1.', '.5', '+1', '- 1', 'Infinity', 'NaN', '1e', '0x10', '--1']),
    ]
    const strings = [
      'US',
      'mobile',
      '',
      'caf\u00e9',
      'a"b',
      'tab\tin',
      '\\u0041',
      'constructor',
      'x'.repeat(300),
    ]
    const scalar = (): string => {
      const r = rng()
      if (r < 0.6) return pick(numberLiterals)()
      if (r < 0.8) return JSON.stringify(pick(strings))
      return pick(['true', 'false', 'null', '[]', '{}', '[1]'])
    }
    const space = (): string => (rng() < 0.1 ? pick([' ', '\n', '\t', '\r\n ', '  ']) : '')
    const object = (entries: Array<[string, string]>): string =>
      `{${space()}${entries.map(([k, v]) => `${JSON.stringify(k)}${space()}:${space()}${v}`).join(`${space()},${space()}`)}${space()}}`
    const keys = [...featureNames, 'f00', 'other', '__proto__', 'prototype']
    const reader = new EventReader(featureNames)
    let accepted = 0
    let valid = 0
    for (let i = 0; i < 20_000; i++) {
      const features: Array<[string, string]> = []
      const n = Math.floor(rng() * 10)
      for (let f = 0; f < n; f++)
        features.push([rng() < 0.9 ? (featureNames[f] as string) : pick(keys), scalar()])
      const fields: Array<[string, string]> = [
        ['eventId', rng() < 0.95 ? JSON.stringify(`e-${i}`) : scalar()],
        ['model', rng() < 0.95 ? '"fraud"' : scalar()],
        ['modelVersion', pick(['"v1"', 'null', '"v2"', '""', '3'])],
        [
          'timestamp',
          pick([
            String(1_718_000_000_000 + i),
            '"2024-06-10T06:13:20Z"',
            'null',
            '1718000000',
            '"yesterday"',
          ]),
        ],
        ['features', rng() < 0.97 ? object(features) : pick(['null', '[]', '{"a":{}}', '3'])],
      ]
      if (rng() < 0.7) fields.push(['prediction', scalar()])
      if (rng() < 0.7)
        fields.push([
          'scores',
          rng() < 0.8
            ? object([
                ['yes', pick(numberLiterals)()],
                ['no', pick(numberLiterals)()],
              ])
            : scalar(),
        ])
      if (rng() < 0.7) fields.push(['latencyMs', scalar()])
      if (rng() < 0.3) fields.push([pick(['host', 'features', 'model', 'constructor']), scalar()])
      if (rng() < 0.05) fields.push(['nested', '{"a":[1,{"b":2}]}'])
      // Shuffle the fields sometimes: the order of keys is free.
      if (rng() < 0.2) fields.sort(() => rng() - 0.5)
      let text = object(fields)
      // Mutations: a byte changed, the tail cut, garbage after the object.
      const m = rng()
      if (m < 0.05) {
        const at = Math.floor(rng() * text.length)
        text =
          text.slice(0, at) + pick(['"', '}', ',', ':', 'x', '\u00ff', ' ']) + text.slice(at + 1)
      } else if (m < 0.08) text = text.slice(0, Math.floor(rng() * text.length))
      else if (m < 0.1) text += pick([' ', 'x', '{}', '\n'])
      const limits: DecodeLimits = {
        maxBytes: rng() < 0.02 ? 50 : 65_536,
        now: 1_718_000_000_000,
        ...(rng() < 0.02 ? { maxDepth: 1 } : {}),
      }
      if (agrees(reader, Buffer.from(text), limits) !== null) accepted++
      if (decodePredictionEvent(Buffer.from(text), limits).ok) valid++
    }
    // The reader is only worth having if it takes most valid events (it declines the strings
    // with escapes or non-ASCII text and the numbers out of float range the generator mixes in).
    expect(valid).toBeGreaterThan(500)
    expect(accepted / valid).toBeGreaterThan(0.5)
  })
})

describe('lookupBin', () => {
  it('gives binIndex for every value, edges included', () => {
    const rng = mulberry32(7)
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
    const cases: Float64Array[] = [
      new Float64Array(0),
      Float64Array.from([3]),
      Float64Array.from([0, 1e-300, 1e300]),
      Float64Array.from({ length: 99 }, (_, k) => k),
      Float64Array.from(
        Array.from({ length: 99 }, () => Math.exp(2 * normal())).sort((a, b) => a - b),
      ),
      Float64Array.from(
        [...new Set(Array.from({ length: 99 }, () => Math.round(normal() * 3)))].sort(
          (a, b) => a - b,
        ),
      ),
    ]
    for (const edges of cases) {
      const table = binTableOf(edges)
      expect(binTableOf(edges)).toBe(table)
      const values = [...edges, ...edges.map((e) => e * (1 + 1e-16)), -Infinity, Infinity, 0, -0]
      for (let i = 0; i < 20_000; i++) values.push(normal() * 10 ** Math.floor(rng() * 6 - 2))
      for (const x of values) expect(lookupBin(table, x)).toBe(binIndex(edges, x))
    }
  })
})
