// A fresh consumer group started over a backlog (`--from-beginning` on 6 partitions of history):
// every report covers the whole window. Before the evaluator asked Kafka what was left to read,
// the first window went out on the partitions read first (measured: 1,667 of 10,000 events, one
// partition of six; RELIABILITY.md, "Cold start").

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  killAllDetectors,
  startDetector,
  stopGracefully,
  waitUntilRunning,
} from '../helpers/detector-process.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import {
  createTopics,
  produceAll,
  readReportsUntil,
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

      const detector = startDetector(config, join(dir, 'detector.log'))
      await waitUntilRunning(detector)
      const reports = await readReportsUntil(kafka, names.reports, LAST_WINDOW_END, 150_000)
      expect(await stopGracefully([detector])).toEqual([0])
      const summary = reports.map(
        (r) => `${(Date.parse(r.window.end) - T0) / 1000}s: ${r.nCurrent}`,
      )
      process.stdout.write(`cold start: reports (window end: events) ${summary.join(', ')}\n`)
      expect(reports.map((r) => Date.parse(r.window.end))).toContain(LAST_WINDOW_END)
      for (const report of reports) expect(report.nCurrent, report.reportId).toBe(WINDOW_MS)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 240_000)
})
