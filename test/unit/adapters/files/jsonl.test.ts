import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileReadError } from '../../../../src/adapters/files/errors.js'
import {
  openTable,
  type TableRow,
  type TableSource,
} from '../../../../src/adapters/files/table-source.js'

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../fixtures/files/${name}`, import.meta.url))

async function readInto(
  source: TableSource,
  rows: TableRow[],
  opts?: Parameters<TableSource['rows']>[0],
): Promise<TableRow[]> {
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

describe('JSONL reader', () => {
  it('reads flat objects with their line numbers, skipping blank lines', async () => {
    const source = openTable(fixture('events.jsonl'))
    expect(source.format).toBe('jsonl')
    expect(await source.columns()).toEqual(['user', 'amount', 'vip', 'country'])
    expect(await readInto(source, [])).toEqual([
      { rowNumber: 1, values: { user: 'u1', amount: 12.5, vip: true, country: 'PT' } },
      // A missing key reads as null, as pandas.read_json(lines=True) gives NaN.
      { rowNumber: 3, values: { user: 'u2', amount: null, vip: false, country: null } },
      // Keys the first object lacked still come through.
      { rowNumber: 4, values: { user: 'u3', amount: 7, vip: false, country: 'ES', extra: 'x' } },
    ])
  })

  it('projects the requested columns only', async () => {
    const rows = await readInto(openTable(fixture('events.jsonl')), [], { columns: ['vip'] })
    expect(rows.map((r) => r.values)).toEqual([{ vip: true }, { vip: false }, { vip: false }])
  })

  it('fails on an invalid line with its line number, after the rows before it', async () => {
    const path = fixture('bad-line.jsonl')
    const rows: TableRow[] = []
    const error = await failure(readInto(openTable(path), rows))
    expect(rows.map((r) => r.values['a'])).toEqual([1, 2])
    expect(error.message).toMatch(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: invalid JSON \\(.+\\)$`),
    )
    expect(error.rowNumber).toBe(3)
  })

  it('refuses nested values and non-object lines', async () => {
    const nested = fixture('nested.jsonl')
    expect((await failure(readInto(openTable(nested), []))).message).toBe(
      `${nested}:2: field 'b' holds an object; only flat values can be read`,
    )
    const notObject = fixture('not-object.jsonl')
    expect((await failure(readInto(openTable(notObject), []))).message).toBe(
      `${notObject}:2: expected a JSON object, found an array`,
    )
  })

  describe('on generated files', () => {
    let dir = ''
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'driftwatch-jsonl-'))
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('keeps multi-byte characters intact across chunk boundaries', async () => {
      // Lines of varying length full of 2-, 3- and 4-byte characters, so chunk cuts land mid-character.
      const texts = Array.from({ length: 3000 }, (_, i) => `ção-€-😀-${'ü'.repeat(i % 50)}`)
      const path = join(dir, 'utf8.ndjson')
      await writeFile(path, texts.map((t, i) => JSON.stringify({ i, t })).join('\n'))
      const rows = await readInto(openTable(path), [])
      expect(rows.length).toBe(texts.length)
      expect(rows.every((row, i) => row.values['t'] === texts[i] && row.rowNumber === i + 1)).toBe(
        true,
      )
    })

    it('treats a missing key that names an Object.prototype member as missing', async () => {
      const path = join(dir, 'proto.jsonl')
      await writeFile(path, '{"toString":1,"a":2}\n{"a":3}\n')
      const rows = await readInto(openTable(path), [])
      expect(rows.map((r) => r.values)).toEqual([
        { toString: 1, a: 2 },
        { toString: null, a: 3 },
      ])
    })

    it('accepts CRLF line ends and a UTF-8 BOM', async () => {
      const path = join(dir, 'bom.jsonl')
      await writeFile(path, '\ufeff{"a":1}\r\n{"a":2}\r\n')
      const rows = await readInto(openTable(path), [])
      expect(rows).toEqual([
        { rowNumber: 1, values: { a: 1 } },
        { rowNumber: 2, values: { a: 2 } },
      ])
    })

    it('returns no columns and no rows for an empty file', async () => {
      const path = join(dir, 'empty.jsonl')
      await writeFile(path, '\n\n')
      const source = openTable(path)
      expect(await source.columns()).toEqual([])
      expect(await readInto(source, [])).toEqual([])
    })
  })
})
