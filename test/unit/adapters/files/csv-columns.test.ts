// The byte-level CSV reader (csv-columns.ts) must give exactly the cells, line numbers and errors
// of the csv-parse row path (csv.ts), which is what the coercion tests and fixtures pin to pandas.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { csvColumnBatches, plainDecimal } from '../../../../src/adapters/files/csv-columns.js'
import { FileReadError } from '../../../../src/adapters/files/errors.js'
import {
  openTable,
  type CellValue,
  type ReadOptions,
} from '../../../../src/adapters/files/table-source.js'
import { cellAt } from '../../../../src/core/profile/batch.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dw-csv-columns-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Read {
  rows: Record<string, CellValue>[]
  floats: string[]
  error: string | null
}

async function viaRows(path: string, opts: ReadOptions = {}): Promise<Read> {
  const rows: Record<string, CellValue>[] = []
  const floats: string[] = []
  try {
    for await (const row of openTable(path).rows({ ...opts, onFloatColumn: (c) => floats.push(c) }))
      rows.push({ ...row.values })
    return { rows, floats: [...new Set(floats)], error: null }
  } catch (error) {
    return { rows: [], floats: [], error: (error as FileReadError).message }
  }
}

async function viaColumns(path: string, opts: ReadOptions = {}): Promise<Read> {
  const rows: Record<string, CellValue>[] = []
  const floats: string[] = []
  try {
    const delimiter = path.endsWith('.tsv') ? '\t' : ','
    for await (const batch of csvColumnBatches(path, delimiter, {
      ...opts,
      onFloatColumn: (c) => floats.push(c),
    })) {
      for (let i = 0; i < batch.length; i++) {
        const row: Record<string, CellValue> = {}
        for (const [name, column] of batch.columns) row[name] = cellAt(column, i)
        rows.push(row)
      }
    }
    return { rows, floats: [...new Set(floats)], error: null }
  } catch (error) {
    return { rows: [], floats: [], error: (error as FileReadError).message }
  }
}

async function same(name: string, content: string | Buffer, opts?: ReadOptions): Promise<Read> {
  const path = join(dir, name)
  await writeFile(path, content)
  const expected = await viaRows(path, opts)
  const actual = await viaColumns(path, opts)
  expect(actual).toEqual(expected)
  return actual
}

describe('plainDecimal', () => {
  const bytes = (text: string): Buffer => Buffer.from(text, 'latin1')
  it('gives Number() of every plain decimal it accepts, NaN for the rest', () => {
    const accepted = [
      '0',
      '-0',
      '+5',
      '1.',
      '.5',
      '-.25',
      '007',
      '123456789012345',
      '0.1',
      '3.141593',
      '-123.456789',
      '999999999999999',
    ]
    for (const text of accepted) {
      const value = plainDecimal(bytes(text), 0, text.length)
      expect(Object.is(value, Number(text)), text).toBe(true)
    }
    for (const text of [
      '',
      '-',
      '.',
      '1e5',
      '1.2.3',
      '1234567890123456',
      ' 1',
      'inf',
      '0x10',
      '1,5',
    ])
      expect(plainDecimal(bytes(text), 0, text.length), text).toBeNaN()
  })

  it('agrees with Number() on a million random six-decimal values', () => {
    let seed = 7
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    for (let i = 0; i < 1_000_000; i++) {
      const text = ((next() - 0.5) * 10 ** Math.floor(next() * 9)).toFixed(Math.floor(next() * 8))
      const value = plainDecimal(bytes(text), 0, text.length)
      if (!Object.is(value, Number(text))) expect(value, text).toBe(Number(text))
    }
  })
})

describe('csvColumnBatches reads numbers as Number() does', () => {
  it('on 200,000 random decimals of up to 17 digits, signs and points', async () => {
    let seed = 3
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const texts: string[] = []
    for (let i = 0; i < 200_000; i++) {
      const digits = (next() * 1e17).toFixed(0).slice(0, 1 + Math.floor(next() * 17))
      const point = Math.floor(next() * (digits.length + 1))
      const sign = next() < 0.3 ? '-' : next() < 0.1 ? '+' : ''
      texts.push(sign + digits.slice(0, point) + (next() < 0.8 ? '.' : '') + digits.slice(point))
    }
    const path = join(dir, 'numbers.csv')
    await writeFile(path, 'x\n' + texts.join('\n') + '\n')
    const read: number[] = []
    for await (const batch of csvColumnBatches(path, ',', {})) {
      const numbers = batch.columns.get('x')?.numbers ?? new Float64Array(0)
      for (let i = 0; i < batch.length; i++) read.push(numbers[i] as number)
    }
    expect(read).toHaveLength(texts.length)
    texts.forEach((text, i) => {
      if (!Object.is(read[i], Number(text))) expect(read[i], text).toBe(Number(text))
    })
  })
})

describe('csvColumnBatches gives the cells of the row path', () => {
  it('numbers, NA tokens, text, booleans, infinities, padded numbers, short rows', async () => {
    const read = await same(
      'mixed.csv',
      'a,b,c,d\n1,x,TRUE,\n2.5,NA,false,inf\n -3 ,n/a,True,-Infinity\n1e3,0x10,,1.0\n7\n',
    )
    expect(read.rows).toHaveLength(5)
    expect(read.floats).toEqual(['a', 'd'])
  })

  it('CRLF and lone CR line ends, blank lines, a byte-order mark, no final newline', async () => {
    await same('ends.csv', '\ufeffa,b\r\n1,2\r\n\r\n  \n3,4\r5,6\n\n7,8')
  })

  it('tabs (TSV), unicode text and header names', async () => {
    await same('t.tsv', 'größe\tname\n1.5\tÄrger\n2\tcafé\n')
  })

  it('selected columns in the requested order, empty header cells', async () => {
    await same('sel.csv', 'x,,z\n1,2,3\n4,5,6\n', { columns: ['z', 'Unnamed: 1'] })
  })

  it('records across 1 MiB chunks, and a CR at a chunk end', async () => {
    const lines = ['a,b,c']
    for (let i = 0; i < 120_000; i++)
      lines.push(`${i * 0.001},${i % 7 === 0 ? 'NA' : i},k${i % 13}`)
    const read = await same('big.csv', lines.join('\r\n') + '\r\n')
    expect(read.rows).toHaveLength(120_000)
    await same('cr.csv', lines.join('\r'))
  })

  it('the same errors: too many fields (with its line), duplicate header, empty file', async () => {
    const long = await same('long.csv', 'a,b\n1,2\n\n3,4,5\n')
    expect(long.error).toMatch(/:4: row has 3 fields, header has 2/)
    expect((await same('dup.csv', 'a,a\n1,2\n')).error).toMatch(/duplicate column name 'a'/)
    expect((await same('empty.csv', '\n\n')).error).toMatch(/empty file/)
  })

  it('header only: no rows', async () => {
    expect((await same('header.csv', 'a,b\n')).rows).toEqual([])
  })
})

describe('CsvTableSource.batches', () => {
  it('reads a file with quotes through the row path, the same cells', async () => {
    const path = join(dir, 'quoted.csv')
    await writeFile(path, 'a,b\n"1,5",2\n"x\ny",3\n')
    const cells: CellValue[][] = []
    for await (const batch of openTable(path).batches()) {
      for (let i = 0; i < batch.length; i++)
        cells.push([cellAt(batch.columns.get('a'), i), cellAt(batch.columns.get('b'), i)])
    }
    expect(cells).toEqual([
      ['1,5', 2],
      ['x\ny', 3],
    ])
  })
})
