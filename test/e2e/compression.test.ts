// Input topics compressed with every codec Kafka has, produced by kcat (librdkafka: an
// independent client and independent codec implementations), are read in full; the detector's
// own output in the same codec reads back through kcat.

import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { storedCounts, waitFor, withStores } from '../helpers/redis-counts.js'
import { kafkaBrokers } from '../helpers/services.js'
import {
  createTopics,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const run = promisify(execFile)
const events = 3000
const stepMs = 10
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000

/** Produces every line of `file` as one message, in batches compressed with `codec`. */
async function kcatProduce(topic: string, codec: string, file: string): Promise<void> {
  await run('kcat', ['-P', '-b', kafkaBrokers(), '-t', topic, '-z', codec, '-l', file], {
    timeout: 60_000,
  })
}

/** Every message of `topic`, one per line, read by kcat (which decompresses them itself). */
async function kcatRead(topic: string): Promise<string[]> {
  const { stdout } = await run(
    'kcat',
    ['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n'],
    { timeout: 60_000, maxBuffer: 64 * 1_048_576 },
  )
  return stdout.split('\n').filter((line) => line !== '')
}

describe.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('a topic compressed with %s', (codec) => {
  it('has every event counted, and the reports written in the same codec read back', async () => {
    const dir = await mkdtemp(join(tmpdir(), `driftwatch-${codec}-`))
    const names = streamNames()
    const kafka = testKafka()
    let app: App | undefined
    try {
      await createTopics(kafka, [{ topic: names.input, numPartitions: 1 }])
      const lines = [
        ...predictionEvents(events, T0, stepMs, { model: 'fraud', seed: 11, idPrefix: codec }),
      ]
        .map((m) => m.value)
        .join('\n')
      const file = join(dir, 'events.jsonl')
      await writeFile(file, `${lines}\n`)
      await kcatProduce(names.input, codec, file)

      const referenceFile = await writeReference(dir, 5000, 12)
      const config = streamConfig(names, referenceFile)
      app = await startApp(
        { ...config, kafka: { ...config.kafka, compression: codec } },
        { secrets: {}, fromBeginning: true, logger: pino({ level: 'warn' }) },
      )
      const end = T0 + events * stepMs
      const counts = await withStores(names.keyPrefix, ({ sketches }) =>
        waitFor(
          `all ${events} ${codec} events in Redis`,
          async () => {
            const c = await storedCounts(sketches, 'fraud', T0, end, 1000)
            return c.rows === events ? c : undefined
          },
          60_000,
        ),
      )
      expect(counts.rows).toBe(events)
      expect(counts.perFeature.get('f00')).toBe(events)

      const reports = await waitFor(
        'a report read back by kcat',
        async () => {
          const read = await kcatRead(names.reports)
          return read.length > 0 ? read : undefined
        },
        60_000,
      )
      const report = JSON.parse(reports[0] as string) as WindowReport
      expect(report.model).toBe('fraud')
      expect(report.nCurrent).toBeGreaterThan(0)
      expect(await kcatRead(names.deadLetter)).toEqual([])
    } finally {
      await app?.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
