import { describe, expect, it } from 'vitest'
import {
  decodePredictionEvent,
  type FeatureValue,
  type PredictionEvent,
} from '../../../src/core/events.js'
import { createRandom, mulberry32 } from '../../../src/core/simulate/random.js'
import {
  createEventGenerator,
  defaultFeatures,
  garbageCategory,
  garbageNumber,
  moments,
  referenceRows,
  shiftOf,
  type EventGeneratorOptions,
  type NumericalFeatureSpec,
} from '../../../src/core/simulate/scenarios.js'
import { ConfigError, UnknownColumnError } from '../../../src/errors.js'

const N = 20_000
const t0 = Date.UTC(2024, 5, 10)
const numericalSpecs = defaultFeatures.filter(
  (f): f is NumericalFeatureSpec => f.kind === 'numerical',
)
const numericalNames = numericalSpecs.map((f) => f.name)
const drifted = ['f01', 'f05', 'f12']

function generate(
  options: Partial<EventGeneratorOptions> & Pick<EventGeneratorOptions, 'scenario'>,
  n = N,
  stepMs = 10,
): PredictionEvent[] {
  const generator = createEventGenerator({ model: 'fraud', seed: 1, ...options })
  return Array.from({ length: n }, (_, i) => generator.next(t0 + i * stepMs))
}

function stats(
  rows: ReadonlyArray<Readonly<Record<string, FeatureValue>>>,
  name: string,
): { mean: number; sd: number; missing: number } {
  let n = 0
  let sum = 0
  let sumSq = 0
  let missing = 0
  for (const row of rows) {
    const v = row[name]
    if (typeof v !== 'number') {
      missing++
      continue
    }
    n++
    sum += v
    sumSq += v * v
  }
  const mean = sum / n
  return { mean, sd: Math.sqrt(sumSq / n - mean * mean), missing: missing / rows.length }
}

function share(
  rows: ReadonlyArray<Readonly<Record<string, FeatureValue>>>,
  name: string,
  value: FeatureValue,
): number {
  return rows.filter((r) => r[name] === value).length / rows.length
}

const featuresOf = (events: readonly PredictionEvent[]): Array<Record<string, FeatureValue>> =>
  events.map((e) => e.features)
const sdOf = (name: string): number =>
  moments(numericalSpecs.find((f) => f.name === name)!.distribution).sd

describe('mulberry32', () => {
  it('is deterministic per seed, in [0, 1), and seeds differ', () => {
    const a = mulberry32(7)
    const b = mulberry32(7)
    const c = mulberry32(8)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs)
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
  })

  it('draws a standard normal and Poisson with the right moments', () => {
    const random = createRandom(3)
    const normals = Array.from({ length: 50_000 }, () => random.normal())
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length
    expect(mean).toBeCloseTo(0, 1)
    expect(variance).toBeGreaterThan(0.97)
    expect(variance).toBeLessThan(1.03)
    const counts = Array.from({ length: 50_000 }, () => random.poisson(9))
    expect(counts.reduce((s, x) => s + x, 0) / counts.length).toBeCloseTo(9, 0)
  })
})

describe('createEventGenerator', () => {
  it('has 20 numerical and 3 categorical features by default', () => {
    expect(numericalNames).toEqual(
      Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`),
    )
    const categorical = defaultFeatures.filter((f) => f.kind === 'categorical')
    expect(categorical.map((f) => [f.name, f.values.length])).toEqual([
      ['country', 8],
      ['device', 3],
      ['plan', 4],
    ])
  })

  it('gives the same events for the same seed, and other events for another', () => {
    const a = generate({ scenario: 'sudden-shift', driftStartsAt: { index: 500 } }, 1000)
    const b = generate({ scenario: 'sudden-shift', driftStartsAt: { index: 500 } }, 1000)
    const c = generate({ scenario: 'sudden-shift', driftStartsAt: { index: 500 }, seed: 2 }, 1000)
    expect(b).toEqual(a)
    expect(c.map((e) => e.features)).not.toEqual(a.map((e) => e.features))
  })

  it('writes events the decoder accepts, with the contract fields', () => {
    const events = generate(
      { scenario: 'missing-spike', modelVersion: 'v2', idPrefix: 'run7' },
      2000,
    )
    const problems: string[] = []
    for (const [i, event] of events.entries()) {
      const result = decodePredictionEvent(Buffer.from(JSON.stringify(event)), {
        maxBytes: 4096,
        now: t0 + 1e6,
      })
      const { positive = NaN, negative = NaN } = event.scores ?? {}
      const checks = {
        decodes: result.ok,
        eventId: event.eventId === `run7-${i}`,
        modelVersion: event.modelVersion === 'v2',
        timestamp: event.timestamp === t0 + i * 10,
        scoresSumToOne: Math.abs(positive + negative - 1) < 1e-3,
        prediction: event.prediction === (positive >= 0.5 ? 1 : 0),
        latency: (event.latencyMs ?? 0) > 0,
      }
      for (const [check, ok] of Object.entries(checks))
        if (!ok) problems.push(`event ${i}: ${check}`)
    }
    expect(problems.slice(0, 5)).toEqual([])
    const sizes = events.map((e) => Buffer.byteLength(JSON.stringify(e)))
    const meanSize = sizes.reduce((s, x) => s + x, 0) / sizes.length
    expect(meanSize).toBeGreaterThan(400)
    expect(meanSize).toBeLessThan(800)
  })

  it('keeps count features integral, shifted or not', () => {
    const events = generate(
      {
        scenario: 'sudden-shift',
        driftFeatures: ['f04', 'f09', 'f14'],
        driftStartsAt: { index: 1000 },
      },
      2000,
    )
    const counts = events.flatMap((e) => ['f04', 'f09', 'f14'].map((name) => e.features[name]))
    expect(counts.filter((v) => !Number.isInteger(v))).toEqual([])
  })

  it('rejects unknown drift features and features of the wrong kind', () => {
    expect(() => generate({ scenario: 'sudden-shift', driftFeatures: ['f99'] }, 1)).toThrow(
      UnknownColumnError,
    )
    expect(() => generate({ scenario: 'sudden-shift', driftFeatures: ['f99'] }, 1)).toThrow(
      /f99.*f00, f01/,
    )
    expect(() => generate({ scenario: 'gradual-shift', driftFeatures: ['country'] }, 1)).toThrow(
      ConfigError,
    )
    expect(() => generate({ scenario: 'new-category', driftFeatures: ['f01'] }, 1)).toThrow(
      ConfigError,
    )
    expect(() => generate({ scenario: 'missing-spike', missingShare: 1.5 }, 1)).toThrow(ConfigError)
  })
})

describe('stable', () => {
  const events = generate({ scenario: 'stable' })
  const current = featuresOf(events)
  const reference = [...referenceRows(N, 99)]

  it('matches an independent reference sample: means within 0.05 sd, sds within 5 %', () => {
    for (const spec of numericalSpecs) {
      const { sd: trueSd } = moments(spec.distribution)
      const cur = stats(current, spec.name)
      const ref = stats(reference, spec.name)
      expect(Math.abs(cur.mean - ref.mean) / trueSd, spec.name).toBeLessThan(0.05)
      expect(cur.sd / ref.sd, spec.name).toBeGreaterThan(0.95)
      expect(cur.sd / ref.sd, spec.name).toBeLessThan(1.05)
    }
  })

  it('matches the distributions it claims: sample mean and sd near the exact moments', () => {
    for (const spec of numericalSpecs) {
      const { mean, sd } = moments(spec.distribution)
      const cur = stats(current, spec.name)
      expect(Math.abs(cur.mean - mean) / sd, spec.name).toBeLessThan(0.05)
      expect(cur.sd / sd, spec.name).toBeGreaterThan(0.95)
      expect(cur.sd / sd, spec.name).toBeLessThan(1.05)
    }
    for (const spec of defaultFeatures) {
      if (spec.kind !== 'categorical') continue
      const total = spec.weights.reduce((s, w) => s + w, 0)
      spec.values.forEach((value, i) => {
        expect(
          Math.abs(share(current, spec.name, value) - (spec.weights[i] ?? 0) / total),
          `${spec.name}=${value}`,
        ).toBeLessThan(0.02)
      })
    }
  })

  it('does not drift over time: first half vs second half', () => {
    const first = current.slice(0, N / 2)
    const second = current.slice(N / 2)
    for (const name of numericalNames) {
      expect(
        Math.abs(stats(first, name).mean - stats(second, name).mean) / sdOf(name),
        name,
      ).toBeLessThan(0.06)
    }
  })

  it('has the base missing shares and nothing else missing', () => {
    expect(stats(current, 'f13').missing).toBeCloseTo(0.02, 2)
    expect(stats(current, 'f18').missing).toBeGreaterThan(0)
    expect(stats(current, 'f18').missing).toBeLessThan(0.012)
    for (const name of numericalNames.filter((n) => n !== 'f13' && n !== 'f18'))
      expect(stats(current, name).missing).toBe(0)
  })

  it('referenceRows(n, seed) are the features of the first n stable events of that seed', () => {
    expect([...referenceRows(500, 1)]).toEqual(current.slice(0, 500))
  })
})

describe('sudden-shift', () => {
  const switchAt = N / 2
  const stable = generate({ scenario: 'stable' })
  const events = generate({ scenario: 'sudden-shift', driftStartsAt: { index: switchAt } })
  const before = featuresOf(events.slice(0, switchAt))
  const after = featuresOf(events.slice(switchAt))

  it('moves the named features by 1.5 sd after the switch, and no other', () => {
    for (const name of numericalNames) {
      const delta = (stats(after, name).mean - stats(before, name).mean) / sdOf(name)
      if (drifted.includes(name)) {
        expect(delta, name).toBeGreaterThan(1.4)
        expect(delta, name).toBeLessThan(1.6)
      } else {
        expect(Math.abs(delta), name).toBeLessThan(0.06)
      }
    }
    for (const name of ['country', 'device', 'plan']) {
      for (const value of ['US', 'mobile', 'free'])
        expect(Math.abs(share(after, name, value) - share(before, name, value))).toBeLessThan(0.03)
    }
  })

  it('is the stable stream exactly, plus the shift on the named features from the switch on', () => {
    expect(events.slice(0, switchAt)).toEqual(stable.slice(0, switchAt))
    const mismatches: string[] = []
    for (let i = switchAt; i < N; i++) {
      const e = events[i]!.features
      const s = stable[i]!.features
      for (const spec of numericalSpecs) {
        const shift = drifted.includes(spec.name) ? shiftOf(spec, 1.5) : 0
        const v = e[spec.name]
        const w = s[spec.name]
        const ok =
          w === null ? v === null : Math.abs((v as number) - (w as number) - shift) < 1e-4 + 1e-12
        if (!ok) mismatches.push(`event ${i} ${spec.name}: ${v} vs stable ${w}, shift ${shift}`)
      }
      for (const name of ['country', 'device', 'plan'])
        if (e[name] !== s[name]) mismatches.push(`event ${i} ${name}`)
    }
    expect(mismatches.slice(0, 5)).toEqual([])
  })

  it('switches at an event time as well as at an index', () => {
    const byTime = generate(
      { scenario: 'sudden-shift', driftStartsAt: { timeMs: t0 + 5_000 * 10 } },
      10_000,
    )
    const byIndex = generate({ scenario: 'sudden-shift', driftStartsAt: { index: 5_000 } }, 10_000)
    expect(byTime).toEqual(byIndex)
  })

  it('raises the positive rate, since the score reads the shifted features', () => {
    const rate = (es: readonly PredictionEvent[]): number =>
      es.filter((e) => e.prediction === 1).length / es.length
    const pre = rate(events.slice(0, switchAt))
    expect(pre).toBeGreaterThan(0.05)
    expect(pre).toBeLessThan(0.4)
    expect(rate(events.slice(switchAt))).toBeGreaterThan(pre + 0.05)
  })
})

describe('gradual-shift', () => {
  it('ramps the shift linearly from the switch over the ramp, then holds it', () => {
    const start = 1000
    const ramp = 4000
    const stable = generate({ scenario: 'stable' }, 8000)
    const events = generate(
      { scenario: 'gradual-shift', driftStartsAt: { index: start }, driftRamp: { events: ramp } },
      8000,
    )
    const f01 = numericalSpecs.find((f) => f.name === 'f01')!
    for (const i of [0, 999, 1000, 2000, 3000, 4000, 4999, 5000, 7999]) {
      const progress = Math.min(1, Math.max(0, (i - start) / ramp))
      const diff = (events[i]!.features['f01'] as number) - (stable[i]!.features['f01'] as number)
      expect(diff, `event ${i}`).toBeCloseTo(shiftOf(f01, 1.5) * progress, 3)
      expect(events[i]!.features['f00']).toBe(stable[i]!.features['f00'])
    }
  })

  it('ramps over event time when given in ms', () => {
    const stable = generate({ scenario: 'stable' }, 3000)
    const events = generate(
      {
        scenario: 'gradual-shift',
        driftStartsAt: { timeMs: t0 + 10_000 },
        driftRamp: { ms: 10_000 },
      },
      3000,
    )
    const shift = shiftOf(
      numericalSpecs.find((f) => f.name === 'f05')!,
      1.5,
    )
    // 10 ms per event: index 1000 is the start, 1500 half way, 2000 the end.
    const diffAt = (i: number): number =>
      (events[i]!.features['f05'] as number) - (stable[i]!.features['f05'] as number)
    expect(diffAt(999)).toBe(0)
    expect(diffAt(1500)).toBeCloseTo(shift / 2, 3)
    expect(diffAt(2500)).toBeCloseTo(shift, 3)
  })
})

describe('new-category', () => {
  it('gives the named feature 20 % of an unseen value after the switch', () => {
    const events = generate({ scenario: 'new-category', driftStartsAt: { index: N / 2 } })
    const before = featuresOf(events.slice(0, N / 2))
    const after = featuresOf(events.slice(N / 2))
    expect(share(before, 'country', 'NG')).toBe(0)
    expect(Math.abs(share(after, 'country', 'NG') - 0.2)).toBeLessThan(0.015)
    expect(share(after, 'device', 'smart-tv')).toBe(0)
    for (const name of numericalNames)
      expect(
        Math.abs(stats(after, name).mean - stats(before, name).mean) / sdOf(name),
      ).toBeLessThan(0.06)
  })
})

describe('missing-spike', () => {
  it('makes the named features null 30 % of the time after the switch, and no others', () => {
    const events = generate({ scenario: 'missing-spike', driftStartsAt: { index: N / 2 } })
    const before = featuresOf(events.slice(0, N / 2))
    const after = featuresOf(events.slice(N / 2))
    for (const name of numericalNames) {
      const increase = stats(after, name).missing - stats(before, name).missing
      if (drifted.includes(name)) expect(Math.abs(increase - 0.3), name).toBeLessThan(0.02)
      else expect(Math.abs(increase), name).toBeLessThan(0.01)
    }
    // Values that stay are not moved.
    for (const name of drifted)
      expect(
        Math.abs(stats(after, name).mean - stats(before, name).mean) / sdOf(name),
      ).toBeLessThan(0.06)
  })
})

describe('quality-incident', () => {
  it('breaks f02, f07 and device (null or garbage, half and half) for its span, then heals', () => {
    const stable = generate({ scenario: 'stable' }, 9000)
    const events = generate(
      {
        scenario: 'quality-incident',
        driftStartsAt: { index: 2000 },
        driftRamp: { events: 4000 },
      },
      9000,
    )
    const during = featuresOf(events.slice(2000, 6000))
    for (const name of ['f02', 'f07', 'device']) {
      const garbage = name === 'device' ? garbageCategory : garbageNumber
      const nulls = share(during, name, null)
      expect(nulls + share(during, name, garbage), name).toBe(1)
      expect(nulls, name).toBeGreaterThan(0.45)
      expect(nulls, name).toBeLessThan(0.55)
    }
    // Before and after: exactly the stable values; the other features never change.
    for (const i of [0, 1999, 6000, 8999]) expect(events[i]!.features).toEqual(stable[i]!.features)
    for (const i of [2000, 4000, 5999])
      expect(events[i]!.features['f01']).toBe(stable[i]!.features['f01'])
  })

  it('lasts 5 minutes of event time by default when it starts at a time', () => {
    const events = generate({ scenario: 'quality-incident', driftStartsAt: { timeMs: t0 } }, 40_000)
    // 10 ms per event: 30,000 events are 5 minutes.
    const broken = (i: number): boolean =>
      typeof events[i]!.features['f02'] !== 'number' || events[i]!.features['f02'] === garbageNumber
    expect(broken(0) && broken(29_999)).toBe(true)
    expect(broken(30_000)).toBe(false)
  })
})

describe('gradual-drift', () => {
  it('moves the means slowly: 1.5 sd over 200,000 events by default, a little per window', () => {
    const n = 200_000
    const stable = generate({ scenario: 'stable' }, n, 1)
    const events = generate({ scenario: 'gradual-drift', driftStartsAt: { index: 0 } }, n, 1)
    const f01 = numericalSpecs.find((f) => f.name === 'f01')!
    const diffAt = (i: number): number =>
      (events[i]!.features['f01'] as number) - (stable[i]!.features['f01'] as number)
    expect(diffAt(100_000)).toBeCloseTo(shiftOf(f01, 1.5) / 2, 3)
    // A window of 10,000 events moves the mean by 1.5 / 20 sd = 0.075 sd only.
    expect(diffAt(110_000) - diffAt(100_000)).toBeCloseTo((shiftOf(f01, 1.5) * 10_000) / n, 3)
    expect(stats(featuresOf(events.slice(n - 10_000)), 'f01').mean).toBeGreaterThan(1.3)
  })

  it('spans 7 days of event time when it starts at a time', () => {
    const stable = generate({ scenario: 'stable' }, 3, 86_400_000)
    const events = generate(
      { scenario: 'gradual-drift', driftStartsAt: { timeMs: t0 } },
      3,
      86_400_000,
    )
    const shift = shiftOf(
      numericalSpecs.find((f) => f.name === 'f05')!,
      1.5,
    )
    // One event a day: day 2 is 2/7 of the way.
    expect(
      (events[2]!.features['f05'] as number) - (stable[2]!.features['f05'] as number),
    ).toBeCloseTo((shift * 2) / 7, 3)
  })
})

describe('concept-drift', () => {
  /** Events and their labels, generated together. */
  function labelled(
    scenario: 'stable' | 'concept-drift',
  ): Array<{ event: PredictionEvent; label: 0 | 1 }> {
    const generator = createEventGenerator({
      model: 'fraud',
      seed: 42,
      scenario,
      driftStartsAt: { index: N / 2 },
    })
    return Array.from({ length: N }, (_, i) => {
      const event = generator.next(1_700_000_000_000 + i)
      return { event, label: generator.lastLabel as 0 | 1 }
    })
  }
  const agreement = (rows: ReadonlyArray<{ event: PredictionEvent; label: 0 | 1 }>): number =>
    rows.filter((r) => r.event.prediction === r.label).length / rows.length

  it('keeps the features and scores of the stable stream, and changes only labels after the switch', () => {
    const stable = labelled('stable')
    const drifting = labelled('concept-drift')
    expect(drifting.map((r) => r.event)).toEqual(stable.map((r) => r.event))
    expect(drifting.slice(0, N / 2).map((r) => r.label)).toEqual(
      stable.slice(0, N / 2).map((r) => r.label),
    )
    const changed = drifting.slice(N / 2).filter((r, i) => r.label !== stable[N / 2 + i]?.label)
    expect(Math.abs(changed.length / (N / 2) - 0.3)).toBeLessThan(0.02)
  })

  it('labels agree with the predictions as a calibrated model would, then much less', () => {
    const drifting = labelled('concept-drift')
    const before = agreement(drifting.slice(0, N / 2))
    const after = agreement(drifting.slice(N / 2))
    expect(before).toBeGreaterThan(0.75)
    // 70 % of the labels as before, 30 % against: before·0.7 + (1 - before)·0.3.
    expect(Math.abs(after - (before * 0.7 + (1 - before) * 0.3))).toBeLessThan(0.02)
  })
})

describe('prior-shift', () => {
  const half = N / 2
  const stable = generate({ scenario: 'stable' })
  const shifted = generate({ scenario: 'prior-shift', driftStartsAt: { index: half } })
  const positives = (events: readonly PredictionEvent[]): number =>
    events.filter((e) => e.prediction === 1).length / events.length

  it('leaves every feature and latency as in the stable stream', () => {
    for (let i = 0; i < N; i++) {
      expect(shifted[i]?.features).toEqual(stable[i]?.features)
      expect(shifted[i]?.latencyMs).toBe(stable[i]?.latencyMs)
    }
  })

  it('moves the predicted classes only from the switch on: more positives', () => {
    expect(shifted.slice(0, half)).toEqual(stable.slice(0, half))
    const before = positives(stable.slice(half))
    const after = positives(shifted.slice(half))
    // logit + 1.5 on a score whose positives are ~12 %: about three times as many
    expect(before).toBeGreaterThan(0.05)
    expect(before).toBeLessThan(0.2)
    expect(after).toBeGreaterThan(2 * before)
  })

  it('rejects a shift that is not a finite number', () => {
    expect(() => generate({ scenario: 'prior-shift', priorShift: Number.NaN }, 1)).toThrow(
      ConfigError,
    )
  })
})

describe('latency-regression', () => {
  const half = N / 2
  const stable = generate({ scenario: 'stable' })
  const regressed = generate({ scenario: 'latency-regression', driftStartsAt: { index: half } })

  it('serves v1 until the switch and v2 after it, with every latency ×3 and the same features', () => {
    for (let i = 0; i < N; i++) {
      const before = stable[i] as PredictionEvent
      const event = regressed[i] as PredictionEvent
      expect(event.features).toEqual(before.features)
      expect(event.modelVersion).toBe(i < half ? 'v1' : 'v2')
      const factor = i < half ? 1 : 3
      expect(event.latencyMs).toBeCloseTo((before.latencyMs as number) * factor, 2)
    }
  })

  it('names the new version after the given one, or as told', () => {
    const from = generate({ scenario: 'latency-regression', modelVersion: 'model-7' }, 1)
    expect(from[0]?.modelVersion).toBe('model-8')
    const named = generate(
      { scenario: 'latency-regression', modelVersion: 'blue', nextModelVersion: 'green' },
      1,
    )
    expect(named[0]?.modelVersion).toBe('green')
    expect(() =>
      generate({ scenario: 'latency-regression', modelVersion: 'a', nextModelVersion: 'a' }, 1),
    ).toThrow(ConfigError)
  })
})

describe('referenceRows with outputs', () => {
  it('are the first stable events of the seed, features, prediction and latency', () => {
    const rows = [...referenceRows(500, 1, defaultFeatures, { outputs: true })]
    const events = generate({ scenario: 'stable' }, 500)
    rows.forEach((row, i) => {
      const event = events[i] as PredictionEvent
      expect(row).toEqual({
        ...event.features,
        prediction: event.prediction,
        latencyMs: event.latencyMs,
      })
    })
  })
})
