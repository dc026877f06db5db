// One finite but extreme value cannot flip a window (issue: one event of 1e308 among 140 made
// every numerical feature critical and the report showed `std: 0`). On the real Kafka and Redis
// that test/global-setup.ts starts: 30,000 stable events, 1 ms apart, so each 10 s window holds
// 10,000; in the middle window one event carries f03 = 1e308 and another f07 = -1e308. That
// window must report what its neighbours report (nothing drifted), a finite standard deviation
// for f03 and f07, and the two values as out-of-range findings.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { waitFor, withStores } from '../helpers/redis-counts.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const EVENTS = 30_000
const WINDOW_MS = 10_000
// Two hours back, on a window boundary, so the three windows line up with the events.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / WINDOW_MS) * WINDOW_MS
const EXTREME = new Map([
  [15_000, { feature: 'f03', value: 1e308 }],
  [15_001, { feature: 'f07', value: -1e308 }],
])

function* withExtremes(): Generator<{ key: string; value: string }> {
  let i = 0
  for (const message of predictionEvents(EVENTS, T0, 1, {
    model: 'fraud',
    seed: 31,
    idPrefix: 'x',
  })) {
    const extreme = EXTREME.get(i++)
    if (extreme === undefined) {
      yield message
      continue
    }
    const event = JSON.parse(message.value) as { features: Record<string, unknown> }
    event.features[extreme.feature] = extreme.value
    yield { key: message.key, value: JSON.stringify(event) }
  }
}

describe('one event of ±1e308 in a window of 10,000', () => {
  let reports: WindowReport[] = []

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-extreme-'))
    const names = streamNames()
    const kafka = testKafka()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 1 }])
    const referenceFile = await writeReference(dir, 20_000, 32)
    let app: App | undefined
    try {
      app = await startApp(streamConfig(names, referenceFile), {
        secrets: {},
        fromBeginning: true,
        logger: pino({ level: 'warn' }),
      })
      const producer = kafka.producer()
      await producer.connect()
      const produced = await produceAll(producer, names.input, withExtremes())
      await producer.disconnect()
      expect(produced).toBe(EVENTS)
      // The last window whose end (plus 1 s of allowed lateness) the events pass.
      const lastWindowEnd = T0 + 2 * WINDOW_MS
      await withStores(names.keyPrefix, ({ leases }) =>
        waitFor(
          'the window holding the extreme values evaluated',
          async () =>
            ((await leases.lastEvaluation('fraud'))?.windowEnd ?? 0) >= lastWindowEnd
              ? true
              : undefined,
          120_000,
        ),
      )
      reports = (
        await readTopic(
          kafka,
          names.reports,
          (m) =>
            m.some(
              (b) =>
                Date.parse((JSON.parse(b.toString()) as WindowReport).window.end) === lastWindowEnd,
            ),
          30_000,
        )
      ).map((b) => JSON.parse(b.toString()) as WindowReport)
    } finally {
      await app?.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 300_000)

  const windowWith = (): WindowReport => {
    const report = reports.find((r) => Date.parse(r.window.start) === T0 + WINDOW_MS)
    if (report === undefined)
      throw new Error(
        `no report for the middle window; got ${reports.map((r) => r.window.start).join(', ')}`,
      )
    return report
  }

  it('keeps the verdict of its neighbours: nothing drifted', () => {
    const neighbours = reports.filter((r) => Date.parse(r.window.start) === T0)
    expect(neighbours.length).toBe(1)
    for (const report of [...neighbours, windowWith()]) {
      expect(report.nCurrent).toBe(10_000)
      expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual([])
      expect(report.datasetDrift).toBe(false)
    }
    // the statistic moves by the value's bounded weight, not by 1e308 / n
    for (const name of ['f03', 'f07']) {
      const feature = windowWith().features.find((f) => f.name === name)
      expect(feature?.test).toBe('wasserstein')
      expect(feature?.statistic).toBeLessThan(0.05)
    }
  })

  it('reports a finite std and the value as out of range', () => {
    for (const [, { feature: name, value }] of EXTREME) {
      const feature = windowWith().features.find((f) => f.name === name)
      const m = feature?.metrics
      expect(m?.outOfRangeCount).toBe(1)
      expect(m?.outOfRangeShare).toBeCloseTo(1 / 10_000, 12)
      // population std of 9,999 ordinary values and one at ±1e308: ≈ 1e308 · sqrt(9999) / 10000
      const expected = (Math.abs(value) / 10_000) * Math.sqrt(9_999)
      expect(Number.isFinite(m?.std)).toBe(true)
      expect(Math.abs((m?.std as number) - expected) / expected).toBeLessThan(1e-6)
      expect(m?.max === value || m?.min === value).toBe(true)
    }
    // the other features saw nothing out of range
    for (const feature of windowWith().features) {
      if (feature.kind !== 'numerical' || feature.name === 'f03' || feature.name === 'f07') continue
      expect(feature.metrics.outOfRangeCount, feature.name).toBe(0)
    }
  })
})
