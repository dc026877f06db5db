// Gradual drift in event time: a slow trend no single window shows. Each feature's drift score
// (core/diagnosis.ts driftScore: 1 is the drift boundary, whatever the test) is kept per evaluated
// window over the last `span` of event time (7 days by default), and the criterion is the one of
// the Prometheus rule DriftwatchFeatureDriftGradual (deploy/prometheus/rules.yml), computed on
// window ends instead of scrape times:
//   the least-squares slope of the scores over the span, times the span, is at least `threshold`
//   (0.3 by default), and no window of the last seventh of the span (the rule's last day) reached
//   the boundary 1 (past it the window alerts take over), and the series is at least 6/7 of the
//   span old (the rule's `present_over_time(…[1h] offset 6d)`: a few hours of a new series make a
//   steep, meaningless slope).
//
// Storage. Windows hop every few minutes, so 7 days are thousands of windows per feature; the
// evaluation state that keeps them is rewritten with every window. So the windows are grouped in
// bins of span/168 (an hour for 7 days), each keeping the least-squares sums of its windows
// relative to the bin's start (count, Σt, Σy, Σt², Σty) and their highest score. The slope from
// the bins' sums is the least-squares slope over every window they hold (exact but for the sums'
// eight significant digits) — not an approximation from hourly means — and the state stays
// bounded: at most 169 bins × 7 numbers a feature, about 6.6 KB of JSON (151 KB for the
// simulator's 23 features after 8 days of hourly windows, measured).
// A running sum over all time would be smaller still, but could never forget the oldest windows:
// the slope must be over the last span only, so the sums are kept per bin and old bins dropped.
// Bins partly older than the span are kept until they are wholly older (up to one bin more than
// Prometheus's exact 7 days, the price of the bound).
//
// The series restarts when the reference changes: scores against another reference are not on
// the same footing. Revised reports (late events) do not change a bin: the trend uses each
// window's first score, as Prometheus keeps the score it scraped.
// Pure.

export interface GradualDriftPolicy {
  readonly enabled: boolean
  /** Least-squares slope × span that counts as gradual drift (the rule's 0.3 a week). */
  readonly threshold: number
  /** Event time the slope is measured over, ms (the rule's 7 days). */
  readonly spanMs: number
}

export const defaultGradualDriftPolicy: GradualDriftPolicy = {
  enabled: true,
  threshold: 0.3,
  spanMs: 7 * 86_400_000,
}

/** Bins per span: an hour each for 7 days. */
export const binsPerSpan = 168
/** The series must be this share of the span old (the rule: 6 of 7 days). */
export const minCoverage = 6 / 7
/** No window of this last share of the span may have reached the boundary (the rule: 1 of 7 days). */
export const recentShare = 1 / 7
/** The drift score of a window that drifted (core/diagnosis.ts). */
export const driftBoundary = 1

/**
 * One bin: [bin index (start / bin length), windows, Σt, Σy, Σt², Σty, highest y], with t the
 * window end in days since the bin's start (so the sums keep their precision).
 */
export type TrendBin = readonly [
  index: number,
  n: number,
  st: number,
  sy: number,
  stt: number,
  sty: number,
  max: number,
]

/** Model version ('' for none) → feature → its bins, oldest first. */
export interface TrendHistory {
  readonly referenceId: string
  readonly series: Readonly<Record<string, Readonly<Record<string, readonly TrendBin[]>>>>
  /** Version → the end of the newest window recorded (ms): a window at or before it is not added again. */
  readonly latest: Readonly<Record<string, number>>
}

export interface FeatureTrend {
  readonly feature: string
  /** Least-squares slope of the drift score × the span (a rise per span); null: too few windows. */
  readonly slope: number | null
  /** Windows the slope is over. */
  readonly windows: number
  /** How far back the series goes, ms (≥ minCoverage × span to be judged). */
  readonly coveredMs: number
  /** The highest score of the last seventh of the span. */
  readonly recentMax: number
  /** The criterion holds: a slow climb while no recent window drifted. */
  readonly gradual: boolean
}

const dayMs = 86_400_000

export function binLengthMs(policy: GradualDriftPolicy): number {
  return policy.spanMs / binsPerSpan
}

/**
 * The feature's bins with one window's score added (`at`: the window end, ms), and the bins wholly
 * older than the span before `at` dropped. A null score (insufficient data) adds nothing.
 */
export function addScore(
  bins: readonly TrendBin[],
  at: number,
  score: number | null,
  policy: GradualDriftPolicy,
): TrendBin[] {
  const length = binLengthMs(policy)
  const index = Math.floor(at / length)
  const kept = bins.filter((b) => (b[0] + 1) * length > at - policy.spanMs)
  if (score === null || !Number.isFinite(score)) return kept
  const t = (at - index * length) / dayMs
  const i = kept.findIndex((b) => b[0] === index)
  const before: TrendBin = i < 0 ? [index, 0, 0, 0, 0, 0, Number.NEGATIVE_INFINITY] : kept[i]!
  const bin: TrendBin = [
    index,
    before[1] + 1,
    stored(before[2] + t),
    stored(before[3] + score),
    stored(before[4] + t * t),
    stored(before[5] + t * score),
    stored(Math.max(before[6], score)),
  ]
  if (i >= 0) kept[i] = bin
  else {
    kept.push(bin)
    kept.sort((a, b) => a[0] - b[0])
  }
  return kept
}

/**
 * The least-squares slope (score per ms) over every window the bins hold, from their sums: the
 * bin at `origin` days is shifted by it (Σ(t+a) = Σt + n·a; Σ(t+a)² = Σt² + 2aΣt + n·a²;
 * Σ(t+a)y = Σty + a·Σy). Null with fewer than 2 windows or all at one time.
 */
export function leastSquaresSlope(bins: readonly TrendBin[], binLength: number): number | null {
  const first = bins[0]
  if (first === undefined) return null
  let n = 0
  let st = 0
  let sy = 0
  let stt = 0
  let sty = 0
  for (const [index, bn, bt, by, btt, bty] of bins) {
    const a = ((index - first[0]) * binLength) / dayMs
    n += bn
    st += bt + bn * a
    sy += by
    stt += btt + 2 * a * bt + bn * a * a
    sty += bty + a * by
  }
  if (n < 2) return null
  const denominator = n * stt - st * st
  // All windows at one time (to rounding): no slope.
  if (!(denominator > 1e-12 * n * n)) return null
  return (n * sty - st * sy) / denominator / dayMs
}

/** The criterion for one feature's bins, judged at `at` (the newest window's end, ms). */
export function assessTrend(
  feature: string,
  bins: readonly TrendBin[],
  at: number,
  policy: GradualDriftPolicy,
): FeatureTrend {
  const length = binLengthMs(policy)
  const inSpan = bins.filter((b) => (b[0] + 1) * length > at - policy.spanMs)
  const windows = inSpan.reduce((n, b) => n + b[1], 0)
  const first = inSpan[0]
  const coveredMs = first === undefined ? 0 : Math.max(0, at - first[0] * length)
  const recentFrom = at - policy.spanMs * recentShare
  const recentMax = inSpan
    .filter((b) => (b[0] + 1) * length > recentFrom)
    .reduce((m, b) => Math.max(m, b[6]), Number.NEGATIVE_INFINITY)
  const perMs = leastSquaresSlope(inSpan, length)
  const slope = perMs === null ? null : perMs * policy.spanMs
  const gradual =
    policy.enabled &&
    slope !== null &&
    coveredMs >= policy.spanMs * minCoverage &&
    slope >= policy.threshold &&
    recentMax < driftBoundary
  return {
    feature,
    slope: slope === null ? null : round(slope),
    windows,
    coveredMs,
    recentMax: Number.isFinite(recentMax) ? round(recentMax) : 0,
    gradual,
  }
}

/**
 * The trend history with one version's window recorded (`scores`: feature → drift score), and
 * that version's features assessed. A new reference starts every series afresh. A window not
 * newer than the last recorded one (a revision after late events) is assessed, not added: each
 * window counts once, with its first score.
 */
export function recordTrend(
  history: TrendHistory | undefined,
  referenceId: string,
  version: string,
  at: number,
  scores: ReadonlyMap<string, number | null>,
  policy: GradualDriftPolicy,
): { history: TrendHistory; trends: FeatureTrend[] } {
  const same = history?.referenceId === referenceId
  const series = same ? history.series : {}
  const latest = same ? history.latest : {}
  const before = series[version] ?? {}
  const seen = latest[version]
  if (seen !== undefined && at <= seen) {
    const trends = [...scores.keys()].map((f) => assessTrend(f, before[f] ?? [], seen, policy))
    return { history: { referenceId, series, latest }, trends }
  }
  const next: Record<string, readonly TrendBin[]> = {}
  const trends: FeatureTrend[] = []
  for (const [feature, score] of scores) {
    const bins = addScore(before[feature] ?? [], at, score, policy)
    if (bins.length > 0) next[feature] = bins
    trends.push(assessTrend(feature, bins, at, policy))
  }
  return {
    history: {
      referenceId,
      series: { ...series, [version]: next },
      latest: { ...latest, [version]: at },
    },
    trends,
  }
}

/**
 * Eight significant digits: a third of a double's JSON, and the slope's rounding stays far below
 * the scores' noise (the sums are relative to their bin, so no large offset cancels).
 */
function stored(x: number): number {
  return Number(x.toPrecision(8))
}

/** Six significant digits, as the history's points (core/stream/history.ts). */
function round(x: number): number {
  return Number(x.toPrecision(6))
}

/** The report's section: every watched feature's trend, and the criterion it was judged by. */
export interface GradualDriftSection {
  readonly threshold: number
  readonly spanMs: number
  readonly features: readonly FeatureTrend[]
}
