// A fresh consumer group started over a backlog (`--from-beginning` on 6 partitions of history):
// every report covers the whole window. Before the evaluator asked Kafka what was left to read,
// the first window went out on the partitions read first (measured: 1,667 of 10,000 events, one
// partition of six; RELIABILITY.md, "Cold start").

import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { killAllDetectors, startDetector, stopGracefully } from '../helpers/detector-process.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { waitFor } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamNames,
  testKafka,
  writeReference,
  writeStreamConfig,
} from '../helpers/stream.js'

const WINDOW_MS = 10_000
const EVENTS = 60_000 // 1 ms apart: 10,000 per window
const T0 = Math.floor((Date.now() - 3_600_000) / WINDOW_MS) * WINDOW_MS
const LAST_WINDOW_END = T0 + 50_000 // the last one whose end + allowedLateness (1 s) the data passes

afterAll(() => killAllDetectors())

describe('a fresh group over a backlog', () => {
  it('evaluates no window before every partition has been read: each report covers all its events', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-cold-start-'))
    try {
      const names = streamNames()
      const kafka = testKafka()
      await createTopics(kafka, [{ topic: names.input, numPartitions: 6 }])
      const producer = kafka.producer()
      await producer.connect()
      await produceAll(
        producer,
        names.input,
        predictionEvents(EVENTS, T0, 1, { model: 'fraud', seed: 11, idPrefix: 'c' }),
      )
      await producer.disconnect()
      const reference = await writeReference(dir, 5000, 12)
      const config = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, reference)

      const log = join(dir, 'detector.log')
      const detector = startDetector(config, log)
      // It creates the reports topic as it starts.
      await waitFor(
        'the detector running',
        () =>
          Promise.resolve(
            readFileSync(log, 'utf8').includes('driftwatch running') ? true : undefined,
          ),
        60_000,
      )
      const parse = (raw: readonly Buffer[]): WindowReport[] =>
        raw.map((b) => JSON.parse(b.toString()) as WindowReport)
      const hasLast = (raw: readonly Buffer[]): boolean =>
        parse(raw).some((r) => Date.parse(r.window.end) === LAST_WINDOW_END)
      expect(
        hasLast(await readTopic(kafka, names.reports, hasLast, 150_000)),
        'the last window reported',
      ).toBe(true)
      expect(await stopGracefully([detector])).toEqual([0])

      const reports = parse(await readTopic(kafka, names.reports, hasLast, 10_000))
      const summary = reports.map(
        (r) => `${(Date.parse(r.window.end) - T0) / 1000}s: ${r.nCurrent}`,
      )
      process.stdout.write(`cold start: reports (window end: events) ${summary.join(', ')}\n`)
      expect(reports.length).toBeGreaterThanOrEqual(1)
      for (const report of reports) expect(report.nCurrent, report.reportId).toBe(WINDOW_MS)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 240_000)
})
