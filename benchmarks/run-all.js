// Runs every benchmark in sequence and prints each one's table, then a summary with one block
// per benchmark (numbers, ratio against its same-run baseline, target MET / NOT MET). Exits 0
// whatever the targets: these are measurements, not tests.
//
// Run: npm run bench   (builds dist/ first), or: node benchmarks/run-all.js [--only=name,name]
// Names: tdigest, compression, sketch-accuracy, check, check-compare, ingest-path, calibration, redis-footprint, ingest. Each file also runs alone:
// `node benchmarks/<name>.bench.js`.

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

export async function runAll(only) {
  const summaries = []
  for (const bench of benches) {
    if (only !== undefined && !only.includes(bench.name)) continue
    console.log(`\n=== ${bench.name} ===`)
    const started = performance.now()
    try {
      const b = await bench.load()
      const result = await b.run()
      b.print(result)
      summaries.push({
        name: bench.name,
        lines: b.summary(result),
        seconds: (performance.now() - started) / 1000,
      })
    } catch (error) {
      console.log(
        `${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
      summaries.push({
        name: bench.name,
        lines: [`FAILED: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`],
        seconds: (performance.now() - started) / 1000,
      })
    }
  }
  console.log('\n=== summary ===')
  console.log(describeMachine(machineInfo()))
  for (const s of summaries) {
    console.log(`[${s.name}, ${s.seconds.toFixed(0)} s]`)
    for (const line of s.lines) console.log(`  ${line}`)
  }
  return summaries
}

if (isMain(import.meta)) {
  const arg = process.argv.find((a) => a.startsWith('--only='))
  await runAll(arg === undefined ? undefined : arg.slice('--only='.length).split(','))
  process.exitCode = 0
}
