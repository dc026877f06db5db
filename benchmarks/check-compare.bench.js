// Benchmark: `driftwatch check` against what a user would run instead: twenty lines of pandas +
// scipy (benchmarks/lib/pandas_scipy_check.py: read both files whole, ks_2samp and
// wasserstein_distance per numerical column, chi-square per categorical one), and Evidently's
// data-drift preset (benchmarks/lib/evidently_check.py).
//
// All read the same reference and current files (N rows x 23 columns each, 20 numerical + 3
// categorical, four drifted columns; benchmarks/lib/feature-data.js), as CSV and as Parquet, each
// in a child process; wall time, user+system CPU and peak RSS (GNU time) per run. Runs alternate
// (pandas, driftwatch, Evidently, pandas, ...) so that load from other work on the machine falls
// on all; medians are compared. Targets (issue 12), at 1M and 5M rows, CSV and Parquet:
// driftwatch at least 2x faster than the script with peak RSS at most 0.25x the script's, and at
// least 10x faster than Evidently.
//
// Needs python3 with pandas, scipy and pyarrow (`pip install pandas scipy pyarrow`); without them
// the baseline is reported as missing. Evidently 0.7 imports only under pandas < 3, so it runs
// with the interpreter in DRIFTWATCH_EVIDENTLY_PYTHON (a venv with
// test/fixtures/drift/requirements.txt and pyarrow), up to --evidently-rows rows (it takes minutes
// and gigabytes per million rows); without it, Evidently is reported as not run.
// Data is cached under .cache/bench/check-v1/ (5M rows: about 4 GB).
//
// Run: npm run build && node benchmarks/check-compare.bench.js [--rows=1000000,5000000] [--runs=2]
//      [--formats=csv,parquet] [--evidently-rows=1000000]

import { execFileSync } from 'node:child_process'
import { existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { prepareCheckData } from './check.bench.js'
import {
  cliArgs,
  describeMachine,
  isMain,
  listOf,
  machineInfo,
  measureProcess,
  median,
  metOrNot,
  mib,
  peakRssMethod,
  repoRoot,
  table,
} from './lib/common.js'

const SPEED_TARGET = 2
const RSS_TARGET = 0.25
const EVIDENTLY_TARGET = 10
const evidentlyPython = process.env.DRIFTWATCH_EVIDENTLY_PYTHON ?? 'python3'

function toParquet(csv, log) {
  const parquet = csv.replace(/\.csv$/, '.parquet')
  if (existsSync(parquet)) return parquet
  log(`writing ${parquet} with pyarrow`)
  const script = [
    'import sys, pyarrow.csv as pc, pyarrow.parquet as pq',
    't = pc.read_csv(sys.argv[1])',
    "pq.write_table(t, sys.argv[2] + '.partial', row_group_size=65536)",
  ].join('\n')
  execFileSync('python3', ['-c', script, csv, parquet], { stdio: 'inherit' })
  renameSync(parquet + '.partial', parquet)
  return parquet
}

async function runDriftwatch(reference, current, rows) {
  const args = cliArgs('check', '--reference', reference, '--current', current, '--format', 'json')
  const run = await measureProcess(process.execPath, args)
  if (run.code !== 0 && run.code !== 1)
    throw new Error(
      `driftwatch check exited with ${run.code ?? run.signal}:\n${run.stderr.slice(-2000)}`,
    )
  const report = JSON.parse(run.stdout)
  if (report.nCurrent !== rows)
    throw new Error(`check read ${report.nCurrent} rows, expected ${rows}`)
  return { ...run, drifted: report.features.filter((f) => f.drifted).map((f) => f.name) }
}

async function runPandas(reference, current, rows) {
  const script = join(repoRoot, 'benchmarks', 'lib', 'pandas_scipy_check.py')
  const run = await measureProcess('python3', [script, reference, current])
  if (run.code !== 0) throw new Error(`pandas + scipy script failed:\n${run.stderr.slice(-2000)}`)
  const out = JSON.parse(run.stdout)
  if (out.rows !== rows) throw new Error(`pandas read ${out.rows} rows, expected ${rows}`)
  return { ...run, drifted: out.drifted }
}

async function runEvidently(reference, current, rows) {
  const script = join(repoRoot, 'benchmarks', 'lib', 'evidently_check.py')
  const run = await measureProcess(evidentlyPython, [script, reference, current])
  if (run.code !== 0) throw new Error(`Evidently script failed:\n${run.stderr.slice(-2000)}`)
  const out = JSON.parse(run.stdout)
  if (out.rows !== rows) throw new Error(`Evidently read ${out.rows} rows, expected ${rows}`)
  return { ...run, drifted: out.drifted }
}

function evidentlyAvailable() {
  try {
    execFileSync(evidentlyPython, ['-c', 'import evidently, pyarrow'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function summarize(runs) {
  return {
    runs,
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    peakRss: median(runs.map((r) => r.peakRss)),
  }
}

/**
 * @param {{ rows?: number[], runs?: number, formats?: string[], evidentlyRows?: number,
 *   log?: (line: string) => void }} [options]
 */
export async function runCheckCompareBench(options = {}) {
  const sizes = options.rows ?? [1_000_000, 5_000_000]
  const runs = options.runs ?? 2
  const formats = options.formats ?? ['csv', 'parquet']
  const evidentlyRows = options.evidentlyRows ?? 1_000_000
  const log = options.log ?? ((line) => process.stderr.write(`[check-compare bench] ${line}\n`))
  const machine = machineInfo()
  const withEvidently = evidentlyAvailable()
  if (!withEvidently) log(`Evidently not importable with ${evidentlyPython}: not run`)
  const loads = [machine.loadAverage]
  const results = []
  for (const rows of sizes) {
    const paths = prepareCheckData({
      rows,
      referenceRows: rows,
      prefixRows: Math.min(200_000, rows / 5),
      log,
    })
    const files = { csv: { reference: paths.referenceCsv, current: paths.currentCsv } }
    if (formats.includes('parquet')) {
      files.parquet = {
        reference: toParquet(paths.referenceCsv, log),
        current: toParquet(paths.currentCsv, log),
      }
    }
    for (const format of formats) {
      const { reference, current } = files[format]
      const evidentlyHere = withEvidently && rows <= evidentlyRows
      const pandas = []
      const driftwatch = []
      const evidently = []
      for (let r = 0; r < runs; r++) {
        log(`${rows} rows ${format} round ${r + 1}/${runs}`)
        pandas.push(await runPandas(reference, current, rows))
        driftwatch.push(await runDriftwatch(reference, current, rows))
        // Evidently takes minutes: one run is its measure.
        if (evidentlyHere && r === 0) evidently.push(await runEvidently(reference, current, rows))
        loads.push(machineInfo().loadAverage)
      }
      const p = summarize(pandas)
      const d = summarize(driftwatch)
      const e = evidently.length === 0 ? null : summarize(evidently)
      const speedup = p.wallMs / d.wallMs
      const rssRatio = d.peakRss / p.peakRss
      const evidentlySpeedup = e === null ? null : e.wallMs / d.wallMs
      results.push({
        rows,
        format,
        pandas: p,
        driftwatch: d,
        evidently: e,
        evidentlyNote:
          e !== null
            ? null
            : withEvidently
              ? `not run above ${evidentlyRows} rows`
              : 'not installed',
        speedup,
        cpuSpeedup: p.cpuMs / d.cpuMs,
        rssRatio,
        evidentlySpeedup,
        speedMet: speedup >= SPEED_TARGET,
        rssMet: rssRatio <= RSS_TARGET,
        evidentlyMet: evidentlySpeedup === null ? null : evidentlySpeedup >= EVIDENTLY_TARGET,
        drifted: {
          driftwatch: driftwatch[0].drifted,
          pandas: pandas[0].drifted,
          evidently: evidently[0]?.drifted ?? null,
        },
      })
    }
  }
  return { machine, peakRssMethod, runs, loads, results }
}

export function summaryLines(r) {
  return r.results.map(
    (x) =>
      `check, ${x.rows} rows ${x.format}: vs pandas + scipy ${x.speedup.toFixed(2)}x faster ` +
      `(target >= ${SPEED_TARGET}: ${metOrNot(x.speedMet)}), peak RSS ${x.rssRatio.toFixed(2)}x ` +
      `(target <= ${RSS_TARGET}: ${metOrNot(x.rssMet)}); vs Evidently ` +
      (x.evidentlySpeedup === null
        ? `${x.evidentlyNote}`
        : `${x.evidentlySpeedup.toFixed(1)}x faster (target >= ${EVIDENTLY_TARGET}: ${metOrNot(x.evidentlyMet)})`),
  )
}

export function printCheckCompareBench(r) {
  const s = (ms) => (ms / 1000).toFixed(2)
  console.log(
    'driftwatch check vs pandas + scipy and Evidently, reference and current N rows x 23 columns each',
  )
  console.log(describeMachine(r.machine))
  console.log(
    `load average (1 min) before and after each round: ${listOf(r.loads, 1)}; peak RSS by ${r.peakRssMethod}; medians of ${r.runs} alternating runs (Evidently: one run)`,
  )
  const lines = [
    [
      'rows',
      'format',
      'case',
      'wall s (median)',
      'CPU s',
      'peak RSS MiB',
      'wall s, each run',
      'peak RSS MiB, each run',
    ],
  ]
  for (const x of r.results) {
    for (const [name, m] of [
      ['pandas + scipy', x.pandas],
      ['Evidently', x.evidently],
      ['driftwatch check', x.driftwatch],
    ]) {
      if (m === null) continue
      lines.push([
        String(x.rows),
        x.format,
        name,
        s(m.wallMs),
        s(m.cpuMs),
        mib(m.peakRss).toFixed(0),
        listOf(
          m.runs.map((run) => run.wallMs / 1000),
          2,
        ),
        m.runs.map((run) => mib(run.peakRss).toFixed(0)).join(' / '),
      ])
    }
  }
  console.log(table(lines))
  for (const x of r.results) {
    console.log(
      `${x.rows} ${x.format}: drifted by driftwatch ${x.drifted.driftwatch.join(', ')}; by the script (p < 0.05) ${x.drifted.pandas.join(', ')}` +
        (x.drifted.evidently === null ? '' : `; by Evidently ${x.drifted.evidently.join(', ')}`) +
        `; CPU ratio to the script ${x.cpuSpeedup.toFixed(2)}x`,
    )
  }
  for (const line of summaryLines(r)) console.log(line)
}

function argValue(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : arg.slice(name.length + 3)
}

if (isMain(import.meta)) {
  printCheckCompareBench(
    await runCheckCompareBench({
      rows: argValue('rows', '1000000,5000000').split(',').map(Number),
      runs: Number(argValue('runs', 2)),
      formats: argValue('formats', 'csv,parquet').split(','),
      evidentlyRows: Number(argValue('evidently-rows', 1_000_000)),
    }),
  )
}
