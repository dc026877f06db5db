// What a report says about its window, end to end on the real broker and Redis, for the three
// ways a window used to come out short without saying so (issue 8, items 1–3):
//   - a burst after a pause: one partition's batch runs far ahead in event time while the others'
//     new events wait to be fetched; those partitions must hold the windows back, not be taken
//     as idle on the strength of an end offset read before the burst;
//   - late events (a partition idle by the rules, then catching up): counted, and a revised report
//     for the window whose verdict they change;
//   - one event from a clock a day ahead: dead-lettered, and nothing stalls or runs ahead;
//   - a backlog (`--from-beginning`, `--from`): every complete window judged, in order.
// Events are 10 ms apart, so one Kafka batch (~1,600 events) spans far more event time than
// `idleAfter` (2 s), as an hour of sparse real traffic spans more than the default 5 min.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App, type CreateAppOptions } from '../../src/app/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { numericalFeatures, predictionEvents } from '../helpers/prediction-events.js'
import { waitFor } from '../helpers/redis-counts.js'
import {
  createTopics,
  readTopic,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
  type StreamConfigOptions,
  type StreamNames,
} from '../helpers/stream.js'

const STEP = 10 // ms of event time between events
const WINDOW = 10_000
const PER_WINDOW = WINDOW / STEP
const kafka = testKafka()
let dir: string
let reference: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-complete-'))
  reference = await writeReference(dir, 5000, 81)
}, 60_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Event {
  readonly partition: number
  readonly value: string
}

/** `n` events from `start`, STEP apart, spread over `partitions` in turn (as keys would). */
function events(
  n: number,
  start: number,
  options: {
    partitions?: number
    onlyPartition?: number
    drifted?: readonly string[]
    seed?: number
  } = {},
): Event[] {
  const out: Event[] = []
  let i = 0
  for (const { value } of predictionEvents(n, start, STEP, {
    model: 'fraud',
    seed: options.seed ?? 5,
    idPrefix: `e${start}`,
    ...(options.drifted === undefined ? {} : { drifted: options.drifted }),
  })) {
    out.push({ partition: options.onlyPartition ?? i % (options.partitions ?? 3), value })
    i++
  }
  return out
}

async function produce(topic: string, list: readonly Event[]): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  try {
    for (let i = 0; i < list.length; i += 2000)
      await producer.send({ topic, acks: -1, messages: list.slice(i, i + 2000) })
  } finally {
    await producer.disconnect()
  }
}

async function reports(
  names: StreamNames,
  until: (r: WindowReport[]) => boolean,
  timeoutMs = 90_000,
): Promise<WindowReport[]> {
  const parse = (raw: readonly Buffer[]): WindowReport[] =>
    raw.map((b) => JSON.parse(b.toString()) as WindowReport)
  return parse(await readTopic(kafka, names.reports, (raw) => until(parse(raw)), timeoutMs))
}

async function metric(app: App, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(new URL('metrics', app.httpUrl))).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop())
  }
  return sum
}

async function withApp<T>(
  names: StreamNames,
  config: StreamConfigOptions,
  options: Omit<CreateAppOptions, 'secrets'>,
  body: (app: App) => Promise<T>,
): Promise<T> {
  const app = await startApp(
    streamConfig(names, reference, {
      flushInterval: '500ms',
      evaluateInterval: '100ms',
      ...config,
      window: {
        bucket: '1s',
        size: '10s',
        hop: '10s',
        allowedLateness: '1s',
        idleAfter: '2s',
        ...config.window,
      },
    }),
    { secrets: {}, logger: pino({ level: 'warn' }), ...options },
  )
  try {
    return await body(app)
  } finally {
    await app.stop()
  }
}

const endOf = (r: WindowReport, t0: number): number => (Date.parse(r.window.end) - t0) / 1000

describe('window completeness', () => {
  it('a burst after a pause: every window counts all its events', async () => {
    const names = streamNames()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    const T0 = Math.floor((Date.now() - 3_600_000) / WINDOW) * WINDOW
    const all = events(4 * PER_WINDOW + 150, T0) // up to T0 + 41.5 s: windows ending 10..40 s
    const first = 1.2 * PER_WINDOW // past the first window's end plus the allowed lateness
    const found = await withApp(names, {}, { fromBeginning: true }, async () => {
      await produce(names.input, all.slice(0, first))
      await reports(names, (r) => r.some((x) => endOf(x, T0) === 10))
      // The pause is over: the rest as one burst.
      await produce(names.input, all.slice(first))
      return reports(names, (r) => r.some((x) => endOf(x, T0) === 40))
    })
    const firstReports = found.filter((r) => r.revision === 0 || r.revision === undefined)
    process.stdout.write(
      `burst: nCurrent per window (end s after T0): ${firstReports.map((r) => `${endOf(r, T0)}:${r.nCurrent}`).join(', ')}\n`,
    )
    expect(firstReports.map((r) => endOf(r, T0))).toEqual([10, 20, 30, 40])
    for (const r of firstReports) expect(r.nCurrent, r.reportId).toBe(PER_WINDOW)
  }, 180_000)

  it('late events are counted, and a revised report follows when they change a verdict', async () => {
    const names = streamNames()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 2 }])
    const T0 = Math.floor((Date.now() - 3_600_000) / WINDOW) * WINDOW
    await withApp(names, {}, { fromBeginning: true }, async (app) => {
      // Partition 1 carries the model for 5 s only, then is read to its end and falls silent:
      // idle by the rules. Partition 0 goes on to 31.5 s: windows ending 10, 20, 30 close.
      await produce(names.input, [
        ...events(500, T0, { onlyPartition: 1, seed: 6 }),
        ...events(3150, T0, { onlyPartition: 0 }),
      ])
      const before = await reports(names, (r) => r.some((x) => endOf(x, T0) === 30))
      const window20 = before.find((r) => endOf(r, T0) === 20)
      expect(window20?.nCurrent).toBe(PER_WINDOW)
      expect(window20?.datasetDrift).toBe(false)
      // Then partition 1 catches up with 3,000 drifted events of the window ending at 20 s.
      await produce(
        names.input,
        events(3000, T0 + WINDOW, {
          onlyPartition: 1,
          drifted: numericalFeatures,
          seed: 7,
        }).map((e, i) => ({
          ...e,
          value: e.value.replace(
            /"timestamp":\d+/,
            `"timestamp":${T0 + WINDOW + Math.floor((i * WINDOW) / 3000)}`,
          ),
        })),
      )
      await waitFor(
        'every late event counted',
        async () =>
          (await metric(app, 'driftwatch_events_late_total')) >= 3000 ? true : undefined,
        60_000,
      )
      expect(await metric(app, 'driftwatch_events_late_total')).toBe(3000)
      const after = await reports(names, (r) => r.some((x) => x.revision >= 1))
      const revisions = after.filter((r) => r.windowId === window20?.windowId && r.revision >= 1)
      process.stdout.write(
        `late: ${revisions.map((r) => JSON.stringify({ id: r.reportId, n: r.nCurrent, lateness: r.lateness, drift: r.datasetDrift })).join(' ')}\n`,
      )
      expect(revisions.length).toBeGreaterThanOrEqual(1)
      for (const r of revisions) {
        // Says exactly what it holds: what the first report counted plus what came late.
        expect(r.lateness.nAtEvaluation).toBe(PER_WINDOW)
        expect(r.nCurrent).toBe(PER_WINDOW + r.lateness.nLate)
        expect(r.datasetDrift).toBe(true)
      }
      expect(revisions.map((r) => r.revision)).toEqual(revisions.map((_, i) => i + 1))
      // No other window was touched: only the one the late events belong to was revised.
      expect(after.filter((r) => r.revision >= 1 && r.windowId !== window20?.windowId)).toEqual([])
    })
  }, 180_000)
})

describe('clocks', () => {
  it('an event a day ahead is dead-lettered, and windows go on closing on the real clock', async () => {
    const names = streamNames()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    // Event time close to now, so that the wall clock, not the watermark, bounds the windows.
    const T0 = Math.floor((Date.now() - 60_000) / WINDOW) * WINDOW
    const list = events(3 * PER_WINDOW + 150, T0) // to T0 + 31.5 s
    const skewed = JSON.parse(list[500]!.value) as Record<string, unknown>
    skewed['timestamp'] = Date.now() + 23 * 3_600_000
    skewed['eventId'] = 'skewed'
    const found = await withApp(names, {}, { fromBeginning: true }, async (app) => {
      await produce(names.input, [
        ...list.slice(0, 500),
        { partition: 1, value: JSON.stringify(skewed) },
        ...list.slice(500),
      ])
      const r = await reports(names, (x) => x.some((y) => endOf(y, T0) === 30))
      expect(await metric(app, 'driftwatch_events_invalid_total', 'reason="clock_skew"')).toBe(1)
      return r
    })
    const deadLetters = await readTopic(kafka, names.deadLetter, (m) => m.length >= 1, 30_000)
    expect(
      deadLetters.map((b) => (JSON.parse(b.toString()) as { eventId: string }).eventId),
    ).toEqual(['skewed'])
    expect(found.map((r) => endOf(r, T0))).toEqual([10, 20, 30])
    for (const r of found) {
      expect(r.nCurrent).toBe(PER_WINDOW)
      expect(Date.parse(r.window.end)).toBeLessThanOrEqual(Date.parse(r.generatedAt))
    }
  }, 180_000)
})

describe('backlogs', () => {
  const backlog = async (
    options: Omit<CreateAppOptions, 'secrets'>,
    T0: number,
    names: StreamNames,
    lastEnd: number,
  ): Promise<{ found: WindowReport[]; skipped: number; status: unknown }> => {
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    await produce(names.input, events(6 * PER_WINDOW + 150, T0)) // windows ending 10..60 s
    return withApp(names, {}, options, async (app) => {
      const found = await reports(names, (r) => r.some((x) => endOf(x, T0) === lastEnd))
      const skipped = await metric(app, 'driftwatch_windows_skipped_total')
      const status = await (await fetch(new URL('api/models/fraud/status', app.httpUrl))).json()
      return { found, skipped, status }
    })
  }

  it('--from-beginning judges every window of the backlog, in order', async () => {
    const T0 = Math.floor((Date.now() - 3_600_000) / WINDOW) * WINDOW
    const { found, skipped } = await backlog({ fromBeginning: true }, T0, streamNames(), 60)
    expect(found.map((r) => endOf(r, T0))).toEqual([10, 20, 30, 40, 50, 60])
    for (const r of found) expect(r.nCurrent).toBe(PER_WINDOW)
    expect(skipped).toBe(0)
  }, 180_000)

  it('--from T judges every window starting at or after T, and counts the ones it skips', async () => {
    const T0 = Math.floor((Date.now() - 3_600_000) / WINDOW) * WINDOW
    const names = streamNames()
    const { found, skipped, status } = await backlog({ from: T0 + 15_000 }, T0, names, 60)
    expect(found.map((r) => endOf(r, T0))).toEqual([30, 40, 50, 60])
    for (const r of found) expect(r.nCurrent).toBe(PER_WINDOW)
    // The window ending at 20 s starts at 10 s, before --from: skipped, and said so.
    expect(skipped).toBe(1)
    expect(status).toMatchObject({
      completeness: { skippedWindows: { count: 1, reason: 'starts_before_from' }, lateEvents: 0 },
    })
  }, 180_000)
})
