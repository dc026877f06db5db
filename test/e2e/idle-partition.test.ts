// A partition whose events for a model stop must not hold the model's windows back for ever. Two
// partitions carry the model for 20 s of event time, then only partition 0 does, for 60 s more.
// With `window.idleAfter: 20s` partition 1, read to its end and lagging by more than that, is
// idle: windows go on closing on partition 0 alone. (Without idleness the last report would be
// the window ending at 20 s.)

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
  readReportsUntil,
  streamNames,
  testKafka,
  writeReference,
  writeStreamConfig,
} from '../helpers/stream.js'

const WINDOW_MS = 10_000
const BOTH = 20_000 // events 1 ms apart on both partitions, then
const ONLY_P0 = 60_000 // on partition 0 alone
const T0 = Math.floor((Date.now() - 3_600_000) / WINDOW_MS) * WINDOW_MS
const LAST_WINDOW_END = T0 + 70_000 // the last whose end + allowedLateness (1 s) partition 0 passes

afterAll(() => killAllDetectors())

describe('a partition that stops carrying the model', () => {
  it('becomes idle once read to its end and far enough behind: windows keep closing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-idle-'))
    try {
      const names = streamNames()
      const kafka = testKafka()
      await createTopics(kafka, [{ topic: names.input, numPartitions: 2 }])
      const producer = kafka.producer()
      await producer.connect()
      let i = 0
      let batch: Array<{ partition: number; value: string }> = []
      for (const { value } of predictionEvents(BOTH + ONLY_P0, T0, 1, {
        model: 'fraud',
        seed: 21,
        idPrefix: 'i',
      })) {
        batch.push({ partition: i < BOTH ? i % 2 : 0, value })
        i++
        if (batch.length === 1000) {
          await producer.send({ topic: names.input, acks: -1, messages: batch })
          batch = []
        }
      }
      if (batch.length > 0) await producer.send({ topic: names.input, acks: -1, messages: batch })
      await producer.disconnect()
      const reference = await writeReference(dir, 5000, 22)
      const config = await writeStreamConfig(join(dir, 'driftwatch.yaml'), names, reference, {
        window: { idleAfter: '20s' },
      })

      const detector = startDetector(config, join(dir, 'detector.log'))
      await waitUntilRunning(detector)
      const reports = await readReportsUntil(kafka, names.reports, LAST_WINDOW_END, 120_000)
      const ends = reports.map((r) => (Date.parse(r.window.end) - T0) / 1000)
      process.stdout.write(
        `idle partition: windows reported (end, s after T0): ${ends.join(', ')}\n`,
      )
      expect(await stopGracefully([detector])).toEqual([0])
      expect(Math.max(...ends)).toBe((LAST_WINDOW_END - T0) / 1000)
      // Windows after the silence hold partition 0's events only: 10,000 each.
      for (const report of reports.filter((r) => Date.parse(r.window.end) > T0 + BOTH)) {
        expect(report.nCurrent, report.reportId).toBe(WINDOW_MS)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 240_000)
})
