// Reference snapshots: the reference's profiles with their breakpoints and metadata, so users
// keep a few kilobytes next to the detector instead of their training data.
//
// Building one from rows takes the values of each numerical column once in memory (8 bytes per
// value, up to `exactValueLimit`) to place the breakpoints exactly where numpy.quantile puts them;
// ties then fall in the same bins as in scipy/numpy. Past the limit the breakpoints come from the
// t-digest instead (rank error < 2e-3) and the caller adds the rows again (a second pass over the
// file), so memory stays bounded on any input size.

import { binningFromSorted } from './profile/binning.js'
import {
  addCategory,
  categoryOf,
  createCategoricalProfile,
  defaultCategoryCap,
  finalizeReferenceCategorical,
  type CategoricalProfile,
} from './profile/categorical.js'
import {
  addCell,
  createDatasetProfile,
  type CellValue,
  type ColumnLayout,
  type DatasetProfile,
  type ProfileLayout,
} from './profile/dataset.js'
import { cellAt, type ColumnBatch } from './profile/batch.js'
import { decodeProfile, encodeProfile, type FeatureProfileJSON } from './profile/index.js'
import { keepSortedValues, type NumericalProfile } from './profile/numerical.js'
import { TDigest } from './sketch/tdigest.js'
import { sortedCopy } from './stats/sort.js'
import type { FeatureKind } from './report.js'

export const referenceFormat = 'driftwatch.reference'
export const referenceVersion = 1
export const exactValueLimit = 5_000_000

export interface ReferenceColumnJSON {
  readonly name: string
  readonly kind: FeatureKind
  /** Why the column got its kind ('override', or the inference rule that decided). */
  readonly kindReason: string
  readonly profile: FeatureProfileJSON
}

export interface ReferenceSnapshotJSON {
  readonly format: typeof referenceFormat
  readonly version: typeof referenceVersion
  readonly id: string
  readonly createdAt: string
  readonly source: Readonly<Record<string, string | number>>
  readonly rows: number
  /** False when a column exceeded exactValueLimit and its breakpoints came from the digest. */
  readonly exactBreakpoints: boolean
  readonly columns: readonly ReferenceColumnJSON[]
  /**
   * The model's prediction distribution (core/model-outputs.ts); `name` is the column it was read
   * from. Absent in snapshots of data without predictions, and in those made before.
   */
  readonly prediction?: ReferenceColumnJSON
  /** The model's latency in ms: a numerical profile, read only for its quantiles. */
  readonly latency?: FeatureProfileJSON
}

export interface ReferenceSnapshot {
  readonly id: string
  readonly createdAt: string
  readonly source: Readonly<Record<string, string | number>>
  readonly exactBreakpoints: boolean
  readonly kindReasons: ReadonlyMap<string, string>
  readonly profile: DatasetProfile
  /** The column the prediction profile was read from (its kind reason is under this name). */
  readonly predictionColumn?: string
}

export function encodeReference(
  snapshot: Omit<ReferenceSnapshot, 'id'> & { id?: string },
  makeId: (body: string) => string,
): ReferenceSnapshotJSON {
  const columns = [...snapshot.profile.features].map(([name, profile]) => ({
    name,
    kind: profile.kind,
    kindReason: snapshot.kindReasons.get(name) ?? 'unknown',
    profile: encodeProfile(profile),
  }))
  const prediction = snapshot.profile.prediction
  const outputs = {
    ...(prediction === undefined
      ? {}
      : {
          prediction: {
            name: snapshot.predictionColumn ?? 'prediction',
            kind: prediction.kind,
            kindReason:
              snapshot.kindReasons.get(snapshot.predictionColumn ?? 'prediction') ?? 'unknown',
            profile: encodeProfile(prediction),
          },
        }),
    ...(snapshot.profile.latency === undefined
      ? {}
      : { latency: encodeProfile(snapshot.profile.latency) }),
  }
  // Snapshots without outputs keep the ids they had before outputs existed.
  const body =
    Object.keys(outputs).length === 0
      ? JSON.stringify(columns)
      : JSON.stringify(columns) + JSON.stringify(outputs)
  const id = snapshot.id ?? makeId(body)
  return {
    format: referenceFormat,
    version: referenceVersion,
    id,
    createdAt: snapshot.createdAt,
    source: snapshot.source,
    rows: snapshot.profile.rows,
    exactBreakpoints: snapshot.exactBreakpoints,
    columns,
    ...outputs,
  }
}

/** Rebuilds a snapshot from JSON that the caller has already validated against the schema. */
export function decodeReference(json: ReferenceSnapshotJSON): ReferenceSnapshot {
  const features = new Map(
    json.columns.map((column) => [column.name, decodeProfile(column.profile)] as const),
  )
  const profile: DatasetProfile = { rows: json.rows, features }
  const kindReasons = new Map(json.columns.map((column) => [column.name, column.kindReason]))
  if (json.prediction !== undefined) {
    profile.prediction = decodeProfile(json.prediction.profile)
    kindReasons.set(json.prediction.name, json.prediction.kindReason)
  }
  if (json.latency?.kind === 'numerical')
    profile.latency = decodeProfile(json.latency) as NumericalProfile
  return {
    id: json.id,
    createdAt: json.createdAt,
    source: json.source,
    exactBreakpoints: json.exactBreakpoints,
    kindReasons,
    profile,
    ...(json.prediction === undefined ? {} : { predictionColumn: json.prediction.name }),
  }
}

export interface ColumnKind {
  readonly name: string
  readonly kind: FeatureKind
  readonly reason: string
}

/** Collects a reference's rows; see the file header for memory. */
export class ReferenceBuilder {
  readonly #columns: readonly ColumnKind[]
  readonly #numeric = new Map<string, NumericCollector>()
  readonly #categorical = new Map<string, CategoricalProfile>()
  #rows = 0

  constructor(
    columns: readonly ColumnKind[],
    private readonly limit = exactValueLimit,
    /** Categories a categorical column keeps by name (the most frequent); see categorical.ts. */
    private readonly categoryCap = defaultCategoryCap,
    /** Finite values a numerical column will receive, when known: its array starts that big. */
    expectedValues = 0,
  ) {
    this.#columns = columns
    for (const column of columns) {
      if (column.kind === 'numerical')
        this.#numeric.set(column.name, new NumericCollector(limit, expectedValues))
      else this.#categorical.set(column.name, createCategoricalProfile(null))
    }
  }

  add(row: Readonly<Record<string, CellValue | undefined>>): void {
    this.#rows++
    for (const [name, collector] of this.#numeric) {
      const value = row[name]
      collector.add(typeof value === 'number' ? value : null)
    }
    for (const [name, profile] of this.#categorical) {
      const value = row[name]
      addCategory(profile, value === null || value === undefined ? null : categoryOf(value))
    }
  }

  /** `add` for every row of the batch, in order. */
  addBatch(batch: ColumnBatch): void {
    this.#rows += batch.length
    const n = batch.length
    for (const [name, collector] of this.#numeric) {
      const numbers = batch.columns.get(name)?.numbers
      // NaN is what `add` gets for anything but a number, and counts as missing alike.
      for (let i = 0; i < n; i++)
        collector.add(numbers === undefined ? null : (numbers[i] as number))
    }
    for (const [name, profile] of this.#categorical) {
      const column = batch.columns.get(name)
      for (let i = 0; i < n; i++) {
        const value = cellAt(column, i)
        addCategory(profile, value === null ? null : categoryOf(value))
      }
    }
  }

  /** True when every numerical column fit in memory, so `build()` needs no second pass. */
  get exact(): boolean {
    return [...this.#numeric.values()].every((collector) => collector.values !== null)
  }

  /** `sorted`, when given, receives each numerical column's sorted values (exact columns only). */
  layout(sorted?: Map<string, Float64Array>): ProfileLayout {
    const columns: ColumnLayout[] = this.#columns.map((column) => {
      if (column.kind === 'categorical') {
        const profile = finalizeReferenceCategorical(
          this.#categorical.get(column.name) as CategoricalProfile,
          this.categoryCap,
        )
        return { name: column.name, kind: 'categorical', vocabulary: profile.vocabulary }
      }
      const collector = this.#numeric.get(column.name) as NumericCollector
      const values = collector.sortedOrQuantiles()
      if (sorted !== undefined && collector.values !== null) sorted.set(column.name, values)
      return { name: column.name, kind: 'numerical', binning: binningFromSorted(values) }
    })
    return { columns }
  }

  /**
   * The reference profile from what is in memory. When `exact` is false the caller must instead
   * create a profile from `layout()` and add every row again.
   */
  /**
   * `sortedValues`: the profile keeps its values sorted rather than in arrival order (for a
   * reference that is only scored, never encoded: `driftwatch check`), reusing the sort that
   * placed the breakpoints instead of sorting the same values again for KS and Wasserstein.
   */
  build(given?: ProfileLayout, options: { readonly sortedValues?: boolean } = {}): DatasetProfile {
    if (!this.exact)
      throw new Error(
        'reference values exceeded the in-memory limit: add the rows again to a profile from layout()',
      )
    const sorted = new Map<string, Float64Array>()
    const layout = given ?? this.layout(options.sortedValues === true ? sorted : undefined)
    // The reference keeps its values (in memory only), so a check scores KS and Wasserstein exactly.
    const profile = createDatasetProfile(layout, { exactLimit: this.limit })
    profile.rows = this.#rows
    for (const column of this.#columns) {
      const feature = profile.features.get(column.name)
      if (feature === undefined) continue
      if (feature.kind === 'numerical') {
        const collector = this.#numeric.get(column.name) as NumericCollector
        const kept = collector.valuesInOrder()
        // The profile keeps the collector's array instead of a copy (addNumber then writes each
        // value onto itself): one array of the column's values in memory, not two.
        feature.values = kept
        for (const value of kept) addCell(feature, value)
        for (let i = 0; i < collector.missing; i++) addCell(feature, null)
        for (let i = 0; i < collector.nonFinite; i++) addCell(feature, Number.POSITIVE_INFINITY)
        const sortedValues = sorted.get(column.name)
        if (sortedValues !== undefined) keepSortedValues(feature, sortedValues)
      } else {
        const built = finalizeReferenceCategorical(
          this.#categorical.get(column.name) as CategoricalProfile,
          this.categoryCap,
        )
        profile.features.set(column.name, built)
      }
    }
    return profile
  }
}

/**
 * The finite values of one numerical column until the limit, then a digest of them all. The digest
 * is filled with the kept values, in order, only when the limit is passed: the same sequence of
 * additions as from the start, without a million digest insertions per column that fits.
 */
class NumericCollector {
  values: Float64Array | null
  length = 0
  missing = 0
  nonFinite = 0
  readonly digest = new TDigest()

  constructor(
    private readonly limit: number,
    expectedValues: number,
  ) {
    this.values = new Float64Array(Math.min(limit, Math.max(1024, expectedValues)))
  }

  add(value: number | null): void {
    if (value === null || Number.isNaN(value)) {
      this.missing++
      return
    }
    if (!Number.isFinite(value)) {
      this.nonFinite++
      return
    }
    if (this.values === null) {
      this.digest.add(value)
      return
    }
    if (this.length === this.limit) {
      for (let i = 0; i < this.length; i++) this.digest.add(this.values[i] as number)
      this.digest.add(value)
      this.values = null
      return
    }
    if (this.length === this.values.length) {
      const grown = new Float64Array(Math.min(this.limit, this.values.length * 2))
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = value
  }

  valuesInOrder(): Float64Array {
    return (this.values ?? new Float64Array(0)).subarray(0, this.length)
  }

  sortedOrQuantiles(): Float64Array {
    if (this.values !== null) return sortedCopy(this.values, this.length)
    // Past the limit: a dense grid of digest quantiles stands in for the sorted sample.
    const grid = new Float64Array(10_001)
    for (let i = 0; i < grid.length; i++) grid[i] = this.digest.quantile(i / (grid.length - 1))
    return grid
  }
}
