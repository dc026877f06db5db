// Reading a reference or current data file as a stream of rows, whatever its format.
//
// Every reader is streamed: memory stays bounded by one input chunk (CSV, JSONL) or one window of
// rows (Parquet, plus its row group's compressed bytes: see parquet.ts) however large the file,
// because `driftwatch check` must handle files far larger than the heap. Cells are coerced the way pandas' readers do with default settings, so a report
// agrees with a Python pipeline that reads the same file.
//
// The format modules import the helpers at the bottom of this file while `openTable` imports
// them; the cycle is harmless because nothing is used while the modules are being evaluated.

import { extname } from 'node:path'
import { BatchBuilder, type ColumnBatch } from '../../core/profile/batch.js'
import { UnknownColumnError } from '../../errors.js'
import { CsvTableSource } from './csv.js'
import { FileReadError } from './errors.js'
import { JsonlTableSource } from './jsonl.js'
import { ParquetTableSource } from './parquet.js'

export type CellValue = number | string | boolean | null

export interface TableRow {
  /** CSV/JSONL: the 1-based physical line where the row starts; Parquet: 1-based row index. */
  readonly rowNumber: number
  readonly values: Readonly<Record<string, CellValue>>
}

export const tableFormats = ['csv', 'jsonl', 'parquet'] as const
export type TableFormat = (typeof tableFormats)[number]

export interface ReadOptions {
  /** Only these columns, in this order; each must be one of `columns()`. */
  readonly columns?: readonly string[]
  /** Bytes of the file consumed so far; called at most about every 64 KiB, and once at the end. */
  readonly onProgress?: (bytesRead: number) => void
  /**
   * Called (at least once, maybe more) for each selected column the file types as floating point
   * even where its values are whole: a Parquet FLOAT/DOUBLE column, a CSV column with a number
   * written with a decimal point or exponent (`3.0`, `1e3`), as pandas would give it a float
   * dtype. Column-kind inference reads it: Evidently keeps float columns numerical however few
   * their distinct values. JSONL cannot tell (JSON.parse reads `3.0` as 3).
   */
  readonly onFloatColumn?: (column: string) => void
}

export interface TableSource {
  readonly path: string
  readonly format: TableFormat
  columns(): Promise<readonly string[]>
  rows(opts?: ReadOptions): AsyncIterable<TableRow>
  /** The same cells as `rows()`, column by column, in batches of consecutive rows. */
  batches(opts?: ReadOptions): AsyncIterable<ColumnBatch>
  /**
   * The same batches one column at a time (all of a column's rows before the next column's), for
   * a reader that reads columns apart and then holds one column's window instead of all (Parquet).
   */
  columnBatches?(opts?: ReadOptions): AsyncIterable<ColumnBatch>
  sizeBytes(): Promise<number>
}

/** Extension (lower-cased) → format. `.tsv` is CSV with tabs, as pandas reads it with sep='\t'. */
const extensions: Readonly<Record<string, { format: TableFormat; delimiter?: string }>> = {
  '.csv': { format: 'csv', delimiter: ',' },
  '.tsv': { format: 'csv', delimiter: '\t' },
  '.jsonl': { format: 'jsonl' },
  '.ndjson': { format: 'jsonl' },
  '.parquet': { format: 'parquet' },
}
export const supportedExtensions: readonly string[] = Object.keys(extensions)

export function formatFromPath(path: string): TableFormat {
  const extension = extname(path).toLowerCase()
  const known = extensions[extension]
  if (known === undefined) {
    const shown = extension === '' ? `(no extension) for ${path}` : `'${extension}'`
    throw new FileReadError(
      `unsupported format ${shown} (supported: ${supportedExtensions.join(', ')})`,
      { path },
    )
  }
  return known.format
}

/**
 * A lazily opened table: nothing is read until `columns()`, `rows()` or `sizeBytes()` is called,
 * so a missing file is reported then, as a FileReadError.
 */
export function openTable(path: string, format?: TableFormat): TableSource {
  const chosen = format ?? formatFromPath(path)
  switch (chosen) {
    case 'csv':
      // An explicit 'csv' still honours a .tsv name; anything else is comma-separated.
      return new CsvTableSource(path, extensions[extname(path).toLowerCase()]?.delimiter ?? ',')
    case 'jsonl':
      return new JsonlTableSource(path)
    case 'parquet':
      return new ParquetTableSource(path)
    default: {
      // Formats can arrive untyped from a CLI flag or a config file.
      const unknown: never = chosen
      throw new FileReadError(
        `unsupported format '${String(unknown)}' (supported: ${tableFormats.join(', ')})`,
        { path },
      )
    }
  }
}

// ---- helpers shared by the format readers ----

/** `batches()` for a reader that produces rows: its rows, gathered into column batches. */
export async function* batchesFromRows(
  source: TableSource,
  opts: ReadOptions = {},
): AsyncGenerator<ColumnBatch> {
  const names = opts.columns === undefined ? await source.columns() : [...new Set(opts.columns)]
  const builder = new BatchBuilder(names)
  for await (const row of source.rows(opts)) {
    builder.add(row.values)
    if (builder.full) yield builder.take()
  }
  if (builder.length > 0) yield builder.take()
}

/** Progress is reported per input chunk of this size, hence "about every 64 KiB". */
export const progressStepBytes = 64 * 1024

export interface ProgressReporter {
  /** The total bytes read so far; forwarded only once it moved by a step since the last call. */
  advance(bytesRead: number): void
  /** Always reports the final total (once), so a progress bar ends at 100%. */
  finish(bytesRead: number): void
}

export function progressReporter(
  onProgress: ((bytesRead: number) => void) | undefined,
): ProgressReporter {
  let reported = 0
  return {
    advance(bytesRead) {
      if (onProgress !== undefined && bytesRead - reported >= progressStepBytes) {
        reported = bytesRead
        onProgress(bytesRead)
      }
    },
    finish(bytesRead) {
      if (onProgress !== undefined && bytesRead > reported) {
        reported = bytesRead
        onProgress(bytesRead)
      }
    },
  }
}

/** The columns a read returns: the requested ones (deduplicated, in order) or all of them. */
export function selectColumns(
  path: string,
  available: readonly string[],
  requested: readonly string[] | undefined,
): readonly string[] {
  if (requested === undefined) return available
  const known = new Set(available)
  const unknown = requested.find((name) => !known.has(name))
  if (unknown !== undefined) throw new UnknownColumnError(unknown, available, path)
  return [...new Set(requested)]
}

/** Turns one source value into a cell; `column` is the index into the builder's `names`. */
export type CellReader<V> = (value: V, column: number) => CellValue

/**
 * A function building one row object from a row-major source (a CSV record's fields, a parsed
 * JSON object): `(source, cell) => ({ [names[0]]: cell(source[keys[0]], 0), ... })`.
 *
 * Why generated code: filling `values[name] = ...` in a loop is a megamorphic keyed store per
 * cell and costs more than parsing the cell; an object literal with fixed keys is allocated in
 * one step with its final shape, about ten times faster at 23 columns. Only JSON.stringify'd
 * names and keys reach the generated source, so no file content can become code.
 */
export function rowBuilder<S, V>(
  names: readonly string[],
  keys: readonly (string | number)[],
): (source: S, cell: CellReader<V>) => Record<string, CellValue> {
  const fields = names.map(
    (name, i) => `${JSON.stringify(name)}: cell(source[${JSON.stringify(keys[i])}], ${i})`,
  )
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- keys are JSON literals
  return new Function('source', 'cell', `return {${fields.join(', ')}}`) as (
    source: S,
    cell: CellReader<V>,
  ) => Record<string, CellValue>
}

/** The same for column-major sources (a Parquet window): `cell(columns[i][row], i)`. */
export function columnMajorRowBuilder<V>(
  names: readonly string[],
): (
  columns: readonly ArrayLike<V>[],
  row: number,
  cell: CellReader<V>,
) => Record<string, CellValue> {
  const fields = names.map((name, i) => `${JSON.stringify(name)}: cell(columns[${i}][row], ${i})`)
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see rowBuilder
  return new Function('columns', 'row', 'cell', `return {${fields.join(', ')}}`) as (
    columns: readonly ArrayLike<V>[],
    row: number,
    cell: CellReader<V>,
  ) => Record<string, CellValue>
}

/**
 * Rows are plain objects for speed; a column literally named `__proto__` would set the object's
 * prototype instead of a value, so it is refused up front rather than silently lost.
 */
export function assertPlainColumnNames(
  path: string,
  names: readonly string[],
  rowNumber?: number,
): void {
  if (names.includes('__proto__')) {
    throw FileReadError.at(path, rowNumber, "a column named '__proto__' cannot be read")
  }
}
