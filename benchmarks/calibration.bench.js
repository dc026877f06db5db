// Benchmark: false alarms and detection of the calibrated verdicts, against Evidently's fixed
// thresholds (evidently mode) on the SAME windows.
//
// Data: real flights from the npm package vega-datasets (3.2.1, a devDependency):
// data/flights-20k.json, 20,000 US flights of 2001 with delay (minutes, heavy right tail),
// distance (miles), departure time, origin and destination airports (220 and 223 values). Features:
//   delay, distance, hour (0–23, numerical)   origin, destination (categorical, 200+ values)
//   dayPart (night / morning / afternoon / evening, categorical)
//
// Stationary streams: each of `--references` references is a resample (with replacement) of
// `--reference-rows` flights; every window is an independent resample of the same 20,000 flights,
// so reference and windows are samples of one distribution and every flag is a false alarm.
// Windows of 100, 1,000 and 10,000 events. Target: at most 1 false alarm per 1,000
// feature-windows in calibrated mode. Evidently's rate on the same windows is printed beside it,
// with the ratio.
//
// Detection, on the same streams with windows of 1,000 events after the change starts:
//   delay +0.5 σ          every event's delay moved by half the population's standard deviation
//   distance +0.5 σ       the same for distance
//   dayPart 20 points     a 20-point share moved from the largest part of the day to another
//   origin 20 %           20 % of events re-labelled to one airport (no origin holds 20 %)
// Target: the changed feature flagged within 2 windows, in every trial.
//
// Also printed: the floor model itself, measured where its exceedances are countable: the same
// windows with floors set at 0.01 a feature (falseAlarmRate 0.06 over 6 features), counting
// statistics above their floor, thresholds aside, against the expected 1 %.
//
// Run: npm run build && node benchmarks/calibration.bench.js [--references=5] [--windows=200]
// vega-datasets must be installed (npm install); NODE_PATH may point at another node_modules.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import {
  describeMachine,
  importDist,
  isMain,
  machineInfo,
  metOrNot,
  mulberry32,
  table,
} from './lib/common.js'

const windowSizes = [100, 1000, 10000]
const targetFalseAlarmsPerFeatureWindow = 1 / 1000
const parts = ['night', 'morning', 'afternoon', 'evening']
const checkRate = 0.01

export function loadFlights() {
  const require = createRequire(import.meta.url)
  const main = require.resolve('vega-datasets')
  const file = join(dirname(main), '..', 'data', 'flights-20k.json')
  const raw = JSON.parse(readFileSync(file, 'utf8'))
  return raw.map((r) => {
    const hour = Number(r.date.slice(11, 13))
    return {
      delay: r.delay,
      distance: r.distance,
      hour,
      origin: r.origin,
      destination: r.destination,
      dayPart: parts[Math.floor(hour / 6)],
    }
  })
}

const columns = [
  { name: 'delay', kind: 'numerical', reason: 'benchmark' },
  { name: 'distance', kind: 'numerical', reason: 'benchmark' },
  { name: 'hour', kind: 'numerical', reason: 'benchmark' },
  { name: 'origin', kind: 'categorical', reason: 'benchmark' },
  { name: 'destination', kind: 'categorical', reason: 'benchmark' },
  { name: 'dayPart', kind: 'categorical', reason: 'benchmark' },
]

function stats(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length)
  return { mean, sd }
}

function shareOf(rows, key) {
  const counts = new Map()
  for (const r of rows) counts.set(r[key], (counts.get(r[key]) ?? 0) + 1)
  return [...counts].map(([k, n]) => [k, n / rows.length]).sort((a, b) => b[1] - a[1])
}

/** The changes of the detection half: each maps a resampled row to a changed one. */
function changes(flights) {
  const delaySd = stats(flights.map((r) => r.delay)).sd
  const distanceSd = stats(flights.map((r) => r.distance)).sd
  const partShares = shareOf(flights, 'dayPart')
  const [from, fromShare] = partShares[0]
  const [to] = partShares[1]
  const moveProbability = 0.2 / fromShare
  const [topOrigin] = shareOf(flights, 'origin')[0]
  return [
    {
      name: 'delay +0.5 σ',
      feature: 'delay',
      change: (r) => ({ ...r, delay: r.delay + 0.5 * delaySd }),
    },
    {
      name: 'distance +0.5 σ',
      feature: 'distance',
      change: (r) => ({ ...r, distance: r.distance + 0.5 * distanceSd }),
    },
    {
      name: `dayPart 20 points ${from} → ${to}`,
      feature: 'dayPart',
      change: (r, rng) =>
        r.dayPart === from && rng() < moveProbability ? { ...r, dayPart: to } : r,
    },
    {
      name: `origin 20 % → ${topOrigin}`,
      feature: 'origin',
      change: (r, rng) => (rng() < 0.2 ? { ...r, origin: topOrigin } : r),
    },
  ]
}

export async function runCalibrationBench(options = {}) {
  const runs = []
  for (const referenceRows of options.referenceSizes ?? [10000, 800]) {
    runs.push(await runAt({ ...options, referenceRows }))
  }
  return { runs }
}

async function runAt(options) {
  const references = options.references ?? 5
  const windowsPerSize = options.windows ?? { 100: 200, 1000: 200, 10000: 40 }
  const referenceRows = options.referenceRows
  const trials = options.trials ?? 40
  const { ReferenceBuilder } = await importDist('core/reference.js')
  const { addRow, createDatasetProfile, layoutOf } = await importDist('core/profile/dataset.js')
  const { evaluateDrift } = await importDist('core/evaluate.js')
  const { createDefaultRegistry } = await importDist('core/drift-tests/registry.js')
  const { NoiseFloors } = await importDist('core/drift-tests/noise-floor.js')
  const { driftSectionSchema, driftSettingsOf } = await importDist('config/drift.js')

  const flights = loadFlights()
  const registry = createDefaultRegistry()
  const calibrated = driftSettingsOf(driftSectionSchema.parse({ mode: 'calibrated' }))
  const evidently = driftSettingsOf(driftSectionSchema.parse({ mode: 'evidently' }))
  // the floor model measured where exceedances are countable: 0.06 over 6 features = 0.01 each
  const check = driftSettingsOf(
    driftSectionSchema.parse({ mode: 'calibrated', falseAlarmRate: checkRate * columns.length }),
  )
  const rng = mulberry32(20261203 + referenceRows)
  const draw = () => flights[Math.floor(rng() * flights.length)]

  const profileOf = (reference, rows) => {
    const profile = createDatasetProfile(layoutOf(reference))
    for (const row of rows) addRow(profile, row)
    return profile
  }

  // per window size: feature-windows, false alarms of each mode, floor-only exceedances
  const bySize = new Map(
    windowSizes.map((n) => [
      n,
      {
        featureWindows: 0,
        calibrated: 0,
        evidently: 0,
        windowsWithAlarm: { calibrated: 0, evidently: 0 },
        windows: 0,
        aboveFloor: 0,
        expectedAboveFloor: 0,
        insufficient: 0,
        byFeature: new Map(),
      },
    ]),
  )
  const detection = changes(flights).map((c) => ({
    ...c,
    calibrated: { within2: 0, first: 0 },
    evidently: { within2: 0, first: 0 },
    trials: 0,
  }))
  const timings = { evaluateMs: 0, evaluations: 0, firstFloorMs: [] }

  for (let r = 0; r < references; r++) {
    const builder = new ReferenceBuilder(columns)
    for (let i = 0; i < referenceRows; i++) builder.add(draw())
    const reference = builder.build()
    const floors = new NoiseFloors()
    for (const n of windowSizes) {
      const acc = bySize.get(n)
      for (let w = 0; w < windowsPerSize[n]; w++) {
        const current = profileOf(
          reference,
          Array.from({ length: n }, () => draw()),
        )
        const started = performance.now()
        const cal = evaluateDrift(reference, current, { registry, settings: calibrated, floors })
        const elapsed = performance.now() - started
        if (w === 0) timings.firstFloorMs.push(elapsed)
        else {
          timings.evaluateMs += elapsed
          timings.evaluations++
        }
        const evi = evaluateDrift(reference, current, { registry, settings: evidently })
        const chk = evaluateDrift(reference, current, { registry, settings: check, floors })
        acc.windows++
        if (cal.nDrifted > 0) acc.windowsWithAlarm.calibrated++
        if (evi.nDrifted > 0) acc.windowsWithAlarm.evidently++
        for (let i = 0; i < cal.features.length; i++) {
          const c = cal.features[i]
          const e = evi.features[i]
          acc.featureWindows++
          const f = acc.byFeature.get(c.name) ?? { calibrated: 0, evidently: 0, test: c.test }
          if (c.insufficientData !== undefined) acc.insufficient++
          if (c.drifted) {
            acc.calibrated++
            f.calibrated++
          }
          if (e.drifted) {
            acc.evidently++
            f.evidently++
          }
          acc.byFeature.set(c.name, f)
          const k = chk.features[i]
          if (k.noiseFloor !== null && k.noiseFloor !== undefined && k.statistic !== null) {
            const above =
              k.noiseFloorOn === 'pValue' ? k.pValue < k.noiseFloor : k.statistic > k.noiseFloor
            if (above) {
              acc.aboveFloor++
              f.aboveFloor = (f.aboveFloor ?? 0) + 1
            }
            acc.expectedAboveFloor += k.falseAlarmRate
          }
        }
      }
    }
    // detection: windows of 1,000 changed events against this reference; flagged within 2?
    for (const d of detection) {
      const perReference = Math.ceil(trials / references)
      for (let t = 0; t < perReference; t++) {
        d.trials++
        for (const [mode, settings] of [
          ['calibrated', calibrated],
          ['evidently', evidently],
        ]) {
          for (let w = 1; w <= 2; w++) {
            const rows = Array.from({ length: 1000 }, () => d.change(draw(), rng))
            const report = evaluateDrift(reference, profileOf(reference, rows), {
              registry,
              settings,
              floors,
            })
            const feature = report.features.find((f) => f.name === d.feature)
            if (feature?.drifted === true) {
              d[mode].within2++
              if (w === 1) d[mode].first++
              break
            }
          }
        }
      }
    }
  }

  return {
    dataset: `vega-datasets 3.2.1 data/flights-20k.json (${flights.length} rows)`,
    cardinality: {
      origin: new Set(flights.map((r) => r.origin)).size,
      destination: new Set(flights.map((r) => r.destination)).size,
    },
    references,
    referenceRows,
    falseAlarmRate: calibrated.falseAlarmRate,
    minCount: 50,
    bySize: [...bySize].map(([n, acc]) => ({
      n,
      ...acc,
      byFeature: [...acc.byFeature].map(([name, f]) => ({ name, ...f })),
    })),
    detection: detection.map(({ change, ...d }) => d),
    timings: {
      firstWindowMs: timings.firstFloorMs,
      evaluateMsPerWindow: timings.evaluateMs / Math.max(1, timings.evaluations),
    },
  }
}

function rate(count, total) {
  return total === 0 ? 0 : count / total
}

function perMille(x) {
  return (1000 * x).toFixed(2)
}

export function printCalibrationBench(result) {
  for (const r of result.runs) {
    console.log(`\n--- references of ${r.referenceRows} rows ---`)
    printRun(r)
  }
}

function printRun(r) {
  console.log(
    `${r.dataset}; origin ${r.cardinality.origin} values, destination ${r.cardinality.destination}; ` +
      `${r.references} references of ${r.referenceRows} resampled rows; calibrated false-alarm rate ` +
      `${r.falseAlarmRate} per window (Bonferroni over 6 features), minCount ${r.minCount}`,
  )
  console.log('\nNo drift: false alarms per 1,000 feature-windows, the same windows in both modes')
  const lines = [
    [
      'window',
      'feature-windows',
      'calibrated',
      'evidently',
      'calibrated / evidently',
      'windows with any alarm (cal / evi)',
      `above floor at ${checkRate} (seen / expected)`,
      'target ≤ 1',
    ],
  ]
  for (const s of r.bySize) {
    const cal = rate(s.calibrated, s.featureWindows)
    const evi = rate(s.evidently, s.featureWindows)
    lines.push([
      String(s.n),
      String(s.featureWindows),
      perMille(cal),
      perMille(evi),
      evi === 0 ? (cal === 0 ? '—' : '∞') : (cal / evi).toFixed(4),
      `${s.windowsWithAlarm.calibrated} / ${s.windowsWithAlarm.evidently} of ${s.windows}`,
      `${s.aboveFloor} / ${s.expectedAboveFloor.toFixed(2)}`,
      metOrNot(cal <= targetFalseAlarmsPerFeatureWindow),
    ])
  }
  console.log(table(lines))
  console.log(
    `\nFalse alarms by feature: calibrated / evidently, and [statistic above its floor set at ${checkRate}]; test chosen by Evidently’s rule`,
  )
  const features = r.bySize[0].byFeature.map((f) => f.name)
  const byFeature = [['feature', 'test', ...r.bySize.map((s) => `n = ${s.n}`)]]
  for (const name of features) {
    byFeature.push([
      name,
      r.bySize[0].byFeature.find((f) => f.name === name).test,
      ...r.bySize.map((s) => {
        const f = s.byFeature.find((x) => x.name === name)
        return `${f.calibrated} / ${f.evidently} of ${s.windows} [${f.aboveFloor ?? 0}]`
      }),
    ])
  }
  console.log(table(byFeature))
  console.log('\nDetection: windows of 1,000 changed events; flagged within 2 windows (in 1)')
  const det = [['change', 'trials', 'calibrated', 'evidently', 'calibrated / evidently', 'target']]
  for (const d of r.detection) {
    det.push([
      d.name,
      String(d.trials),
      `${d.calibrated.within2} (${d.calibrated.first})`,
      `${d.evidently.within2} (${d.evidently.first})`,
      d.evidently.within2 === 0 ? '—' : (d.calibrated.within2 / d.evidently.within2).toFixed(3),
      metOrNot(d.calibrated.within2 === d.trials),
    ])
  }
  console.log(table(det))
  console.log(
    `\nCost: first window of each size (floors computed) ${r.timings.firstWindowMs.map((x) => x.toFixed(0)).join(', ')} ms; ` +
      `later windows (floors cached) ${r.timings.evaluateMsPerWindow.toFixed(2)} ms each, evaluation included`,
  )
}

export function summaryLines(result) {
  return result.runs.flatMap((r) => [`references of ${r.referenceRows} rows:`, ...runSummary(r)])
}

function runSummary(r) {
  const lines = r.bySize.map((s) => {
    const cal = rate(s.calibrated, s.featureWindows)
    const evi = rate(s.evidently, s.featureWindows)
    return (
      `n = ${s.n}: false alarms per 1,000 feature-windows calibrated ${perMille(cal)}, evidently ` +
      `${perMille(evi)} (ratio ${evi === 0 ? '—' : (cal / evi).toFixed(4)}); target ≤ 1: ` +
      metOrNot(cal <= targetFalseAlarmsPerFeatureWindow)
    )
  })
  for (const d of r.detection) {
    lines.push(
      `${d.name}: flagged within 2 windows of 1,000 in ${d.calibrated.within2}/${d.trials} trials ` +
        `(evidently ${d.evidently.within2}/${d.trials}): ${metOrNot(d.calibrated.within2 === d.trials)}`,
    )
  }
  return lines
}

if (isMain(import.meta)) {
  const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const windows = arg('windows')
  const result = await runCalibrationBench({
    ...(arg('references') === undefined ? {} : { references: Number(arg('references')) }),
    ...(windows === undefined
      ? {}
      : {
          windows: {
            100: Number(windows),
            1000: Number(windows),
            10000: Math.max(1, Math.round(Number(windows) / 5)),
          },
        }),
  })
  printCalibrationBench(result)
  console.log('\n' + describeMachine(machineInfo()))
  for (const line of summaryLines(result)) console.log(line)
}
