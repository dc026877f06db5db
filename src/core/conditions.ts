// Test-suite conditions: the checks users write next to a model, as they would in a test suite
// (`precision >= 0.85`, `rows >= 1000`, `feature.amount.missingShare <= 0.01`), evaluated on every
// window of the stream and by `driftwatch check`.
//
// Grammar (one condition per string; spaces around the operator are optional):
//   condition := metric op number
//   metric    := name | 'feature.' featureName '.' name
//   op        := '>=' | '>' | '<=' | '<' | '==' | '!='
//   number    := a decimal number, optionally signed, with an optional exponent (0.85, 1e3, -2)
// `name` is one of the known metric names below; `featureName` is anything up to the last dot
// (feature names may hold dots themselves). Seven lines of regular expression do it, so there is
// no parser library.
//
// Values come from a lookup: a map from metric name to number that each layer fills with what it
// knows (the data-quality and drift layer here; performance, latency and prediction drift add
// theirs with `metricValues` entries of their own). A known metric that no layer has filled in —
// `precision` before labels arrive, or in a build without the performance layer — evaluates to
// `passed: null` ("unknown"): an unknown never fails a window or `check`, and is listed so that
// nobody mistakes it for a pass.
// Pure: strings and numbers in, verdicts out.

import type { DriftReport } from './report.js'
import { driftScore } from './diagnosis.js'

export const comparisonOperators = ['>=', '>', '<=', '<', '==', '!='] as const
export type ComparisonOperator = (typeof comparisonOperators)[number]

/** Metrics of the whole window (or file) that this layer measures. */
export const datasetMetricNames = [
  'rows',
  'missingShare',
  'driftShare',
  'nDrifted',
  'volumeRatio',
  'typeViolationShare',
] as const

/**
 * Metrics other layers measure (ground truth and performance, latency, prediction drift). They are
 * valid in conditions today and unknown until the layer that measures them reports a value.
 */
export const otherLayerMetricNames = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'rocAuc',
  'logLoss',
  'mae',
  'rmse',
  'mape',
  'latencyP50',
  'latencyP95',
  'latencyP99',
  'predictionDriftScore',
] as const

/** Metrics of one feature: `feature.<name>.<metric>`. */
export const featureMetricNames = [
  'missingShare',
  'outOfRangeShare',
  'newCategoryShare',
  'driftScore',
  'statistic',
  'pValue',
  'psi',
  'jensenShannon',
  'wassersteinNormed',
  'ks',
] as const

export interface Condition {
  /** The text as written, trimmed. */
  readonly text: string
  /** The metric's lookup key: `rows`, or `feature.amount.missingShare`. */
  readonly metric: string
  /** Set for feature metrics. */
  readonly feature?: string
  readonly operator: ComparisonOperator
  readonly bound: number
}

export interface ConditionResult {
  readonly condition: string
  readonly metric: string
  /** null when no layer measured the metric in this window. */
  readonly value: number | null
  /** null: unknown (value missing); never counted as a failure. */
  readonly passed: boolean | null
}

export type ParsedCondition = { ok: true; condition: Condition } | { ok: false; message: string }

const pattern = /^\s*(\S+?)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/

export function parseCondition(text: string): ParsedCondition {
  const match = pattern.exec(text)
  if (match === null) {
    return {
      ok: false,
      message: `cannot read condition '${text}': expected '<metric> <op> <number>' with op one of ${comparisonOperators.join(' ')} (e.g. 'recall >= 0.9')`,
    }
  }
  const [, metric = '', operator = '', number = ''] = match
  const bound = Number(number)
  if (metric.startsWith('feature.')) {
    const rest = metric.slice('feature.'.length)
    const dot = rest.lastIndexOf('.')
    const feature = dot <= 0 ? '' : rest.slice(0, dot)
    const name = dot <= 0 ? '' : rest.slice(dot + 1)
    if (feature === '' || !(featureMetricNames as readonly string[]).includes(name)) {
      return {
        ok: false,
        message: `unknown feature metric '${metric}': expected feature.<name>.<metric> with metric one of ${featureMetricNames.join(', ')}`,
      }
    }
    return {
      ok: true,
      condition: {
        text: text.trim(),
        metric,
        feature,
        operator: operator as ComparisonOperator,
        bound,
      },
    }
  }
  const known: readonly string[] = [...datasetMetricNames, ...otherLayerMetricNames]
  if (!known.includes(metric)) {
    return {
      ok: false,
      message: `unknown metric '${metric}'; known: ${known.join(', ')}, or feature.<name>.<${featureMetricNames.join('|')}>`,
    }
  }
  return {
    ok: true,
    condition: { text: text.trim(), metric, operator: operator as ComparisonOperator, bound },
  }
}

/** Parses conditions that a config schema has already validated (throws on a bad one). */
export function parseConditions(texts: readonly string[]): Condition[] {
  return texts.map((text) => {
    const parsed = parseCondition(text)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.condition
  })
}

export function compare(value: number, operator: ComparisonOperator, bound: number): boolean {
  switch (operator) {
    case '>=':
      return value >= bound
    case '>':
      return value > bound
    case '<=':
      return value <= bound
    case '<':
      return value < bound
    case '==':
      return value === bound
    case '!=':
      return value !== bound
  }
}

export function evaluateConditions(
  conditions: readonly Condition[],
  values: ReadonlyMap<string, number>,
): ConditionResult[] {
  return conditions.map((c) => {
    const value = values.get(c.metric)
    if (value === undefined || Number.isNaN(value))
      return { condition: c.text, metric: c.metric, value: null, passed: null }
    return {
      condition: c.text,
      metric: c.metric,
      value,
      passed: compare(value, c.operator, c.bound),
    }
  })
}

/**
 * What the drift report measures, by metric name: the dataset metrics and every feature's. Other
 * layers add their own entries to the same map before the conditions are evaluated.
 */
export function metricValues(report: DriftReport): Map<string, number> {
  const values = new Map<string, number>()
  values.set('rows', report.nCurrent)
  values.set('driftShare', report.driftShare)
  values.set('nDrifted', report.nDrifted)
  const missing = report.dataQuality?.missingShare
  if (missing !== undefined) values.set('missingShare', missing)
  const ratio = report.dataQuality?.volume?.ratio
  if (ratio !== undefined) values.set('volumeRatio', ratio)
  // Stream only: `check` has no dead letters, so there the metric is unknown.
  const violations = report.dataQuality?.typeViolations?.share
  if (violations !== undefined) values.set('typeViolationShare', violations)
  for (const f of report.features) {
    const set = (name: string, value: number | null | undefined): void => {
      if (value !== undefined && value !== null && Number.isFinite(value))
        values.set(`feature.${f.name}.${name}`, value)
    }
    set('missingShare', f.metrics.missingShare)
    set('outOfRangeShare', f.metrics.outOfRangeShare)
    set('newCategoryShare', f.metrics.newCategoryShare)
    set('driftScore', driftScore(f))
    set('statistic', f.statistic)
    set('pValue', f.pValue)
    set('psi', f.metrics.psi)
    set('jensenShannon', f.metrics.jensenShannon)
    set('wassersteinNormed', f.metrics.wassersteinNormed)
    set('ks', f.metrics.ks)
  }
  return values
}

/** Features named by conditions that the reference lacks: config errors, with where they are. */
export function unknownConditionFeatures(
  conditions: readonly Condition[],
  features: readonly string[],
): Array<{ index: number; feature: string }> {
  const known = new Set(features)
  return conditions.flatMap((c, index) =>
    c.feature !== undefined && !known.has(c.feature) ? [{ index, feature: c.feature }] : [],
  )
}
