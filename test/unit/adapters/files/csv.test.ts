import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { coerceCsvCell, csvNaTokens } from '../../../../src/adapters/files/csv.js'
import { FileReadError } from '../../../../src/adapters/files/errors.js'
import {
  openTable,
  type TableRow,
  type TableSource,
} from '../../../../src/adapters/files/table-source.js'
import { UnknownColumnError } from '../../../../src/errors.js'

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../fixtures/files/${name}`, import.meta.url))

async function readAll(
  source: TableSource,
  opts?: Parameters<TableSource['rows']>[0],
): Promise<TableRow[]> {
  const rows: TableRow[] = []
  for await (const row of source.rows(opts)) rows.push(row)
  return rows
}

async function failure(promise: Promise<unknown>): Promise<FileReadError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FileReadError)
  return error as FileReadError
}

describe('coerceCsvCell matches pandas.read_csv defaults', () => {
  // Expected values were produced by pandas 3.1 reading each token as a one-cell column.
  const cases: [string, number | string | boolean | null][] = [
    ['1', 1],
    ['-1', -1],
    ['+1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e5', 100000],
    ['1E-5', 1e-5],
    ['+1.5e+3', 1500],
    ['1.e3', 1000],
    ['00012', 12],
    [' 1', 1],
    ['1 ', 1],
    ['\t1', 1],
    [' 1.5 ', 1.5],
    ['1e400', Infinity],
    ['-1e400', -Infinity],
    ['inf', Infinity],
    ['-inf', -Infinity],
    ['+inf', Infinity],
    ['Inf', Infinity],
    ['INF', Infinity],
    ['iNf', Infinity],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['+Infinity', Infinity],
    ['infinity', Infinity],
    ['True', true],
    ['TRUE', true],
    ['true', true],
    ['tRuE', true],
    ['False', false],
    ['false', false],
    ['FALSE', false],
    ['fAlSe', false],
    ['', null],
    ['NA', null],
    ['N/A', null],
    ['n/a', null],
    ['NaN', null],
    ['nan', null],
    ['-NaN', null],
    ['-nan', null],
    ['null', null],
    ['NULL', null],
    ['None', null],
    ['#N/A', null],
    ['#N/A N/A', null],
    ['#NA', null],
    ['<NA>', null],
    ['-1.#IND', null],
    ['1.#QNAN', null],
    // What pandas keeps as text.
    ['NAN', 'NAN'],
    ['+nan', '+nan'],
    ['none', 'none'],
    ['nA', 'nA'],
    [' NA', ' NA'],
    ['NA ', 'NA '],
    [' True', ' True'],
    ['True ', 'True '],
    [' inf', ' inf'],
    ['infinity ', 'infinity '],
    ['infin', 'infin'],
    ['yes', 'yes'],
    ['0x10', '0x10'],
    ['0b1', '0b1'],
    ['0o7', '0o7'],
    ['1_000', '1_000'],
    ['1e', '1e'],
    ['5e', '5e'],
    ['e5', 'e5'],
    ['1e+', '1e+'],
    ['.e3', '.e3'],
    ['-', '-'],
    ['+', '+'],
    ['.', '.'],
    ['+-1', '+-1'],
    ['1.2.3', '1.2.3'],
    ['1d5', '1d5'],
    ['１', '１'],
    ['1\u00a0', '1\u00a0'],
    [' ', ' '],
    ['cat_1', 'cat_1'],
  ]
  it.each(cases)('%j → %j', (text, expected) => {
    expect(coerceCsvCell(text)).toBe(expected)
  })

  it('knows every one of pandas default NA tokens', () => {
    expect([...csvNaTokens].sort()).toEqual(
      [
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
      ].sort(),
    )
  })
})

describe('CSV reader', () => {
  it('handles a BOM, CRLF, quoted fields, embedded newlines, blank lines and NA tokens', async () => {
    const source = openTable(fixture('quoted.csv'))
    expect(source.format).toBe('csv')
    expect(await source.columns()).toEqual(['id', 'name', 'score', 'flag', 'note'])
    const rows = await readAll(source)
    // Same values as pandas.read_csv on this file; line numbers are where each row starts.
    expect(rows).toEqual([
      {
        rowNumber: 2,
        values: { id: 1, name: 'Smith, Ann', score: 3.5, flag: true, note: 'plain' },
      },
      {
        rowNumber: 3,
        values: { id: 2, name: 'He said "hi"', score: null, flag: false, note: 'two\nlines' },
      },
      {
        rowNumber: 6,
        values: { id: 3, name: 'multi\r\nline, CRLF', score: -Infinity, flag: true, note: null },
      },
      { rowNumber: 8, values: { id: 4, name: null, score: 1000, flag: false, note: 'x' } },
      { rowNumber: 10, values: { id: 5, name: '  padded  ', score: 7, flag: true, note: null } },
    ])
  })

  it('reads .tsv with tabs', async () => {
    const rows = await readAll(openTable(fixture('tabs.tsv')))
    expect(rows.map((r) => r.values)).toEqual([
      { city: 'Lisbon', population: 545923, coastal: true },
      { city: 'Madrid', population: 3223334, coastal: false },
      { city: 'Las Palmas, GC', population: null, coastal: true },
    ])
  })

  it('names an empty header cell as pandas does', async () => {
    const source = openTable(fixture('index-column.csv'))
    expect(await source.columns()).toEqual(['Unnamed: 0', 'x', 'y'])
  })

  it('projects and orders the requested columns', async () => {
    const rows = await readAll(openTable(fixture('quoted.csv')), {
      columns: ['flag', 'id', 'flag'],
    })
    expect(rows[0]?.values).toEqual({ flag: true, id: 1 })
    expect(Object.keys(rows[0]?.values ?? {})).toEqual(['flag', 'id'])
  })

  it('rejects a requested column the file does not have', async () => {
    const error: unknown = await readAll(openTable(fixture('quoted.csv')), {
      columns: ['nope'],
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnknownColumnError)
    expect((error as Error).message).toContain("unknown column 'nope'")
  })

  it('pads a short row with missing values and fails on a long one, naming its line', async () => {
    const path = fixture('ragged.csv')
    const seen: TableRow[] = []
    const error = await failure(
      (async () => {
        for await (const row of openTable(path).rows()) seen.push(row)
      })(),
    )
    expect(seen.map((r) => r.values)).toEqual([
      { a: 1, b: 2, c: 3, d: 4 },
      { a: 5, b: 6, c: null, d: null },
    ])
    expect(error.message).toBe(`${path}:4: row has 5 fields, header has 4`)
    expect(error.rowNumber).toBe(4)
    expect(error.path).toBe(path)
    expect(error.code).toBe('FILE_READ')
    expect(error.canRetry).toBe(false)
  })

  it('refuses duplicate header names', async () => {
    const path = fixture('duplicate-header.csv')
    const error = await failure(openTable(path).columns())
    expect(error.message).toBe(`${path}:1: duplicate column name 'a' in the header`)
  })

  it('reports a quote that is never closed at the line where its row starts', async () => {
    const path = fixture('unclosed-quote.csv')
    const error = await failure(readAll(openTable(path)))
    expect(error.message).toBe(`${path}:3: a quoted field is never closed (missing ")`)
  })

  it('reads a header-only file as no rows, and refuses an empty file', async () => {
    expect(await readAll(openTable(fixture('header-only.csv')))).toEqual([])
    const path = fixture('empty.csv')
    const error = await failure(readAll(openTable(path)))
    expect(error.message).toBe(`${path}: empty file: expected a header row`)
  })
})

describe('CSV line numbers across chunk boundaries', () => {
  it('counts a CRLF cut in half by a chunk boundary as one line end', async () => {
    const dirPath = await mkdtemp(join(tmpdir(), 'driftwatch-crlf-'))
    try {
      // 'a\r\n' is 3 bytes, so the long value's '\r' is byte 65535, the last of the first chunk.
      const path = join(dirPath, 'split.csv')
      await writeFile(path, `a\r\n${'x'.repeat(65_532)}\r\ny\r\n`)
      const rows = await readAll(openTable(path))
      expect(rows.map((r) => [r.rowNumber, String(r.values['a']).slice(0, 1)])).toEqual([
        [2, 'x'],
        [3, 'y'],
      ])
    } finally {
      await rm(dirPath, { recursive: true, force: true })
    }
  })

  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-csv-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])(
    'stay exact with %s line ends when multi-line fields and blank lines straddle 64 KiB chunks',
    async (name, eol) => {
      // Every 97th row has a quoted field with 1-3 line breaks (LF, CRLF or lone CR); every 89th
      // row is followed by a blank line. Expected start lines are counted while writing.
      const lines: string[] = ['id,text,value']
      const expected: { id: number; line: number; text: string }[] = []
      let line = 2
      for (let id = 1; id <= 6000; id++) {
        const breaks = id % 97 === 0 ? 1 + (id % 3) : 0
        const separators = ['\n', '\r\n', '\r']
        const text =
          breaks === 0
            ? `plain ${'x'.repeat(id % 40)}`
            : Array.from({ length: breaks + 1 }, (_, i) => `part${i}`).join(
                separators[id % 3] ?? '\n',
              )
        const cell = breaks === 0 ? text : `"${text}"`
        lines.push(`${id},${cell},${id * 0.25}`)
        expected.push({ id, line, text })
        line += 1 + breaks
        if (id % 89 === 0) {
          lines.push('')
          line++
        }
      }
      const path = join(dir, `multiline-${name}.csv`)
      await writeFile(path, lines.join(eol) + eol)
      const rows = await readAll(openTable(path))
      expect(rows.length).toBe(expected.length)
      for (let i = 0; i < rows.length; i++) {
        const want = expected[i]
        expect({
          line: rows[i]?.rowNumber,
          id: rows[i]?.values['id'],
          text: rows[i]?.values['text'],
        }).toEqual({
          line: want?.line,
          id: want?.id,
          text: want?.text,
        })
      }
    },
  )
})
