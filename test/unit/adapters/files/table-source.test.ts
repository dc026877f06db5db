import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileReadError } from '../../../../src/adapters/files/errors.js'
import {
  formatFromPath,
  openTable,
  progressStepBytes,
  type TableFormat,
} from '../../../../src/adapters/files/table-source.js'
import { DriftwatchError } from '../../../../src/errors.js'
import { writeGeneratedCsv, writeGeneratedJsonl } from '../../../helpers/table-generator.js'

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../fixtures/files/${name}`, import.meta.url))

describe('openTable', () => {
  it.each<[string, TableFormat]>([
    ['data/ref.csv', 'csv'],
    ['data/REF.CSV', 'csv'],
    ['x.tsv', 'csv'],
    ['x.jsonl', 'jsonl'],
    ['x.ndjson', 'jsonl'],
    ['a.b/x.parquet', 'parquet'],
  ])('tells %s is %s from its extension', (path, format) => {
    expect(formatFromPath(path)).toBe(format)
    expect(openTable(path).format).toBe(format)
  })

  it('names the supported extensions when it cannot tell', () => {
    expect(() => openTable('x.xlsx')).toThrow(
      new FileReadError(
        "unsupported format '.xlsx' (supported: .csv, .tsv, .jsonl, .ndjson, .parquet)",
        {
          path: 'x.xlsx',
        },
      ),
    )
    expect(() => openTable('data/noext')).toThrow(
      /unsupported format \(no extension\) for data\/noext/,
    )
  })

  it('lets an explicit format win over the extension', async () => {
    expect(await openTable(fixture('events.jsonl'), 'jsonl').columns()).toContain('user')
    const weird = openTable('export.txt', 'csv')
    expect(weird.format).toBe('csv')
    expect(await openTable(fixture('tabs.tsv'), 'csv').columns()).toEqual([
      'city',
      'population',
      'coastal',
    ])
  })

  it.each(['csv', 'jsonl', 'parquet'] as const)(
    'reports a missing %s file when first used',
    async (format) => {
      const path = `does/not/exist.${format}`
      const source = openTable(path)
      const firstRow = async (): Promise<unknown> => {
        for await (const row of source.rows()) return row
        return undefined
      }
      for (const attempt of [() => source.columns(), () => source.sizeBytes(), firstRow]) {
        const error: unknown = await attempt().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(FileReadError)
        expect(error).toBeInstanceOf(DriftwatchError)
        expect((error as FileReadError).message).toBe(`missing file: ${path}`)
        expect((error as FileReadError).code).toBe('FILE_READ')
      }
    },
  )

  it('gives the size in bytes', async () => {
    const path = fixture('quoted.csv')
    expect(await openTable(path).sizeBytes()).toBe(statSync(path).size)
  })
})

describe('progress', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-progress-'))
    await writeGeneratedCsv(join(dir, 'p.csv'), 3000)
    await writeGeneratedJsonl(join(dir, 'p.jsonl'), 3000)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each(['p.csv', 'p.jsonl'])(
    '%s: steps of at least 64 KiB, ending at the file size',
    async (name) => {
      const path = join(dir, name)
      const size = statSync(path).size
      const seen: number[] = []
      let rows = 0
      for await (const row of openTable(path).rows({ onProgress: (bytes) => seen.push(bytes) })) {
        expect(row.rowNumber).toBeGreaterThan(rows)
        rows++
      }
      expect(rows).toBe(3000)
      expect(seen.at(-1)).toBe(size)
      expect(seen.length).toBeGreaterThan(3)
      for (let i = 1; i < seen.length - 1; i++) {
        expect((seen[i] ?? 0) - (seen[i - 1] ?? 0)).toBeGreaterThanOrEqual(progressStepBytes)
      }
    },
  )

  it('stops reading when the consumer stops', async () => {
    const seen: number[] = []
    for await (const row of openTable(join(dir, 'p.csv')).rows({
      onProgress: (b) => seen.push(b),
    })) {
      if (row.rowNumber > 10) break
    }
    expect(seen.length).toBe(0)
  })
})
