// The readers must not hold on to what they have read: heap in use after a forced GC is compared
// at row 50k and at the last row of a 300k-row file. Forcing GC makes the numbers retained memory,
// not garbage that happened to be uncollected, so a small bound is not flaky; a control run that
// deliberately keeps the rows shows the bound would catch a reader that retains them.

import { execFileSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTable, type TableRow } from '../../../../src/adapters/files/table-source.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const totalRows = 300_000
const firstCheck = 50_000
const MiB = 2 ** 20

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function writeRows(
  path: string,
  header: string | undefined,
  line: (i: number) => string,
): Promise<void> {
  const out = createWriteStream(path)
  const write = (text: string): Promise<void> =>
    new Promise((resolve) => {
      if (out.write(text)) resolve()
      else out.once('drain', resolve)
    })
  if (header !== undefined) await write(header + '\n')
  let batch = ''
  for (let i = 0; i < totalRows; i++) {
    batch += line(i) + '\n'
    if (batch.length > 1 << 16) {
      await write(batch)
      batch = ''
    }
  }
  await write(batch)
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
}

/** Heap growth between row 50k and the last row; `keep` retains rows from 50k on (the control). */
async function heapGrowth(path: string, keep = false): Promise<{ rows: number; growth: number }> {
  const kept: TableRow[] = []
  let rows = 0
  let atFirstCheck = 0
  let atEnd = 0
  for await (const row of openTable(path).rows()) {
    rows++
    if (keep && rows > firstCheck) kept.push(row)
    if (rows === firstCheck) atFirstCheck = heapAfterGc()
    if (rows === totalRows) atEnd = heapAfterGc()
  }
  expect(kept.length).toBe(keep ? totalRows - firstCheck : 0)
  return { rows, growth: atEnd - atFirstCheck }
}

describe('streaming readers keep memory bounded', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-memory-'))
    const cat = (i: number): string => `cat_${(i * 7919) % 40}`
    await writeRows(
      join(dir, 'big.csv'),
      'id,x,label,flag',
      (i) => `${i},${(i * 0.37) % 101},${cat(i)},${i % 3 === 0 ? 'True' : 'False'}`,
    )
    await writeRows(join(dir, 'big.jsonl'), undefined, (i) =>
      JSON.stringify({ id: i, x: (i * 0.37) % 101, label: cat(i), flag: i % 3 === 0 }),
    )
  }, 120_000)
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('CSV: retained heap does not grow with rows read (and the check would notice if it did)', async () => {
    const path = join(dir, 'big.csv')
    const streamed = await heapGrowth(path)
    expect(streamed.rows).toBe(totalRows)
    expect(streamed.growth).toBeLessThan(4 * MiB)
    const retained = await heapGrowth(path, true)
    expect(retained.growth).toBeGreaterThan(20 * MiB)
  }, 120_000)

  it('JSONL: retained heap does not grow with rows read', async () => {
    const streamed = await heapGrowth(join(dir, 'big.jsonl'))
    expect(streamed.rows).toBe(totalRows)
    expect(streamed.growth).toBeLessThan(4 * MiB)
  }, 120_000)

  // pyarrow writes the file: scripts/install-system-deps.sh installs it.
  it('Parquet: retained heap does not grow with rows read', async () => {
    const path = join(dir, 'big.parquet')
    const script = [
      'import sys, pyarrow as pa, pyarrow.parquet as pq',
      `n = ${totalRows}`,
      't = pa.table({"id": pa.array(range(n), pa.int64()), "x": pa.array([i * 0.37 % 101 for i in range(n)]),',
      '              "label": pa.array([f"cat_{i * 7919 % 40}" for i in range(n)])})',
      'pq.write_table(t, sys.argv[1], row_group_size=40_000)',
    ].join('\n')
    execFileSync('python3', ['-c', script, path])
    const streamed = await heapGrowth(path)
    expect(streamed.rows).toBe(totalRows)
    // One row group's compressed bytes and one decoded window are live at either check.
    expect(streamed.growth).toBeLessThan(8 * MiB)
  }, 120_000)
})
