import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { FileReadError } from '../../../../src/adapters/files/errors.js'
import { ParquetTableSource } from '../../../../src/adapters/files/parquet.js'
import {
  openTable,
  type TableRow,
  type TableSource,
} from '../../../../src/adapters/files/table-source.js'

// Fixtures come from test/fixtures/files/make_parquet.py (pyarrow); see its docstring.
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

const flatColumns = ['id', 'score', 'count', 'small', 'label', 'flag', 'at', 'day']

/** types.parquet as pandas.read_parquet shows it, with NaN as null and datetimes as ISO text. */
const expectedTypes = Array.from({ length: 10 }, (_, i) => ({
  rowNumber: i + 1,
  values: {
    id: i + 1,
    score: i % 4 === 2 ? null : 0.5 * i,
    count: i % 3 === 0 ? null : i,
    small: i % 3,
    label: i === 5 ? null : `l${i % 3}`,
    flag: i === 7 ? null : i % 2 === 0,
    at: `2024-01-01T12:00:0${i}.000Z`,
    day: `2024-02-${String(1 + i).padStart(2, '0')}`,
  },
}))

describe('Parquet reader', () => {
  it('lists every top-level column', async () => {
    const source = openTable(fixture('types.parquet'))
    expect(source.format).toBe('parquet')
    expect(await source.columns()).toEqual([...flatColumns, 'tags'])
  })

  it('maps each type to a cell across row groups', async () => {
    const rows = await readAll(openTable(fixture('types.parquet')), { columns: flatColumns })
    expect(rows).toEqual(expectedTypes)
  })

  it('refuses a nested column when it is selected', async () => {
    const path = fixture('types.parquet')
    const error: unknown = await readAll(openTable(path)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FileReadError)
    expect((error as Error).message).toBe(
      `${path}: column 'tags' is nested (a struct, list or map); only flat columns can be read`,
    )
  })

  it('decodes gzip, and zstd where this Node has it', async () => {
    expect(await readAll(openTable(fixture('types-gzip.parquet')))).toEqual(expectedTypes)
    const zstd = fixture('types-zstd.parquet')
    const read = readAll(openTable(zstd))
    if ('zstdDecompressSync' in zlib) {
      expect(await read).toEqual(expectedTypes)
    } else {
      const error: unknown = await read.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(FileReadError)
      expect((error as Error).message).toBe(
        `${zstd}: uses ZSTD compression, which this build cannot decode (supported: uncompressed, snappy, gzip, brotli)`,
      )
    }
  })

  it.each(['paged.parquet', 'paged-index.parquet'])(
    'gives the same rows whatever the window size (%s: windows start and end inside pages)',
    async (name) => {
      const expected = Array.from({ length: 1000 }, (_, i) => ({
        rowNumber: i + 1,
        values: { id: i, x: i * 0.5, s: `s${i % 7}`, maybe: i % 10 === 0 ? null : i },
      }))
      for (const window of [7, 100, 999, 65_536]) {
        const rows = await readAll(new ParquetTableSource(fixture(name), window))
        expect(rows, `window ${window}`).toEqual(expected)
      }
    },
  )

  it('reports progress ending at the file size', async () => {
    const path = fixture('paged.parquet')
    const seen: number[] = []
    await readAll(new ParquetTableSource(path, 100), { onProgress: (bytes) => seen.push(bytes) })
    expect(seen.at(-1)).toBe(statSync(path).size)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen)
  })

  it('says so when the file is not Parquet', async () => {
    const path = fixture('quoted.csv')
    const error: unknown = await openTable(path, 'parquet')
      .columns()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FileReadError)
    expect((error as Error).message).toMatch(/^.*quoted\.csv: not a readable Parquet file \(.+\)$/)
  })
})
