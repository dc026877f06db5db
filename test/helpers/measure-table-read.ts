// Throughput of the file readers on a generated wide table (see table-generator.ts).
//
// Not a test: run it compiled, e.g.
//   npx tsc -p tsconfig.json --outDir /tmp/dw --noEmit false
//   node /tmp/dw/test/helpers/measure-table-read.js [rows=200000] [repeats=3] [dir=os.tmpdir()]
// Prints rows/s per format, best of `repeats` by wall clock, and rows per CPU-second (which a busy
// shared machine distorts less), plus the heap in use.

import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openTable } from '../../src/adapters/files/table-source.js'
import { ParquetTableSource } from '../../src/adapters/files/parquet.js'
import type { TableSource } from '../../src/adapters/files/table-source.js'
import { csvToParquet, writeGeneratedCsv, writeGeneratedJsonl } from './table-generator.js'

interface Run {
  rows: number
  ms: number
  cpuMs: number
  peakHeapMb: number
}

async function timeRead(source: TableSource): Promise<Run> {
  const started = performance.now()
  const cpu = process.cpuUsage()
  let rows = 0
  let peak = 0
  for await (const row of source.rows()) {
    if (row.rowNumber > 0) rows++
    if ((rows & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
  }
  const used = process.cpuUsage(cpu)
  return {
    rows,
    ms: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    peakHeapMb: Math.round(peak / 2 ** 20),
  }
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 200_000)
  const repeats = Number(process.argv[3] ?? 3)
  const dir = process.argv[4] ?? tmpdir()
  const base = join(dir, `driftwatch-bench-${rows}`)
  if (!existsSync(`${base}.csv`)) await writeGeneratedCsv(`${base}.csv`, rows)
  if (!existsSync(`${base}.jsonl`)) await writeGeneratedJsonl(`${base}.jsonl`, rows)
  if (!existsSync(`${base}.parquet`)) csvToParquet(`${base}.csv`, `${base}.parquet`)
  if (!existsSync(`${base}-rg64k.parquet`)) {
    csvToParquet(`${base}.csv`, `${base}-rg64k.parquet`, { rowGroupSize: 65_536 })
  }
  const windows = (process.env['DW_WINDOWS'] ?? '').split(',').filter(Boolean).map(Number)
  const cases: [string, () => TableSource][] = [
    ['csv', () => openTable(`${base}.csv`)],
    ['jsonl', () => openTable(`${base}.jsonl`)],
    ['parquet (1 row group)', () => openTable(`${base}.parquet`)],
    ['parquet (64Ki-row groups)', () => openTable(`${base}-rg64k.parquet`)],
    ...windows.map((w): [string, () => TableSource] => [
      `parquet (1 row group, window ${w})`,
      () => new ParquetTableSource(`${base}.parquet`, w),
    ]),
  ]
  const only = process.env['DW_ONLY']
  for (const [name, make] of cases) {
    if (only !== undefined && !name.startsWith(only)) continue
    let best: Run | undefined
    for (let i = 0; i < repeats; i++) {
      const run = await timeRead(make())
      if (best === undefined || run.ms < best.ms) best = run
    }
    if (best === undefined) continue
    const perSecond = Math.round((best.rows / best.ms) * 1000)
    const perCpuSecond = Math.round((best.rows / best.cpuMs) * 1000)
    console.log(
      `${name}: ${best.rows} rows in ${Math.round(best.ms)} ms = ${perSecond} rows/s ` +
        `(${perCpuSecond} rows per CPU-second; heap peak ~${best.peakHeapMb} MiB)`,
    )
  }
}

await main()
