// A dataset profile: one feature profile per column, plus the row count. Building one from rows
// is the same code for a file, a reference and a stream bucket.

import { DriftwatchError } from '../../errors.js'
import type { FeatureKind } from '../report.js'
import { binTableOf, sameBinning, type BinTable, type Binning } from './binning.js'
import {
  addCategory,
  categoryOf,
  createCategoricalProfile,
  type CategoricalProfile,
} from './categorical.js'
import { cloneProfile, mergeProfiles, type FeatureProfile } from './index.js'
import { addNumber, createNumericalProfile, type NumericalProfile } from './numerical.js'

export type CellValue = number | string | boolean | null

export interface DatasetProfile {
  rows: number
  readonly features: Map<string, FeatureProfile>
  /**
   * The model's outputs, apart from its input features (core/model-outputs.ts): the prediction,
   * profiled like a feature on the reference's layout, and the latency in ms. Absent when the
   * data has none; never counted in `rows`' features or the dataset drift share.
   */
  prediction?: FeatureProfile
  latency?: NumericalProfile
  /**
   * Stream only: events of these rows' time that broke a type or the schema (a string in a
   * numerical feature) and went to the dead-letter topic instead, by the feature at fault ('' when
   * the event as a whole was at fault). One entry per event; never in `rows`. Absent: none.
   */
  typeViolations?: Map<string, number>
}

/** The shape of a reference that new profiles must follow: kinds, breakpoints, vocabularies. */
export interface ProfileLayout {
  readonly columns: ReadonlyArray<ColumnLayout>
  /** The reference's prediction layout: new profiles profile the prediction on it. */
  readonly prediction?: ColumnLayout
}

export type ColumnLayout =
  | { readonly name: string; readonly kind: 'numerical'; readonly binning: Binning }
  | {
      readonly name: string
      readonly kind: 'categorical'
      readonly vocabulary: ReadonlySet<string> | null
    }

export function layoutOf(reference: DatasetProfile): ProfileLayout {
  return {
    columns: [...reference.features].map(([name, profile]) => columnLayoutOf(name, profile)),
    ...(reference.prediction === undefined
      ? {}
      : { prediction: columnLayoutOf('prediction', reference.prediction) }),
  }
}

function columnLayoutOf(name: string, profile: FeatureProfile): ColumnLayout {
  return profile.kind === 'numerical'
    ? { name, kind: 'numerical', binning: profile.binning }
    : { name, kind: 'categorical', vocabulary: profile.vocabulary }
}

/** The reference's columns a model watches: all of them, or the named ones (each must exist). */
export function watchedColumns(
  reference: DatasetProfile,
  features: readonly string[] | undefined,
): ProfileLayout['columns'] {
  const columns = layoutOf(reference).columns
  if (features === undefined) return columns
  const unknown = features.filter((name) => !reference.features.has(name))
  if (unknown.length > 0) {
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `${unknown.map((name) => `'${name}'`).join(', ')} not in the reference (its columns: ${columns.map((c) => c.name).join(', ')})`,
    )
  }
  return columns.filter((c) => features.includes(c.name))
}

export interface ProfileOptions {
  /** Categories the reference never had that each categorical profile keeps by name. */
  readonly unseenCap?: number
  /** Finite values each numerical profile keeps exactly (see numerical.ts); default 1000. */
  readonly exactLimit?: number
  /** Finite values each numerical profile will receive, when known (see numerical.ts). */
  readonly expectedValues?: number
}

export function createDatasetProfile(
  layout: ProfileLayout,
  options: ProfileOptions = {},
): DatasetProfile {
  const features = new Map<string, FeatureProfile>()
  for (const column of layout.columns) features.set(column.name, createColumn(column, options))
  return layout.prediction === undefined
    ? { rows: 0, features }
    : { rows: 0, features, prediction: createColumn(layout.prediction, options) }
}

function createColumn(column: ColumnLayout, options: ProfileOptions): FeatureProfile {
  return column.kind === 'numerical'
    ? createNumericalProfile(column.binning, undefined, options.exactLimit, options.expectedValues)
    : createCategoricalProfile(column.vocabulary, options.unseenCap)
}

/**
 * Adds one row. A value of the wrong type for its column (a string in a numerical column) counts
 * as missing there, as pandas' to_numeric(errors='coerce') would make it.
 */
export function addRow(
  profile: DatasetProfile,
  row: Readonly<Record<string, CellValue | undefined>>,
): void {
  profile.rows++
  for (const [name, feature] of profile.features) addCell(feature, row[name])
}

/**
 * One event per row, a layout's columns per row: the number of each numerical column (NaN when
 * missing) and the category of each categorical one (null when missing). The stream's ingest
 * fills these from the decoder's slots, so no object per event carries the features.
 */
export interface LayoutCells {
  readonly width: number
  readonly numbers: Float64Array
  readonly categories: Array<string | null>
}

/** Per profile, its features in the layout's column order (undefined where it lacks one). */
const layoutOrder = new WeakMap<
  DatasetProfile,
  {
    layout: ProfileLayout
    size: number
    features: Array<FeatureProfile | undefined> | null
    /** Per column, a numerical feature's bin lookup table. */
    tables: Array<BinTable | undefined>
  }
>()

/**
 * `addRow` for row `row` of `cells`, whose values follow `layout`: the same counts. False, and
 * nothing added, when the profile holds a feature the layout does not (a bucket stored under
 * another watched list): the caller then hands addRow the event's features.
 */
export function addLayoutRow(
  profile: DatasetProfile,
  layout: ProfileLayout,
  cells: LayoutCells,
  row: number,
): boolean {
  let order = layoutOrder.get(profile)
  if (order === undefined || order.layout !== layout || order.size !== profile.features.size) {
    const features = featuresInOrder(profile, layout)
    order = {
      layout,
      size: profile.features.size,
      features,
      tables: (features ?? []).map((f, c) => {
        const column = layout.columns[c]
        // The layout's edges, shared by every profile on the reference: one table per column.
        return f?.kind === 'numerical' &&
          column?.kind === 'numerical' &&
          sameBinning(f.binning, column.binning)
          ? binTableOf(column.binning.edges)
          : undefined
      }),
    }
    layoutOrder.set(profile, order)
  }
  const features = order.features
  const tables = order.tables
  if (features === null) return false
  profile.rows++
  const base = row * cells.width
  for (let c = 0; c < features.length; c++) {
    const feature = features[c]
    if (feature === undefined) continue
    if (feature.kind === 'numerical') {
      const x = cells.numbers[base + c] as number
      addNumber(feature, x === x ? x : null, tables[c])
    } else addCategory(feature, cells.categories[base + c] ?? null)
  }
  return true
}

function featuresInOrder(
  profile: DatasetProfile,
  layout: ProfileLayout,
): Array<FeatureProfile | undefined> | null {
  const features = layout.columns.map((column) => {
    const feature = profile.features.get(column.name)
    return feature === undefined || feature.kind !== column.kind ? undefined : feature
  })
  const placed = features.filter((f) => f !== undefined).length
  return placed === profile.features.size ? features : null
}

export function addCell(feature: FeatureProfile, value: CellValue | undefined): void {
  if (feature.kind === 'numerical') {
    if (typeof value === 'number') addNumber(feature, value)
    else {
      addNumber(feature, null)
      if (value !== null && value !== undefined) feature.mismatched++
    }
  } else
    addCategory(
      feature,
      value === null || value === undefined || Number.isNaN(value) ? null : categoryOf(value),
    )
}

export function mergeDatasets(into: DatasetProfile, other: DatasetProfile): DatasetProfile {
  into.rows += other.rows
  for (const [name, feature] of other.features) {
    const existing = into.features.get(name)
    if (existing === undefined) into.features.set(name, cloneProfile(feature))
    else mergeProfiles(existing, feature)
  }
  if (other.prediction !== undefined)
    into.prediction =
      into.prediction === undefined
        ? cloneProfile(other.prediction)
        : mergeProfiles(into.prediction, other.prediction)
  if (other.latency !== undefined)
    into.latency =
      into.latency === undefined
        ? cloneProfile(other.latency)
        : mergeProfiles(into.latency, other.latency)
  if (other.typeViolations !== undefined)
    for (const [feature, n] of other.typeViolations) addTypeViolation(into, feature, n)
  return into
}

/** Counts `n` events of the profile's time that broke a type at `feature` ('' for the event). */
export function addTypeViolation(profile: DatasetProfile, feature: string, n = 1): void {
  const counts = (profile.typeViolations ??= new Map())
  counts.set(feature, (counts.get(feature) ?? 0) + n)
}

export function kindOf(profile: FeatureProfile): FeatureKind {
  return profile.kind
}

export type { CategoricalProfile }
