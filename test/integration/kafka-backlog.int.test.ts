// KafkaBacklog on the real broker: each input partition's end offset, fetched fresh on every
// call, and where the group starts reading it (its committed offset or, with none, where
// --from-beginning or its absence would start).

import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaBacklog } from '../../src/adapters/kafka/backlog.js'
import { createTopics, testKafka } from '../helpers/stream.js'

const kafka = testKafka()
const topic = `backlog-${randomUUID().slice(0, 8)}`
const backlogs: KafkaBacklog[] = []

function backlogOf(groupId: string, fromBeginning: boolean): KafkaBacklog {
  const backlog = new KafkaBacklog(kafka, { groupId, topics: [topic], fromBeginning })
  backlogs.push(backlog)
  return backlog
}

/** Partitions whose end is past where the group starts reading them. */
async function unread(backlog: KafkaBacklog): Promise<number[]> {
  return (await backlog.positions())
    .filter((p) => BigInt(p.end) > BigInt(p.start))
    .map((p) => p.ref.partition)
    .sort()
}

beforeAll(async () => {
  await createTopics(kafka, [{ topic, numPartitions: 3 }])
  const producer = kafka.producer()
  await producer.connect()
  // Partition 0: 5 events, partition 1: 3, partition 2: none.
  await producer.send({
    topic,
    acks: -1,
    messages: [0, 0, 0, 0, 0, 1, 1, 1].map((partition, i) => ({ partition, value: `{"n":${i}}` })),
  })
  await producer.disconnect()
}, 60_000)

afterAll(async () => {
  for (const backlog of backlogs) await backlog.close()
})

describe('KafkaBacklog', () => {
  it('a new group reading from the beginning has every non-empty partition to read', async () => {
    expect(await unread(backlogOf(`g-${randomUUID()}`, true))).toEqual([0, 1])
  })

  it('a new group starting at the end has nothing to read', async () => {
    expect(await unread(backlogOf(`g-${randomUUID()}`, false))).toEqual([])
  })

  it('a group with committed offsets has what lies past them to read, whatever --from-beginning says', async () => {
    const groupId = `g-${randomUUID()}`
    const admin = kafka.admin()
    await admin.connect()
    try {
      await admin.setOffsets({
        groupId,
        topic,
        partitions: [
          { partition: 0, offset: '5' },
          { partition: 1, offset: '1' },
        ],
      })
    } finally {
      await admin.disconnect()
    }
    expect(await unread(backlogOf(groupId, true))).toEqual([1])
    expect(await unread(backlogOf(groupId, false))).toEqual([1])
  })

  it('fails with the broker error when the topic does not exist', async () => {
    const backlog = new KafkaBacklog(kafka, {
      groupId: `g-${randomUUID()}`,
      topics: [`missing-${randomUUID()}`],
      fromBeginning: true,
    })
    backlogs.push(backlog)
    await expect(backlog.positions()).rejects.toThrow()
  })

  it('sees events written after its last call: end offsets are never cached', async () => {
    const backlog = backlogOf(`g-${randomUUID()}`, true)
    expect(await unread(backlog)).toEqual([0, 1])
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: [{ partition: 2, value: '{"n":9}' }] })
    await producer.disconnect()
    expect(await unread(backlog)).toEqual([0, 1, 2])
  })
})
