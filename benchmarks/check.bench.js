// Benchmark: `driftwatch check` on a 1,000,000-row x 23-column file (20 numerical + 3
// categorical features, benchmarks/lib/feature-data.js), against a 200,000-row reference of the
// same shape with four drifted columns.
//
// Measures, each `driftwatch check` as a child process (`node bin/driftwatch.js check
// --reference ref.json --current <file> --format json`), so start-up, loading the snapshot and
// printing the report are included:
//   - wall time (spawn to exit) and rows/s, user+system CPU time, and peak RSS;
//   - the same command on the file's first 200,000 rows: peak RSS must not grow with the file
//     (target: peak RSS at 1M / at 200k <= 1.10), since every reader streams;
//   - baseline, in the same run: the file read by its parser library alone in a child process
//     (benchmarks/lib/parse-baseline.js: csv-parse for CSV), and the ratio check / parse;
//   - the reference snapshot built in-process with buildReferenceFromFile (the path of
//     `driftwatch reference build`), rows/s;
//   - JSONL and Parquet (pyarrow, 64Ki-row groups) versions of the same 1M rows, with their own
//     parser-only baselines.
// Runs are interleaved (baseline, check 1M, check 200k, baseline, ...) so that load from other
// work on the machine spreads over both sides; medians are reported, every run is printed.
//
// Data is generated once and cached under .cache/bench/check-v1/ (about 0.9 GB with all
// formats); delete the directory to regenerate.
//
// Run: npm run build && node benchmarks/check.bench.js [--rows=1000000] [--runs=3]
// A runner can import { runCheckBench, printCheckBench } instead; main() runs only when invoked
// directly.

import { execFileSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import {
  cacheDir,
  cliArgs,
  describeMachine,
  importDist,
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
import { columnNames, driftedColumns, rowGenerator } from './lib/feature-data.js'

const { buildReferenceFromFile } = await importDist('app/check.js')
const { snapshotToJSON } = await importDist('adapters/files/reference-file.js')

const GENERATOR_VERSION = 1
const REFERENCE_SEED = 1001
const CURRENT_SEED = 2002
const RSS_TARGET = 1.1

function csvLine(row) {
  return row.join(',') + '\n'
}

const jsonKeys = columnNames.map((name) => JSON.stringify(name) + ':')
function jsonLine(row) {
  let out = '{'
  for (let i = 0; i < row.length; i++) {
    out +=
      (i === 0 ? '' : ',') + jsonKeys[i] + (typeof row[i] === 'string' ? `"${row[i]}"` : row[i])
  }
  return out + '}\n'
}

/** Writes `rows` rows to each sink, in 4 MiB batches; sinks may stop early (`limit`). */
function writeRows(rows, next, sinks) {
  const fds = sinks.map((s) => openSync(s.path + '.partial', 'w'))
  const pending = sinks.map((s) => s.header ?? '')
  try {
    for (let r = 0; r < rows; r++) {
      const row = next()
      for (let s = 0; s < sinks.length; s++) {
        if (sinks[s].limit !== undefined && r >= sinks[s].limit) continue
        pending[s] += sinks[s].line(row)
        if (pending[s].length >= 1 << 22) {
          writeSync(fds[s], pending[s])
          pending[s] = ''
        }
      }
    }
    for (let s = 0; s < sinks.length; s++) writeSync(fds[s], pending[s])
  } finally {
    for (const fd of fds) closeSync(fd)
  }
  for (const s of sinks) renameSync(s.path + '.partial', s.path)
}

/**
 * A CSV file as Parquet (pyarrow, 64Ki-row groups) next to it, unless cached. Returns its path,
 * or null (and logs why) when pyarrow is not available.
 */
export function csvToParquet(csv, log) {
  const parquet = csv.replace(/\.csv$/, '.parquet')
  if (existsSync(parquet)) return parquet
  log(`writing ${parquet} with pyarrow`)
  const script = [
    'import sys, pyarrow.csv as pc, pyarrow.parquet as pq',
    't = pc.read_csv(sys.argv[1])',
    "pq.write_table(t, sys.argv[2] + '.partial', row_group_size=65536)",
  ].join('\n')
  try {
    execFileSync('python3', ['-c', script, csv, parquet], { stdio: 'inherit' })
    renameSync(parquet + '.partial', parquet)
    return parquet
  } catch (error) {
    log(`no Parquet file (pyarrow unavailable?): ${error.message.split('\n')[0]}`)
    return null
  }
}

/**
 * Generates the files of these sizes that are not cached yet (each file on its own: a run cut
 * short leaves only `.partial` files, which the next run rewrites). Returns their paths.
 * `jsonl`, `prefix` and `parquet` (default true) say whether those versions of the current are
 * wanted; the check-compare bench needs only the CSVs (and makes the Parquet files of both).
 * @param {{ rows: number, referenceRows: number, prefixRows: number, log: (line: string) => void,
 *   jsonl?: boolean, prefix?: boolean, parquet?: boolean }} o
 */
export function prepareCheckData({
  rows,
  referenceRows,
  prefixRows,
  log,
  jsonl = true,
  prefix = true,
  parquet = true,
}) {
  const dir = cacheDir(`check-v${GENERATOR_VERSION}`)
  const tag = (n) => (n % 1000 === 0 ? `${n / 1000}k` : String(n))
  const paths = {
    dir,
    referenceCsv: join(dir, `reference-${tag(referenceRows)}.csv`),
    currentCsv: join(dir, `current-${tag(rows)}.csv`),
    prefixCsv: join(dir, `current-${tag(rows)}-first-${tag(prefixRows)}.csv`),
    currentJsonl: join(dir, `current-${tag(rows)}.jsonl`),
    currentParquet: join(dir, `current-${tag(rows)}.parquet`),
    snapshot: join(dir, `reference-${tag(referenceRows)}.snapshot.json`),
  }
  const header = columnNames.join(',') + '\n'
  if (!existsSync(paths.referenceCsv)) {
    log(`generating ${paths.referenceCsv}`)
    const started = performance.now()
    writeRows(referenceRows, rowGenerator({ seed: REFERENCE_SEED }), [
      { path: paths.referenceCsv, header, line: csvLine },
    ])
    log(`  ${((performance.now() - started) / 1000).toFixed(0)} s`)
  }
  // The current's versions come from one pass of the generator over the rows; only the missing
  // ones are written.
  const sinks = [
    { path: paths.currentCsv, header, line: csvLine },
    prefix && { path: paths.prefixCsv, header, line: csvLine, limit: prefixRows },
    jsonl && { path: paths.currentJsonl, line: jsonLine },
  ].filter((sink) => sink && !existsSync(sink.path))
  if (sinks.length > 0) {
    log(`generating ${sinks.map((sink) => sink.path).join(', ')}`)
    const started = performance.now()
    writeRows(rows, rowGenerator({ seed: CURRENT_SEED, drifted: true }), sinks)
    log(`  ${((performance.now() - started) / 1000).toFixed(0)} s`)
  }
  paths.currentParquet = parquet ? csvToParquet(paths.currentCsv, log) : null
  return paths
}

function checkArgs(snapshot, current) {
  return cliArgs('check', '--reference', snapshot, '--current', current, '--format', 'json')
}

async function runCheck(snapshot, current, rows) {
  const run = await measureProcess(process.execPath, checkArgs(snapshot, current))
  if (run.code !== 0 && run.code !== 1) {
    throw new Error(
      `driftwatch check exited with ${run.code ?? run.signal}:\n${run.stderr.slice(-2000)}`,
    )
  }
  const report = JSON.parse(run.stdout)
  if (report.nCurrent !== rows)
    throw new Error(`check read ${report.nCurrent} rows, expected ${rows}`)
  return { ...run, rows, drifted: report.features.filter((f) => f.drifted).map((f) => f.name) }
}

async function runParse(format, file, rows) {
  const script = join(repoRoot, 'benchmarks', 'lib', 'parse-baseline.js')
  const run = await measureProcess(process.execPath, [script, format, file])
  if (run.code !== 0)
    throw new Error(`parse baseline (${format}) failed:\n${run.stderr.slice(-2000)}`)
  const counted = JSON.parse(run.stdout).rows
  if (counted !== rows)
    throw new Error(`parse baseline (${format}) read ${counted} rows, expected ${rows}`)
  return { ...run, rows }
}

function summarize(runs) {
  return {
    runs,
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    peakRss: median(runs.map((r) => r.peakRss)),
    rowsPerSecond: median(runs.map((r) => (r.rows / r.wallMs) * 1000)),
  }
}

/**
 * Every measurement; see the header. `runs` applies to CSV, `otherRuns` to JSONL and Parquet.
 * @param {{ rows?: number, referenceRows?: number, prefixRows?: number, runs?: number,
 *   otherRuns?: number, formats?: string[], log?: (line: string) => void }} [options]
 */
export async function runCheckBench(options = {}) {
  const rows = options.rows ?? 1_000_000
  const referenceRows = options.referenceRows ?? 200_000
  const prefixRows = options.prefixRows ?? 200_000
  const runs = options.runs ?? 3
  const otherRuns = options.otherRuns ?? 2
  const formats = options.formats ?? ['csv', 'jsonl', 'parquet']
  const log = options.log ?? ((line) => process.stderr.write(`[check bench] ${line}\n`))
  const machine = machineInfo()

  const paths = prepareCheckData({ rows, referenceRows, prefixRows, log })

  // The reference, through the `reference build` code path, in this process.
  const buildMs = []
  const buildCpuMs = []
  let json
  for (let r = 0; r < Math.min(runs, 2); r++) {
    const cpu = process.cpuUsage()
    const started = process.hrtime.bigint()
    const snapshot = await buildReferenceFromFile(paths.referenceCsv, { now: () => new Date(0) })
    const { id: _unset, ...rest } = snapshot
    json = snapshotToJSON(rest)
    buildMs.push(Number(process.hrtime.bigint() - started) / 1e6)
    const used = process.cpuUsage(cpu)
    buildCpuMs.push((used.user + used.system) / 1000)
  }
  writeFileSync(paths.snapshot, JSON.stringify(json) + '\n')
  const reference = {
    rows: referenceRows,
    runsMs: buildMs,
    ms: median(buildMs),
    cpuMs: median(buildCpuMs),
    rowsPerSecond: (referenceRows / median(buildMs)) * 1000,
    snapshotBytes: statSync(paths.snapshot).size,
  }
  log(`reference built: ${reference.ms.toFixed(0)} ms, snapshot ${reference.snapshotBytes} bytes`)

  const csv = { parse: [], check: [], prefix: [] }
  for (let r = 0; r < runs; r++) {
    log(`CSV run ${r + 1}/${runs}`)
    csv.parse.push(await runParse('csv', paths.currentCsv, rows))
    csv.check.push(await runCheck(paths.snapshot, paths.currentCsv, rows))
    csv.prefix.push(await runCheck(paths.snapshot, paths.prefixCsv, prefixRows))
  }

  const others = {}
  const otherFiles = { jsonl: paths.currentJsonl, parquet: paths.currentParquet }
  for (const format of formats.filter((f) => f !== 'csv')) {
    const file = otherFiles[format]
    if (file === null || file === undefined) continue
    const o = { parse: [], check: [], bytes: statSync(file).size }
    for (let r = 0; r < otherRuns; r++) {
      log(`${format} run ${r + 1}/${otherRuns}`)
      o.parse.push(await runParse(format, file, rows))
      o.check.push(await runCheck(paths.snapshot, file, rows))
    }
    others[format] = o
  }

  const csvCheck = summarize(csv.check)
  const csvPrefix = summarize(csv.prefix)
  const csvParse = summarize(csv.parse)
  const rssRatio = csvCheck.peakRss / csvPrefix.peakRss
  const result = {
    machine,
    peakRssMethod,
    rows,
    prefixRows,
    referenceRows,
    command: `node ${checkArgs(paths.snapshot.replace(repoRoot + '/', ''), paths.currentCsv.replace(repoRoot + '/', '')).join(' ')}`,
    fileBytes: statSync(paths.currentCsv).size,
    reference,
    expectedDrift: driftedColumns,
    drifted: csv.check[0].drifted,
    csv: {
      check: csvCheck,
      prefix: csvPrefix,
      parse: csvParse,
      timeRatio: csvCheck.wallMs / csvParse.wallMs,
      cpuRatio: csvCheck.cpuMs / csvParse.cpuMs,
    },
    rss: { ratio: rssRatio, target: RSS_TARGET, met: rssRatio <= RSS_TARGET },
    others: Object.fromEntries(
      Object.entries(others).map(([format, o]) => {
        const check = summarize(o.check)
        const parse = summarize(o.parse)
        return [
          format,
          {
            bytes: o.bytes,
            check,
            parse,
            timeRatio: check.wallMs / parse.wallMs,
            cpuRatio: check.cpuMs / parse.cpuMs,
          },
        ]
      }),
    ),
  }
  return result
}

export function summaryLines(r) {
  const lines = [
    `check: ${r.rows} CSV rows in ${(r.csv.check.wallMs / 1000).toFixed(2)} s = ${Math.round(r.csv.check.rowsPerSecond)} rows/s, ` +
      `${r.csv.timeRatio.toFixed(2)}x the time of a bare csv-parse read (CPU ${r.csv.cpuRatio.toFixed(2)}x); ` +
      `peak RSS ${mib(r.csv.check.peakRss).toFixed(0)} MiB at ${r.rows} rows vs ${mib(r.csv.prefix.peakRss).toFixed(0)} MiB at ${r.prefixRows}: ` +
      `ratio ${r.rss.ratio.toFixed(3)} (target <= ${r.rss.target}: ${metOrNot(r.rss.met)})`,
  ]
  for (const [format, o] of Object.entries(r.others)) {
    lines.push(
      `check ${format}: ${Math.round(o.check.rowsPerSecond)} rows/s, peak RSS ${mib(o.check.peakRss).toFixed(0)} MiB, ` +
        `${o.timeRatio.toFixed(2)}x the time of its parser alone`,
    )
  }
  return lines
}

export function printCheckBench(r) {
  const mb = (b) => mib(b).toFixed(0)
  const s = (ms) => (ms / 1000).toFixed(2)
  console.log(
    `driftwatch check, ${r.rows} rows x 23 columns (20 numerical, 3 categorical), reference ${r.referenceRows} rows`,
  )
  console.log(describeMachine(r.machine))
  console.log(
    `peak RSS by ${r.peakRssMethod}; medians of ${r.csv.check.runs.length} runs (CSV) and ${Object.values(r.others)[0]?.check.runs.length ?? 0} (JSONL, Parquet); every run listed`,
  )
  console.log(`command: ${r.command}`)
  console.log(
    `reference build (in-process buildReferenceFromFile, ${r.referenceRows} CSV rows): ${s(r.reference.ms)} s ` +
      `= ${Math.round(r.reference.rowsPerSecond)} rows/s, CPU ${s(r.reference.cpuMs)} s (runs ${listOf(
        r.reference.runsMs.map((x) => x / 1000),
        2,
      )} s), snapshot ${(r.reference.snapshotBytes / 1024).toFixed(0)} KiB`,
  )
  const lines = [
    [
      'case',
      'wall s (median)',
      'rows/s',
      'CPU s',
      'peak RSS MiB',
      'wall s, each run',
      'peak RSS MiB, each run',
    ],
  ]
  const add = (name, x) =>
    lines.push([
      name,
      s(x.wallMs),
      String(Math.round(x.rowsPerSecond)),
      s(x.cpuMs),
      mb(x.peakRss),
      listOf(
        x.runs.map((run) => run.wallMs / 1000),
        2,
      ),
      x.runs.map((run) => mb(run.peakRss)).join(' / '),
    ])
  add(`csv-parse alone, ${r.rows} rows (baseline)`, r.csv.parse)
  add(`check CSV, ${r.rows} rows (${mb(r.fileBytes)} MiB)`, r.csv.check)
  add(`check CSV, first ${r.prefixRows} rows`, r.csv.prefix)
  for (const [format, o] of Object.entries(r.others)) {
    add(`${format} parser alone, ${r.rows} rows (baseline)`, o.parse)
    add(`check ${format}, ${r.rows} rows (${mb(o.bytes)} MiB)`, o.check)
  }
  console.log(table(lines))
  console.log(
    `drifted columns reported: ${r.drifted.join(', ') || '(none)'} (generated drift: ${r.expectedDrift.join(', ')})`,
  )
  for (const line of summaryLines(r)) console.log(line)
}

function argValue(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3))
}

if (isMain(import.meta)) {
  const rows = argValue('rows', 1_000_000)
  printCheckBench(
    await runCheckBench({
      rows,
      referenceRows: argValue('reference-rows', Math.min(200_000, rows)),
      prefixRows: argValue('prefix-rows', Math.min(200_000, rows / 5)),
      runs: argValue('runs', 3),
      otherRuns: argValue('other-runs', 2),
    }),
  )
}
