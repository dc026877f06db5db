// The input's positions from Kafka's own bookkeeping: each input partition's end offset (high
// watermark) and where the group starts reading it: its committed offset, or, with none, the
// beginning (a replay: --from-beginning, --from) or the end. Two admin requests per topic, asked
// afresh on every call: a cached end offset is exactly the stale claim that let windows close
// without a partition's unread events (core/stream/watermark.ts).

import type { Admin, Kafka } from 'kafkajs'
import type { InputBacklog, PartitionPosition } from '../../ports/event-source.js'

export interface KafkaBacklogOptions {
  readonly groupId: string
  readonly topics: readonly string[]
  readonly fromBeginning: boolean
}

export class KafkaBacklog implements InputBacklog {
  readonly #admin: Admin
  readonly #options: KafkaBacklogOptions
  #connected = false

  constructor(kafka: Kafka, options: KafkaBacklogOptions) {
    this.#admin = kafka.admin({ retry: { retries: 2 } })
    this.#options = options
  }

  async positions(): Promise<readonly PartitionPosition[]> {
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
    const positions: PartitionPosition[] = []
    for (const topic of topics) {
      for (const { partition, low, high } of await this.#admin.fetchTopicOffsets(topic)) {
        const end = BigInt(high)
        const first = BigInt(low)
        const stored = committed.get(`${topic}:${partition}`) ?? -1n
        // -1: no committed offset; the consumer resets to the beginning or the end.
        const start = stored >= 0n ? stored : fromBeginning ? first : end
        positions.push({
          ref: { topic, partition },
          end: end.toString(),
          start: (start > first ? start : first).toString(),
        })
      }
    }
    return positions
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#admin.disconnect()
    this.#connected = false
  }
}
