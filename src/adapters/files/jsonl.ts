// JSON Lines rows: one flat JSON object per non-blank line, streamed chunk by chunk.
//
// Values keep their JSON types (a JSON string "1" stays a string), `null` is missing, and a nested
// object or array is an error for its row: drift is computed on flat features, and silently
// stringifying a nested value would make it a high-cardinality category nobody asked for.
//
// The columns are the keys of the first object. A later row missing one of them reads it as
// null (as pandas does); a later row with extra keys carries them in its values.

import { createReadStream } from 'node:fs'
import { FileReadError, fileSizeBytes, fileSystemError } from './errors.js'
import {
  assertPlainColumnNames,
  batchesFromRows,
  progressReporter,
  progressStepBytes,
  rowBuilder,
  selectColumns,
  type CellReader,
  type CellValue,
  type ReadOptions,
  type TableRow,
  type TableSource,
} from './table-source.js'
import type { ColumnBatch } from '../../core/profile/batch.js'

interface Line {
  readonly text: string
  readonly line: number
}

/**
 * Non-blank lines with their 1-based line numbers. Chunks are cut at their last newline before
 * decoding, so a multi-byte character split across chunks is never mangled.
 */
async function* jsonLines(
  path: string,
  onBytes: (bytesRead: number) => void,
): AsyncGenerator<Line[]> {
  const input = createReadStream(path, { highWaterMark: progressStepBytes })
  let carry: Buffer = Buffer.alloc(0)
  let line = 1
  const split = (bytes: Buffer): Line[] => {
    const lines: Line[] = []
    for (const raw of bytes.toString('utf8').split('\n')) {
      let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      // Editors on Windows like to start UTF-8 files with a BOM, which JSON.parse rejects.
      if (line === 1 && text.startsWith('\ufeff')) text = text.slice(1)
      if (text.trim() !== '') lines.push({ text, line })
      line++
    }
    return lines
  }
  try {
    let bytesRead = 0
    for await (const chunk of input as AsyncIterable<Buffer>) {
      bytesRead += chunk.length
      const end = chunk.lastIndexOf(10 /* \n */)
      if (end === -1) {
        carry = carry.length === 0 ? chunk : Buffer.concat([carry, chunk])
      } else {
        const complete =
          carry.length === 0
            ? chunk.subarray(0, end)
            : Buffer.concat([carry, chunk.subarray(0, end)])
        carry = chunk.subarray(end + 1)
        yield split(complete)
      }
      onBytes(bytesRead)
    }
    if (carry.length > 0) yield split(carry)
  } catch (error) {
    throw fileSystemError(path, error)
  } finally {
    input.destroy()
  }
}

function parseObject(path: string, { text, line }: Line): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw FileReadError.at(path, line, `invalid JSON (${reason})`, error)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const kind =
      parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`
    throw FileReadError.at(path, line, `expected a JSON object, found ${kind}`)
  }
  return parsed as Record<string, unknown>
}

function cell(path: string, line: number, column: string, value: unknown): CellValue {
  const type = typeof value
  if (type === 'number' || type === 'string' || type === 'boolean') return value as CellValue
  // Absent keys, and inherited members such as `toString` reached through a missing key.
  if (value === null || value === undefined || type === 'function') return null
  const kind = Array.isArray(value) ? 'an array' : 'an object'
  throw FileReadError.at(
    path,
    line,
    `field '${column}' holds ${kind}; only flat values can be read`,
  )
}

export class JsonlTableSource implements TableSource {
  readonly format = 'jsonl' as const

  constructor(readonly path: string) {}

  async columns(): Promise<readonly string[]> {
    for await (const lines of jsonLines(this.path, () => {})) {
      const first = lines[0]
      if (first !== undefined) return this.header(first)
    }
    return []
  }

  async *rows(opts: ReadOptions = {}): AsyncGenerator<TableRow> {
    const path = this.path
    const progress = progressReporter(opts.onProgress)
    const projected = opts.columns !== undefined
    // Set by the first object: its keys, and how an object becomes the selected columns' values.
    let table:
      | {
          known: ReadonlySet<string>
          build: (
            object: Record<string, unknown>,
            cell: CellReader<unknown>,
          ) => Record<string, CellValue>
        }
      | undefined
    let line = 0
    // Errors name the line being read; the builder only knows the column.
    let names: readonly string[] = []
    const readCell: CellReader<unknown> = (value, column) =>
      cell(path, line, names[column] ?? '', value)
    let bytesRead = 0
    const batches = jsonLines(path, (bytes) => {
      bytesRead = bytes
      progress.advance(bytes)
    })
    for await (const lines of batches) {
      for (const entry of lines) {
        line = entry.line
        if (table === undefined) {
          const header = this.header(entry)
          names = selectColumns(path, header, opts.columns)
          table = { known: new Set(header), build: rowBuilder(names, names) }
        }
        const object = parseObject(path, entry)
        const values = table.build(object, readCell)
        if (!projected) {
          for (const key in object) {
            if (table.known.has(key)) continue
            assertPlainColumnNames(path, [key], line)
            values[key] = cell(path, line, key, object[key])
          }
        }
        yield { rowNumber: line, values }
      }
    }
    progress.finish(bytesRead)
  }

  batches(opts: ReadOptions = {}): AsyncIterable<ColumnBatch> {
    return batchesFromRows(this, opts)
  }

  sizeBytes(): Promise<number> {
    return fileSizeBytes(this.path)
  }

  private header(first: Line): readonly string[] {
    const names = Object.keys(parseObject(this.path, first))
    assertPlainColumnNames(this.path, names, first.line)
    return names
  }
}
