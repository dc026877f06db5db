// Rows handed over column by column: a file reader that parses numbers straight into typed arrays
// gives them to the profiles without building one object per row (the row path costs more than
// the statistics on large files; see BENCHMARKS.md, `driftwatch check`).
//
// A batch holds exactly the cells the row path would have given: `cellAt` is that cell, and every
// function here feeds a profile the same values in the same order as its row-by-row counterpart,
// so the statistics are identical whichever path a reader takes.

import type { CellValue, DatasetProfile } from './dataset.js'
import { addCategory, categoryOf } from './categorical.js'
import { addNumber } from './numerical.js'

/** One column of a batch. */
export interface CellColumn {
  /** The cell's value where it is a number other than NaN; NaN where it is anything else. */
  readonly numbers: Float64Array
  /** Where `numbers` holds NaN: the cell (text, boolean, NaN or null); absent or null: missing. */
  readonly others: readonly CellValue[] | null
}

export interface ColumnBatch {
  /** Rows in the batch; each column holds at least this many cells. */
  readonly length: number
  readonly columns: ReadonlyMap<string, CellColumn>
}

/** The cell of row `i`, as the row path would hold it. */
export function cellAt(column: CellColumn | undefined, i: number): CellValue {
  if (column === undefined) return null
  const x = column.numbers[i] as number
  if (x === x) return x
  return column.others?.[i] ?? null
}

/** `addRow` for every row of the batch (see dataset.ts). */
export function addBatch(profile: DatasetProfile, batch: ColumnBatch): void {
  profile.rows += batch.length
  const n = batch.length
  for (const [name, feature] of profile.features) {
    const column = batch.columns.get(name)
    if (feature.kind === 'numerical') {
      if (column === undefined) {
        for (let i = 0; i < n; i++) addNumber(feature, null)
        continue
      }
      const numbers = column.numbers
      const others = column.others
      for (let i = 0; i < n; i++) {
        const x = numbers[i] as number
        if (x === x) addNumber(feature, x)
        else {
          // A NaN cell is missing; text or a boolean is missing and mismatched (as in addCell).
          addNumber(feature, null)
          const other = others?.[i] ?? null
          if (other !== null && typeof other !== 'number') feature.mismatched++
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const value = cellAt(column, i)
        addCategory(
          feature,
          value === null || (typeof value === 'number' && value !== value)
            ? null
            : categoryOf(value),
        )
      }
    }
  }
}

/** Column batches from row objects, for readers that produce rows. */
export class BatchBuilder {
  readonly #names: readonly string[]
  readonly #size: number
  #numbers: Float64Array[] = []
  #others: (CellValue[] | null)[] = []
  #length = 0

  constructor(names: readonly string[], size = 4096) {
    this.#names = names
    this.#size = size
    this.#reset()
  }

  get length(): number {
    return this.#length
  }

  get full(): boolean {
    return this.#length === this.#size
  }

  add(values: Readonly<Record<string, CellValue | undefined>>): void {
    const i = this.#length++
    for (let c = 0; c < this.#names.length; c++) {
      const value = values[this.#names[c] as string]
      const numbers = this.#numbers[c] as Float64Array
      if (typeof value === 'number' && value === value) numbers[i] = value
      else {
        numbers[i] = Number.NaN
        if (value !== null && value !== undefined) {
          let others = this.#others[c] ?? null
          if (others === null) {
            others = new Array<CellValue>(this.#size).fill(null)
            this.#others[c] = others
          }
          others[i] = value
        }
      }
    }
  }

  /** The rows added since the last take, as a batch; starts a new one. */
  take(): ColumnBatch {
    const columns = new Map<string, CellColumn>()
    this.#names.forEach((name, c) =>
      columns.set(name, {
        numbers: this.#numbers[c] as Float64Array,
        others: this.#others[c] ?? null,
      }),
    )
    const batch = { length: this.#length, columns }
    this.#reset()
    return batch
  }

  #reset(): void {
    this.#numbers = this.#names.map(() => new Float64Array(this.#size))
    this.#others = this.#names.map(() => null)
    this.#length = 0
  }
}
