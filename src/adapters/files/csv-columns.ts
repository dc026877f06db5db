// CSV read column by column, straight from the file's bytes into typed arrays: the fast path of
// `CsvTableSource.batches` for files without a quote character (see csv.ts for the row path,
// which stays the reference behaviour and still reads every file that has quotes).
//
// Without quotes, csv-parse with our options (csv.ts `parserOptions`) does nothing but split
// records at \r\n, \n or \r and fields at the delimiter; this does the same on bytes. A cell
// written as a plain decimal (optional sign, at most 15 digits, at most one point: almost every
// number a feature store writes) is converted here: its digits as an integer (exact below 2^53)
// divided by a power of ten (exact up to 10^22) is one correctly rounded operation, hence the
// same double Number() gives for the text (Clinger's fast path). Every other cell is decoded and
// typed by `coerceCsvCell`, as on the row path. So both paths give the same cells, line numbers
// and errors; test/unit/adapters/files/csv-columns.test.ts compares them.

import { open } from 'node:fs/promises'
import type { CellColumn, ColumnBatch } from '../../core/profile/batch.js'
import { coerceCsvCell, isBlankRecord, isFloatSyntax, parseHeader } from './csv.js'
import { FileReadError, fileSystemError } from './errors.js'
import {
  progressReporter,
  selectColumns,
  type CellValue,
  type ReadOptions,
} from './table-source.js'

const chunkBytes = 1 << 20
const lf = 10
const cr = 13

/** 10^k for k = 0..22, each exact in a double. */
const powersOfTen = Float64Array.from({ length: 23 }, (_, k) => 10 ** k)

/**
 * The number a plain decimal field holds, or NaN when the field is anything else (empty, an
 * exponent, more than 15 digits, text): then the caller takes the general path.
 */
export function plainDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start
  let negative = false
  const first = bytes[i]
  if (first === 45 /* - */) {
    negative = true
    i++
  } else if (first === 43 /* + */) i++
  let mantissa = 0
  let digits = 0
  let fraction = 0
  let point = false
  for (; i < end; i++) {
    const c = bytes[i] as number
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48)
      digits++
      if (point) fraction++
    } else if (c === 46 /* . */ && !point) point = true
    else return Number.NaN
  }
  if (digits === 0 || digits > 15) return Number.NaN
  const value = fraction === 0 ? mantissa : mantissa / (powersOfTen[fraction] as number)
  return negative ? -value : value
}

/** Whether `byte` occurs anywhere in the file (read in 1 MiB chunks, memchr-fast). */
export async function fileContainsByte(path: string, byte: number): Promise<boolean> {
  let file
  try {
    file = await open(path, 'r')
    const buffer = Buffer.allocUnsafe(chunkBytes)
    for (let position = 0; ;) {
      const { bytesRead } = await file.read(buffer, 0, chunkBytes, position)
      if (bytesRead === 0) return false
      if (buffer.subarray(0, bytesRead).indexOf(byte) !== -1) return true
      position += bytesRead
    }
  } catch (error) {
    throw fileSystemError(path, error)
  } finally {
    await file?.close()
  }
}

/** The growing columns of the batch being filled. */
class Columns {
  numbers: Float64Array[]
  others: (CellValue[] | null)[]
  capacity: number
  length = 0

  constructor(
    private readonly width: number,
    capacity: number,
  ) {
    this.capacity = capacity
    this.numbers = Array.from({ length: width }, () => new Float64Array(capacity))
    this.others = Array.from({ length: width }, () => null)
  }

  /** Starts a row: every cell missing until set. */
  open(): number {
    if (this.length === this.capacity) this.grow()
    const row = this.length++
    for (let c = 0; c < this.width; c++) {
      ;(this.numbers[c] as Float64Array)[row] = Number.NaN
      const others = this.others[c]
      if (others !== null && others !== undefined) others[row] = null
    }
    return row
  }

  setOther(column: number, row: number, value: CellValue): void {
    let others = this.others[column] ?? null
    if (others === null) {
      others = new Array<CellValue>(this.capacity).fill(null)
      this.others[column] = others
    }
    others[row] = value
  }

  batch(names: readonly string[]): ColumnBatch {
    const columns = new Map<string, CellColumn>()
    names.forEach((name, c) =>
      columns.set(name, {
        numbers: this.numbers[c] as Float64Array,
        others: this.others[c] ?? null,
      }),
    )
    return { length: this.length, columns }
  }

  private grow(): void {
    this.capacity *= 2
    this.numbers = this.numbers.map((old) => {
      const grown = new Float64Array(this.capacity)
      grown.set(old)
      return grown
    })
    // Holes read as undefined, which cellAt takes as missing, like null.
    for (const others of this.others) if (others !== null) others.length = this.capacity
  }
}

interface Layout {
  readonly names: readonly string[]
  readonly width: number
  /** Header position → index into `names`, or -1 when not selected. */
  readonly slotOf: Int32Array
}

/** A record's fields as text (the header, and lines that may be blank). */
function fieldsOf(bytes: Buffer, start: number, end: number, separator: number): string[] {
  const fields: string[] = []
  let from = start
  for (let i = start; i <= end; i++) {
    if (i === end || bytes[i] === separator) {
      fields.push(bytes.toString('utf8', from, i))
      from = i + 1
    }
  }
  return fields
}

function containsByte(bytes: Buffer, start: number, end: number, byte: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] === byte) return true
  return false
}

/**
 * The CSV's rows as column batches, one per 1 MiB of input. The file must hold no quote
 * character (the caller checks with `fileContainsByte`). A batch's arrays are its own.
 */
export async function* csvColumnBatches(
  path: string,
  delimiter: string,
  opts: ReadOptions,
): AsyncGenerator<ColumnBatch> {
  const separator = delimiter.charCodeAt(0)
  const progress = progressReporter(opts.onProgress)
  const onFloat = opts.onFloatColumn
  let layout: Layout | undefined
  let floatSeen = new Uint8Array(0)
  let line = 1
  let file
  try {
    file = await open(path, 'r')
  } catch (error) {
    throw fileSystemError(path, error)
  }
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes)
    let carry: Buffer | null = null
    let position = 0
    let first = true
    for (;;) {
      let got: number
      try {
        got = (await file.read(chunk, 0, chunkBytes, position)).bytesRead
      } catch (error) {
        throw fileSystemError(path, error)
      }
      position += got
      const eof = got === 0
      let bytes: Buffer =
        carry === null ? chunk.subarray(0, got) : Buffer.concat([carry, chunk.subarray(0, got)])
      carry = null
      if (first) {
        if (bytes.length < 3 && !eof) {
          // Too few bytes yet to tell whether the file starts with a byte-order mark.
          carry = Buffer.from(bytes)
          continue
        }
        first = false
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3)
      }
      let columns: Columns | undefined
      const end = bytes.length
      // Most files end lines with \n alone: then memchr finds each line's end.
      const noCarriageReturn = bytes.indexOf(cr) === -1
      let start = 0
      while (start < end) {
        let lineEnd: number
        if (noCarriageReturn) {
          lineEnd = bytes.indexOf(lf, start)
          if (lineEnd === -1) lineEnd = end
        } else {
          lineEnd = start
          while (lineEnd < end) {
            const c = bytes[lineEnd] as number
            if (c === lf || c === cr) break
            lineEnd++
          }
        }
        let next: number
        if (lineEnd === end) {
          if (!eof) break // an incomplete record: carried over to the next chunk
          next = end
        } else if (bytes[lineEnd] === cr) {
          if (lineEnd + 1 === end && !eof) break // a \n may follow in the next chunk
          next = bytes[lineEnd + 1] === lf ? lineEnd + 2 : lineEnd + 1
        } else next = lineEnd + 1
        const recordLine = line++
        const record = start
        start = next
        const single = !containsByte(bytes, record, lineEnd, separator)
        if (single && isBlankRecord(fieldsOf(bytes, record, lineEnd, separator))) continue
        if (layout === undefined) {
          const header = parseHeader(path, fieldsOf(bytes, record, lineEnd, separator), recordLine)
          const names = selectColumns(path, header.names, opts.columns)
          const slotOf = new Int32Array(header.names.length).fill(-1)
          const slots = new Map(names.map((name, index) => [name, index]))
          header.names.forEach((name, index) => {
            slotOf[index] = slots.get(name) ?? -1
          })
          layout = { names, width: header.names.length, slotOf }
          floatSeen = new Uint8Array(names.length)
          continue
        }
        columns ??= new Columns(layout.names.length, 8192)
        const row = columns.open()
        const slotOf = layout.slotOf
        let field = 0
        let from = record
        for (;;) {
          const slot = field < slotOf.length ? (slotOf[field] as number) : -1
          let to = from
          if (slot < 0) {
            while (to < lineEnd && bytes[to] !== separator) to++
          } else {
            // To the field's end, reading a plain decimal on the way (as plainDecimal does).
            let negative = false
            let mantissa = 0
            let digits = 0
            let fraction = 0
            let point = false
            let plain = true
            if (to < lineEnd) {
              const sign = bytes[to]
              if (sign === 45 /* - */) {
                negative = true
                to++
              } else if (sign === 43 /* + */) to++
            }
            for (; to < lineEnd; to++) {
              const c = bytes[to] as number
              if (c === separator) break
              if (c >= 48 && c <= 57) {
                mantissa = mantissa * 10 + (c - 48)
                digits++
                if (point) fraction++
              } else if (c === 46 /* . */ && !point) point = true
              else plain = false
            }
            if (to > from) {
              const numbers = columns.numbers[slot] as Float64Array
              if (plain && digits > 0 && digits <= 15) {
                const value =
                  fraction === 0 ? mantissa : mantissa / (powersOfTen[fraction] as number)
                numbers[row] = negative ? -value : value
                if (point && onFloat !== undefined && floatSeen[slot] === 0) {
                  floatSeen[slot] = 1
                  onFloat(layout.names[slot] ?? '')
                }
              } else {
                const text = bytes.toString('utf8', from, to)
                const value = coerceCsvCell(text)
                if (typeof value === 'number') {
                  numbers[row] = value
                  if (onFloat !== undefined && floatSeen[slot] === 0 && isFloatSyntax(text)) {
                    floatSeen[slot] = 1
                    onFloat(layout.names[slot] ?? '')
                  }
                } else if (value !== null) columns.setOther(slot, row, value)
              }
            }
          }
          field++
          if (to >= lineEnd) break
          from = to + 1
        }
        if (field > layout.width) {
          throw FileReadError.at(
            path,
            recordLine,
            `row has ${field} fields, header has ${layout.width}`,
          )
        }
      }
      if (start < end) carry = Buffer.from(bytes.subarray(start))
      if (columns !== undefined && columns.length > 0 && layout !== undefined)
        yield columns.batch(layout.names)
      progress.advance(position)
      if (eof) break
    }
    if (layout === undefined)
      throw FileReadError.at(path, undefined, 'empty file: expected a header row')
    progress.finish(position)
  } finally {
    await file.close()
  }
}
