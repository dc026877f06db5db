// Creating the topics driftwatch writes to (and, for local runs, reads from) when missing.

import type { Kafka } from 'kafkajs'

export async function ensureTopics(
  kafka: Kafka,
  topics: ReadonlyArray<{ topic: string; numPartitions?: number }>,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = topics.filter((t) => !existing.has(t.topic))
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions ?? 1,
          replicationFactor: -1,
        })),
      })
    }
  } finally {
    await admin.disconnect()
  }
}
