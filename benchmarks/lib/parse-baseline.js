// The check benchmark's baseline: read a data file with its parser library alone, touching
// every record and nothing else, in a child process of its own like `driftwatch check` (so both
// pay Node's start-up). Prints {"rows": n} on stdout.
//
//   node benchmarks/lib/parse-baseline.js csv     file.csv      csv-parse 7, its stream API
//   node benchmarks/lib/parse-baseline.js jsonl   file.jsonl    64 KiB chunks, split, JSON.parse
//   node benchmarks/lib/parse-baseline.js parquet file.parquet  hyparquet, one row group at a time
//
// CSV uses csv-parse as its README shows it: a file stream piped into parse() and iterated with
// for await, with cast: false (driftwatch casts cells itself, so casting here would be extra work
// the product does not do). Its options otherwise stay at their defaults.

import { createReadStream } from 'node:fs'
import { parse } from 'csv-parse'
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet'

async function csvRows(path) {
  let rows = 0
  const parser = createReadStream(path, { highWaterMark: 64 * 1024 }).pipe(parse({ cast: false }))
  for await (const record of parser) if (record.length > 0) rows++
  return rows - 1 // header
}

async function jsonlRows(path) {
  let rows = 0
  let carry = ''
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    const text = carry + chunk.toString('utf8')
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      if (end > start && JSON.parse(text.slice(start, end)) !== null) rows++
      start = end + 1
    }
    carry = text.slice(start)
  }
  if (carry.trim() !== '' && JSON.parse(carry) !== null) rows++
  return rows
}

async function parquetRows(path) {
  const file = await asyncBufferFromFile(path)
  const metadata = await parquetMetadataAsync(file)
  let rows = 0
  let rowStart = 0
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows)
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd,
      onComplete: (data) => {
        rows += data.length
      },
    })
    rowStart = rowEnd
  }
  return rows
}

const readers = { csv: csvRows, jsonl: jsonlRows, parquet: parquetRows }
const [format, path] = process.argv.slice(2)
const reader = readers[format]
if (reader === undefined || path === undefined) {
  process.stderr.write('usage: parse-baseline.js csv|jsonl|parquet <file>\n')
  process.exit(2)
}
process.stdout.write(JSON.stringify({ rows: await reader(path) }) + '\n')
