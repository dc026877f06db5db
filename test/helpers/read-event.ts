// What a specialised reader (src/core/event-reader.ts, src/core/avro-event-reader.ts) must give
// for an event the general decoder accepts: the same fields, the same scores (with no prototype),
// and each feature in its slot — numbers in `numbers`, anything else in `others`.

import { expect } from 'vitest'
import type { EventReader, ReadEvent } from '../../src/core/event-reader.js'
import type { PredictionEvent } from '../../src/core/events.js'

export function expectReadAsDecoded(
  reader: EventReader,
  featureNames: readonly string[],
  read: ReadEvent,
  decoded: PredictionEvent,
): void {
  const { features, scores, ...rest } = decoded
  const { scores: readScores, ...readRest } = read
  expect(readRest).toEqual(rest)
  for (const [k, v] of Object.entries(readRest))
    expect(Object.is(v, (rest as Record<string, unknown>)[k])).toBe(true)
  if (scores === undefined) expect(readScores).toBeUndefined()
  else {
    expect(readScores).toBeDefined()
    expect({ ...readScores }).toEqual({ ...scores })
    expect('toString' in (readScores as object)).toBe(false)
  }
  for (const name of featureNames) {
    const slot = reader.slotOf(name)
    const expected = features[name]
    expect(reader.has(slot)).toBe(expected !== undefined)
    if (expected === undefined) continue
    const number = reader.numbers[slot] as number
    if (typeof expected === 'number') expect(Object.is(number, expected)).toBe(true)
    else {
      expect(Number.isNaN(number)).toBe(true)
      expect(reader.others[slot]).toBe(expected)
    }
  }
}
