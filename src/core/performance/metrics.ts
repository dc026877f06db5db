// Performance metrics from a summary (summary.ts), computed as scikit-learn does
// (test/fixtures/performance holds the cross-check):
//   accuracy                accuracy_score
//   precision, recall, f1   binary: of the positive class; multiclass: average='macro' over the
//                           classes seen as label or prediction; 0 where undefined
//                           (zero_division=0, scikit-learn's value after its warning)
//   rocAuc                  roc_auc_score, binary only, from the score histograms: every
//                           positive-negative pair in different bins is ordered exactly, pairs in
//                           the same bin count 1/2 (as ties). So
//                             |rocAuc - exact AUC| <= rocAucMaxError = ½ Σ_b pos_b·neg_b / (P·N),
//                           half the share of pairs sharing a bin; reported with the value. On
//                           the fixture's 1,500 scores spread over [0, 1]: bound 3.4e-3, true
//                           error 2.1e-4 at 100 bins (3.4e-4 and 1.4e-5 at 1,000); it is 0 when
//                           no bin holds both labels.
//   logLoss                 log_loss, over the pairs that carry a probability
//   mae, rmse, mape         mean_absolute_error, root_mean_squared_error,
//                           mean_absolute_percentage_error (|e| / max(|y|, ε): a label 0 makes it
//                           huge, as in scikit-learn)

import { fieldSeparator, type PerformanceSettings, type PerformanceTask } from './summary.js'

export const performanceMetricNames = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'rocAuc',
  'logLoss',
  'mae',
  'rmse',
  'mape',
] as const
export type PerformanceMetricName = (typeof performanceMetricNames)[number]

/** Metrics where lower is better (degradation is an increase). */
export const lowerIsBetter: ReadonlySet<PerformanceMetricName> = new Set([
  'logLoss',
  'mae',
  'rmse',
  'mape',
])

export interface PerformanceMetrics {
  readonly task: PerformanceTask
  /** Pairs scored (labels joined with a usable prediction). */
  readonly n: number
  /** Pairs whose prediction could not be scored for the task (e.g. a string in a regression). */
  readonly unusable: number
  readonly accuracy?: number
  readonly precision?: number
  readonly recall?: number
  readonly f1?: number
  readonly rocAuc?: number
  /** Bound on |rocAuc - the exact AUC of the raw scores| (see the file comment). */
  readonly rocAucMaxError?: number
  readonly logLoss?: number
  readonly mae?: number
  readonly rmse?: number
  readonly mape?: number
}

export function computePerformance(
  summary: ReadonlyMap<string, number>,
  settings: PerformanceSettings,
): PerformanceMetrics {
  const n = summary.get('n') ?? 0
  const unusable = summary.get('u') ?? 0
  const scored = n - unusable
  const base = { task: settings.task, n: scored, unusable }
  if (scored <= 0) return base
  if (settings.task === 'regression') {
    return {
      ...base,
      mae: (summary.get('ae') ?? 0) / scored,
      rmse: Math.sqrt((summary.get('se') ?? 0) / scored),
      mape: (summary.get('ape') ?? 0) / scored,
    }
  }
  const confusion = confusionOf(summary)
  const withScores = summary.get('s') ?? 0
  const logLoss = withScores > 0 ? { logLoss: (summary.get('ll') ?? 0) / withScores } : {}
  if (settings.task === 'binary') {
    const count = (l: string, p: string): number => confusion.get(l)?.get(p) ?? 0
    const tp = count('pos', 'pos')
    const fn = count('pos', 'neg')
    const fp = count('neg', 'pos')
    const tn = count('neg', 'neg')
    const total = tp + fn + fp + tn
    return {
      ...base,
      accuracy: (tp + tn) / total,
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      ...histogramAuc(summary, settings.scoreBins),
      ...logLoss,
    }
  }
  const classes = new Set<string>()
  for (const [label, row] of confusion) {
    classes.add(label)
    for (const predicted of row.keys()) classes.add(predicted)
  }
  let correct = 0
  let total = 0
  let precision = 0
  let recall = 0
  let f1 = 0
  for (const k of classes) {
    const tp = confusion.get(k)?.get(k) ?? 0
    let actual = 0
    for (const c of confusion.get(k)?.values() ?? []) actual += c
    let predicted = 0
    for (const row of confusion.values()) predicted += row.get(k) ?? 0
    correct += tp
    total += actual
    precision += ratio(tp, predicted)
    recall += ratio(tp, actual)
    f1 += ratio(2 * tp, predicted + actual)
  }
  return {
    ...base,
    accuracy: correct / total,
    precision: precision / classes.size,
    recall: recall / classes.size,
    f1: f1 / classes.size,
    ...logLoss,
  }
}

/** label → predicted → count, from the `c` fields. */
export function confusionOf(
  summary: ReadonlyMap<string, number>,
): Map<string, Map<string, number>> {
  const confusion = new Map<string, Map<string, number>>()
  for (const [name, value] of summary) {
    if (!name.startsWith(`c${fieldSeparator}`) || value === 0) continue
    const [, label, predicted] = name.split(fieldSeparator) as [string, string, string]
    let row = confusion.get(label)
    if (row === undefined) confusion.set(label, (row = new Map<string, number>()))
    row.set(predicted, (row.get(predicted) ?? 0) + value)
  }
  return confusion
}

/**
 * How many pairs have each label (classification): the label distribution label drift compares.
 * Binary labels are named by the positive class and `not <positive class>`.
 */
export function labelCounts(
  summary: ReadonlyMap<string, number>,
  settings: PerformanceSettings,
): Map<string, number> {
  const counts = new Map<string, number>()
  for (const [label, row] of confusionOf(summary)) {
    let total = 0
    for (const c of row.values()) total += c
    const name =
      settings.task !== 'binary'
        ? label
        : label === 'pos'
          ? settings.positiveClass
          : `not ${settings.positiveClass}`
    counts.set(name, (counts.get(name) ?? 0) + total)
  }
  return counts
}

function histogramAuc(
  summary: ReadonlyMap<string, number>,
  bins: number,
): { rocAuc?: number; rocAucMaxError?: number } {
  const pos = new Float64Array(bins)
  const neg = new Float64Array(bins)
  for (const [name, value] of summary) {
    if (!name.startsWith(`h${fieldSeparator}`)) continue
    const [, label, bin] = name.split(fieldSeparator) as [string, string, string]
    const b = Number(bin)
    if (!Number.isInteger(b) || b < 0 || b >= bins) continue
    if (label === 'pos') pos[b] = (pos[b] as number) + value
    else neg[b] = (neg[b] as number) + value
  }
  let negBelow = 0
  let ordered = 0
  let tied = 0
  let totalPos = 0
  for (let b = 0; b < bins; b++) {
    const p = pos[b] as number
    const q = neg[b] as number
    ordered += p * negBelow
    tied += p * q
    negBelow += q
    totalPos += p
  }
  const pairs = totalPos * negBelow
  if (pairs === 0) return {}
  return { rocAuc: (ordered + 0.5 * tied) / pairs, rocAucMaxError: (0.5 * tied) / pairs }
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b
}
