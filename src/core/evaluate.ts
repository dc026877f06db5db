// Compares a current dataset profile with the reference: one test verdict per feature, every
// metric that applies to the feature's kind, the dataset verdict, and the pictures' bins.
// Pure: the same function serves `driftwatch check` and each window of the stream.

import { assessFeatureQuality, summarizeDataQuality } from './data-quality.js'
import { autoTest, autoTestName } from './drift-tests/auto.js'
import { chiSquare } from './drift-tests/chi-square.js'
import { chiSquareContingency } from './drift-tests/chi-square-contingency.js'
import { binnedCounts, distinctValues, shares } from './drift-tests/distributions.js'
import { hellinger } from './drift-tests/hellinger.js'
import { jensenShannon } from './drift-tests/jensen-shannon.js'
import { klDiv } from './drift-tests/kl-div.js'
import { ks } from './drift-tests/ks.js'
import { NoiseFloors, type NoiseFloor } from './drift-tests/noise-floor.js'
import { psi } from './drift-tests/psi.js'
import { verdict, type DriftTestRegistry } from './drift-tests/registry.js'
import {
  resolveCalibration,
  resolveChoice,
  type DriftSettings,
  type ResolvedCalibration,
} from './drift-tests/thresholds.js'
import type { DriftTest, TestScore } from './drift-tests/types.js'
import { wassersteinDistance, wassersteinNormed } from './drift-tests/wasserstein.js'
import { zTest } from './drift-tests/z-test.js'
import type { DatasetProfile } from './profile/dataset.js'
import type { FeatureProfile } from './profile/index.js'
import { mean, std, type NumericalProfile } from './profile/numerical.js'
import type { CategoricalProfile } from './profile/categorical.js'
import type {
  CategoryCapNote,
  DistributionBin,
  DriftReport,
  FeatureMetrics,
  FeatureResult,
} from './report.js'

/** New categories a report names per feature; `newCategoryCount` gives how many there are. */
export const listedNewCategories = 100

export interface EvaluateOptions {
  readonly settings: DriftSettings
  readonly registry: DriftTestRegistry
  /** Evaluate only these features (all of the reference's when absent). */
  readonly features?: readonly string[]
  /**
   * Calibrated mode's noise floors, cached across calls: the stream passes one per evaluator so a
   * floor is computed once per reference, feature and size bucket. A fresh cache when absent.
   */
  readonly floors?: NoiseFloors
}

export function evaluateDrift(
  reference: DatasetProfile,
  current: DatasetProfile,
  options: EvaluateOptions,
): DriftReport {
  const names = options.features ?? [...reference.features.keys()]
  const pairs = names.flatMap((name) => {
    const ref = reference.features.get(name)
    const cur = current.features.get(name)
    return ref === undefined || cur === undefined ? [] : [{ name, ref, cur }]
  })
  const withFloors = { ...options, floors: options.floors ?? new NoiseFloors() }
  const features: FeatureResult[] = pairs.map(({ name, ref, cur }) =>
    evaluateFeature(name, ref, cur, withFloors, pairs.length),
  )
  return driftReportOf(features, { reference: reference.rows, current: current.rows }, options)
}

/**
 * The dataset's report from its features' results (one `evaluateFeature` each, in the report's
 * order): `evaluateDrift` once every feature is evaluated, wherever that was done.
 */
export function driftReportOf(
  features: FeatureResult[],
  rows: { readonly reference: number; readonly current: number },
  options: Pick<EvaluateOptions, 'settings'>,
): DriftReport {
  const calibration = resolveCalibration(options.settings)
  const evaluated = features.filter((f) => f.insufficientData === undefined)
  const nDrifted = evaluated.filter((f) => f.drifted).length
  const driftShare = evaluated.length === 0 ? 0 : nDrifted / evaluated.length
  return {
    datasetDrift: evaluated.length > 0 && driftShare >= options.settings.driftShare,
    driftShare,
    driftShareThreshold: options.settings.driftShare,
    nDrifted,
    nFeatures: features.length,
    nReference: rows.reference,
    nCurrent: rows.current,
    mode: calibration.mode,
    minCount: calibration.minCount,
    falseAlarmRate: calibration.mode === 'calibrated' ? calibration.falseAlarmRate : null,
    nInsufficient: features.length - evaluated.length,
    features,
    dataQuality: summarizeDataQuality(features),
  }
}

export function evaluateFeature(
  name: string,
  reference: FeatureProfile,
  current: FeatureProfile,
  options: EvaluateOptions,
  /** Features in the window: the false-alarm rate is split among them (Bonferroni). */
  nFeatures = 1,
): FeatureResult {
  const calibration = resolveCalibration(options.settings)
  const choice = resolveChoice(name, reference.kind, options.settings)
  const testName = choice.test === autoTestName ? autoTest(reference, current) : choice.test
  const test = modeTest(options.registry.get(testName), calibration)
  const threshold = choice.threshold ?? test.defaults.threshold
  const critical = choice.critical ?? test.defaults.critical
  const score: TestScore = !test.featureKinds.includes(reference.kind)
    ? {
        status: 'insufficientData',
        reason: `${test.name} does not apply to ${reference.kind} features`,
      }
    : current.count < calibration.minCount
      ? {
          status: 'insufficientData',
          reason: `${current.count} current values, fewer than minCount ${calibration.minCount}`,
        }
      : test.score(reference, current)
  const baseline = verdict(test, score, threshold, critical)
  const calibrated = calibration.mode === 'calibrated' && score.status === 'ok'
  const alpha = calibration.falseAlarmRate / Math.max(1, nFeatures)
  const noiseFloor = calibrated
    ? (options.floors ?? new NoiseFloors()).floor(name, test, reference, current.count, alpha)
    : null
  const { drifted, severity } =
    baseline.drifted && noiseFloor !== null && !clearsFloor(score, noiseFloor)
      ? { drifted: false, severity: 'ok' as const }
      : baseline
  const metrics =
    reference.kind === 'numerical' && current.kind === 'numerical'
      ? numericalMetrics(reference, current, calibration)
      : categoricalMetrics(
          reference as CategoricalProfile,
          current as CategoricalProfile,
          calibration,
        )
  return {
    name,
    kind: reference.kind,
    test: test.name,
    statistic: score.status === 'ok' ? finiteOrNull(score.statistic) : null,
    pValue: score.status === 'ok' ? score.pValue : null,
    threshold,
    drifted,
    severity,
    ...(score.status === 'insufficientData' ? { insufficientData: { reason: score.reason } } : {}),
    noiseFloor: noiseFloor === null ? null : finiteOrNull(noiseFloor.value),
    ...(noiseFloor === null ? {} : { noiseFloorOn: noiseFloor.on }),
    falseAlarmRate: noiseFloor === null ? null : alpha,
    nReference: rowsOf(reference),
    nCurrent: rowsOf(current),
    metrics,
    distribution: distribution(reference, current),
    dataQuality: assessFeatureQuality(reference, current, metrics),
    ...categoryCapOf(reference, current),
  }
}

function categoryCapOf(
  reference: FeatureProfile,
  current: FeatureProfile,
): { categoryCap?: CategoryCapNote } {
  if (reference.kind !== 'categorical' || current.kind !== 'categorical') return {}
  if (reference.other === 0 && current.other === 0) return {}
  const vocabulary = reference.vocabulary
  const unseenKept = [...current.counts.keys()].filter((c) => !(vocabulary?.has(c) ?? false)).length
  return {
    categoryCap: {
      referenceCategories: reference.counts.size,
      referenceFoldedShare: share(reference.other, reference.count),
      currentFoldedShare: share(current.other, current.count),
      unseenCapReached: unseenKept >= current.unseenCap,
    },
  }
}

/** Calibrated mode swaps Evidently's goodness-of-fit chi-square for the contingency test. */
function modeTest(test: DriftTest, calibration: ResolvedCalibration): DriftTest {
  return calibration.mode === 'calibrated' && test === chiSquare ? chiSquareContingency : test
}

/** Past the floor: p below it, or the statistic above it, as the floor says. */
function clearsFloor(score: TestScore, floor: NoiseFloor): boolean {
  if (score.status !== 'ok') return false
  return floor.on === 'pValue'
    ? score.pValue !== null && score.pValue < floor.value
    : score.statistic > floor.value
}

function numericalMetrics(
  reference: NumericalProfile,
  current: NumericalProfile,
  calibration: ResolvedCalibration,
): FeatureMetrics {
  const both = reference.count > 0 && current.count > 0
  const ksScore = both ? ks.score(reference, current) : undefined
  const small = distinctValues(reference, current)
  return compact({
    missingShare: share(current.missing, rowsOf(current)),
    referenceMissingShare: share(reference.missing, rowsOf(reference)),
    nonFiniteShare: share(current.nonFinite, rowsOf(current)),
    ...(current.binning.range === undefined
      ? {}
      : {
          outOfRangeShare: share(current.outOfRange, rowsOf(current)),
          outOfRangeCount: current.outOfRange,
        }),
    psi: statisticOf(psi, reference, current),
    ks: ksScore?.status === 'ok' ? ksScore.statistic : undefined,
    ksPValue: ksScore?.status === 'ok' ? (ksScore.pValue ?? undefined) : undefined,
    wasserstein: both ? wassersteinDistance(reference, current) : undefined,
    wassersteinNormed: both ? wassersteinNormed(reference, current) : undefined,
    jensenShannon: statisticOf(jensenShannon, reference, current),
    klDiv: statisticOf(klDiv, reference, current),
    hellinger: statisticOf(hellinger, reference, current),
    ...(small !== null ? chiSquareMetrics(reference, current, calibration) : {}),
    zPValue: small !== null && small <= 2 ? pValueOf(zTest, reference, current) : undefined,
    mean: mean(current),
    referenceMean: mean(reference),
    std: std(current),
    p05: current.count > 0 ? current.digest.quantile(0.05) : undefined,
    p50: current.count > 0 ? current.digest.quantile(0.5) : undefined,
    p95: current.count > 0 ? current.digest.quantile(0.95) : undefined,
    min: current.count > 0 ? current.min : undefined,
    max: current.count > 0 ? current.max : undefined,
  })
}

function categoricalMetrics(
  reference: CategoricalProfile,
  current: CategoricalProfile,
  calibration: ResolvedCalibration,
): FeatureMetrics {
  const unseen = [...current.counts].filter(
    ([category, n]) => n > 0 && (reference.counts.get(category) ?? 0) === 0,
  )
  const unseenCount = unseen.reduce((sum, [, n]) => sum + n, 0)
  const distinct = distinctValues(reference, current)
  return compact({
    missingShare: share(current.missing, rowsOf(current)),
    referenceMissingShare: share(reference.missing, rowsOf(reference)),
    psi: statisticOf(psi, reference, current),
    jensenShannon: statisticOf(jensenShannon, reference, current),
    klDiv: statisticOf(klDiv, reference, current),
    hellinger: statisticOf(hellinger, reference, current),
    ...chiSquareMetrics(reference, current, calibration),
    zPValue: distinct !== null && distinct <= 2 ? pValueOf(zTest, reference, current) : undefined,
    newCategoryShare: share(unseenCount, current.count),
    newCategoryCount: unseen.length,
    // The report lists at most this many (the most frequent), sorted by name: IDs can be 100,000.
    newCategories: [...unseen]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, listedNewCategories)
      .map(([category]) => category)
      .sort(),
  })
}

function chiSquareMetrics(
  reference: FeatureProfile,
  current: FeatureProfile,
  calibration: ResolvedCalibration,
): Partial<FeatureMetrics> {
  const score = modeTest(chiSquare, calibration).score(reference, current)
  if (score.status !== 'ok') return {}
  return {
    chiSquare: score.statistic,
    ...(score.pValue === null ? {} : { chiSquarePValue: score.pValue }),
  }
}

function statisticOf(
  test: DriftTest,
  reference: FeatureProfile,
  current: FeatureProfile,
): number | undefined {
  const score: TestScore = test.score(reference, current)
  return score.status === 'ok' ? score.statistic : undefined
}

function pValueOf(
  test: DriftTest,
  reference: FeatureProfile,
  current: FeatureProfile,
): number | undefined {
  const score = test.score(reference, current)
  return score.status === 'ok' ? (score.pValue ?? undefined) : undefined
}

function distribution(reference: FeatureProfile, current: FeatureProfile): DistributionBin[] {
  const counts = binnedCounts(reference, current)
  const ref = shares(counts.reference)
  const cur = shares(counts.current)
  if (reference.kind === 'numerical') {
    const { edges, decileEdges } = reference.binning
    const bounds = [
      Number.NEGATIVE_INFINITY,
      ...Array.from(decileEdges, (i) => edges[i] as number),
      Number.POSITIVE_INFINITY,
    ]
    return counts.keys.flatMap((_, i) => {
      const lower = bounds[i] as number
      const upper = bounds[i + 1] as number
      // a zero-width bin between tied deciles holds nothing and would only confuse the picture
      if (lower === upper) return []
      return [
        {
          label: binLabel(lower, upper),
          lower,
          upper,
          reference: ref[i] as number,
          current: cur[i] as number,
        },
      ]
    })
  }
  return counts.keys.map((key, i) => ({
    label: key,
    reference: ref[i] as number,
    current: cur[i] as number,
  }))
}

function binLabel(lower: number, upper: number): string {
  if (lower === Number.NEGATIVE_INFINITY) return `< ${formatEdge(upper)}`
  if (upper === Number.POSITIVE_INFINITY) return `≥ ${formatEdge(lower)}`
  return `[${formatEdge(lower)}, ${formatEdge(upper)})`
}

function formatEdge(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString()
}

function rowsOf(profile: FeatureProfile): number {
  return profile.kind === 'numerical'
    ? profile.count + profile.missing + profile.nonFinite
    : profile.count + profile.missing
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null
}

/** Drops absent and non-finite metrics: JSON has no Infinity, and a missing number says "n/a". */
function compact(metrics: Record<string, number | readonly string[] | undefined>): FeatureMetrics {
  const out: Record<string, number | readonly string[]> = {}
  for (const [key, value] of Object.entries(metrics)) {
    if (value === undefined) continue
    if (typeof value === 'number' && !Number.isFinite(value)) continue
    out[key] = value
  }
  return out as unknown as FeatureMetrics
}
