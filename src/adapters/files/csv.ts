// CSV (and TSV) rows, streamed through csv-parse and coerced like pandas.read_csv's defaults.
//
// csv-parse runs with `cast: false` (its casting is slow and disagrees with pandas) and our own
// coercion below, which follows pandas cell by cell: its NA tokens, its number grammar (spaces
// and tabs around a number are allowed, `0x10` is not, any-case `inf`/`infinity` is), and its
// case-insensitive true/false. pandas decides per column, not per cell, so a column mixing "1"
// and "x" keeps "1" as text there while here it is the number 1; column-kind inference treats
// such a column as categorical, as Evidently would.
//
// Line numbers: csv-parse's own line counter counts a CRLF inside a quoted field twice, so we
// count ourselves. Each record ends one line; a record can only span more lines through a quoted
// field, so fields are scanned for line breaks only when a quote was seen in the input bytes
// that record came from (memchr-fast), which keeps unquoted files off the slow path.

import { createReadStream } from 'node:fs'
import { Parser, type Options as CsvParseOptions } from 'csv-parse'
import type { ColumnBatch } from '../../core/profile/batch.js'
import { csvColumnBatches, fileContainsByte } from './csv-columns.js'
import { FileReadError, fileSizeBytes, fileSystemError } from './errors.js'
import {
  assertPlainColumnNames,
  batchesFromRows,
  progressReporter,
  progressStepBytes,
  rowBuilder,
  selectColumns,
  type CellValue,
  type ReadOptions,
  type TableRow,
  type TableSource,
} from './table-source.js'

/** pandas' default `na_values` (pandas._libs.parsers.STR_NA_VALUES), matched exactly. */
export const csvNaTokens: ReadonlySet<string> = new Set([
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
])

// pandas' tokenizer accepts spaces and tabs around a number, but not around inf or a boolean.
const paddedNumber = /^[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*$/
const anyCaseInfinity = /^([+-]?)inf(?:inity)?$/i

/** One CSV cell as pandas.read_csv would type it with default settings. */
export function coerceCsvCell(text: string): CellValue {
  const length = text.length
  if (length === 0) return null
  const first = text.charCodeAt(0)
  const last = text.charCodeAt(length - 1)
  if (first > 32 && first < 127 && last > 32 && last < 127) {
    // With printable ASCII at both ends, Number() accepts exactly pandas' grammar except for the
    // 0x/0b/0o radix prefixes and 'inf' spellings; the rest it rejects as NaN.
    const number = Number(text)
    if (number === number && !(first === 48 && length > 2 && isRadixLetter(text.charCodeAt(1)))) {
      return number
    }
  } else if (paddedNumber.test(text)) {
    return Number(text)
  }
  if (csvNaTokens.has(text)) return null
  if (length === 4 || length === 5) {
    const lower = text.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  const infinity = anyCaseInfinity.exec(text)
  if (infinity !== null) return infinity[1] === '-' ? -Infinity : Infinity
  return text
}

function isRadixLetter(code: number): boolean {
  const lower = code | 32
  return lower === 120 /* x */ || lower === 98 /* b */ || lower === 111 /* o */
}

/** Line breaks inside a record's fields: CRLF counts once, as editors count lines. */
function lineBreaksIn(fields: readonly string[]): number {
  let breaks = 0
  for (const field of fields) {
    for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) breaks++
    for (let i = field.indexOf('\r'); i !== -1; i = field.indexOf('\r', i + 1)) {
      if (field.charCodeAt(i + 1) !== 10) breaks++
    }
  }
  return breaks
}

/** A blank (or whitespace-only) line, which pandas skips; csv-parse reports it as one field. */
export function isBlankRecord(fields: readonly string[]): boolean {
  return fields.length === 1 && (fields[0] === '' || fields[0]?.trim() === '')
}

/**
 * csv-parse's stream, with records handed to us synchronously as they are parsed instead of
 * queued in the readable side: a write() then yields exactly the records completed by that
 * chunk, which the line counting relies on, and no per-record promise is paid.
 */
class CollectingParser extends Parser {
  readonly collected: string[][] = []

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding)
    this.collected.push(chunk as string[])
    return true
  }
}

interface RecordBatch {
  readonly records: readonly (readonly string[])[]
  /** Physical start line of each record. */
  readonly lines: readonly number[]
}

function parserOptions(delimiter: string): CsvParseOptions {
  return {
    delimiter,
    // pandas ends a line at any of the three conventions, even mixed in one file.
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: true,
    cast: false,
    // Blank lines come through as records so that every line is accounted for.
    skip_empty_lines: false,
    // Short rows are padded with missing values (as pandas does); long rows are our error.
    relax_column_count: true,
    // pandas keeps a stray quote inside an unquoted field as text.
    relax_quotes: true,
  }
}

function csvParseFailure(path: string, line: number, error: unknown): FileReadError {
  const code = (error as { code?: unknown }).code
  if (code === 'CSV_QUOTE_NOT_CLOSED') {
    return FileReadError.at(path, line, 'a quoted field is never closed (missing ")', error)
  }
  const reason = error instanceof Error ? error.message : String(error)
  return FileReadError.at(path, line, `malformed CSV (${reason})`, error)
}

async function* recordBatches(
  path: string,
  delimiter: string,
  onBytes: (bytesRead: number) => void,
): AsyncGenerator<RecordBatch> {
  const parser = new CollectingParser(parserOptions(delimiter))
  // Failures arrive through the write/end callbacks; without a listener they would also crash
  // the process.
  parser.on('error', () => {})
  const input = createReadStream(path, { highWaterMark: progressStepBytes })
  let nextLine = 1
  let chunkIndex = 0
  let lastQuotedChunk = -1
  // The chunk where the not-yet-finished record started.
  let pendingSince = 0

  const take = (): RecordBatch => {
    const records = parser.collected.splice(0)
    const lines = new Array<number>(records.length)
    const mayHaveBreaks = lastQuotedChunk >= pendingSince
    for (let i = 0; i < records.length; i++) {
      lines[i] = nextLine
      nextLine += 1 + (mayHaveBreaks ? lineBreaksIn(records[i] ?? []) : 0)
    }
    if (records.length > 0) pendingSince = chunkIndex
    return { records, lines }
  }

  try {
    let bytesRead = 0
    for await (const chunk of input as AsyncIterable<Buffer>) {
      bytesRead += chunk.length
      if (chunk.indexOf(34 /* " */) !== -1) lastQuotedChunk = chunkIndex
      const failure = await new Promise<Error | null | undefined>((resolve) => {
        parser.write(chunk, resolve)
      })
      yield take()
      if (failure) throw csvParseFailure(path, nextLine, failure)
      onBytes(bytesRead)
      chunkIndex++
    }
    const failure = await new Promise<unknown>((resolve) => {
      parser.once('error', resolve)
      parser.end(() => resolve(undefined))
    })
    yield take()
    if (failure !== undefined) throw csvParseFailure(path, nextLine, failure)
  } catch (error) {
    throw fileSystemError(path, error)
  } finally {
    input.destroy()
    parser.destroy()
  }
}

/** Fields past the end of a short row are missing, as pandas pads them with NaN. */
const readCell = (field: string | undefined): CellValue =>
  field === undefined ? null : coerceCsvCell(field)

/**
 * A whole number written the way pandas reads as a float (`3.0`, `1e3`, `inf`): the column is a
 * float column. Non-integers and infinities say so by their value already; this catches the rest.
 */
export function isFloatSyntax(field: string): boolean {
  for (let i = 0; i < field.length; i++) {
    const code = field.charCodeAt(i)
    if (code === 46 /* . */ || code === 101 /* e */ || code === 69 /* E */) return true
  }
  return false
}

interface Header {
  readonly names: readonly string[]
  readonly line: number
}

/** pandas names an empty header cell `Unnamed: <index>` (typically the index column of to_csv). */
export function parseHeader(path: string, fields: readonly string[], line: number): Header {
  const names = fields.map((name, index) => (name === '' ? `Unnamed: ${index}` : name))
  const seen = new Set<string>()
  for (const name of names) {
    if (seen.has(name))
      throw FileReadError.at(path, line, `duplicate column name '${name}' in the header`)
    seen.add(name)
  }
  assertPlainColumnNames(path, names, line)
  return { names, line }
}

export class CsvTableSource implements TableSource {
  readonly format = 'csv' as const

  constructor(
    readonly path: string,
    private readonly delimiter: string,
  ) {}

  async columns(): Promise<readonly string[]> {
    for await (const batch of recordBatches(this.path, this.delimiter, () => {})) {
      for (let i = 0; i < batch.records.length; i++) {
        const fields = batch.records[i] ?? []
        if (!isBlankRecord(fields)) return parseHeader(this.path, fields, batch.lines[i] ?? 1).names
      }
    }
    throw this.emptyFile()
  }

  async *rows(opts: ReadOptions = {}): AsyncGenerator<TableRow> {
    const path = this.path
    const progress = progressReporter(opts.onProgress)
    // Set by the header row: its width, and how a record becomes the selected columns' values.
    let table:
      | {
          width: number
          build: (
            fields: readonly string[],
            cell: (field: string | undefined, column: number) => CellValue,
          ) => Record<string, CellValue>
        }
      | undefined
    // Only kind inference asks for float columns; every other read keeps the plain cell reader.
    let selected: readonly string[] = []
    const onFloat = opts.onFloatColumn
    const floatSeen = new Set<number>()
    const cell: (field: string | undefined, column: number) => CellValue =
      onFloat === undefined
        ? readCell
        : (field, column) => {
            const value = readCell(field)
            if (
              typeof value === 'number' &&
              field !== undefined &&
              !floatSeen.has(column) &&
              isFloatSyntax(field)
            ) {
              floatSeen.add(column)
              onFloat(selected[column] ?? '')
            }
            return value
          }
    let bytesRead = 0
    const batches = recordBatches(path, this.delimiter, (bytes) => {
      bytesRead = bytes
      progress.advance(bytes)
    })
    for await (const { records, lines } of batches) {
      for (let r = 0; r < records.length; r++) {
        const fields = records[r] ?? []
        const line = lines[r] ?? 0
        if (isBlankRecord(fields)) continue
        if (table === undefined) {
          const header = parseHeader(path, fields, line)
          const names = selectColumns(path, header.names, opts.columns)
          selected = names
          const position = new Map(header.names.map((name, index) => [name, index]))
          table = {
            width: header.names.length,
            build: rowBuilder(
              names,
              names.map((name) => position.get(name) ?? -1),
            ),
          }
          continue
        }
        if (fields.length > table.width) {
          throw FileReadError.at(
            path,
            line,
            `row has ${fields.length} fields, header has ${table.width}`,
          )
        }
        yield { rowNumber: line, values: table.build(fields, cell) }
      }
    }
    if (table === undefined) throw this.emptyFile()
    progress.finish(bytesRead)
  }

  /**
   * The rows of `rows()` as column batches. A file without a quote character (checked first, at
   * memchr speed) is read by the byte-level reader in csv-columns.ts, several times faster;
   * quoted files go through csv-parse and the row path.
   */
  async *batches(opts: ReadOptions = {}): AsyncGenerator<ColumnBatch> {
    if (await fileContainsByte(this.path, 34 /* " */)) yield* batchesFromRows(this, opts)
    else yield* csvColumnBatches(this.path, this.delimiter, opts)
  }

  sizeBytes(): Promise<number> {
    return fileSizeBytes(this.path)
  }

  private emptyFile(): FileReadError {
    return FileReadError.at(this.path, undefined, 'empty file: expected a header row')
  }
}
