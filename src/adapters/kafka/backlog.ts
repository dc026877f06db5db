// The input backlog from Kafka's own bookkeeping: each input partition's end offset (high
// watermark), and where the group starts reading it: its committed offset, or, with none, the
// beginning (--from-beginning) or the end. Two admin requests per topic; the answer is cached
// briefly, as the evaluator asks on every tick until its first evaluation.

import type { Admin, Kafka } from 'kafkajs'
import type { InputBacklog } from '../../ports/event-source.js'
import type { PartitionRef } from '../../ports/sketch-store.js'

export interface KafkaBacklogOptions {
  readonly groupId: string
  readonly topics: readonly string[]
  readonly fromBeginning: boolean
  readonly cacheMs?: number
  readonly now?: () => number
}

export class KafkaBacklog implements InputBacklog {
  readonly #admin: Admin
  readonly #options: KafkaBacklogOptions
  #connected = false
  #cached: { at: number; refs: readonly PartitionRef[] } | undefined

  constructor(kafka: Kafka, options: KafkaBacklogOptions) {
    this.#admin = kafka.admin({ retry: { retries: 2 } })
    this.#options = options
  }

  async partitionsWithUnreadEvents(): Promise<readonly PartitionRef[]> {
    const now = (this.#options.now ?? Date.now)()
    if (this.#cached !== undefined && now - this.#cached.at < (this.#options.cacheMs ?? 2000))
      return this.#cached.refs
    if (!this.#connected) {
      await this.#admin.connect()
      this.#connected = true
    }
    const { groupId, topics, fromBeginning } = this.#options
    const committed = new Map<string, bigint>()
    for (const { topic, partitions } of await this.#admin.fetchOffsets({
      groupId,
      topics: [...topics],
    })) {
      for (const { partition, offset } of partitions)
        committed.set(`${topic}:${partition}`, BigInt(offset))
    }
    const refs: PartitionRef[] = []
    for (const topic of topics) {
      for (const { partition, low, high } of await this.#admin.fetchTopicOffsets(topic)) {
        const end = BigInt(high)
        const first = BigInt(low)
        const stored = committed.get(`${topic}:${partition}`) ?? -1n
        // -1: no committed offset; the consumer resets to the beginning or the end.
        const start = stored >= 0n ? stored : fromBeginning ? first : end
        if (end > (start > first ? start : first)) refs.push({ topic, partition })
      }
    }
    this.#cached = { at: now, refs }
    return refs
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#admin.disconnect()
    this.#connected = false
  }
}
