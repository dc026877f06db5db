// `driftwatch check` on raw files, one column at a time.
//
// Exact KS and Wasserstein need every value of both sides: held at once, 20 numerical columns of
// a million rows on each side are 320 MB. Instead each file is read once (`spillTable`), every
// cell of the compared columns appended to that column's temporary file (adapters/files/spill.ts);
// then each column is loaded alone, profiled with the same functions as the batch path
// (ReferenceBuilder, addBatch), its sorted values written back, and the memory released. The
// tests read a column's sorted values back when they score it (`StoredValues`), so at most about
// one column pair is in memory at a time, and the statistics are the in-memory path's, value for
// value, by construction: the same cells reach the same functions in the same order per column.

import type { TableSource } from '../adapters/files/table-source.js'
import {
  readFloat64File,
  readInt32File,
  SpillWriter,
  writeFloat64File,
  type SpillFiles,
} from '../adapters/files/spill.js'
import { ColumnKindObserver, inferColumnKinds } from '../core/column-kinds.js'
import { addBatch, cellAt, type CellColumn, type ColumnBatch } from '../core/profile/batch.js'
import {
  createDatasetProfile,
  type CellValue,
  type DatasetProfile,
  type ColumnLayout,
  type ProfileLayout,
} from '../core/profile/dataset.js'
import {
  addNumber,
  sortKeptValues,
  storeValues,
  type NumericalProfile,
} from '../core/profile/numerical.js'
import { exactValueLimit, ReferenceBuilder, type ColumnKind } from '../core/reference.js'
import type { ColumnKindDecision } from '../core/column-kinds.js'
import type { FeatureProfile } from '../core/profile/index.js'
import { addOutputs } from '../core/model-outputs.js'
import { TDigest } from '../core/sketch/tdigest.js'

/** One column's cells in temporary files. */
export interface SpilledColumn {
  /** Every cell's `numbers` entry (NaN where the cell is not a number), one double per row. */
  readonly numbers: string
  /** (row, dictionary index) pairs of the other cells (text, booleans), or null if none. */
  readonly others: string | null
  readonly dictionary: readonly CellValue[]
  /** Cells holding a finite number. */
  readonly finite: number
}

export interface SpilledTable {
  readonly rows: number
  readonly columns: ReadonlyMap<string, SpilledColumn>
  /** Kinds inferred from the observed columns' cells (see `spillTable`'s `observe`). */
  readonly inferred: Map<string, ColumnKindDecision>
}

export interface SpillOptions {
  /** Columns whose kind is inferred while reading (core/column-kinds.ts). */
  readonly observe?: readonly string[]
  readonly onProgress?: (bytesRead: number) => void
}

/** Reads `columns` of the table once, writing each column's cells to files in `dir`. */
export async function spillTable(
  table: TableSource,
  columns: readonly string[],
  dir: SpillFiles,
  options: SpillOptions = {},
): Promise<SpilledTable> {
  const writers = columns.map((name) => new ColumnWriter(dir, name))
  const observers = new Map((options.observe ?? []).map((n) => [n, new ColumnKindObserver()]))
  const observed = columns.map((name) => observers.get(name))
  // Rows written per column: a reader may hand the columns over one after another.
  const written = columns.map(() => 0)
  const columnwise = table.columnBatches !== undefined
  const readOptions = {
    columns,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    onFloatColumn: (name: string) => observers.get(name)?.markFloat(),
  }
  let pairs = new Int32Array(0)
  try {
    for await (const batch of table.columnBatches?.(readOptions) ?? table.batches(readOptions)) {
      const n = batch.length
      if (pairs.length < 2 * n) pairs = new Int32Array(2 * n)
      for (let c = 0; c < columns.length; c++) {
        const column = batch.columns.get(columns[c] as string)
        if (column === undefined) {
          // A row batch without the column: its cells are missing.
          if (!columnwise) {
            ;(writers[c] as ColumnWriter).add(missingColumn(n), n, written[c] as number, pairs)
            written[c] = (written[c] as number) + n
            const observer = observed[c]
            if (observer !== undefined) for (let i = 0; i < n; i++) observer.observe(null)
          }
          continue
        }
        ;(writers[c] as ColumnWriter).add(column, n, written[c] as number, pairs)
        written[c] = (written[c] as number) + n
        const observer = observed[c]
        if (observer !== undefined) for (let i = 0; i < n; i++) observer.observe(cellAt(column, i))
      }
    }
  } finally {
    for (const writer of writers) writer.close()
  }
  const rows = Math.max(0, ...written)
  if (written.some((n) => n !== rows))
    throw new Error(`${table.path}: columns read with different row counts (${written.join(', ')})`)
  return {
    rows,
    columns: new Map(columns.map((name, c) => [name, (writers[c] as ColumnWriter).spilled()])),
    inferred: inferColumnKinds(observers),
  }
}

function missingColumn(n: number): CellColumn {
  return { numbers: new Float64Array(n).fill(Number.NaN), others: null }
}

class ColumnWriter {
  readonly #numbers: SpillWriter
  readonly #dir: SpillFiles
  readonly #name: string
  #others: SpillWriter | null = null
  readonly #codes = new Map<CellValue, number>()
  readonly #dictionary: CellValue[] = []
  #finite = 0

  constructor(dir: SpillFiles, name: string) {
    this.#dir = dir
    this.#name = name
    this.#numbers = new SpillWriter(dir.file(`${name}.f64`))
  }

  add(column: CellColumn, n: number, firstRow: number, pairs: Int32Array): void {
    const numbers = column.numbers
    this.#numbers.append(numbers, n)
    let finite = 0
    for (let i = 0; i < n; i++) {
      const x = numbers[i] as number
      // x - x is 0 for a finite x, NaN for NaN and ±Infinity
      if (x - x === 0) finite++
    }
    this.#finite += finite
    const others = column.others
    if (others === null || finite === n) return
    let k = 0
    for (let i = 0; i < n; i++) {
      const x = numbers[i] as number
      if (x === x) continue
      const value = others[i] ?? null
      if (value === null) continue
      let code = this.#codes.get(value)
      if (code === undefined) {
        code = this.#dictionary.length
        this.#dictionary.push(value)
        this.#codes.set(value, code)
      }
      pairs[k++] = firstRow + i
      pairs[k++] = code
    }
    if (k === 0) return
    this.#others ??= new SpillWriter(this.#dir.file(`${this.#name}.others`))
    this.#others.append(pairs, k)
  }

  close(): void {
    this.#numbers.close()
    this.#others?.close()
  }

  spilled(): SpilledColumn {
    return {
      numbers: this.#numbers.path,
      others: this.#others?.path ?? null,
      dictionary: this.#dictionary,
      finite: this.#finite,
    }
  }
}

/** One column of a spilled table as a single batch of all its rows: the cells `batches()` gave. */
export function loadColumn(table: SpilledTable, name: string): ColumnBatch {
  const spilled = table.columns.get(name)
  if (spilled === undefined) throw new Error(`column '${name}' was not spilled`)
  const numbers = readFloat64File(spilled.numbers)
  let others: CellValue[] | null = null
  if (spilled.others !== null) {
    const pairs = readInt32File(spilled.others)
    others = new Array<CellValue>(table.rows).fill(null)
    for (let k = 0; k < pairs.length; k += 2)
      others[pairs[k] as number] = spilled.dictionary[pairs[k + 1] as number] ?? null
  }
  return { length: table.rows, columns: new Map([[name, { numbers, others }]]) }
}

/**
 * The last few sorted columns read back, so that the tests of one feature (KS, Wasserstein, their
 * metrics) read each side once; two entries: the reference's and the current's column.
 */
export class SortedColumnCache {
  readonly #entries: { path: string; values: Float64Array }[] = []

  constructor(private readonly size = 2) {}

  get(path: string): Float64Array {
    const index = this.#entries.findIndex((entry) => entry.path === path)
    if (index !== -1) return (this.#entries[index] as { values: Float64Array }).values
    const values = readFloat64File(path)
    this.#entries.unshift({ path, values })
    if (this.#entries.length > this.size) this.#entries.pop()
    return values
  }
}

/** Writes a profile's kept values, already sorted, to a file and leaves only the way back. */
export function spillSortedValues(
  profile: NumericalProfile,
  dir: SpillFiles,
  name: string,
  cache: SortedColumnCache,
): void {
  const values = profile.values
  if (values === null) return
  const path = dir.file(`${name}.sorted.f64`)
  writeFloat64File(path, values.subarray(0, profile.count))
  storeValues(profile, { count: profile.count, sorted: () => cache.get(path) })
}

/** Whether every numerical column fits the exact-value limit: then its values are kept sorted. */
export function spilledIsExact(spilled: SpilledTable, kinds: readonly ColumnKind[]): boolean {
  return kinds.every(
    (k) => k.kind !== 'numerical' || (spilled.columns.get(k.name)?.finite ?? 0) <= exactValueLimit,
  )
}

/**
 * One column's reference feature from a spilled file, as `buildReferenceFromFile` builds it from
 * batches: a ReferenceBuilder, one pass when `exact` (then the values are kept sorted), else the
 * layout and `addBatch`. A numerical feature's kept values come back sorted.
 */
export function referenceFeatureFromSpill(
  spilled: SpilledTable,
  kind: ColumnKind,
  exact: boolean,
  categoryCap: number,
): FeatureProfile | undefined {
  const builder = new ReferenceBuilder(
    [kind],
    exactValueLimit,
    categoryCap,
    spilled.columns.get(kind.name)?.finite,
  )
  // The loaded cells are let go as soon as they are added (the sort after needs the room).
  builder.addBatch(loadColumn(spilled, kind.name))
  let built: DatasetProfile
  if (exact) built = builder.build(undefined, { sortedValues: true })
  else {
    built = createDatasetProfile(builder.layout(), { exactLimit: exactValueLimit })
    addBatch(built, loadColumn(spilled, kind.name))
  }
  const feature = built.features.get(kind.name)
  if (feature?.kind === 'numerical') sortKeptValues(feature)
  return feature
}

/**
 * The reference profile from a spilled file, column by column (`referenceFeatureFromSpill`), one
 * pass when every numerical column fits the exact-value limit.
 */
export function buildReferenceFromSpill(
  spilled: SpilledTable,
  kinds: readonly ColumnKind[],
  options: {
    readonly categoryCap: number
    readonly onNumerical: (name: string, profile: NumericalProfile) => void
  },
): { profile: DatasetProfile; exact: boolean } {
  const exact = spilledIsExact(spilled, kinds)
  const features: DatasetProfile['features'] = new Map()
  for (const kind of kinds) {
    const feature = referenceFeatureFromSpill(spilled, kind, exact, options.categoryCap)
    if (feature === undefined) continue
    if (feature.kind === 'numerical') options.onNumerical(kind.name, feature)
    features.set(kind.name, feature)
  }
  return { profile: { rows: spilled.rows, features }, exact }
}

/**
 * One column's current feature from a spilled file, on the reference's layout of the column, its
 * numerical array allocated at its final size; a numerical feature's kept values come back sorted.
 */
export function currentFeatureFromSpill(
  spilled: SpilledTable,
  column: ColumnLayout,
  unseenCap: number,
): FeatureProfile | undefined {
  const one = createDatasetProfile(
    { columns: [column] },
    {
      unseenCap,
      exactLimit: exactValueLimit,
      expectedValues: spilled.columns.get(column.name)?.finite ?? 0,
    },
  )
  addBatch(one, loadColumn(spilled, column.name))
  const feature = one.features.get(column.name)
  if (feature?.kind === 'numerical') sortKeptValues(feature)
  return feature
}

/**
 * The current profile from a spilled file, column by column, as `runCheck` built it from
 * batches: features on the reference's layout, the prediction and the latency when asked.
 */
export function buildCurrentFromSpill(
  spilled: SpilledTable,
  layout: ProfileLayout,
  options: CurrentOutputsOptions & {
    readonly onNumerical: (name: string, profile: NumericalProfile) => void
  },
): DatasetProfile {
  // Column by column, each numerical array allocated at its final size when it is filled.
  const features: DatasetProfile['features'] = new Map()
  for (const column of layout.columns) {
    const feature = currentFeatureFromSpill(spilled, column, options.unseenCap)
    if (feature === undefined) continue
    if (feature.kind === 'numerical') options.onNumerical(column.name, feature)
    features.set(column.name, feature)
  }
  return currentOutputsFromSpill({ rows: spilled.rows, features }, spilled, layout, options)
}

/** What the current profile's prediction and latency are read with. */
interface CurrentOutputsOptions {
  readonly unseenCap: number
  readonly prediction?: string | undefined
  readonly latency?: NumericalProfile | undefined
  readonly latencyColumn?: string | undefined
}

/** The prediction and the latency of a current profile, from a spilled file, when asked. */
export function currentOutputsFromSpill(
  current: DatasetProfile,
  spilled: SpilledTable,
  layout: ProfileLayout,
  options: CurrentOutputsOptions,
): DatasetProfile {
  if (layout.prediction !== undefined) {
    current.prediction = createDatasetProfile(
      { columns: [], prediction: layout.prediction },
      { unseenCap: options.unseenCap, exactLimit: exactValueLimit },
    ).prediction as FeatureProfile
  }
  if (options.prediction !== undefined && current.prediction !== undefined) {
    const column = loadColumn(spilled, options.prediction).columns.get(options.prediction)
    for (let i = 0; i < spilled.rows; i++) addOutputs(current, cellAt(column, i), undefined)
  }
  if (options.latency !== undefined && options.latencyColumn !== undefined) {
    const latency = options.latency
    const column = loadColumn(spilled, options.latencyColumn).columns.get(options.latencyColumn)
    for (let i = 0; i < spilled.rows; i++) {
      const value = cellAt(column, i)
      if (typeof value === 'number' || value === null) addNumber(latency, value)
    }
    current.latency = latency
  }
  return current
}

/**
 * A feature on its way to or from a worker thread (app/check-pool.ts): plain data, its sorted
 * values (if kept) in a file rather than in the message.
 */
export interface TransferredFeature {
  readonly feature: FeatureProfile
  /** The numerical feature's sorted kept values, or null when none are kept. */
  readonly sortedPath: string | null
}

/**
 * Writes a freshly built feature's sorted values to a file and lets go of them: the feature is
 * left plain data (changed in place, so that the values can be collected at once).
 */
export function featureForTransfer(
  feature: FeatureProfile,
  dir: SpillFiles,
  name: string,
): TransferredFeature {
  if (feature.kind !== 'numerical') return { feature, sortedPath: null }
  delete feature.stored
  const values = feature.values
  if (values === null) return { feature, sortedPath: null }
  const sortedPath = dir.file(`${name}.sorted.f64`)
  writeFloat64File(sortedPath, values.subarray(0, feature.count))
  feature.values = null
  return { feature, sortedPath }
}

/**
 * A transferred feature as a profile again: its digest a TDigest once more (a message keeps the
 * fields, not the class), its sorted values read back from their file when a test scores them.
 */
export function featureFromTransfer(
  transferred: TransferredFeature,
  cache: SortedColumnCache,
): FeatureProfile {
  const { feature, sortedPath } = transferred
  if (feature.kind !== 'numerical') return feature
  Object.setPrototypeOf(feature.digest, TDigest.prototype)
  if (sortedPath !== null)
    feature.stored = { count: feature.count, sorted: () => cache.get(sortedPath) }
  return feature
}

/** A profile's feature as a message can carry it: its way back to stored values left out. */
export function transferOf(feature: FeatureProfile, sortedPath: string | null): TransferredFeature {
  if (feature.kind !== 'numerical') return { feature, sortedPath }
  const plain: NumericalProfile = { ...feature }
  delete plain.stored
  return { feature: plain, sortedPath }
}

/** One column of a spilled table as a table of its own: what a worker needs of it. */
export function spilledColumnOf(spilled: SpilledTable, name: string): SpilledTable {
  const column = spilled.columns.get(name)
  if (column === undefined) throw new Error(`column '${name}' was not spilled`)
  return { rows: spilled.rows, columns: new Map([[name, column]]), inferred: new Map() }
}
