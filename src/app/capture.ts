// `driftwatch reference capture`: a reference snapshot from what a model logged to Kafka in a
// time range, for teams without a training file at hand. The range is in event time; Kafka's
// time index is on record time, which producers set close to it. So partitions are read from the
// first record at or after `from − maxSkew` up to the first at or after `to + maxSkew`, and an
// event counts when it is a valid event of the model and its event time (or, without one, its
// record time) lies in [from, to).
//
// Column kinds are inferred from the captured events, so the rows are held in memory until the
// end (the range decides the size: a day of a 100 events/s model is ~8.6 M rows; sample with a
// shorter range). Invalid events are skipped and counted, as the stream would dead-letter them.

import { randomUUID } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { ColumnKindObserver, inferColumnKinds } from '../core/column-kinds.js'
import { decodePredictionEvent } from '../core/events.js'
import { defaultOutputColumns, separateOutputs } from '../core/model-outputs.js'
import type { CellValue } from '../core/profile/dataset.js'
import { ReferenceBuilder, type ReferenceSnapshot } from '../core/reference.js'
import type { FeatureKind } from '../core/report.js'
import { DriftwatchError } from '../errors.js'

export interface CaptureOptions {
  readonly kafka: Kafka
  readonly topics: readonly string[]
  readonly model: string
  readonly from: number
  readonly to: number
  readonly maxEventBytes: number
  /** How far record time may lie from event time (default 5 minutes). */
  readonly maxSkewMs?: number
  readonly kindOverrides?: Readonly<Record<string, FeatureKind>>
  readonly now: () => Date
  readonly onProgress?: (read: number, kept: number) => void
}

export interface CaptureResult {
  readonly snapshot: ReferenceSnapshot
  readonly read: number
  readonly kept: number
  readonly invalid: number
}

export async function captureReference(options: CaptureOptions): Promise<CaptureResult> {
  if (!(options.from < options.to))
    throw new DriftwatchError('CONFIG_INVALID', '--from must be before --to')
  const ranges = await partitionRanges(options)
  const rows: Array<Record<string, CellValue>> = []
  const observers = new Map<string, ColumnKindObserver>()
  const outputs = defaultOutputColumns
  let read = 0
  let invalid = 0
  const pending = new Set(
    ranges.filter((r) => r.start < r.end).map((r) => `${r.topic}:${r.partition}`),
  )
  if (pending.size > 0) {
    const consumer = options.kafka.consumer({ groupId: `driftwatch-capture-${randomUUID()}` })
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: true })
      const done = new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.GROUP_JOIN, () => {
          for (const r of ranges)
            consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) })
        })
        consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error))
        void consumer.run({
          eachBatch: (payload) => {
            const { batch } = payload
            const range = ranges.find(
              (r) => r.topic === batch.topic && r.partition === batch.partition,
            )
            if (range === undefined) return Promise.resolve()
            for (const message of batch.messages) {
              const offset = Number(message.offset)
              if (offset < range.start) continue
              if (offset >= range.end) {
                pending.delete(`${batch.topic}:${batch.partition}`)
                break
              }
              read++
              const decoded = decodePredictionEvent(message.value, {
                maxBytes: options.maxEventBytes,
              })
              if (!decoded.ok || decoded.event.model !== options.model) {
                if (!decoded.ok) invalid++
              } else {
                const time = decoded.event.timestamp ?? Number(message.timestamp)
                if (time >= options.from && time < options.to) {
                  const row: Record<string, CellValue> = {}
                  const { features, prediction, latencyMs } = decoded.event
                  // The outputs ride along as two more columns, moved out of the features once
                  // profiled (core/model-outputs.ts); a feature of the same name wins.
                  const cells: Array<[string, CellValue]> = Object.entries(features)
                  if (prediction !== undefined && features[outputs.prediction] === undefined)
                    cells.push([outputs.prediction, prediction])
                  if (latencyMs !== undefined && features[outputs.latency] === undefined)
                    cells.push([outputs.latency, latencyMs])
                  for (const [name, value] of cells) {
                    row[name] = value
                    let observer = observers.get(name)
                    if (observer === undefined)
                      observers.set(name, (observer = new ColumnKindObserver()))
                    observer.observe(value)
                  }
                  rows.push(row)
                }
              }
              payload.resolveOffset(message.offset)
              if (offset === range.end - 1) pending.delete(`${batch.topic}:${batch.partition}`)
            }
            options.onProgress?.(read, rows.length)
            if (pending.size === 0) resolve()
            return Promise.resolve()
          },
        })
      })
      await done
    } finally {
      await consumer.disconnect()
    }
  }
  if (rows.length === 0) {
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `no events of model '${options.model}' between ${new Date(options.from).toISOString()} and ${new Date(options.to).toISOString()}`,
    )
  }
  // A feature absent from some events is missing there, as a blank CSV cell would be.
  for (const observer of observers.values())
    for (
      let i = observer.numbers + observer.strings + observer.booleans + observer.nulls;
      i < rows.length;
      i++
    )
      observer.observe(null)
  const overrides: Readonly<Record<string, FeatureKind>> = {
    ...(observers.has(outputs.latency) ? { [outputs.latency]: 'numerical' as const } : {}),
    ...options.kindOverrides,
  }
  const inferred = inferColumnKinds(
    new Map([...observers].filter(([name]) => overrides[name] === undefined)),
  )
  const columns = [...observers.keys()].sort().map((name) => {
    const override = overrides[name]
    const decided = inferred.get(name)
    return override !== undefined
      ? { name, kind: override, reason: 'override' }
      : {
          name,
          kind: decided?.kind ?? ('categorical' as const),
          reason: decided?.reason ?? 'no values',
        }
  })
  const builder = new ReferenceBuilder(columns)
  for (const row of rows) builder.add(row)
  const profile = separateOutputs(builder.build(), outputs)
  const snapshot: ReferenceSnapshot = {
    id: '',
    createdAt: options.now().toISOString(),
    source: {
      kind: 'kafka',
      topics: options.topics.join(','),
      model: options.model,
      from: new Date(options.from).toISOString(),
      to: new Date(options.to).toISOString(),
    },
    exactBreakpoints: builder.exact,
    kindReasons: new Map(columns.map((c) => [c.name, c.reason])),
    profile,
    ...(profile.prediction === undefined ? {} : { predictionColumn: outputs.prediction }),
  }
  return { snapshot, read, kept: rows.length, invalid }
}

interface PartitionRange {
  readonly topic: string
  readonly partition: number
  readonly start: number
  readonly end: number
}

/** Offsets of the first records at or after `from` and at or after `to`, per partition. */
async function partitionRanges(options: CaptureOptions): Promise<PartitionRange[]> {
  const admin = options.kafka.admin()
  await admin.connect()
  try {
    const ranges: PartitionRange[] = []
    for (const topic of options.topics) {
      const skew = options.maxSkewMs ?? 300_000
      const starts = await admin.fetchTopicOffsetsByTimestamp(topic, options.from - skew)
      const ends = await admin.fetchTopicOffsetsByTimestamp(topic, options.to + skew)
      const latest = await admin.fetchTopicOffsets(topic)
      for (const { partition, offset } of starts) {
        // -1 means "no record at or after this time": the range runs to the end of the log.
        const high = Number(latest.find((l) => l.partition === partition)?.high ?? 0)
        const start = Number(offset) < 0 ? high : Number(offset)
        const endOffset = Number(ends.find((e) => e.partition === partition)?.offset ?? -1)
        ranges.push({ topic, partition, start, end: endOffset < 0 ? high : endOffset })
      }
    }
    return ranges
  } finally {
    await admin.disconnect()
  }
}
