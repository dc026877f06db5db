// `driftwatch check` reads each file once into per-column temporary files and profiles them one
// column at a time (src/app/check-columns.ts). These tests pin that path to the in-memory one:
// the spilled cells are the cells `batches()` gave, the reference built from them is the profile
// `buildReferenceFromFile` builds (the `driftwatch reference build` path), and no temporary file
// outlives a run, whether it passes or fails.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SpillDirectory } from '../../../src/adapters/files/spill.js'
import { openTable, type CellValue } from '../../../src/adapters/files/table-source.js'
import { buildReferenceFromFile, runCheck } from '../../../src/app/check.js'
import {
  buildReferenceFromSpill,
  loadColumn,
  SortedColumnCache,
  spillSortedValues,
  spillTable,
} from '../../../src/app/check-columns.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import { binningFromSorted } from '../../../src/core/profile/binning.js'
import { TDigest } from '../../../src/core/sketch/tdigest.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { cellAt } from '../../../src/core/profile/batch.js'
import { encodeProfile } from '../../../src/core/profile/index.js'
import { sortedValues } from '../../../src/core/profile/numerical.js'
import { fileCheckCategoryCap } from '../../../src/core/profile/categorical.js'

const filesDir = fileURLToPath(new URL('../../fixtures/files/', import.meta.url))
const fixtures = readdirSync(filesDir).filter((name) => /\.(csv|tsv|jsonl|parquet)$/.test(name))
const now = (): Date => new Date('2026-01-01T00:00:00Z')

let spillRoot: string
let savedTmp: string | undefined
beforeEach(() => {
  // os.tmpdir() follows TMPDIR: each test sees only its own spill directories.
  savedTmp = process.env.TMPDIR
  spillRoot = mkdtempSync(join(tmpdir(), 'check-columns-test-'))
  process.env.TMPDIR = spillRoot
})
afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR
  else process.env.TMPDIR = savedTmp
  rmSync(spillRoot, { recursive: true, force: true })
})

async function cellsViaBatches(path: string): Promise<Map<string, CellValue[]>> {
  const table = openTable(path)
  const columns = await table.columns()
  const cells = new Map(columns.map((name) => [name, [] as CellValue[]]))
  for await (const batch of table.batches({ columns })) {
    for (const [name, column] of batch.columns) {
      const out = cells.get(name) as CellValue[]
      for (let i = 0; i < batch.length; i++) out.push(cellAt(column, i))
    }
  }
  return cells
}

async function cellsViaSpill(path: string, dir: SpillDirectory): Promise<Map<string, CellValue[]>> {
  const table = openTable(path)
  const columns = await table.columns()
  const spilled = await spillTable(table, columns, dir)
  return new Map(
    columns.map((name) => {
      const column = loadColumn(spilled, name).columns.get(name)
      return [name, Array.from({ length: spilled.rows }, (_, i) => cellAt(column, i))]
    }),
  )
}

async function outcome<T>(read: () => Promise<T>): Promise<unknown> {
  try {
    return { value: await read() }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

describe('spilled cells equal the cells of batches() on every fixture file', () => {
  it.each(fixtures)('%s', async (name) => {
    const dir = new SpillDirectory()
    try {
      const expected = await outcome(() => cellsViaBatches(filesDir + name))
      expect(await outcome(() => cellsViaSpill(filesDir + name, dir))).toEqual(expected)
    } finally {
      dir.remove()
    }
  })
})

/** A 3,000-row table with every kind of cell a numerical or categorical column can hold. */
function mixedCsv(): string {
  const lines = ['x,ints,label,sometimes_text,wide']
  let seed = 7
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  for (let i = 0; i < 3000; i++) {
    const x = i % 97 === 0 ? '' : i % 389 === 0 ? 'inf' : (next() * 10 - 5).toFixed(6)
    const ints = String(Math.floor(next() * 4))
    const label = ['a', 'b', 'c', ''][Math.floor(next() * 4)]
    const text = i % 50 === 0 ? 'n/a' : (next() * 100).toFixed(2)
    const wide = (next() * 1e6).toFixed(0)
    lines.push([x, ints, label, text, wide].join(','))
  }
  return lines.join('\n') + '\n'
}

describe('the reference built column by column', () => {
  it('is the in-memory reference, feature for feature, sorted values included', async () => {
    const path = join(spillRoot, 'mixed.csv')
    writeFileSync(path, mixedCsv())
    const inMemory = await buildReferenceFromFile(path, {
      now,
      categoryCap: fileCheckCategoryCap,
      sortedValues: true,
    })
    const dir = new SpillDirectory()
    try {
      const table = openTable(path)
      const columns = await table.columns()
      const spilled = await spillTable(table, columns, dir, { observe: columns })
      const kinds = columns.map((name) => {
        const decided = spilled.inferred.get(name)
        if (decided === undefined) throw new Error(`no kind for ${name}`)
        return { name, kind: decided.kind, reason: decided.reason }
      })
      expect(new Map(kinds.map((k) => [k.name, k.reason]))).toEqual(inMemory.kindReasons)
      const cache = new SortedColumnCache()
      let stored = 0
      const { profile, exact } = buildReferenceFromSpill(spilled, kinds, {
        categoryCap: fileCheckCategoryCap,
        onNumerical: (name, feature) => {
          spillSortedValues(feature, dir, name, cache)
          stored++
        },
      })
      expect(exact).toBe(inMemory.exactBreakpoints)
      expect(profile.rows).toBe(inMemory.profile.rows)
      expect([...profile.features.keys()]).toEqual([...inMemory.profile.features.keys()])
      expect(stored).toBeGreaterThanOrEqual(3)
      for (const [name, feature] of profile.features) {
        const expected = inMemory.profile.features.get(name)
        if (expected === undefined) throw new Error(name)
        // The values are on disk, not in the profile: everything else is encoded alike.
        const { values: _a, ...got } = encodeProfile(feature) as unknown as Record<string, unknown>
        const { values: _b, ...want } = encodeProfile(expected) as unknown as Record<
          string,
          unknown
        >
        expect(got, name).toEqual(want)
        if (feature.kind === 'numerical' && expected.kind === 'numerical') {
          expect(feature.values, name).toBeNull()
          expect(Array.from(sortedValues(feature) ?? []), name).toEqual(
            Array.from(sortedValues(expected) ?? [0]),
          )
        }
      }
    } finally {
      dir.remove()
    }
  })

  it('past the exact-value limit, breakpoints come from a digest of every value, in order', () => {
    // The collector fills its digest only once the limit is passed, from the kept values first:
    // the same additions in the same order as a digest fed from the start.
    const values = Array.from({ length: 3000 }, (_, i) => Math.sin(i) * 1000 + (i % 7))
    const builder = new ReferenceBuilder([{ name: 'x', kind: 'numerical', reason: 'test' }], 100)
    for (const x of values) builder.add({ x })
    expect(builder.exact).toBe(false)
    const digest = new TDigest()
    for (const x of values) digest.add(x)
    const grid = new Float64Array(10_001)
    for (let i = 0; i < grid.length; i++) grid[i] = digest.quantile(i / (grid.length - 1))
    const column = builder.layout().columns[0]
    if (column?.kind !== 'numerical') throw new Error('numerical column expected')
    expect(column.binning).toEqual(binningFromSorted(grid))
  })
})

describe('temporary files', () => {
  const settings = driftSettingsOf(driftSectionSchema.parse({}))

  it('are gone after a check (the same data on both sides: nothing drifts)', async () => {
    const reference = join(spillRoot, 'reference.csv')
    const current = join(spillRoot, 'current.csv')
    writeFileSync(reference, mixedCsv())
    writeFileSync(current, mixedCsv())
    const { report } = await runCheck({ reference, current, settings, now })
    expect(report.nDrifted).toBe(0)
    expect(report.nCurrent).toBe(3000)
    expect(readdirSync(spillRoot).sort()).toEqual(['current.csv', 'reference.csv'])
  })

  it('are gone after a check that fails on a bad current file', async () => {
    const reference = join(spillRoot, 'reference.csv')
    const current = join(spillRoot, 'current.csv')
    writeFileSync(reference, mixedCsv())
    writeFileSync(current, 'x,ints,label,sometimes_text,wide\n1,2,"a\n')
    await expect(runCheck({ reference, current, settings, now })).rejects.toThrow(/current\.csv/)
    expect(readdirSync(spillRoot).sort()).toEqual(['current.csv', 'reference.csv'])
  })
})
