// The input topics through a kafkajs consumer group. Offsets are resolved per batch only to move
// the fetch position; nothing is committed automatically. The app commits (as a hint) after Redis
// holds the state, and on assignment seeks to Redis' checkpoints (docs/architecture.md, guarantee 1).

import type { Consumer, Kafka } from 'kafkajs'
import type { EventSource, EventSourceHandlers } from '../../ports/event-source.js'
import type { PartitionRef } from '../../ports/sketch-store.js'

export interface KafkaSourceOptions {
  readonly groupId: string
  readonly topics: readonly string[]
  readonly fromBeginning: boolean
  /** Bounds one batch, so heartbeats and flushes stay timely. */
  readonly maxBytesPerPartition?: number
  /** Group session timeout, ms (default 30 s). */
  readonly sessionTimeoutMs?: number
  /** Heartbeat interval, ms (default a third of the session timeout, at most 3 s). */
  readonly heartbeatIntervalMs?: number
}

export class KafkaSource implements EventSource {
  readonly #consumer: Consumer
  readonly #options: KafkaSourceOptions
  #connected = false
  #assigned: PartitionRef[] = []
  /** Partitions seeked since their current batch started: that batch must not be resolved. */
  readonly #seeked = new Set<string>()
  /** Partitions paused by pausePartition, and the timers that resume them. */
  readonly #partitionTimers = new Map<string, NodeJS.Timeout>()

  constructor(kafka: Kafka, options: KafkaSourceOptions) {
    this.#options = options
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      sessionTimeout,
      heartbeatInterval:
        options.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeout / 3)),
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    })
  }

  async start(handlers: EventSourceHandlers): Promise<void> {
    const events = this.#consumer.events
    this.#consumer.on(events.CONNECT, () => {
      this.#connected = true
    })
    this.#consumer.on(events.DISCONNECT, () => {
      this.#connected = false
    })
    this.#consumer.on(events.CRASH, () => {
      this.#connected = false
    })
    this.#consumer.on(events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment
      const next: PartitionRef[] = Object.entries(assignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      )
      const key = (r: PartitionRef): string => `${r.topic}:${r.partition}`
      const nextKeys = new Set(next.map(key))
      const prevKeys = new Set(this.#assigned.map(key))
      const revoked = this.#assigned.filter((r) => !nextKeys.has(key(r)))
      const added = next.filter((r) => !prevKeys.has(key(r)))
      this.#assigned = next
      if (revoked.length > 0) handlers.onRevoked(revoked)
      if (added.length > 0) handlers.onAssigned(added)
    })
    await this.#consumer.connect()
    this.#connected = true
    await this.#consumer.subscribe({
      topics: [...this.#options.topics],
      fromBeginning: this.#options.fromBeginning,
    })
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        const { batch } = payload
        // kafkajs binds these to the batch; wrapped so they are never called detached
        const isRunning = (): boolean => payload.isRunning()
        const isStale = (): boolean => payload.isStale()
        const heartbeat = (): Promise<void> => payload.heartbeat()
        const resolveOffset = (offset: string): void => payload.resolveOffset(offset)
        const ref = { topic: batch.topic, partition: batch.partition }
        const id = `${ref.topic}:${ref.partition}`
        this.#seeked.delete(id)
        await handlers.onBatch(
          {
            ref,
            highWatermark: batch.highWatermark,
            messages: batch.messages.map((m) => ({
              offset: m.offset,
              value: m.value,
              timestamp: Number(m.timestamp),
            })),
          },
          { isRunning: () => isRunning() && !isStale() && !this.#seeked.has(id), heartbeat },
        )
        const last = batch.messages[batch.messages.length - 1]
        if (last !== undefined && !this.#seeked.has(id) && isRunning() && !isStale())
          resolveOffset(last.offset)
      },
    })
  }

  seek(ref: PartitionRef, offset: string): void {
    this.#seeked.add(`${ref.topic}:${ref.partition}`)
    this.#consumer.seek({ topic: ref.topic, partition: ref.partition, offset })
  }

  async commit(offsets: ReadonlyArray<{ ref: PartitionRef; nextOffset: string }>): Promise<void> {
    if (offsets.length === 0) return
    await this.#consumer.commitOffsets(
      offsets.map(({ ref, nextOffset }) => ({
        topic: ref.topic,
        partition: ref.partition,
        offset: nextOffset,
      })),
    )
  }

  pause(): void {
    this.#consumer.pause(this.#options.topics.map((topic) => ({ topic })))
  }

  resume(): void {
    this.#consumer.resume(this.#options.topics.map((topic) => ({ topic })))
  }

  pausePartition(ref: PartitionRef, ms: number): void {
    const id = `${ref.topic}:${ref.partition}`
    clearTimeout(this.#partitionTimers.get(id))
    const topicPartitions = [{ topic: ref.topic, partitions: [ref.partition] }]
    this.#consumer.pause(topicPartitions)
    this.#partitionTimers.set(
      id,
      setTimeout(() => {
        this.#partitionTimers.delete(id)
        this.#consumer.resume(topicPartitions)
      }, ms),
    )
  }

  async stop(): Promise<void> {
    for (const timer of this.#partitionTimers.values()) clearTimeout(timer)
    this.#partitionTimers.clear()
    await this.#consumer.stop()
    await this.#consumer.disconnect()
    this.#connected = false
  }

  connected(): boolean {
    return this.#connected
  }
}
