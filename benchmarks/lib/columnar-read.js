// How the columnar readers compare on reading alone (issue 12's choice of a file reader), each
// in its own process, for `/usr/bin/time -v`:
//
//   node benchmarks/lib/columnar-read.js driftwatch <file.csv|file.parquet>
//       TableSource.batches() of dist/ (the byte-level CSV reader; hyparquet for Parquet)
//   node benchmarks/lib/columnar-read.js duckdb <file.csv|file.parquet> [threads]
//       DuckDB's read_csv (types sniffed) / read_parquet, every chunk's columns touched: numbers
//       from its Float64Array vectors, text through getItem. Needs the package, which the project
//       does not depend on: npm install --no-save @duckdb/node-api@1.5.6-r.1
//
// Prints {"rows", "cpuSeconds"} (in-process user+system CPU). BENCHMARKS.md has the results.

import { isMain, importDist } from './common.js'

async function driftwatchRows(path) {
  const { openTable } = await importDist('adapters/files/table-source.js')
  let rows = 0
  let sum = 0
  for await (const batch of openTable(path).batches()) {
    rows += batch.length
    for (const column of batch.columns.values()) {
      for (let i = 0; i < batch.length; i++) {
        const x = column.numbers[i]
        if (x === x) sum += x
      }
    }
  }
  return { rows, sum }
}

async function duckdbRows(path, threads) {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) })
  const connection = await instance.connect()
  const quoted = `'${path.replaceAll("'", "''")}'`
  const source = path.endsWith('.parquet') ? `read_parquet(${quoted})` : `read_csv(${quoted})`
  const result = await connection.stream(`SELECT * FROM ${source}`)
  let rows = 0
  let sum = 0
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) break
    rows += chunk.rowCount
    for (let c = 0; c < chunk.columnCount; c++) {
      const vector = chunk.getColumnVector(c)
      if (vector.items instanceof Float64Array) {
        for (let i = 0; i < chunk.rowCount; i++)
          if (vector.validity.itemValid(i)) sum += vector.items[i]
      } else {
        for (let i = 0; i < chunk.rowCount; i++) {
          const value = vector.getItem(i)
          if (typeof value === 'number') sum += value
          else if (typeof value === 'bigint') sum += Number(value)
        }
      }
    }
  }
  return { rows, sum }
}

if (isMain(import.meta)) {
  const [reader, path, threads] = process.argv.slice(2)
  const started = process.cpuUsage()
  const out =
    reader === 'duckdb' ? await duckdbRows(path, Number(threads ?? 1)) : await driftwatchRows(path)
  const used = process.cpuUsage(started)
  process.stdout.write(
    JSON.stringify({ ...out, cpuSeconds: (used.user + used.system) / 1e6 }) + '\n',
  )
}
