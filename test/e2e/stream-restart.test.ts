// The detector stopped mid-stream with SIGTERM and started again: it flushes and commits on the
// way out, resumes from Redis' checkpoints, and every event is counted exactly once.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { binPath } from '../helpers/cli.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import { createTopics, produceAll, streamNames, testKafka, writeReference } from '../helpers/stream.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'

const T0 = Math.floor((Date.now() - 3_600_000) / 10_000) * 10_000
const events = 60_000
const children: ChildProcess[] = []

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

function startDetector(config: string): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [binPath, 'run', '--config', config, '--from-beginning'], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => output }
}

describe('SIGTERM mid-stream, then start again', () => {
  it('counts every event exactly once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-restart-'))
    try {
      const names = streamNames()
      const kafka = testKafka()
      await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
      const reference = await writeReference(dir, 5000, 3)
      const config = join(dir, 'driftwatch.yaml')
      await writeFile(
        config,
        stringify({
          kafka: {
            brokers: kafkaBrokers().split(','),
            groupId: names.groupId,
            topics: { predictions: [names.input], deadLetter: names.deadLetter, reports: names.reports, alerts: names.alerts, retrain: names.retrain },
          },
          redis: { url: redisUrl(), keyPrefix: names.keyPrefix },
          http: { port: 0 },
          flushInterval: '500ms',
          logLevel: 'info',
          models: [{ name: 'fraud', reference: { file: reference }, window: { bucket: '1s', size: '10s', hop: '10s', allowedLateness: '1s', retention: '1h' } }],
        }),
      )
      const producer = kafka.producer()
      await producer.connect()
      const produced = await produceAll(producer, names.input, predictionEvents(events, T0, 1, { model: 'fraud', seed: 5, idPrefix: 'r' }))
      await producer.disconnect()

      await withStores(names.keyPrefix, async ({ sketches }) => {
        const first = startDetector(config)
        // Stop it once it has stored some but not all of the stream.
        const partial = await waitFor(
          'a partial count',
          async () => {
            const { rows } = await storedCounts(sketches, 'fraud', T0, T0 + events, 1000)
            return rows > 0 ? rows : undefined
          },
          90_000,
          100,
        )
        first.child.kill('SIGTERM')
        expect(await first.exited).toBe(0)
        const afterStop = (await storedCounts(sketches, 'fraud', T0, T0 + events, 1000)).rows
        expect(afterStop).toBeGreaterThanOrEqual(partial)
        expect(first.output()).toContain('driftwatch running')

        const second = startDetector(config)
        const done = await waitFor(
          'every event stored',
          async () => {
            const counts = await storedCounts(sketches, 'fraud', T0, T0 + events, 1000)
            return counts.rows >= produced ? counts : undefined
          },
          120_000,
        )
        // Give a duplicate the chance to show up before judging.
        await new Promise((resolve) => setTimeout(resolve, 2000))
        const settled = await storedCounts(sketches, 'fraud', T0, T0 + events, 1000)
        second.child.kill('SIGTERM')
        expect(await second.exited).toBe(0)
        expect(done.rows).toBe(produced)
        expect(settled.rows).toBe(produced)
        for (const [feature, n] of settled.perFeature) expect(n, feature).toBe(produced)
        process.stdout.write(`restart: produced ${produced}, stored before SIGTERM ${afterStop}, after restart ${settled.rows}\n`)
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
