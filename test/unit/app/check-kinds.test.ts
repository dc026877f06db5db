// Column kinds follow the file's types: a float column stays numerical with few distinct values,
// as pandas types it and Evidently then treats it; integers, text and booleans keep their rules.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTable } from '../../../src/adapters/files/table-source.js'
import { buildReferenceFromFile } from '../../../src/app/check.js'

const parquetFixture = fileURLToPath(
  new URL('../../fixtures/files/float-kinds.parquet', import.meta.url),
)
const now = (): Date => new Date(0)

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'driftwatch-kinds-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

async function kindsOf(path: string): Promise<Record<string, string>> {
  const snapshot = await buildReferenceFromFile(path, { now })
  return Object.fromEntries([...snapshot.profile.features].map(([name, p]) => [name, p.kind]))
}

describe('column kinds from file types', () => {
  it('Parquet: a double or float column is numerical, an int64 one with 8 values categorical', async () => {
    expect(await kindsOf(parquetFixture)).toEqual({
      as_double: 'numerical',
      as_float32: 'numerical',
      as_int: 'categorical',
    })
  })

  it('CSV: a column written with decimals (3.0) or an exponent is numerical', async () => {
    const path = join(work, 'decimals.csv')
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${i % 8}.0,${i % 8},${i % 8}e0,${'ab'[i % 2]},${i % 2 === 0}`,
    )
    await writeFile(path, 'written_float,written_int,exponent,text,flag\n' + rows.join('\n'))
    expect(await kindsOf(path)).toEqual({
      written_float: 'numerical',
      written_int: 'categorical',
      exponent: 'numerical',
      text: 'categorical',
      flag: 'categorical',
    })
  })

  it('CSV: one decimal cell is enough, wherever it is', async () => {
    const path = join(work, 'one-decimal.csv')
    const rows = Array.from({ length: 40 }, (_, i) => (i === 39 ? '3.0' : String(i % 8)))
    await writeFile(path, 'x\n' + rows.join('\n'))
    expect(await kindsOf(path)).toEqual({ x: 'numerical' })
  })

  it('readers report float columns only when asked, once per column', async () => {
    const seen: string[] = []
    for await (const _ of openTable(parquetFixture).rows({
      onFloatColumn: (c) => seen.push(c),
    }));
    expect(seen).toEqual(['as_double', 'as_float32'])
    const path = join(work, 'twice.csv')
    await writeFile(path, 'a,b\n1.0,1\n2.0,2.5\n')
    const csvSeen: string[] = []
    for await (const _ of openTable(path).rows({ onFloatColumn: (c) => csvSeen.push(c) }));
    // b is reported too: 2.5 is written with a decimal point
    expect(csvSeen.sort()).toEqual(['a', 'b'])
  })
})
