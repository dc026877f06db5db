import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Message, ProducerBatch } from 'kafkajs'
import { afterAll, describe, expect, it } from 'vitest'
import {
  buildSimulationReference,
  referenceSeedOf,
  runSimulation,
  writeReferenceRowsCsv,
  type SimulationClock,
  type SimulationOptions,
  type SimulationProducer,
} from '../../../src/app/simulate.js'
import { decodePredictionEvent } from '../../../src/core/events.js'
import { defaultFeatures, referenceRows } from '../../../src/core/simulate/scenarios.js'
import { DriftwatchError } from '../../../src/errors.js'

/** Time moves only when the code under test sleeps (or a send takes `sendMs`). */
function fakeClock(start = 1_000_000): SimulationClock & { time: number } {
  const clock = {
    time: start,
    now: () => clock.time,
    sleep: (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted === true) return Promise.reject(new Error('aborted'))
      clock.time += ms
      return Promise.resolve()
    },
  }
  return clock
}

function fakeProducer(
  clock?: { time: number },
  sendMs = 0,
): SimulationProducer & {
  batches: Array<{ at: number; messages: Message[]; acks: number | undefined }>
} {
  const batches: Array<{ at: number; messages: Message[]; acks: number | undefined }> = []
  return {
    batches,
    sendBatch: (batch: ProducerBatch) => {
      if (clock !== undefined) clock.time += sendMs
      batches.push({
        at: clock?.time ?? 0,
        messages: batch.topicMessages?.[0]?.messages ?? [],
        acks: batch.acks,
      })
      return Promise.resolve([])
    },
  }
}

const base: SimulationOptions = { topic: 't', model: 'fraud', scenario: 'stable', seed: 1, rate: 0 }

describe('runSimulation', () => {
  it('keeps to the rate: batches of rate/10, spaced by batch/rate', async () => {
    const clock = fakeClock()
    const producer = fakeProducer(clock)
    const result = await runSimulation({ ...base, rate: 2000, count: 10_000, clock }, { producer })
    expect(result).toMatchObject({ sent: 10_000, stoppedBy: 'count' })
    expect(producer.batches.map((b) => b.messages.length)).toEqual(
      Array.from({ length: 50 }, () => 200),
    )
    // The bucket starts with one batch; the other 9,800 events take 4.9 s at 2000/s.
    expect(result.elapsedMs).toBeCloseTo(4900, 0)
    const gaps = producer.batches.slice(1).map((b, i) => b.at - producer.batches[i]!.at)
    expect(gaps.every((g) => Math.abs(g - 100) < 1e-6)).toBe(true)
  })

  it('does not burst after a stall: the rate is a ceiling', async () => {
    const clock = fakeClock()
    // Each send takes 1 s, far slower than 2000/s allows.
    const producer = fakeProducer(clock, 1000)
    const result = await runSimulation({ ...base, rate: 2000, count: 2000, clock }, { producer })
    expect(producer.batches.every((b) => b.messages.length === 200)).toBe(true)
    expect(result.elapsedMs).toBeGreaterThanOrEqual(10_000)
  })

  it('sends batches of 500 with acks from all replicas, keyed by eventId, when unpaced', async () => {
    const producer = fakeProducer()
    await runSimulation({ ...base, count: 1234, idPrefix: 'x' }, { producer })
    expect(producer.batches.map((b) => b.messages.length)).toEqual([500, 500, 234])
    expect(producer.batches.every((b) => b.acks === -1)).toBe(true)
    const messages = producer.batches.flatMap((b) => b.messages)
    const ids = messages.map((m) => {
      const decoded = decodePredictionEvent(Buffer.from(String(m.value)), { maxBytes: 4096 })
      if (!decoded.ok) throw new Error(decoded.detail)
      expect(m.key).toBe(decoded.event.eventId)
      return decoded.event.eventId
    })
    expect(new Set(ids).size).toBe(1234)
    expect(ids[0]).toBe('x-0')
  })

  it('stops at --duration of synthetic event time', async () => {
    const producer = fakeProducer()
    const result = await runSimulation(
      { ...base, durationMs: 1000, eventTimeStepMs: 10, startTime: 5_000_000 },
      { producer },
    )
    expect(result).toMatchObject({
      sent: 100,
      stoppedBy: 'duration',
      firstEventTime: 5_000_000,
      lastEventTime: 5_000_990,
    })
  })

  it('stops at --duration of wall-clock time, stamping events with the clock', async () => {
    const clock = fakeClock(2_000_000)
    const producer = fakeProducer(clock)
    const result = await runSimulation(
      { ...base, rate: 100, durationMs: 5000, clock },
      { producer },
    )
    expect(result.stoppedBy).toBe('duration')
    // 10 at once, then 10 every 100 ms until 5 s: 500 events, the last batch at 4.9 s.
    expect(result.sent).toBe(500)
    expect(result.firstEventTime).toBe(2_000_000)
    expect(result.lastEventTime).toBe(2_004_900)
  })

  it('stops after the batch in flight when the signal aborts', async () => {
    const controller = new AbortController()
    const producer = fakeProducer()
    const send = producer.sendBatch
    producer.sendBatch = async (batch) => {
      const sent = await send(batch)
      if (producer.batches.length === 3) controller.abort()
      return sent
    }
    const result = await runSimulation({ ...base, signal: controller.signal }, { producer })
    expect(result).toMatchObject({ sent: 1500, stoppedBy: 'signal' })
  })

  it('stops while waiting for tokens when the signal aborts', async () => {
    const controller = new AbortController()
    const clock = fakeClock()
    clock.sleep = () => {
      controller.abort()
      return Promise.reject(new Error('aborted'))
    }
    const result = await runSimulation(
      { ...base, rate: 10, count: 100, clock, signal: controller.signal },
      { producer: fakeProducer() },
    )
    expect(result).toMatchObject({ sent: 1, stoppedBy: 'signal' })
  })

  it('reports progress while it runs', async () => {
    const seen: number[] = []
    const producer = fakeProducer()
    const send = producer.sendBatch
    producer.sendBatch = async (batch) => {
      await new Promise((resolve) => setTimeout(resolve, 15))
      return send(batch)
    }
    await runSimulation(
      { ...base, count: 5000, progressIntervalMs: 20, onProgress: ({ sent }) => seen.push(sent) },
      { producer },
    )
    expect(seen.length).toBeGreaterThan(0)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
  })

  it('wraps producer failures as KAFKA_UNAVAILABLE, retriable as kafkajs says', async () => {
    const failing = (retriable: boolean): SimulationProducer => ({
      sendBatch: () => Promise.reject(Object.assign(new Error('broker gone'), { retriable })),
    })
    for (const retriable of [true, false]) {
      const error: unknown = await runSimulation(
        { ...base, count: 10 },
        { producer: failing(retriable) },
      ).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DriftwatchError)
      expect(error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', canRetry: retriable })
      expect((error as Error).message).toContain('broker gone')
    }
  })

  it('rejects unusable options', async () => {
    const producer = fakeProducer()
    await expect(runSimulation({ ...base, rate: -1 }, { producer })).rejects.toThrow(/rate/)
    await expect(runSimulation({ ...base, count: 1.5 }, { producer })).rejects.toThrow(/count/)
    await expect(runSimulation({ ...base, eventTimeStepMs: 0 }, { producer })).rejects.toThrow(
      /eventTimeStepMs/,
    )
    await expect(
      runSimulation({ ...base, scenario: 'sudden-shift', driftFeatures: ['nope'] }, { producer }),
    ).rejects.toThrow(/nope/)
    expect(producer.batches).toEqual([])
  })
})

describe('reference rows', () => {
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('writes the stable rows as CSV, empty cells for missing values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-sim-'))
    dirs.push(dir)
    const path = join(dir, 'rows.csv')
    await writeReferenceRowsCsv(path, { rows: 3000, seed: 5 })
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    const columns = [...defaultFeatures.map((f) => f.name), 'prediction', 'latencyMs']
    expect(lines[0]).toBe(columns.join(','))
    expect(lines).toHaveLength(3001)
    const rows = [...referenceRows(3000, 5, defaultFeatures, { outputs: true })]
    expect(lines[1]).toBe(columns.map((name) => String(rows[0]![name] ?? '')).join(','))
    expect(lines.some((l) => l.includes(',,') || l.startsWith(','))).toBe(true) // f13 is missing 2 % of the time
  })

  it('builds the snapshot that matches the simulation, its inferred kinds those of the specs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-sim-'))
    dirs.push(dir)
    const snapshotPath = join(dir, 'reference.json')
    const built = await buildSimulationReference({
      rowsPath: join(dir, 'rows.csv'),
      snapshotPath,
      rows: 5000,
      seed: 1,
      now: () => new Date(Date.UTC(2024, 5, 10)),
    })
    expect(built.rows).toBe(5000)
    const json = JSON.parse(await readFile(snapshotPath, 'utf8')) as {
      id: string
      columns: Array<{ name: string; kind: string }>
    }
    expect(json.id).toBe(built.id)
    expect(json.columns.map((c) => [c.name, c.kind])).toEqual(
      defaultFeatures.map((f) => [f.name, f.kind]),
    )
    // The model's outputs are the reference's prediction (0/1 classes) and latency, not features.
    const outputs = JSON.parse(await readFile(snapshotPath, 'utf8')) as {
      prediction?: { name: string; kind: string }
      latency?: { kind: string; count: number }
    }
    expect(outputs.prediction).toMatchObject({ name: 'prediction', kind: 'categorical' })
    expect(outputs.latency).toMatchObject({ kind: 'numerical', count: 5000 })
    expect(referenceSeedOf(1)).not.toBe(1)
  })
})
