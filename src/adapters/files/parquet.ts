// Parquet rows through hyparquet (pure JS), read one window of rows at a time.
//
// Memory: a window is at most `windowRows` decoded rows of the selected columns. hyparquet
// fetches the compressed bytes of a whole column chunk to decode any part of it unless the file
// carries an offset index (pyarrow: write_page_index=True), so the compressed size of the largest
// row group is also held while that group is read; it is fetched once per group, not per window.
// Files written with huge row groups (pyarrow's default is 1Mi rows) therefore need memory in
// proportion to their compressed row group size.
//
// Values follow what pandas.read_parquet gives: NaN is missing (as pandas treats it), INT64 becomes
// a JS number (exact up to 2^53), timestamps and dates become ISO-8601 strings (driftwatch has no
// datetime kind yet), and nested columns (lists, structs, maps) are refused when selected.

import * as zlib from 'node:zlib'
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type AsyncBuffer,
  type ColumnData,
  type Compressors,
  type FileMetaData,
  type ParquetParsers,
  type SchemaTree,
} from 'hyparquet'
import { FileReadError, fileSizeBytes, fileSystemError } from './errors.js'
import {
  assertPlainColumnNames,
  columnMajorRowBuilder,
  progressReporter,
  selectColumns,
  type CellReader,
  type CellValue,
  type ReadOptions,
  type TableRow,
  type TableSource,
} from './table-source.js'
import type { CellColumn, ColumnBatch } from '../../core/profile/batch.js'

export const defaultParquetWindowRows = 65_536

// hyparquet decodes snappy itself; node's zlib covers gzip, brotli and (on newer Node) zstd.
const zstd = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync
const compressors: Compressors = {
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(zstd === undefined ? {} : { ZSTD: (input: Uint8Array) => zstd(input) }),
}

function isoOrNull(millis: number): string | null {
  const date = new Date(millis)
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}

const parsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis: bigint) => isoOrNull(Number(millis)),
  timestampFromMicroseconds: (micros: bigint) => isoOrNull(Number(micros / 1000n)),
  timestampFromNanoseconds: (nanos: bigint) => isoOrNull(Number(nanos / 1_000_000n)),
  dateFromDays: (days: number) => isoOrNull(days * 86_400_000)?.slice(0, 10) ?? null,
}

/** A marker for values we cannot turn into a cell; the caller names the column in the error. */
const unreadable = Symbol('unreadable')

function cell(value: unknown): CellValue | typeof unreadable {
  const type = typeof value
  if (type === 'number') return value === value ? (value as number) : null
  if (type === 'string' || type === 'boolean') return value as string | boolean
  if (type === 'bigint') return Number(value)
  if (value === null || value === undefined) return null
  if (value instanceof Date) return isoOrNull(value.getTime())
  return unreadable
}

interface WindowCache extends AsyncBuffer {
  /** Bytes actually read from disk so far. */
  readonly bytesFetched: number
  /** Keeps what the current window fetched, drops what only the window before it used. */
  nextWindow(): void
  /** Drops everything: a new row group shares no byte ranges with the one before. */
  nextGroup(): void
}

/**
 * hyparquet re-fetches whole column chunks for every row range it reads from a group without an
 * offset index; remembering the last window's byte ranges turns that into one read per group.
 */
function windowCache(file: AsyncBuffer): WindowCache {
  let previous = new Map<string, ReturnType<AsyncBuffer['slice']>>()
  let current = new Map<string, ReturnType<AsyncBuffer['slice']>>()
  let bytesFetched = 0
  return {
    byteLength: file.byteLength,
    get bytesFetched() {
      return bytesFetched
    },
    slice(start, end) {
      const key = `${start}:${end ?? file.byteLength}`
      let bytes = current.get(key) ?? previous.get(key)
      if (bytes === undefined) {
        bytes = file.slice(start, end)
        bytesFetched += (end ?? file.byteLength) - start
      }
      current.set(key, bytes)
      return bytes
    },
    nextWindow() {
      previous = current
      current = new Map()
    },
    nextGroup() {
      previous = new Map()
      current = new Map()
    },
  }
}

function describeNested(node: SchemaTree): string | undefined {
  if (node.children.length > 0) return 'nested (a struct, list or map)'
  if (node.element.repetition_type === 'REPEATED') return 'repeated (a list)'
  return undefined
}

export class ParquetTableSource implements TableSource {
  readonly format = 'parquet' as const

  constructor(
    readonly path: string,
    private readonly windowRows = defaultParquetWindowRows,
  ) {}

  async columns(): Promise<readonly string[]> {
    const { metadata } = await this.open()
    return parquetSchema(metadata).children.map((child) => child.element.name)
  }

  async *rows(opts: ReadOptions = {}): AsyncGenerator<TableRow> {
    for await (const { names, columns, start, end } of this.windows(opts)) {
      const build = columnMajorRowBuilder<unknown>(names)
      let rowNumber = 0
      const readCell: CellReader<unknown> = (value, column) => {
        const result = cell(value)
        if (result !== unreadable) return result
        throw this.unreadableError(rowNumber, names[column] ?? '', value)
      }
      for (let r = 0; r < end - start; r++) {
        rowNumber = start + r + 1
        yield { rowNumber, values: build(columns, r, readCell) }
      }
    }
  }

  /**
   * The rows of `rows()` as column batches, one per window, without a row object: numbers go
   * from hyparquet's arrays into typed arrays. The same cells: see `cell`.
   */
  async *batches(opts: ReadOptions = {}): AsyncGenerator<ColumnBatch> {
    yield* this.batchesOf(this.windows(opts))
  }

  /**
   * The batches of `batches()` one column at a time: every window of the first column, then of
   * the next. Only one column's chunk is fetched and decoded at a time (hyparquet's decoded
   * windows of 23 columns held ~150 MB more than one column's), for a caller that keeps
   * columns apart anyway (app/check-columns.ts).
   */
  async *columnBatches(opts: ReadOptions = {}): AsyncGenerator<ColumnBatch> {
    yield* this.batchesOf(this.windows(opts, true))
  }

  private async *batchesOf(
    windows: AsyncGenerator<{
      names: readonly string[]
      columns: unknown[][]
      start: number
      end: number
    }>,
  ): AsyncGenerator<ColumnBatch> {
    for await (const { names, columns, start, end } of windows) {
      const n = end - start
      const batch = new Map<string, CellColumn>()
      names.forEach((name, c) => {
        const data = columns[c] ?? []
        const numbers = new Float64Array(n)
        let others: CellValue[] | null = null
        for (let r = 0; r < n; r++) {
          const value = data[r]
          // A number is its own cell (NaN: missing, as `cell` makes it).
          if (typeof value === 'number') {
            numbers[r] = value
            continue
          }
          const result = cell(value)
          if (result === unreadable) throw this.unreadableError(start + r + 1, name, value)
          if (typeof result === 'number') numbers[r] = result
          else {
            numbers[r] = Number.NaN
            if (result !== null) {
              others ??= new Array<CellValue>(n).fill(null)
              others[r] = result
            }
          }
        }
        batch.set(name, { numbers, others })
      })
      yield { length: n, columns: batch }
    }
  }

  private unreadableError(rowNumber: number, column: string, value: unknown): FileReadError {
    const what =
      value instanceof Uint8Array
        ? 'binary data'
        : 'a value that is not a number, text, boolean or timestamp'
    return FileReadError.at(this.path, rowNumber, `column '${column}' holds ${what}`)
  }

  /** The selected columns' values window by window, each array indexed from the window's start. */
  private async *windows(
    opts: ReadOptions,
    columnwise = false,
  ): AsyncGenerator<{
    names: readonly string[]
    columns: unknown[][]
    start: number
    end: number
  }> {
    const path = this.path
    const { file, metadata } = await this.open()
    const schema = parquetSchema(metadata)
    const available = schema.children.map((child) => child.element.name)
    const names = selectColumns(path, available, opts.columns)
    assertPlainColumnNames(path, names)
    for (const name of names) {
      const node = schema.children.find((child) => child.element.name === name)
      const nested = node === undefined ? undefined : describeNested(node)
      if (nested !== undefined) {
        throw FileReadError.at(
          path,
          undefined,
          `column '${name}' is ${nested}; only flat columns can be read`,
        )
      }
    }

    if (opts.onFloatColumn !== undefined) {
      for (const name of names) {
        const node = schema.children.find((child) => child.element.name === name)
        const type = node?.element.type
        if (type === 'FLOAT' || type === 'DOUBLE') opts.onFloatColumn(name)
      }
    }

    const progress = progressReporter(opts.onProgress)
    let fetchedBefore = 0
    for (const selected of columnwise ? names.map((name) => [name]) : [names]) {
      const cache = windowCache(file)
      let groupStart = 0
      for (const group of metadata.row_groups) {
        const groupEnd = groupStart + Number(group.num_rows)
        for (let start = groupStart; start < groupEnd; start += this.windowRows) {
          const end = Math.min(start + this.windowRows, groupEnd)
          const columns = await this.readWindow(cache, metadata, selected, start, end)
          cache.nextWindow()
          // With an offset index, a page at a window edge is fetched twice; never report past the end.
          progress.advance(Math.min(fetchedBefore + cache.bytesFetched, file.byteLength))
          yield { names: selected, columns, start, end }
        }
        groupStart = groupEnd
        cache.nextGroup()
      }
      fetchedBefore += cache.bytesFetched
    }
    progress.finish(file.byteLength)
  }

  sizeBytes(): Promise<number> {
    return fileSizeBytes(this.path)
  }

  private async open(): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
    let file: AsyncBuffer
    try {
      file = await asyncBufferFromFile(this.path)
    } catch (error) {
      throw fileSystemError(this.path, error)
    }
    try {
      return { file, metadata: await parquetMetadataAsync(file, { parsers }) }
    } catch (error) {
      throw this.decodeError(undefined, error)
    }
  }

  /** Column-major values of rows [start, end), each array indexed from `start`. */
  private async readWindow(
    file: AsyncBuffer,
    metadata: FileMetaData,
    names: readonly string[],
    start: number,
    end: number,
  ): Promise<unknown[][]> {
    const columns = names.map(() => new Array<unknown>(end - start))
    if (names.length === 0) return columns
    const position = new Map(names.map((name, index) => [name, index]))
    const placed = names.map(() => 0)
    // Chunks may start before `start` or run past `end` (whole pages are decoded): keep overlaps.
    const place = (chunk: ColumnData): void => {
      const index = position.get(chunk.columnName) ?? -1
      const target = columns[index]
      if (target === undefined) return
      const from = Math.max(start, chunk.rowStart)
      const to = Math.min(end, chunk.rowEnd)
      const data = chunk.columnData
      for (let row = from; row < to; row++) target[row - start] = data[row - chunk.rowStart]
      placed[index] = (placed[index] ?? 0) + Math.max(0, to - from)
    }
    try {
      await parquetRead({
        file,
        metadata,
        columns: [...names],
        rowStart: start,
        rowEnd: end,
        useOffsetIndex: true,
        compressors,
        parsers,
        onChunk: place,
      })
    } catch (error) {
      throw this.decodeError(start + 1, error)
    }
    const short = placed.findIndex((count) => count !== end - start)
    if (short !== -1) {
      // A hole would otherwise read as missing values and skew the drift statistics unnoticed.
      const detail = `column '${names[short] ?? ''}' gave ${placed[short]} of ${end - start} rows`
      throw FileReadError.at(this.path, start + 1, `incomplete Parquet data (${detail})`)
    }
    return columns
  }

  private decodeError(rowNumber: number | undefined, error: unknown): FileReadError {
    const reason = error instanceof Error ? error.message : String(error)
    if (/footer != PAR1|parquet file is too short|metadata/i.test(reason)) {
      return FileReadError.at(
        this.path,
        undefined,
        `not a readable Parquet file (${reason})`,
        error,
      )
    }
    const codec = /unsupported compression codec: (\w+)/.exec(reason)
    if (codec !== null) {
      const supported = [
        'uncompressed',
        'snappy',
        ...Object.keys(compressors).map((c) => c.toLowerCase()),
      ]
      return FileReadError.at(
        this.path,
        undefined,
        `uses ${codec[1]} compression, which this build cannot decode (supported: ${supported.join(', ')})`,
        error,
      )
    }
    return FileReadError.at(this.path, rowNumber, `cannot decode Parquet data (${reason})`, error)
  }
}
