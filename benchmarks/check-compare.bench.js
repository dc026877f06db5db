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
// the baseline is reported as missing. Evidently 0.7 imports only under pandas < 3, so it runs in
// its own venv: the interpreter in DRIFTWATCH_EVIDENTLY_PYTHON if set, else
// .cache/bench/evidently-venv, created on first use with python3 -m venv and pip install
// test/fixtures/drift/requirements.txt + pyarrow (~2 min, needs PyPI); when that fails the bench
// says why and reports Evidently as not run. Evidently runs up to --evidently-rows rows (default
// 1M: ~10 min per format at 1M; 5M takes ~15 min per format and ~9 GiB, so it is opt-in:
// --evidently-rows=5000000; 0 turns Evidently off).
// Data is cached under .cache/bench/check-v1/: reference and current CSV + Parquet, 1M rows
// ~0.75 GB, 5M ~3.7 GB; generating the 5M files takes ~3 min (two ~70 s CSV passes at ~14 MB/s,
// then pyarrow). --prepare-only generates the files and exits.
//
// Run: npm run build && node benchmarks/check-compare.bench.js [--rows=1000000,5000000] [--runs=2]
//      [--formats=csv,parquet] [--evidently-rows=1000000]
//      [--prepare-only] (data files and the Evidently venv only)

import { execFileSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { csvToParquet, prepareCheckData } from './check.bench.js'
import {
  cacheRoot,
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
const EVIDENTLY_VENV = join(cacheRoot, 'evidently-venv')

/** Reference and current of `rows` rows, CSV and (when asked and pyarrow is there) Parquet. */
function prepareFiles(rows, formats, log) {
  const paths = prepareCheckData({
    rows,
    referenceRows: rows,
    prefixRows: Math.min(200_000, rows / 5),
    log,
    jsonl: false,
    prefix: false,
    parquet: false,
  })
  const files = { csv: { reference: paths.referenceCsv, current: paths.currentCsv } }
  if (formats.includes('parquet')) {
    const reference = csvToParquet(paths.referenceCsv, log)
    const current = csvToParquet(paths.currentCsv, log)
    if (reference !== null && current !== null) files.parquet = { reference, current }
  }
  return files
}

function imports(python, modules) {
  try {
    execFileSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * The interpreter that runs Evidently: DRIFTWATCH_EVIDENTLY_PYTHON, else the bench's own venv
 * (created once). Returns { python } or { reason } when there is none.
 */
export function evidentlyInterpreter(log) {
  const given = process.env.DRIFTWATCH_EVIDENTLY_PYTHON
  if (given !== undefined && given !== '') {
    return imports(given, 'evidently, pyarrow')
      ? { python: given }
      : { reason: `DRIFTWATCH_EVIDENTLY_PYTHON=${given} cannot import evidently and pyarrow` }
  }
  const python = join(EVIDENTLY_VENV, 'bin', 'python')
  // Written only after pip succeeded: a venv cut short is made again.
  const complete = join(EVIDENTLY_VENV, '.complete')
  if (existsSync(complete) && imports(python, 'evidently, pyarrow')) return { python }
  if (!imports('python3', 'venv')) return { reason: 'no python3 with venv to install it into' }
  const requirements = join(repoRoot, 'test', 'fixtures', 'drift', 'requirements.txt')
  log(`creating ${EVIDENTLY_VENV} (pip install -r ${requirements} pyarrow; ~2 min, once)`)
  try {
    rmSync(EVIDENTLY_VENV, { recursive: true, force: true })
    execFileSync('python3', ['-m', 'venv', EVIDENTLY_VENV], { stdio: 'inherit' })
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', '-r', requirements, 'pyarrow'], {
      stdio: 'inherit',
    })
  } catch (error) {
    return {
      reason: `could not create ${EVIDENTLY_VENV}: ${error.message.split('\n')[0]} (set DRIFTWATCH_EVIDENTLY_PYTHON to a python with evidently 0.7 and pyarrow)`,
    }
  }
  if (!imports(python, 'evidently, pyarrow'))
    return { reason: `${EVIDENTLY_VENV} was created but cannot import evidently and pyarrow` }
  writeFileSync(complete, new Date().toISOString() + '\n')
  return { python }
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

async function runEvidently(python, reference, current, rows) {
  const script = join(repoRoot, 'benchmarks', 'lib', 'evidently_check.py')
  const run = await measureProcess(python, [script, reference, current])
  if (run.code !== 0) throw new Error(`Evidently script failed:\n${run.stderr.slice(-2000)}`)
  const out = JSON.parse(run.stdout)
  if (out.rows !== rows) throw new Error(`Evidently read ${out.rows} rows, expected ${rows}`)
  return { ...run, drifted: out.drifted }
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
  // Every file first, so that a run's timings never include generating one.
  const filesOf = new Map()
  for (const rows of sizes) filesOf.set(rows, prepareFiles(rows, formats, log))
  const evidently_ = sizes.some((rows) => rows <= evidentlyRows)
    ? evidentlyInterpreter(log)
    : { reason: null }
  const withEvidently = evidently_.python !== undefined
  if (evidently_.reason) log(`Evidently not run: ${evidently_.reason}`)
  const loads = [machineInfo().loadAverage]
  const results = []
  for (const rows of sizes) {
    const files = filesOf.get(rows)
    for (const format of formats) {
      if (files[format] === undefined) {
        results.push({ rows, format, missing: `no ${format} files (pyarrow unavailable?)` })
        continue
      }
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
        if (evidentlyHere && r === 0)
          evidently.push(await runEvidently(evidently_.python, reference, current, rows))
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
            : evidentlyRows === 0
              ? 'not run (--evidently-rows=0)'
              : rows > evidentlyRows
                ? `not run (opt-in: --evidently-rows=${rows})`
                : `not run: ${evidently_.reason}`,
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
  return r.results.map((x) =>
    x.missing !== undefined
      ? `check, ${x.rows} rows ${x.format}: not run: ${x.missing}`
      : `check, ${x.rows} rows ${x.format}: vs pandas + scipy ${x.speedup.toFixed(2)}x faster ` +
        `(CPU ${x.cpuSpeedup.toFixed(2)}x) ` +
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
  const measured = r.results.filter((x) => x.missing === undefined)
  for (const x of measured) {
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
  for (const x of measured) {
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

if (process.argv.includes('--prepare-only') && isMain(import.meta)) {
  const log = (line) => process.stderr.write(`[check-compare bench] ${line}\n`)
  for (const rows of argValue('rows', '1000000,5000000').split(',').map(Number))
    prepareFiles(rows, argValue('formats', 'csv,parquet').split(','), log)
  if (Number(argValue('evidently-rows', 1_000_000)) > 0) {
    const evidently = evidentlyInterpreter(log)
    log(
      evidently.python !== undefined
        ? `Evidently: ${evidently.python}`
        : `Evidently: ${evidently.reason}`,
    )
  }
} else if (isMain(import.meta)) {
  printCheckCompareBench(
    await runCheckCompareBench({
      rows: argValue('rows', '1000000,5000000').split(',').map(Number),
      runs: Number(argValue('runs', 2)),
      formats: argValue('formats', 'csv,parquet').split(','),
      evidentlyRows: Number(argValue('evidently-rows', 1_000_000)),
    }),
  )
}
