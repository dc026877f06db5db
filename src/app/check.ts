// `driftwatch check` and `driftwatch reference build` as functions: files in, profiles and a
// report out. Reading is streamed; see core/reference.ts for what the reference holds in memory.

import { basename } from 'node:path'
import { openTable, type TableSource } from '../adapters/files/table-source.js'
import { isReferenceSnapshotFile, readReferenceFile } from '../adapters/files/reference-file.js'
import { SpillDirectory } from '../adapters/files/spill.js'
import {
  buildCurrentFromSpill,
  buildReferenceFromSpill,
  currentOutputsFromSpill,
  featureFromTransfer,
  SortedColumnCache,
  spilledColumnOf,
  spilledIsExact,
  spillSortedValues,
  spillTable,
  transferOf,
  type SpilledTable,
} from './check-columns.js'
import { CheckPool } from './check-pool.js'
import { layerConfigProblems } from '../config/conditions.js'
import { configProblemsError, driftConfigProblems } from '../config/drift-check.js'
import { parseConditions } from '../core/conditions.js'
import {
  modelLayerInputs,
  performanceLayerInputs,
  performanceSections,
  withLayers,
} from '../core/layers.js'
import { ColumnKindObserver, inferColumnKinds } from '../core/column-kinds.js'
import {
  assertKnownTests,
  createDefaultRegistry,
  type DriftTestRegistry,
} from '../core/drift-tests/registry.js'
import type { DriftSettings } from '../core/drift-tests/thresholds.js'
import { driftReportOf, evaluateDrift } from '../core/evaluate.js'
import { assessLatency, latencySummary } from '../core/latency.js'
import {
  createLatencyProfile,
  defaultOutputColumns,
  separateOutputs,
  type OutputColumns,
} from '../core/model-outputs.js'
import {
  defaultDegradation,
  defaultMetricOf,
  type DegradationSettings,
} from '../core/performance/degradation.js'
import type { PerformanceMetricName } from '../core/performance/metrics.js'
import {
  addPair,
  defaultPerformanceSettings,
  emptySummary,
  type PerformanceSettings,
  type PerformanceSummary,
  type PerformanceTask,
} from '../core/performance/summary.js'
import { LabelTaskObserver } from '../core/performance/task.js'
import { evaluatePredictionDrift } from '../core/prediction-drift.js'
import { fileCheckCategoryCap } from '../core/profile/categorical.js'
import { addBatch, cellAt, type ColumnBatch } from '../core/profile/batch.js'
import {
  createDatasetProfile,
  layoutOf,
  type ColumnLayout,
  type DatasetProfile,
} from '../core/profile/dataset.js'
import type { FeatureProfile } from '../core/profile/index.js'
import {
  exactValueLimit,
  ReferenceBuilder,
  type ColumnKind,
  type ReferenceSnapshot,
} from '../core/reference.js'
import type { DriftReport, FeatureKind, FeatureResult } from '../core/report.js'
import { FileReadError } from '../adapters/files/errors.js'
import { UnknownColumnError } from '../errors.js'

export interface Progress {
  (event: { file: string; phase: string; bytesRead: number; totalBytes: number }): void
}

export interface BuildReferenceOptions {
  /** Categories a categorical column keeps by name (default: the snapshot cap, 1,000). */
  readonly categoryCap?: number | undefined
  readonly columns?: readonly string[] | undefined
  readonly kindOverrides?: Readonly<Record<string, FeatureKind>> | undefined
  readonly onProgress?: Progress | undefined
  readonly now: () => Date
  /** The model's output columns (core/model-outputs.ts); default `prediction` and `latencyMs`. */
  readonly outputColumns?: OutputColumns | undefined
  /** Keep the values sorted, not in arrival order: for a reference only scored, never saved. */
  readonly sortedValues?: boolean | undefined
  /** Columns never profiled (the ground truth in `check`: it is no input of the model). */
  readonly excludeColumns?: readonly string[] | undefined
}

export async function buildReferenceFromFile(
  path: string,
  options: BuildReferenceOptions,
): Promise<ReferenceSnapshot> {
  const table = openTable(path)
  const { columns, outputs, kindOverrides } = await referenceColumns(table, options)
  const kinds = await inferKinds(table, columns, { ...options, kindOverrides })
  const builder = new ReferenceBuilder(kinds, undefined, options.categoryCap)
  await readAll(table, columns, 'reference: profiling', options.onProgress, (batch) =>
    builder.addBatch(batch),
  )
  let profile: DatasetProfile
  if (builder.exact) {
    profile = builder.build(undefined, { sortedValues: options.sortedValues === true })
  } else {
    profile = createDatasetProfile(builder.layout(), { exactLimit: exactValueLimit })
    await readAll(table, columns, 'reference: binning', options.onProgress, (batch) =>
      addBatch(profile, batch),
    )
  }
  return fileSnapshot(
    profile,
    { path, table, outputs, columns, kinds, now: options.now },
    builder.exact,
  )
}

/** The reference file's columns to read (the output columns too), and the kind overrides. */
async function referenceColumns(
  table: TableSource,
  options: BuildReferenceOptions,
): Promise<{
  columns: string[]
  outputs: OutputColumns
  kindOverrides: Readonly<Record<string, FeatureKind>>
}> {
  const path = table.path
  const available = await table.columns()
  const outputs = options.outputColumns ?? defaultOutputColumns
  // The output columns are read whenever the file has them, with or without --columns.
  const excluded = new Set(options.excludeColumns ?? [])
  const columns = [
    ...new Set([
      ...selectColumns(available, options.columns, path).filter((name) => !excluded.has(name)),
      ...[outputs.prediction, outputs.latency].filter((name) => available.includes(name)),
    ]),
  ]
  for (const name of Object.keys(options.kindOverrides ?? {})) {
    if (!available.includes(name))
      throw new UnknownColumnError(name, available, `${path} (kind override)`)
  }
  // A latency column is numerical whatever its values look like (whole milliseconds would
  // otherwise make a column of few values categorical).
  const kindOverrides = {
    ...(available.includes(outputs.latency) ? { [outputs.latency]: 'numerical' as const } : {}),
    ...options.kindOverrides,
  }
  return { columns, outputs, kindOverrides }
}

/**
 * `buildReferenceFromFile` for `check`, through temporary files: one read of the file (kinds are
 * inferred while it is spilled), then column by column (app/check-columns.ts); each numerical
 * column's sorted values stay on disk until a test scores them. The same profile, value for value.
 */
async function buildSpilledReference(
  path: string,
  options: BuildReferenceOptions,
  work: SpillWork,
): Promise<ReferenceSnapshot> {
  const { dir, cache, pool } = work
  const table = openTable(path)
  const { columns, outputs, kindOverrides } = await referenceColumns(table, options)
  const observe = columns.filter((name) => kindOverrides[name] === undefined)
  const progress = await progressOf(table, 'reference', options.onProgress)
  // On a worker, the reading's garbage stays in that thread's heap, collected when it is done.
  const spilled =
    pool === null
      ? await spillTable(table, columns, dir, { observe, ...progress })
      : await pool.run({ task: 'spill', path, columns, observe }, progress.onProgress)
  const kinds = decideKinds(columns, kindOverrides, spilled.inferred)
  const categoryCap = options.categoryCap ?? fileCheckCategoryCap
  let built: { profile: DatasetProfile; exact: boolean }
  if (pool === null) {
    built = buildReferenceFromSpill(spilled, kinds, {
      categoryCap,
      onNumerical: (name, feature) => spillSortedValues(feature, dir, `reference-${name}`, cache),
    })
  } else {
    // The columns side by side on the workers; the features kept in the columns' order.
    const exact = spilledIsExact(spilled, kinds)
    const transferred = await Promise.all(
      kinds.map((kind) =>
        pool.run({
          task: 'reference',
          spilled: spilledColumnOf(spilled, kind.name),
          kind,
          exact,
          categoryCap,
        }),
      ),
    )
    const features: DatasetProfile['features'] = new Map()
    kinds.forEach((kind, i) => {
      const one = transferred[i]
      if (one === undefined || one === null) return
      features.set(kind.name, featureFromTransfer(one, cache))
      work.sortedPaths.set(kind.name, one.sortedPath)
    })
    built = { profile: { rows: spilled.rows, features }, exact }
  }
  const { profile, exact } = built
  return fileSnapshot(profile, { path, table, outputs, columns, kinds, now: options.now }, exact)
}

/** What `check` works with: its temporary files, and its worker threads when it has several. */
interface SpillWork {
  readonly dir: SpillDirectory
  readonly cache: SortedColumnCache
  readonly pool: CheckPool | null
  /** The file of each reference feature built on a worker (null: no values kept). */
  readonly sortedPaths: Map<string, string | null>
}

/** A reference profiled from a file, as a snapshot: its outputs apart, checked to hold data. */
function fileSnapshot(
  profile: DatasetProfile,
  file: {
    readonly path: string
    readonly table: TableSource
    readonly outputs: OutputColumns
    readonly columns: readonly string[]
    readonly kinds: readonly ColumnKind[]
    readonly now: () => Date
  },
  exact: boolean,
): ReferenceSnapshot {
  const { path, table, outputs, columns, kinds } = file
  separateOutputs(profile, outputs)
  assertHasData(
    profile,
    columns.filter((name) => profile.features.has(name)),
    path,
    'reference',
  )
  return {
    ...(profile.prediction === undefined ? {} : { predictionColumn: outputs.prediction }),
    id: '',
    createdAt: file.now().toISOString(),
    source: { kind: 'file', file: basename(path), format: table.format },
    exactBreakpoints: exact,
    kindReasons: new Map(kinds.map((k) => [k.name, k.reason])),
    profile,
  }
}

async function progressOf(
  table: TableSource,
  phase: string,
  onProgress: Progress | undefined,
): Promise<{ onProgress?: (bytesRead: number) => void }> {
  if (onProgress === undefined) return {}
  const totalBytes = await table.sizeBytes()
  return {
    onProgress: (bytesRead: number): void =>
      onProgress({ file: table.path, phase, bytesRead, totalBytes }),
  }
}

async function inferKinds(
  table: TableSource,
  columns: readonly string[],
  options: BuildReferenceOptions,
): Promise<ColumnKind[]> {
  const overrides = options.kindOverrides ?? {}
  const pending = columns.filter((name) => overrides[name] === undefined)
  const observers = new Map(pending.map((name) => [name, new ColumnKindObserver()]))
  if (pending.length > 0) {
    await readAll(
      table,
      pending,
      'reference: inferring column kinds',
      options.onProgress,
      (batch) => {
        for (const [name, observer] of observers) {
          const column = batch.columns.get(name)
          for (let i = 0; i < batch.length; i++) observer.observe(cellAt(column, i))
        }
      },
      (name) => observers.get(name)?.markFloat(),
    )
  }
  return decideKinds(columns, overrides, inferColumnKinds(observers))
}

/** Each column's kind: its override, else what was inferred from its cells. */
function decideKinds(
  columns: readonly string[],
  overrides: Readonly<Record<string, FeatureKind>>,
  inferred: ReadonlyMap<string, { kind: FeatureKind; reason: string }>,
): ColumnKind[] {
  // Overridden columns were not observed; their kind is the override.
  return columns.map((name) => {
    const override = overrides[name]
    if (override !== undefined) return { name, kind: override, reason: 'override' }
    const decided = inferred.get(name)
    if (decided === undefined) throw new Error(`no kind decided for column '${name}'`)
    return { name, kind: decided.kind, reason: decided.reason }
  })
}

export interface CheckOptions {
  readonly reference: string
  readonly current: string
  readonly columns?: readonly string[] | undefined
  readonly kindOverrides?: Readonly<Record<string, FeatureKind>> | undefined
  readonly settings: DriftSettings
  /** The config file the settings came from, to name it in errors. */
  readonly configPath?: string | undefined
  /** Test-suite conditions (core/conditions.ts); a failing one fails `check`. */
  readonly conditions?: readonly string[] | undefined
  /** Feature importance for impact; equal weights when absent. */
  readonly importance?: Readonly<Record<string, number>> | undefined
  readonly onProgress?: Progress | undefined
  readonly now: () => Date
  /** The model's output columns (core/model-outputs.ts); default `prediction` and `latencyMs`. */
  readonly outputColumns?: OutputColumns | undefined
  /** How predictions are scored against the label column (defaults: `label`, task from labels). */
  readonly performance?: CheckPerformanceOptions | undefined
  /**
   * Threads for the files and the columns (app/check-pool.ts); default 1, the in-thread path.
   * More than 1 needs the built JavaScript (dist/), where the worker script is.
   */
  readonly threads?: number | undefined
}

/**
 * The ground truth of `check`: a label column beside the prediction column. The current file's
 * pairs are scored and compared with the reference file's (the baseline), as a stream window's
 * are with its model's baseline (core/performance/, app/performance-baseline.ts).
 */
export interface CheckPerformanceOptions {
  /** Default `label`. */
  readonly labelColumn?: string | undefined
  /** Read from the labels when absent (core/performance/task.ts). */
  readonly task?: PerformanceTask | undefined
  readonly positiveClass?: string | undefined
  readonly threshold?: number | undefined
  readonly scoreBins?: number | undefined
  readonly metric?: PerformanceMetricName | undefined
  readonly warningDrop?: number | undefined
  readonly criticalDrop?: number | undefined
  readonly minLabels?: number | undefined
  /**
   * Scoring was asked for (a label column or a performance section given): a current file without
   * the label or the prediction column is then an error, not a silent "unknown" that passes.
   */
  readonly required?: boolean | undefined
}

export const defaultLabelColumn = 'label'

export interface CheckResult {
  readonly report: DriftReport
  readonly reference: ReferenceSnapshot
}

export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const registry = createDefaultRegistry()
  const { global, byKind, byFeature } = options.settings
  assertKnownTests(
    registry,
    [global, ...Object.values(byKind ?? {}), ...Object.values(byFeature ?? {})].map((c) => c?.test),
  )
  // Column values wait in temporary files (app/check-columns.ts), removed however the run ends.
  const dir = new SpillDirectory()
  const threads = options.threads ?? 1
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`threads must be a whole number of at least 1, not ${threads}`)
  const pool = threads > 1 ? new CheckPool(threads, dir.path) : null
  try {
    const work = { dir, cache: new SortedColumnCache(), pool, sortedPaths: new Map() }
    return await checkWithSpill(options, registry, work)
  } finally {
    await pool?.close()
    dir.remove()
  }
}

async function checkWithSpill(
  options: CheckOptions,
  registry: DriftTestRegistry,
  work: SpillWork,
): Promise<CheckResult> {
  const { dir, cache, pool } = work
  const referenceIsSnapshot = await isReferenceSnapshotFile(options.reference)
  const table = openTable(options.current)
  const currentColumns = await table.columns()
  // The ground truth is no input of the model: when either file has it, it is never compared as
  // a feature (its drift is the label drift of the performance section).
  const labelColumn = options.performance?.labelColumn ?? defaultLabelColumn
  const referenceFileColumns = referenceIsSnapshot
    ? null
    : await openTable(options.reference).columns()
  const hasLabels =
    currentColumns.includes(labelColumn) || (referenceFileColumns?.includes(labelColumn) ?? false)
  // With workers, the current file is read on one while this thread reads the reference.
  const early =
    pool === null || referenceFileColumns === null
      ? null
      : earlyCurrentSpill(pool, options, {
          currentColumns,
          referenceColumns: referenceFileColumns,
          excluded: hasLabels ? labelColumn : null,
        })
  const reference = referenceIsSnapshot
    ? await readReferenceFile(options.reference)
    : await buildSpilledReference(
        options.reference,
        {
          ...options,
          categoryCap: fileCheckCategoryCap,
          excludeColumns: hasLabels ? [labelColumn] : [],
        },
        work,
      )
  early?.referenceRead()
  const referenceColumns = [...reference.profile.features.keys()].filter(
    (name) => !hasLabels || name !== labelColumn,
  )
  const columns = selectColumns(referenceColumns, options.columns, options.reference)
  assertHasData(reference.profile, columns, options.reference, 'reference')
  // The config's mistakes that need the reference's kinds, all at once, before any comparison.
  const problems = driftConfigProblems({
    settings: options.settings,
    kindOverrides: options.kindOverrides,
    registry,
    prefix: '',
    reference: reference.profile,
    features: columns,
    referenceIsSnapshot: referenceIsSnapshot,
  })
  problems.push(
    ...layerConfigProblems({
      conditions: options.conditions,
      importance: options.importance,
      features: columns,
      prefix: '',
    }),
  )
  if (problems.length > 0) throw configProblemsError(problems, options.configPath ?? '(config)')
  for (const name of columns) {
    if (!currentColumns.includes(name))
      throw new UnknownColumnError(name, currentColumns, options.current)
  }
  // The model's outputs are compared when both sides have them (a snapshot names its column).
  const outputs = options.outputColumns ?? defaultOutputColumns
  const predictionColumn = reference.predictionColumn ?? outputs.prediction
  const hasPrediction =
    reference.profile.prediction !== undefined && currentColumns.includes(predictionColumn)
  const hasLatency = currentColumns.includes(outputs.latency) && !columns.includes(outputs.latency)
  const scoring =
    currentColumns.includes(labelColumn) && currentColumns.includes(predictionColumn)
      ? await scoringOf(options, {
          labelColumn,
          referenceTable: referenceIsSnapshot ? null : openTable(options.reference),
          referencePrediction: outputs.prediction,
          currentTable: table,
        })
      : null
  if (scoring === null && options.performance?.required === true) {
    const missing = currentColumns.includes(labelColumn) ? predictionColumn : labelColumn
    throw new UnknownColumnError(missing, currentColumns, `${options.current} (performance)`)
  }
  const currentSummary = emptySummary()
  const layout = layoutOf(reference.profile)
  const read = [
    ...new Set([
      ...columns,
      ...(hasPrediction ? [predictionColumn] : []),
      ...(hasLatency ? [outputs.latency] : []),
    ]),
  ]
  const spilled =
    (await early?.spilled(read)) ??
    (await spillTable(table, read, dir, await progressOf(table, 'current', options.onProgress)))
  // The current side is never encoded here, so it keeps new categories by name up to the same
  // cap, and its numerical values up to the reference's limit: KS and Wasserstein are then exact
  // (scipy's values); sketches take over only beyond it.
  const currentLayout = {
    columns: layout.columns.filter((c) => columns.includes(c.name)),
    ...(hasPrediction && layout.prediction !== undefined ? { prediction: layout.prediction } : {}),
  }
  const currentOptions = {
    unseenCap: fileCheckCategoryCap,
    prediction: hasPrediction ? predictionColumn : undefined,
    latency: hasLatency ? createLatencyProfile(exactValueLimit) : undefined,
    latencyColumn: hasLatency ? outputs.latency : undefined,
  }
  // With workers, each column is profiled and tested on one (its result is the in-thread one).
  const compared =
    pool === null
      ? null
      : await compareOnPool(pool, work, {
          spilled,
          reference: reference.profile,
          columns: currentLayout.columns,
          names: columns,
          settings: options.settings,
        })
  const current =
    compared === null
      ? buildCurrentFromSpill(spilled, currentLayout, {
          ...currentOptions,
          onNumerical: (name, feature) => spillSortedValues(feature, dir, `current-${name}`, cache),
        })
      : currentOutputsFromSpill(
          { rows: spilled.rows, features: compared.features },
          spilled,
          currentLayout,
          currentOptions,
        )
  if (scoring !== null) {
    // The current pairs, read apart from the spilled columns: two columns, only when scoring.
    const pairColumns = [...new Set([predictionColumn, labelColumn])]
    await readAll(table, pairColumns, 'current: labels', options.onProgress, (batch) =>
      addPairs(currentSummary, scoring.settings, batch, predictionColumn, labelColumn),
    )
  }
  assertHasData(current, columns, options.current, 'current')
  const evaluate = { settings: options.settings, registry, features: columns }
  const drift =
    compared === null
      ? evaluateDrift(reference.profile, current, evaluate)
      : driftReportOf(
          compared.results,
          { reference: reference.profile.rows, current: current.rows },
          evaluate,
        )
  const predictionDrift = evaluatePredictionDrift(reference.profile, current, evaluate)
  const latency = assessLatency({
    version: null,
    current: latencySummary(current.latency),
    reference: latencySummary(reference.profile.latency),
    previous: null,
  })
  const outputsReport = {
    ...(predictionDrift === undefined ? {} : { predictionDrift }),
    ...(latency === null ? {} : { latency }),
  }
  // The current pairs against the reference's, judged as a stream window against its baseline.
  const performanceReport =
    scoring === null ? {} : performanceSections(scoring.baseline, currentSummary, scoring, evaluate)
  const performanceInputs = performanceLayerInputs(performanceReport)
  const outputInputs = modelLayerInputs(outputsReport)
  // Data quality, impact, conditions and diagnosis after drift, as in the stream (no volume
  // check: a file has no time span).
  const report = withLayers(
    { ...drift, ...performanceReport, ...outputsReport },
    {
      conditions: parseConditions(options.conditions ?? []),
      importance: options.importance,
      ...performanceInputs,
      ...outputInputs,
      metrics: new Map([...(performanceInputs.metrics ?? []), ...(outputInputs.metrics ?? [])]),
    },
  )
  return { report, reference }
}

/**
 * The current file read on a worker while the reference is read here: the columns `check` will
 * read, as far as the files' headers tell (the reference's columns, its selection and outputs).
 * When the reference then asks for a column this read did not take, or the read failed, the
 * caller reads the file itself, as without workers (so a broken file fails with its own error).
 */
function earlyCurrentSpill(
  pool: CheckPool,
  options: CheckOptions,
  files: {
    readonly currentColumns: readonly string[]
    readonly referenceColumns: readonly string[]
    readonly excluded: string | null
  },
): { referenceRead(): void; spilled(read: readonly string[]): Promise<SpilledTable | null> } {
  const outputs = options.outputColumns ?? defaultOutputColumns
  const wanted = new Set([
    ...(options.columns !== undefined && options.columns.length > 0
      ? options.columns
      : files.referenceColumns
    ).filter((name) => name !== files.excluded),
    outputs.prediction,
    outputs.latency,
  ])
  const columns = files.currentColumns.filter((name) => wanted.has(name))
  // The current's progress is shown once the reference's is done (one line at a time).
  let showProgress = false
  const progress =
    options.onProgress === undefined
      ? undefined
      : progressOf(openTable(options.current), 'current', options.onProgress)
  const reading = pool
    .run({ task: 'spill', path: options.current, columns }, (bytesRead) => {
      if (showProgress) void progress?.then((p) => p.onProgress?.(bytesRead))
    })
    .catch(() => null)
  return {
    referenceRead: () => {
      showProgress = true
    },
    spilled: async (read) => {
      const spilled = await reading
      return spilled !== null && read.every((name) => spilled.columns.has(name)) ? spilled : null
    },
  }
}

/**
 * Each compared column's current feature and test result, from the workers: the current column
 * profiled on the reference's layout and tested against the reference's feature, as
 * `buildCurrentFromSpill` and `evaluateDrift` do in this thread, in the report's column order.
 */
async function compareOnPool(
  pool: CheckPool,
  work: SpillWork,
  input: {
    readonly spilled: SpilledTable
    readonly reference: DatasetProfile
    readonly columns: ReturnType<typeof layoutOf>['columns']
    readonly names: readonly string[]
    readonly settings: DriftSettings
  },
): Promise<{ features: DatasetProfile['features']; results: FeatureResult[] }> {
  const { reference, names } = input
  const layouts = new Map(input.columns.map((column) => [column.name, column]))
  // evaluateDrift's pairs: the names with a feature on both sides, every layout column here.
  const pairs = names.filter((name) => reference.features.has(name) && layouts.has(name))
  const answers = await Promise.all(
    pairs.map((name) => {
      const feature = reference.features.get(name) as FeatureProfile
      return pool.run({
        task: 'compare',
        spilled: spilledColumnOf(input.spilled, name),
        column: layouts.get(name) as ColumnLayout,
        unseenCap: fileCheckCategoryCap,
        reference: transferOf(feature, work.sortedPaths.get(name) ?? null),
        settings: input.settings,
        nFeatures: pairs.length,
      })
    }),
  )
  const byName = new Map(pairs.map((name, i) => [name, answers[i] ?? null]))
  // The current profile's features in the layout's order, as buildCurrentFromSpill keeps them.
  const features: DatasetProfile['features'] = new Map()
  for (const column of input.columns) {
    const answer = byName.get(column.name)
    if (answer !== undefined && answer !== null)
      features.set(column.name, featureFromTransfer(answer.current, work.cache))
  }
  const results = pairs.flatMap((name) => {
    const answer = byName.get(name)
    return answer === undefined || answer === null ? [] : [answer.result]
  })
  return { features, results }
}

interface Scoring {
  readonly settings: PerformanceSettings
  readonly degradation: DegradationSettings
  /** The reference file's pairs; null for a snapshot or a reference without both columns. */
  readonly baseline: PerformanceSummary | null
}

/**
 * The performance settings (the task read from the labels when not given) and the reference
 * file's summary: its prediction and label columns scored as the current file's are.
 */
async function scoringOf(
  options: CheckOptions,
  files: {
    readonly labelColumn: string
    readonly referenceTable: TableSource | null
    readonly referencePrediction: string
    readonly currentTable: TableSource
  },
): Promise<Scoring> {
  const given = options.performance ?? {}
  const { labelColumn, referenceTable } = files
  const referenceColumns = referenceTable === null ? [] : await referenceTable.columns()
  const referenceScored =
    referenceTable !== null &&
    referenceColumns.includes(labelColumn) &&
    referenceColumns.includes(files.referencePrediction)
  let task = given.task
  if (task === undefined) {
    // The reference's labels decide when it has them, else the current file's.
    const observer = new LabelTaskObserver()
    const source =
      referenceTable !== null && referenceColumns.includes(labelColumn)
        ? referenceTable
        : files.currentTable
    await readAll(source, [labelColumn], 'labels: task', options.onProgress, (batch) => {
      const column = batch.columns.get(labelColumn)
      for (let i = 0; i < batch.length; i++) observer.observe(cellAt(column, i))
    })
    task = observer.task()
  }
  const settings: PerformanceSettings = {
    task,
    positiveClass: given.positiveClass ?? defaultPerformanceSettings.positiveClass,
    threshold: given.threshold ?? defaultPerformanceSettings.threshold,
    scoreBins: given.scoreBins ?? defaultPerformanceSettings.scoreBins,
  }
  const degradation: DegradationSettings = {
    metric: given.metric ?? defaultMetricOf(settings),
    warningDrop: given.warningDrop ?? defaultDegradation.warningDrop,
    criticalDrop: given.criticalDrop ?? defaultDegradation.criticalDrop,
    minLabels: given.minLabels ?? defaultDegradation.minLabels,
  }
  let baseline: PerformanceSummary | null = null
  if (referenceScored) {
    const summary = emptySummary()
    const prediction = files.referencePrediction
    await readAll(
      referenceTable,
      [...new Set([prediction, labelColumn])],
      'reference: labels',
      options.onProgress,
      (batch) => addPairs(summary, settings, batch, prediction, labelColumn),
    )
    baseline = summary
  }
  return { settings, degradation, baseline }
}

/** Each row's (prediction, label) pair; rows missing either are not labelled predictions. */
function addPairs(
  summary: PerformanceSummary,
  settings: PerformanceSettings,
  batch: ColumnBatch,
  predictionColumn: string,
  labelColumn: string,
): void {
  const predictions = batch.columns.get(predictionColumn)
  const labels = batch.columns.get(labelColumn)
  for (let i = 0; i < batch.length; i++) {
    const prediction = cellAt(predictions, i)
    const label = cellAt(labels, i)
    if (prediction === null || label === null) continue
    addPair(summary, settings, { prediction }, label)
  }
}

/**
 * A file with no rows, or whose compared columns hold no value at all, cannot be judged: saying
 * "no dataset drift" about it would be a false pass in a CI gate, so it is an error (exit 2).
 */
function assertHasData(
  profile: DatasetProfile,
  columns: readonly string[],
  path: string,
  role: 'reference' | 'current',
): void {
  if (profile.rows === 0) {
    throw new FileReadError(`${path}: the ${role} data has no rows (header only?)`, { path })
  }
  const hasValue = columns.some((name) => {
    const feature = profile.features.get(name)
    if (feature === undefined) return false
    return feature.kind === 'numerical'
      ? feature.count + feature.nonFinite + feature.mismatched > 0
      : feature.count > 0
  })
  if (!hasValue) {
    throw new FileReadError(
      `${path}: every cell of the ${role} data's compared columns is empty (${profile.rows} rows, ${columns.length} columns)`,
      { path },
    )
  }
}

function selectColumns(
  available: readonly string[],
  wanted: readonly string[] | undefined,
  where: string,
): string[] {
  if (wanted === undefined || wanted.length === 0) return [...available]
  for (const name of wanted)
    if (!available.includes(name)) throw new UnknownColumnError(name, available, where)
  return [...wanted]
}

async function readAll(
  table: TableSource,
  columns: readonly string[],
  phase: string,
  onProgress: Progress | undefined,
  onBatch: (batch: ColumnBatch) => void,
  onFloatColumn?: (column: string) => void,
): Promise<void> {
  const totalBytes = onProgress === undefined ? 0 : await table.sizeBytes()
  const progress =
    onProgress === undefined
      ? undefined
      : (bytesRead: number): void => onProgress({ file: table.path, phase, bytesRead, totalBytes })
  // Column batches rather than rows: see core/profile/batch.ts.
  for await (const batch of table.batches({
    columns,
    ...(progress === undefined ? {} : { onProgress: progress }),
    ...(onFloatColumn === undefined ? {} : { onFloatColumn }),
  })) {
    onBatch(batch)
  }
}
