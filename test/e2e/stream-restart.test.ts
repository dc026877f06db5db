// The detector stopped mid-stream with SIGTERM and started again: it flushes and commits on the
// way out, resumes from Redis' checkpoints, and every event is counted exactly once. A SIGTERM
// while it is still starting is honoured once it has started: it leaves the group cleanly.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { binPath } from '../helpers/cli.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  streamNames,
  testKafka,
  writeReference,
  writeStreamConfig,
} from '../helpers/stream.js'
import { redisUrl } from '../helpers/services.js'

const T0 = Math.floor((Date.now() - 3_600_000) / 10_000) * 10_000
const events = 60_000
const children: ChildProcess[] = []

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

function startDetector(config: string): {
  child: ChildProcess
  exited: Promise<number | null>
  output: () => string
} {
  const child = spawn(process.execPath, [binPath, 'run', '--config', config, '--from-beginning'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
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
      const config = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, reference, {
        flushInterval: '500ms',
      })
      const producer = kafka.producer()
      await producer.connect()
      const produced = await produceAll(
        producer,
        names.input,
        predictionEvents(events, T0, 1, { model: 'fraud', seed: 5, idPrefix: 'r' }),
      )
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
        process.stdout.write(
          `restart: produced ${produced}, stored before SIGTERM ${afterStop}, after restart ${settled.rows}\n`,
        )
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 300_000)
})

/**
 * A TCP proxy to Redis that holds every connection until `open()`: start-up blocks on Redis, so a
 * test can signal the detector while it is, for certain, still starting.
 */
async function gatedRedisProxy(
  target: URL,
): Promise<{ url: string; open: () => void; close: () => Promise<void> }> {
  let opened = false
  const waiting: Array<() => void> = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    sockets.add(client)
    client.pause()
    const pipe = (): void => {
      const upstream = connect(Number(target.port), target.hostname)
      sockets.add(upstream)
      client.pipe(upstream).pipe(client)
      client.resume()
      const end = (): void => {
        client.destroy()
        upstream.destroy()
      }
      client.on('error', end).on('close', end)
      upstream.on('error', end).on('close', end)
    }
    if (opened) pipe()
    else waiting.push(pipe)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    url: `redis://127.0.0.1:${address.port}`,
    open: () => {
      opened = true
      for (const pipe of waiting.splice(0)) pipe()
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('SIGTERM while starting', () => {
  it('starts, then stops cleanly instead of dying by the signal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-start-stop-'))
    const proxy = await gatedRedisProxy(new URL(redisUrl()))
    try {
      const names = streamNames()
      const kafka = testKafka()
      await createTopics(kafka, [{ topic: names.input, numPartitions: 1 }])
      const reference = await writeReference(dir, 2000, 4)
      const config = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, reference, {
        redisUrl: proxy.url,
      })
      const detector = startDetector(config)
      await waitFor(
        'the start-up log line',
        () => Promise.resolve(detector.output().includes('driftwatch starting') ? true : undefined),
        30_000,
        20,
      )
      // Start-up is now waiting on Redis behind the closed gate.
      detector.child.kill('SIGTERM')
      await waitFor(
        'the signal acknowledged',
        () =>
          Promise.resolve(detector.output().includes('SIGTERM while starting') ? true : undefined),
        10_000,
        20,
      )
      expect(detector.output()).not.toContain('driftwatch running')
      proxy.open()
      expect(await detector.exited).toBe(0)
      expect(detector.child.signalCode).toBeNull()
      expect(detector.output()).toContain('driftwatch running')
    } finally {
      await proxy.close()
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
