// The performance summary of a set of (prediction, label) pairs: counts and sums from which every
// performance metric is computed (metrics.ts), and which add up. Two summaries of disjoint pairs
// merge by adding their fields, so a window's summary is the sum of its buckets' summaries, as
// with the feature profiles.
//
// A summary is a flat map of named numbers on purpose: the stream keeps it in a Redis hash
// (one field per name) and a label's join adds its increments there with HINCRBY(FLOAT) in the
// same atomic step as the label consumer's checkpoint (adapters/redis/lua/join-labels.lua). The
// names are:
//   n                      pairs
//   c␟<label>␟<predicted>  confusion count (binary: labels and predictions are 'pos' / 'neg')
//   h␟<pos|neg>␟<bin>      binary: histogram of the positive-class score, per label, `scoreBins`
//                          equal bins of [0, 1] (bin = min(bins - 1, floor(score · bins)))
//   s                      pairs with a score (probability) for log loss
//   ll                     sum over those of -log(p of the true class)
//   ae, se, ape            regression: sums of |e|, e², |e| / max(|y|, ε) (e = prediction - label)
//   u                      pairs whose prediction could not be scored (wrong type for the task)

import type { FeatureValue } from '../events.js'

export const performanceTasks = ['binary', 'multiclass', 'regression'] as const
export type PerformanceTask = (typeof performanceTasks)[number]

export interface PerformanceSettings {
  readonly task: PerformanceTask
  /** Binary: the label (as a class key, see classKey) that counts as positive. */
  readonly positiveClass: string
  /** Binary: a numeric prediction at or above this is the positive class. */
  readonly threshold: number
  /** Binary: bins of the score histograms ROC AUC is computed from (metrics.ts, error bound). */
  readonly scoreBins: number
}

export const defaultPerformanceSettings: Omit<PerformanceSettings, 'task'> = {
  positiveClass: '1',
  threshold: 0.5,
  scoreBins: 100,
}

/** Field name → value; see the file comment. */
export type PerformanceSummary = Map<string, number>

export const fieldSeparator = '\u001f'

/** What a prediction event carries about its prediction (core/events.ts). */
export interface PredictionOutput {
  readonly prediction?: number | string | boolean
  /** class → score (probability) */
  readonly scores?: Readonly<Record<string, number>>
}

/**
 * A label or predicted class as a string key: booleans are '1' / '0' (so the default positive
 * class '1' matches both 1 and true), numbers their shortest decimal form, strings themselves.
 */
export function classKey(value: FeatureValue): string | null {
  if (value === null) return null
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null
  return value
}

/** Smallest probability log loss takes (scikit-learn clips at float64's machine epsilon). */
const epsilon = 2.220446049250313e-16

/** The increments one pair adds to a summary; never throws. */
export function pairIncrements(
  settings: PerformanceSettings,
  output: PredictionOutput,
  label: FeatureValue,
): Array<readonly [string, number]> {
  const unusable: Array<readonly [string, number]> = [
    ['n', 1],
    ['u', 1],
  ]
  if (settings.task === 'regression') {
    const y = label
    const p = output.prediction
    if (typeof y !== 'number' || typeof p !== 'number' || !Number.isFinite(y)) return unusable
    const e = p - y
    return [
      ['n', 1],
      ['ae', Math.abs(e)],
      ['se', e * e],
      ['ape', Math.abs(e) / Math.max(Math.abs(y), epsilon)],
    ]
  }
  const trueKey = classKey(label)
  if (trueKey === null) return unusable
  if (settings.task === 'binary') {
    const positive = trueKey === settings.positiveClass
    const score = binaryScore(settings, output)
    let predictedPositive: boolean
    if (score !== null) predictedPositive = score >= settings.threshold
    else if (output.prediction !== undefined)
      predictedPositive = classKey(output.prediction) === settings.positiveClass
    else return unusable
    const l = positive ? 'pos' : 'neg'
    const out: Array<readonly [string, number]> = [
      ['n', 1],
      [field('c', l, predictedPositive ? 'pos' : 'neg'), 1],
    ]
    if (score !== null) {
      const bin = Math.min(settings.scoreBins - 1, Math.floor(score * settings.scoreBins))
      const p = clip(positive ? score : 1 - score)
      out.push([field('h', l, String(bin)), 1], ['s', 1], ['ll', -Math.log(p)])
    }
    return out
  }
  const predicted = multiclassPrediction(output)
  if (predicted === null) return unusable
  const out: Array<readonly [string, number]> = [
    ['n', 1],
    [field('c', trueKey, predicted), 1],
  ]
  const scores = output.scores
  if (scores !== undefined) {
    const p = scores[trueKey]
    out.push(['s', 1], ['ll', -Math.log(clip(typeof p === 'number' ? p : 0))])
  }
  return out
}

/** The positive class's score: `scores[positive]`, else a numeric prediction in [0, 1]. */
function binaryScore(settings: PerformanceSettings, output: PredictionOutput): number | null {
  const fromScores = output.scores?.[settings.positiveClass]
  const score =
    typeof fromScores === 'number'
      ? fromScores
      : typeof output.prediction === 'number'
        ? output.prediction
        : null
  return score !== null && score >= 0 && score <= 1 ? score : null
}

/** The predicted class: the prediction, else the class with the highest score. */
function multiclassPrediction(output: PredictionOutput): string | null {
  if (output.prediction !== undefined) return classKey(output.prediction)
  let best: string | null = null
  let bestScore = Number.NEGATIVE_INFINITY
  for (const [name, score] of Object.entries(output.scores ?? {})) {
    if (score > bestScore) {
      best = name
      bestScore = score
    }
  }
  return best
}

function clip(p: number): number {
  return Math.min(1 - epsilon, Math.max(epsilon, p))
}

export function field(kind: string, a: string, b: string): string {
  return `${kind}${fieldSeparator}${a}${fieldSeparator}${b}`
}

export function emptySummary(): PerformanceSummary {
  return new Map()
}

export function addIncrements(
  summary: PerformanceSummary,
  increments: ReadonlyArray<readonly [string, number]>,
): PerformanceSummary {
  for (const [name, value] of increments) summary.set(name, (summary.get(name) ?? 0) + value)
  return summary
}

/** Adds one pair (raw rows; the stream adds increments in Redis instead). */
export function addPair(
  summary: PerformanceSummary,
  settings: PerformanceSettings,
  output: PredictionOutput,
  label: FeatureValue,
): PerformanceSummary {
  return addIncrements(summary, pairIncrements(settings, output, label))
}

/** Folds `other` into `into`. */
export function mergeSummaries(
  into: PerformanceSummary,
  other: ReadonlyMap<string, number>,
): PerformanceSummary {
  for (const [name, value] of other) into.set(name, (into.get(name) ?? 0) + value)
  return into
}

/** A summary as JSON (reference snapshots, evaluation state): [name, value] pairs. */
export function encodeSummary(summary: ReadonlyMap<string, number>): Array<[string, number]> {
  return [...summary].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

export function decodeSummary(json: unknown, where: string): PerformanceSummary {
  if (!Array.isArray(json)) throw new TypeError(`${where}: performance summary is not an array`)
  const summary: PerformanceSummary = new Map()
  for (const entry of json as unknown[]) {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'number' ||
      !Number.isFinite(entry[1])
    )
      throw new TypeError(`${where}: performance summary entry ${JSON.stringify(entry)} is invalid`)
    summary.set(entry[0], entry[1])
  }
  return summary
}
