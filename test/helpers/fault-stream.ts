// The stream the fault tests write: 5 numerical features `a`–`e` and one categorical `cat`, in
// event-time order, each event on a partition drawn from a seeded PRNG so the test knows what every
// (bucket, partition) cell must hold. `drifted` events shift `a` by 1.5 sd and skew `cat`.

import type { Kafka } from 'kafkajs'
import { snapshotToJSON } from '../../src/adapters/files/reference-file.js'
import { ReferenceBuilder, type ReferenceSnapshot } from '../../src/core/reference.js'
import { mulberry32, normal, type Rng } from './random.js'

export const faultNumerical = ['a', 'b', 'c', 'd', 'e'] as const
export const faultCategories = ['us', 'de', 'fr', 'gb', 'in'] as const

export function faultRow(rng: Rng, drifted = false): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  faultNumerical.forEach((name, i) => {
    const sd = 1 + i
    const shift = drifted && name === 'a' ? 1.5 * sd : 0
    out[name] = Number((normal(rng, 10 * (i + 1), sd) + shift).toFixed(3))
  })
  const u = rng()
  const share = drifted ? Math.sqrt(u) : u * u
  out['cat'] = faultCategories[
    Math.min(faultCategories.length - 1, Math.floor(share * faultCategories.length))
  ] as string
  return out
}

/** A reference of 20,000 undrifted rows, with the id its JSON form gets. */
export function faultReference(seed: number): ReferenceSnapshot {
  const builder = new ReferenceBuilder([
    ...faultNumerical.map((name) => ({ name, kind: 'numerical' as const, reason: 'test' })),
    { name: 'cat', kind: 'categorical' as const, reason: 'test' },
  ])
  const rng = mulberry32(seed)
  for (let i = 0; i < 20_000; i++) builder.add(faultRow(rng))
  const snapshot = {
    createdAt: new Date(0).toISOString(),
    source: { kind: 'test' },
    exactBreakpoints: true,
    kindReasons: new Map<string, string>(),
    profile: builder.build(),
  }
  return { ...snapshot, id: snapshotToJSON(snapshot).id }
}

export interface OrderedStream {
  readonly events: number
  readonly partitions: number
  readonly seed: number
  readonly model: string
  readonly idPrefix: string
  /** Event time of event i is t0 + i * stepMs. */
  readonly t0: number
  readonly stepMs: number
  /** The writing is paced to last at least this long. */
  readonly produceMs: number
  readonly drifted?: (i: number) => boolean
}

export interface ProducedEvent {
  readonly partition: number
  readonly timestamp: number
  readonly features: Record<string, number | string>
}

/**
 * Writes the stream in order, one send of 5000 at a time (kafkajs does not keep concurrent sends
 * in order, and reordered events would be late), paced over at least `produceMs` so that the
 * faults a test injects meet events still arriving. `onEvent` sees each event as it is written.
 * Returns each partition's end offset and how long it took.
 */
export async function produceInOrder(
  kafka: Kafka,
  topic: string,
  stream: OrderedStream,
  onEvent: (event: ProducedEvent) => void = () => {},
): Promise<{ ends: number[]; ms: number }> {
  const started = performance.now()
  const rng = mulberry32(stream.seed)
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const ends = Array.from({ length: stream.partitions }, () => 0)
  const batchSize = 5000
  try {
    for (let from = 0; from < stream.events; from += batchSize) {
      const messages: Array<{ partition: number; value: string }> = []
      for (let i = from; i < Math.min(stream.events, from + batchSize); i++) {
        const partition = Math.floor(rng() * stream.partitions)
        const timestamp = stream.t0 + i * stream.stepMs
        const features = faultRow(rng, stream.drifted?.(i) ?? false)
        const eventId = `${stream.idPrefix}${i}`
        messages.push({
          partition,
          value: JSON.stringify({ eventId, model: stream.model, timestamp, features }),
        })
        onEvent({ partition, timestamp, features })
        ends[partition] = (ends[partition] as number) + 1
      }
      await producer.send({ topic, acks: -1, messages })
      const due = started + ((from + batchSize) / stream.events) * stream.produceMs
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
  } finally {
    await producer.disconnect()
  }
  return { ends, ms: performance.now() - started }
}
