// Every reader's `batches()` must give exactly the cells (or the error) of its `rows()`: the
// profiles are fed from batches, and the row path is what the format tests pin to pandas.
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  openTable,
  type CellValue,
  type TableSource,
} from '../../../../src/adapters/files/table-source.js'
import { cellAt } from '../../../../src/core/profile/batch.js'

const dir = fileURLToPath(new URL('../../../fixtures/files/', import.meta.url))
const files = readdirSync(dir).filter((name) => /\.(csv|tsv|jsonl|parquet)$/.test(name))

async function outcome(read: () => Promise<Record<string, CellValue>[]>): Promise<unknown> {
  try {
    return { rows: await read() }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

/** A JSONL row may lack a key that a batch holds as null: both are a missing cell to a profile. */
function present(
  values: Readonly<Record<string, CellValue | undefined>>,
): Record<string, CellValue> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== null && v !== undefined),
  ) as Record<string, CellValue>
}

async function viaRows(source: TableSource): Promise<Record<string, CellValue>[]> {
  const rows: Record<string, CellValue>[] = []
  for await (const row of source.rows({ columns: await source.columns() }))
    rows.push(present(row.values))
  return rows
}

async function viaBatches(source: TableSource): Promise<Record<string, CellValue>[]> {
  const rows: Record<string, CellValue>[] = []
  for await (const batch of source.batches({ columns: await source.columns() })) {
    for (let i = 0; i < batch.length; i++) {
      const row: Record<string, CellValue> = {}
      for (const [name, column] of batch.columns) row[name] = cellAt(column, i)
      rows.push(present(row))
    }
  }
  return rows
}

// Columns are named, as `driftwatch check` names them (a JSONL row may carry keys the first lacks).
describe('batches() equals rows() on every fixture file', () => {
  it.each(files)('%s', async (name) => {
    const path = dir + name
    const expected = await outcome(() => viaRows(openTable(path)))
    expect(await outcome(() => viaBatches(openTable(path)))).toEqual(expected)
  })
})
