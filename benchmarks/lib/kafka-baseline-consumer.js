// The ingest benchmark's baseline: a bare kafkajs consumer group that JSON.parses every message
// and does nothing else, in a child process of its own like the detector (so both pay Node's
// start-up, connecting and joining a group). Same client settings as the detector's KafkaSource
// where they matter for throughput: eachBatch, one partition at a time, 1 MiB per partition.
//
//   node benchmarks/lib/kafka-baseline-consumer.js <brokers> <topic> <groupId> <expected>
//
// Prints one JSON line per milestone on stdout: {"at":"running"}, {"at":"tenth","count":n} once
// a tenth of `expected` is parsed, and {"at":"done","count":n,"cpuMs":ms} at `expected`; then
// leaves the group and exits.

import kafkajs from 'kafkajs'

const { Kafka, logLevel } = kafkajs
const [brokers, topic, groupId, expectedText] = process.argv.slice(2)
const expected = Number(expectedText)
if (brokers === undefined || topic === undefined || groupId === undefined || !(expected > 0)) {
  process.stderr.write('usage: kafka-baseline-consumer.js <brokers> <topic> <groupId> <expected>\n')
  process.exit(2)
}

const say = (line) => process.stdout.write(JSON.stringify(line) + '\n')
const kafka = new Kafka({
  clientId: 'bench-baseline',
  brokers: brokers.split(','),
  logLevel: logLevel.ERROR,
})
const consumer = kafka.consumer({
  groupId,
  maxBytesPerPartition: 1_048_576,
  sessionTimeout: 30_000,
  heartbeatInterval: 3000,
})

let count = 0
let parsedFields = 0
let finished
const done = new Promise((resolve) => {
  finished = resolve
})

await consumer.connect()
await consumer.subscribe({ topics: [topic], fromBeginning: true })
await consumer.run({
  partitionsConsumedConcurrently: 1,
  eachBatch: async ({ batch }) => {
    const before = count
    for (const message of batch.messages) {
      // Keep the result alive so the parse cannot be optimized away.
      const event = JSON.parse(message.value)
      if (event.features !== undefined) parsedFields++
      count++
    }
    if (before < expected / 10 && count >= expected / 10) say({ at: 'tenth', count })
    if (count >= expected) finished()
  },
})
say({ at: 'running' })
await done
const cpu = process.cpuUsage()
say({ at: 'done', count, withFeatures: parsedFields, cpuMs: (cpu.user + cpu.system) / 1000 })
await consumer.disconnect()
process.exit(0)
