// Benchmark: how far the sketched KS statistic and the sketched Wasserstein distance are from
// their exact values, measured in the same run. The exact values are computed here from the sorted
// samples (kolmogorovSmirnovStatistic is scipy's ks_2samp statistic; the Wasserstein walk is
// scipy's wasserstein_distance over the reference's widened range, which is what driftwatch
// reports); the sketched ones from numerical profiles that keep no values (exactLimit 0), the
// current merged from 10 parts as a stream window is merged from buckets.
//
// Columns: for each distribution and n (reference and current both n values), columns whose
// current is shifted by a growing amount, so that the exact normed Wasserstein distance spans
// the threshold (0.1) from below. Distributions: N(0, 1) (shift of the mean), lognormal(0, 2)
// (heavy tail, shift of log-mean), and real heavy-tailed data: the skewed columns of the Wisconsin
// breast cancer data set as scikit-learn ships it, resampled (benchmarks/data/, made by
// benchmarks/data/make_heavy_tails.py), current scaled by a growing factor.
//
// Reported per case:
//   KS: columns where the sketched D is below / above the exact D (by more than 1e-12), and the
//       largest |error|. Target: "KS not leaning": below in at most ~60 % of the columns.
//   W1: normed (by the reference std) relative error where the exact value is near the
//       threshold (0.05 to 0.2): max and median; below 0.05, the absolute error as a share of the
//       threshold; and how often the sketch fell below the exact lower bound |mean_cur − mean_ref|.
//       Target: "within 10 % near/below the threshold".
// Baseline in the same run: the previous sketched estimators (interpolated CDFs without the KS
// correction; W1 as the midpoint integral of the interpolated CDFs), so the ratio shows the fix.
//
// Run: npm run build && node benchmarks/sketch-accuracy.bench.js [--quick]
// A runner can import { runSketchAccuracyBench, printSketchAccuracyBench, summaryLines }.

import { readFileSync } from 'node:fs'
import {
  describeMachine,
  importDist,
  isMain,
  machineInfo,
  median,
  mulberry32,
  standardNormal,
} from './lib/common.js'

const { binningFromSorted } = await importDist('core/profile/binning.js')
const { addNumber, createNumericalProfile, mergeNumerical, std, profileCompression } =
  await importDist('core/profile/numerical.js')
const { wassersteinDistance, exactW1 } = await importDist('core/drift-tests/wasserstein.js')
const { ksStatistic } = await importDist('core/drift-tests/ks.js')
const { kolmogorovSmirnovStatistic } = await importDist('core/stats/ks-distribution.js')
const { profileCdf, cdfKnots } = await importDist('core/profile/cdf.js')

const THRESHOLD = 0.1
const NEAR = [0.05, 0.2]

const heavyTails = JSON.parse(
  readFileSync(new URL('./data/heavy-tails.json', import.meta.url), 'utf8'),
)

function sampleOf(n, seed, draw) {
  const rng = mulberry32(seed)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = draw(rng)
  return out
}

const distributions = [
  {
    name: 'normal',
    shifts: (k, cols) => (k / cols) * 0.25,
    draw: (shift) => (rng) => shift + standardNormal(rng),
  },
  {
    name: 'lognormal(0, 2)',
    shifts: (k, cols) => (k / cols) * 0.8,
    draw: (shift) => (rng) => Math.exp(shift + 2 * standardNormal(rng)),
  },
  ...heavyTails.columns.map((column) => ({
    name: `breast cancer: ${column.name}`,
    shifts: (k, cols) => (k / cols) * 0.4,
    // resampled real values; the current scaled by e^shift
    draw: (shift) => (rng) =>
      column.values[Math.floor(rng() * column.values.length)] * Math.exp(shift),
  })),
]

function profileOf(values, binning, parts) {
  let whole = null
  const size = Math.ceil(values.length / parts)
  for (let i = 0; i < values.length; i += size) {
    const part = createNumericalProfile(binning, profileCompression, 0)
    const end = Math.min(values.length, i + size)
    for (let j = i; j < end; j++) addNumber(part, values[j])
    whole = whole === null ? part : mergeNumerical(whole, part)
  }
  return whole
}

// The previous estimators, kept here as the baseline.
function interpolatedKs(a, b) {
  const fa = profileCdf(a)
  const fb = profileCdf(b)
  let d = 0
  for (const x of cdfKnots(a, b)) d = Math.max(d, Math.abs(fa(x) - fb(x)))
  return d
}

function interpolatedW1(a, b, range) {
  const fa = profileCdf(a)
  const fb = profileCdf(b)
  const knots = cdfKnots(a, b)
  let area = 0
  for (let i = 0; i + 1 < knots.length; i++) {
    const lo = Math.max(range.lower, knots[i])
    const hi = Math.min(range.upper, knots[i + 1])
    if (hi <= lo) continue
    const mid = lo / 2 + hi / 2
    area += Math.abs(fa(mid) - fb(mid)) * (hi - lo)
  }
  return area
}

function clampedMean(sorted, range) {
  let sum = 0
  for (const x of sorted) sum += Math.min(range.upper, Math.max(range.lower, x))
  return sum / sorted.length
}

function runCase(dist, n, cols, seed) {
  const rows = []
  for (let k = 0; k < cols; k++) {
    const shift = dist.shifts(k, cols)
    const reference = sampleOf(n, seed + 1000 * k + 1, dist.draw(0))
    const current = sampleOf(n, seed + 1000 * k + 2, dist.draw(shift))
    const refSorted = reference.slice().sort()
    const curSorted = current.slice().sort()
    const binning = binningFromSorted(refSorted)
    const ref = profileOf(reference, binning, 1)
    const cur = profileOf(current, binning, 10)
    const norm = Math.max(std(ref), 0.001)
    const range = {
      lower: Math.max(binning.range.lower, Math.min(ref.min, cur.min)),
      upper: Math.min(binning.range.upper, Math.max(ref.max, cur.max)),
    }
    rows.push({
      ksExact: kolmogorovSmirnovStatistic(refSorted, curSorted),
      ksSketch: ksStatistic(ref, cur),
      ksBaseline: interpolatedKs(ref, cur),
      w1Exact: exactW1(refSorted, curSorted, range) / norm,
      w1Sketch: wassersteinDistance(ref, cur) / norm,
      w1Baseline: interpolatedW1(ref, cur, range) / norm,
      // the bound holds for the values as they are; where a value was far out of range (and
      // sits on its edge), the sketch clamps centroid means, not values, so it is not checked
      bound:
        cur.outOfRange > 0
          ? Number.NaN
          : Math.abs(clampedMean(curSorted, range) - clampedMean(refSorted, range)) / norm,
      outOfRange: cur.outOfRange > 0,
    })
  }
  return { name: dist.name, n, cols, ks: ksSummary(rows), w1: w1Summary(rows) }
}

function ksSummary(rows) {
  const of = (key) => ({
    below: rows.filter((r) => r[key] < r.ksExact - 1e-12).length,
    above: rows.filter((r) => r[key] > r.ksExact + 1e-12).length,
    maxAbsError: Math.max(...rows.map((r) => Math.abs(r[key] - r.ksExact))),
  })
  return { ours: of('ksSketch'), baseline: of('ksBaseline'), columns: rows.length }
}

function w1Summary(rows) {
  const near = rows.filter((r) => r.w1Exact >= NEAR[0] && r.w1Exact <= NEAR[1])
  const below = rows.filter((r) => r.w1Exact < NEAR[0])
  const of = (key) => {
    const rel = near.map((r) => Math.abs(r[key] - r.w1Exact) / r.w1Exact)
    return {
      nearMaxRel: rel.length === 0 ? Number.NaN : Math.max(...rel),
      nearMedianRel: rel.length === 0 ? Number.NaN : median(rel),
      belowMaxAbsOfThreshold:
        below.length === 0
          ? Number.NaN
          : Math.max(...below.map((r) => Math.abs(r[key] - r.w1Exact))) / THRESHOLD,
      underBound: rows.filter((r) => r[key] < r.bound * (1 - 1e-9)).length,
      underBoundWorst: Math.min(
        1,
        ...rows.filter((r) => !Number.isNaN(r.bound)).map((r) => r[key] / r.bound),
      ),
    }
  }
  return {
    ours: of('w1Sketch'),
    baseline: of('w1Baseline'),
    nearColumns: near.length,
    belowColumns: below.length,
    outOfRangeColumns: rows.filter((r) => r.outOfRange).length,
  }
}

/** @param {{ quick?: boolean }} [options] */
export function runSketchAccuracyBench(options = {}) {
  const plan = options.quick
    ? [
        { n: 500, cols: 40 },
        { n: 10_000, cols: 20 },
      ]
    : [
        { n: 500, cols: 100 },
        { n: 10_000, cols: 100 },
        { n: 1_000_000, cols: 10 },
      ]
  const machine = machineInfo()
  const started = performance.now()
  const cases = []
  for (const dist of distributions) {
    for (const { n, cols } of plan) {
      // the real columns have a few hundred distinct values: 1e6 resamples add nothing
      if (dist.name.startsWith('breast') && n > 10_000) continue
      cases.push(runCase(dist, n, cols, 7 + cases.length * 100_003))
    }
  }
  return { machine, seconds: (performance.now() - started) / 1000, cases }
}

function pct(x) {
  return Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)} %`
}

export function targets(result) {
  let ksColumns = 0
  let ksBelow = 0
  let nearMax = 0
  let belowMax = 0
  let underBound = 0
  for (const c of result.cases) {
    ksColumns += c.ks.columns
    ksBelow += c.ks.ours.below
    if (!Number.isNaN(c.w1.ours.nearMaxRel)) nearMax = Math.max(nearMax, c.w1.ours.nearMaxRel)
    if (!Number.isNaN(c.w1.ours.belowMaxAbsOfThreshold))
      belowMax = Math.max(belowMax, c.w1.ours.belowMaxAbsOfThreshold)
    underBound += c.w1.ours.underBound
  }
  return {
    ksBelowShare: ksBelow / ksColumns,
    ksMet: ksBelow / ksColumns <= 0.6,
    w1NearMax: nearMax,
    w1BelowMax: belowMax,
    w1Met: nearMax <= 0.1 && belowMax <= 0.1,
    underBound,
  }
}

export function printSketchAccuracyBench(result) {
  console.log(
    `sketch accuracy: t-digest δ = ${profileCompression}, current merged from 10 parts; ${result.seconds.toFixed(0)} s`,
  )
  console.log(describeMachine(result.machine))
  for (const c of result.cases) {
    const k = c.ks
    const w = c.w1
    console.log(`\n${c.name}, n = ${c.n}, ${c.cols} columns`)
    console.log(
      `  KS below/above exact: ours ${k.ours.below}/${k.ours.above}, baseline ${k.baseline.below}/${k.baseline.above}; ` +
        `max |error| ours ${k.ours.maxAbsError.toExponential(2)}, baseline ${k.baseline.maxAbsError.toExponential(2)}`,
    )
    console.log(
      `  W1 near threshold (${w.nearColumns} columns, exact ${NEAR[0]}–${NEAR[1]}): max rel error ours ${pct(w.ours.nearMaxRel)}, ` +
        `baseline ${pct(w.baseline.nearMaxRel)}; median ours ${pct(w.ours.nearMedianRel)}, baseline ${pct(w.baseline.nearMedianRel)}`,
    )
    console.log(
      `  W1 below ${NEAR[0]} (${w.belowColumns} columns): max |error| / threshold ours ${pct(w.ours.belowMaxAbsOfThreshold)}, ` +
        `baseline ${pct(w.baseline.belowMaxAbsOfThreshold)}; under |Δmean| ours ${w.ours.underBound} (lowest W1/bound ${w.ours.underBoundWorst.toFixed(4)}), baseline ${w.baseline.underBound} (${w.baseline.underBoundWorst.toFixed(4)}); ` +
        `${w.outOfRangeColumns} columns with values far out of range (bound not checked)`,
    )
  }
}

export function summaryLines(result) {
  const t = targets(result)
  return [
    `KS not leaning (sketch below exact in ≤ 60 % of columns): ${pct(t.ksBelowShare)} below — ${t.ksMet ? 'MET' : 'NOT MET'}`,
    `W1 within 10 % near/below threshold: near max ${pct(t.w1NearMax)}, below max |error| ${pct(t.w1BelowMax)} of the threshold — ${t.w1Met ? 'MET' : 'NOT MET'}`,
    `W1 under its exact lower bound |Δmean|: ${t.underBound} columns`,
  ]
}

if (isMain(import.meta)) {
  const result = runSketchAccuracyBench({ quick: process.argv.includes('--quick') })
  printSketchAccuracyBench(result)
  console.log('')
  for (const line of summaryLines(result)) console.log(line)
}
