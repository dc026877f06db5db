// Runs every benchmark in sequence and prints each one's table, then a summary with one block
// per benchmark (numbers, ratio against its same-run baseline, target MET / NOT MET). Exits 0
// whatever the targets: these are measurements, not tests.
//
// The summary ends with every target of issue 12, each with its ratio and MET / NOT MET, or
// "not run: <reason>" (excluded by --only, failed, or opt-in).
//
// Run: npm run bench   (builds dist/ first), or: node benchmarks/run-all.js [--only=name,name]
// Names: tdigest, compression, sketch-accuracy, check, check-compare, ingest-path, calibration,
// redis-footprint, ingest. Each file also runs alone, with its own flags:
// `node benchmarks/<name>.bench.js`. Examples:
//   node benchmarks/run-all.js --only=check-compare,ingest,redis-footprint   # issue 12's targets
//   node benchmarks/run-all.js --only=tdigest,compression,sketch-accuracy     # the sketches, ~3 min
//   node benchmarks/check-compare.bench.js --rows=1000000 --runs=1 --formats=csv --evidently-rows=0
//   node benchmarks/ingest.bench.js --runs=1 --no-pair --rss-events=3000000
//
// How long, on an idle 2-core machine (estimated from the parts; load stretches it):
//   check-compare ~27 min (2 runs each of pandas + scipy and driftwatch at 1M and 5M rows, CSV and
//   Parquet, ~3.5 min per 1M case and ~9 min per 5M case; Evidently once per 1M format,
//   ~3 min each; 5M Evidently is opt-in, ~15 min more per format), ingest ~9 min (10M events for
//   the memory target), calibration ~3 min, check ~3 min, redis-footprint ~2 min, the rest ~3 min:
//   about 45 min in all. The first run also generates the data (~6 min: 1M and 5M files, ~5 GB
//   in .cache/bench/check-v1) and creates the Evidently venv (~2 min, .cache/bench/evidently-venv).

import { describeMachine, isMain, machineInfo } from './lib/common.js'

const benches = [
  {
    name: 'tdigest',
    load: async () => {
      const { runTdigestBench } = await import('./tdigest.bench.js')
      return {
        run: () => runTdigestBench(),
        print: printTdigest,
        summary: (r) => [
          `t-digest (δ = 100) vs npm tdigest: insert ${(1 / r.ratios.insert).toFixed(1)}x faster ` +
            `(${r.ours.insertNsPerValue.toFixed(1)} vs ${r.npm.insertNsPerValue.toFixed(1)} ns/value), merge of ${r.parts} ` +
            `${(1 / r.ratios.merge).toFixed(1)}x faster, JSON ${(1 / r.ratios.jsonBytes).toFixed(1)}x smaller, ` +
            `rank error x${r.ratios.maxRankError.toFixed(2)} (merged x${r.ratios.maxRankErrorMerged.toFixed(2)})`,
        ],
      }
    },
  },
  {
    name: 'compression',
    load: async () => {
      const m = await import('./tdigest-compression.bench.js')
      return {
        run: () => m.runCompressionBench(),
        print: m.printCompressionBench,
        summary: m.summaryLines,
      }
    },
  },
  {
    name: 'sketch-accuracy',
    load: async () => {
      const m = await import('./sketch-accuracy.bench.js')
      return {
        run: () => m.runSketchAccuracyBench(),
        print: m.printSketchAccuracyBench,
        summary: m.summaryLines,
      }
    },
  },
  {
    name: 'check',
    load: async () => {
      const m = await import('./check.bench.js')
      return { run: () => m.runCheckBench(), print: m.printCheckBench, summary: m.summaryLines }
    },
  },
  {
    name: 'check-compare',
    load: async () => {
      const m = await import('./check-compare.bench.js')
      return {
        run: () => m.runCheckCompareBench(),
        print: m.printCheckCompareBench,
        summary: m.summaryLines,
      }
    },
  },
  {
    name: 'ingest-path',
    load: async () => {
      const m = await import('./ingest-path.bench.js')
      return {
        run: () => m.runIngestPathBench(),
        print: m.printIngestPathBench,
        summary: m.summaryLines,
      }
    },
  },
  {
    name: 'calibration',
    load: async () => {
      const m = await import('./calibration.bench.js')
      return {
        run: () => m.runCalibrationBench(),
        print: m.printCalibrationBench,
        summary: m.summaryLines,
      }
    },
  },
  {
    name: 'redis-footprint',
    load: async () => {
      const m = await import('./redis-footprint.bench.js')
      return {
        run: () => m.runRedisFootprintBench(),
        print: m.printRedisFootprintBench,
        summary: m.summaryLines,
      }
    },
  },
  {
    name: 'ingest',
    load: async () => {
      const m = await import('./ingest.bench.js')
      return { run: () => m.runIngestBench(), print: m.printIngestBench, summary: m.summaryLines }
    },
  },
]

// tdigest.bench.js prints its table only when run directly; the same table from its numbers.
function printTdigest(r) {
  const rows = [
    ['insert (ns/value, median)', 'insertNsPerValue', 'insert', 1],
    ['insert CPU time (ns/value, median)', 'insertCpuNsPerValue', 'insertCpu', 1],
    [`merge ${r.parts} x ${r.partSize} (ms, median)`, 'merge100Ms', 'merge', 2],
    ['JSON bytes (1e6 digest)', 'jsonBytes', 'jsonBytes', 0],
    ['centroids (1e6 digest)', 'centroids', 'centroids', 0],
    ['max rank error (1e6 digest)', 'maxRankError', 'maxRankError', 5],
    ['max rank error (merged)', 'maxRankErrorMerged', 'maxRankErrorMerged', 5],
  ]
  const fmt = (v, digits) => (digits === 5 ? v.toExponential(2) : v.toFixed(digits))
  console.log(
    `t-digest, compression 100, n = ${r.n} N(0,1) values, ${r.runs} timed runs, load average ${r.loadAverage.toFixed(2)}`,
  )
  for (const [name, key, ratioKey, digits] of rows) {
    console.log(
      `  ${name}: ours ${fmt(r.ours[key], digits)}, npm ${fmt(r.npm[key], digits)}, ours / npm ${r.ratios[ratioKey].toFixed(3)}`,
    )
  }
}

// Issue 12's targets, by the benchmark that measures them: [the start of the benchmark's summary
// line that reports it, what to call it when it did not run].
const issue12Targets = {
  check: [['check:', 'check peak RSS at 1M rows / at 200k <= 1.10']],
  'check-compare': [1_000_000, 5_000_000].flatMap((rows) =>
    ['csv', 'parquet'].map((format) => [
      `check, ${rows} rows ${format}:`,
      `check, ${rows} rows ${format}: >= 2x faster than pandas + scipy, peak RSS <= 0.25x its, >= 10x faster than Evidently`,
    ]),
  ),
  ingest: [
    ['ingest: detector', 'ingest: detector / bare kafkajs + JSON.parse >= 0.8'],
    ['ingest, Avro', 'ingest, Avro: >= 1.0x the JSON baseline'],
    ['ingest, two detectors', 'ingest: two detectors in one group / one >= 1.6'],
    ['ingest memory', 'ingest memory: peak RSS flat (<= 1.10) from 1M to 10M events'],
  ],
  'redis-footprint': [
    ['Redis bytes per model-day', 'Redis bytes per model-day <= 0.2x the JSON buckets'],
  ],
}

export function issue12Lines(summaries, only) {
  const lines = []
  for (const [name, targets] of Object.entries(issue12Targets)) {
    const s = summaries.find((x) => x.name === name)
    for (const [start, label] of targets) {
      if (s === undefined)
        lines.push(
          `${label}: not run (${only !== undefined ? 'excluded by --only' : 'not in this run'})`,
        )
      else if (s.failed) lines.push(`${label}: not run (${name} failed: ${s.error})`)
      else
        lines.push(
          s.lines.find((line) => line.startsWith(start)) ??
            `${label}: not run (not in ${name}'s options)`,
        )
    }
  }
  return lines
}

export async function runAll(only) {
  const summaries = []
  const started = performance.now()
  for (const bench of benches) {
    if (only !== undefined && !only.includes(bench.name)) continue
    console.log(`\n=== ${bench.name} ===`)
    const benchStarted = performance.now()
    try {
      const b = await bench.load()
      const result = await b.run()
      b.print(result)
      summaries.push({
        name: bench.name,
        lines: b.summary(result),
        seconds: (performance.now() - benchStarted) / 1000,
      })
    } catch (error) {
      console.log(
        `${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
      summaries.push({
        name: bench.name,
        failed: true,
        error: error instanceof Error ? error.message.split('\n')[0] : String(error),
        lines: [`FAILED: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`],
        seconds: (performance.now() - benchStarted) / 1000,
      })
    }
  }
  console.log('\n=== summary ===')
  console.log(describeMachine(machineInfo()))
  for (const s of summaries) {
    console.log(`[${s.name}, ${s.seconds.toFixed(0)} s]`)
    for (const line of s.lines) console.log(`  ${line}`)
  }
  console.log('\n=== issue 12 targets ===')
  for (const line of issue12Lines(summaries, only)) console.log(`  ${line}`)
  console.log(
    `\n${summaries.length} benchmarks in ${((performance.now() - started) / 60_000).toFixed(1)} min`,
  )
  return summaries
}

if (isMain(import.meta)) {
  const arg = process.argv.find((a) => a.startsWith('--only='))
  await runAll(arg === undefined ? undefined : arg.slice('--only='.length).split(','))
  process.exitCode = 0
}
