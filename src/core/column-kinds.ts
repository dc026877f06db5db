// Which drift test a column gets depends on its kind, inferred from the values we stream past.
//
// The rule is Evidently's, from `infer_column_type` in evidently/src/evidently/core/datasets.py
// (the inference behind `Dataset.from_pandas`, which the current Report API uses), applied to the
// dtype pandas would give the column:
//   - float dtype                          → numerical
//   - int dtype, nunique <= 10             → categorical   (INTEGER_CARDINALITY_LIMIT = 10)
//   - int dtype, nunique > 10              → numerical
//   - bool / category dtype                → categorical
//   - string / object of strings           → categorical (Evidently says text when more than half
//                                            the values are distinct; we have no text kind)
// (Evidently's legacy ColumnMapping path, evidently/legacy/utils/data_preprocessing.py, used a
// limit of 5 and the reference's nunique; the current API's 10 is what we follow.)
// pandas' dtype follows from the values: integers with any missing value become float (NaN has
// no int representation), so such a column is numerical even with few distinct values.
//
// Departures, each so that no column is silently dropped or mis-typed for lack of information:
//   - values of mixed types make an object column, which Evidently types by its first and last
//     values (categorical or text when both are strings, untyped and skipped otherwise); we
//     always call it categorical;
//   - an all-missing column is categorical ('all values missing'); pandas would make it float;
//   - the file's own types are followed where the reader can see them (`markFloat`): a Parquet
//     FLOAT/DOUBLE column, or a CSV column with a number written with a decimal point or exponent
//     (`3.0`), is a float column, hence numerical whatever its distinct values, as in pandas and
//     Evidently. JSONL cannot tell `3.0` from `3` (JSON.parse reads both as 3), so there integral
//     floats count as integers.
//
// Memory is bounded: an observer keeps counts and at most `maxDistinct` distinct values, which
// is all the rule needs (it only asks whether nunique exceeds 10).

import { UnknownColumnError } from '../errors.js'

export const columnKinds = ['numerical', 'categorical'] as const
export type ColumnKind = (typeof columnKinds)[number]

export interface ColumnKindDecision {
  readonly kind: ColumnKind
  readonly reason: string
}

export type ObservedValue = number | string | boolean | null

/** Evidently's INTEGER_CARDINALITY_LIMIT: int columns with this many values or fewer are categorical. */
export const integerCardinalityLimit = 10
export const defaultMaxDistinct = 1000

export class ColumnKindObserver {
  numbers = 0
  strings = 0
  booleans = 0
  nulls = 0
  /** Over the numbers seen; ±Infinity is not an integer (pandas reads it as float). */
  allIntegers = true
  /** The file types this column as floating point (see `markFloat`). */
  floatTyped = false
  private readonly distinct = new Set<number | string | boolean>()
  private overflowed = false

  constructor(readonly maxDistinct = defaultMaxDistinct) {
    if (!(maxDistinct > integerCardinalityLimit)) {
      throw new RangeError(`maxDistinct must exceed ${integerCardinalityLimit}, got ${maxDistinct}`)
    }
  }

  observe(value: ObservedValue): void {
    // undefined too: callers reading a column a row lacks should not have to normalise it.
    if (value === null || value === undefined) {
      this.nulls++
      return
    }
    if (typeof value === 'number') {
      // NaN is missing, as in pandas.
      if (value !== value) {
        this.nulls++
        return
      }
      this.numbers++
      if (this.allIntegers && !Number.isInteger(value)) this.allIntegers = false
    } else if (typeof value === 'string') {
      this.strings++
    } else {
      this.booleans++
    }
    if (!this.overflowed) {
      this.distinct.add(value)
      if (this.distinct.size > this.maxDistinct) {
        this.overflowed = true
        this.distinct.clear()
      }
    }
  }

  /** The file says this column holds floats (a Parquet double, a CSV number written `3.0`). */
  markFloat(): void {
    this.floatTyped = true
  }

  /** Non-missing values seen. */
  get count(): number {
    return this.numbers + this.strings + this.booleans
  }

  /** Distinct non-missing values; `exact` is false once more than `maxDistinct` were seen. */
  distinctCount(): { readonly count: number; readonly exact: boolean } {
    return this.overflowed
      ? { count: this.maxDistinct + 1, exact: false }
      : { count: this.distinct.size, exact: true }
  }

  kind(): ColumnKindDecision {
    const { numbers, strings, booleans } = this
    if (this.count === 0) return { kind: 'categorical', reason: 'all values missing' }
    const distinct = this.distinctCountText()
    if (strings > 0 && (numbers > 0 || booleans > 0)) {
      const others = [numbers > 0 ? 'numbers' : '', booleans > 0 ? 'booleans' : ''].filter(Boolean)
      return { kind: 'categorical', reason: `text mixed with ${others.join(' and ')}` }
    }
    if (strings > 0) {
      const mostlyUnique = this.overflowed
        ? this.maxDistinct + 1 > strings * 0.5
        : this.distinct.size > strings * 0.5
      return {
        kind: 'categorical',
        reason: mostlyUnique
          ? `text with ${distinct} distinct values (Evidently would call it text)`
          : `text with ${distinct} distinct values`,
      }
    }
    if (booleans > 0) {
      return {
        kind: 'categorical',
        reason: numbers > 0 ? 'numbers mixed with booleans' : 'boolean values',
      }
    }
    if (!this.allIntegers) return { kind: 'numerical', reason: 'non-integer numbers' }
    if (this.floatTyped) {
      return {
        kind: 'numerical',
        reason: `a float column (typed as floating point in the file) with ${distinct} distinct values`,
      }
    }
    if (this.nulls > 0) {
      return {
        kind: 'numerical',
        reason: 'integers with missing values (a float column in pandas)',
      }
    }
    if (!this.overflowed && this.distinct.size <= integerCardinalityLimit) {
      return {
        kind: 'categorical',
        reason: `integers with ${distinct} distinct values (at most ${integerCardinalityLimit})`,
      }
    }
    return { kind: 'numerical', reason: `integers with ${distinct} distinct values` }
  }

  private distinctCountText(): string {
    return this.overflowed ? `more than ${this.maxDistinct}` : String(this.distinct.size)
  }
}

/**
 * Kinds for every observed column, in the observers' order. An override (from configuration) wins
 * over inference; one naming a column that was never observed is a mistake worth stopping for.
 */
export function inferColumnKinds(
  observers: ReadonlyMap<string, ColumnKindObserver>,
  overrides: Readonly<Record<string, ColumnKind>> = {},
): Map<string, ColumnKindDecision> {
  for (const name of Object.keys(overrides)) {
    if (!observers.has(name)) {
      throw new UnknownColumnError(name, [...observers.keys()], 'column kind overrides')
    }
  }
  const decisions = new Map<string, ColumnKindDecision>()
  for (const [name, observer] of observers) {
    const override = Object.hasOwn(overrides, name) ? overrides[name] : undefined
    decisions.set(
      name,
      override === undefined ? observer.kind() : { kind: override, reason: 'set in configuration' },
    )
  }
  return decisions
}
