// Benchmark: driftwatch's t-digest at compression 300, the setting feature profiles use
// (src/core/profile/numerical.ts `profileCompression`), against the customary 100 as the
// baseline in the same run, to show what the accuracy costs.
//
// Measures, like tdigest.bench.js (1e6 N(0, 1) values from a seeded mulberry32):
//   - insert cost, ns per value: median of 5 runs after a warm-up, including the final flush;
//   - merging 100 digests of 1e4 values each, ms: median of 5 runs;
//   - serialized size: JSON bytes, binary encode() bytes, centroids;
//   - max |cdf(x) − ECDF(x)| over the same grid as tdigest.bench.js;
// and why 300 is used: Wasserstein-1 from two numerical profiles (reference breakpoints + digest,
// src/core/drift-tests/wasserstein.ts) against the exact W1 of the samples (what scipy's
// wasserstein_distance returns), reference 2e5 values vs current 1e6, for lognormal(0, 2)
// against lognormal(0.1, 2) (heavy tail) and N(0, 1) against N(0.05, 1); relative error.
// Also the JSON bytes of a whole numerical profile (what a Redis bucket holds per feature).
//
// Run: npm run build && node benchmarks/tdigest-compression.bench.js
// A runner can import { runCompressionBench, printCompressionBench } instead.

import {
  describeMachine,
  importDist,
  isMain,
  machineInfo,
  median,
  mulberry32,
  standardNormal,
  table,
} from './lib/common.js'
import { maxRankError } from './lib/rank-error.js'

const { TDigest } = await importDist('core/sketch/tdigest.js')
const { binningFromSorted } = await importDist('core/profile/binning.js')
const { addNumber, createNumericalProfile, profileCompression } = await importDist(
  'core/profile/numerical.js',
)
const { encodeProfile } = await importDist('core/profile/index.js')
const { wassersteinDistance } = await importDist('core/drift-tests/wasserstein.js')

function sample(n, seed, draw) {
  const rng = mulberry32(seed)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = draw(rng)
  return out
}

function timeMs(fn) {
  const start = process.hrtime.bigint()
  const result = fn()
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result }
}

/** ∫ |F_a − F_b| dx of two sorted samples: scipy.stats.wasserstein_distance. */
function exactW1(a, b) {
  let i = 0
  let j = 0
  let area = 0
  let x = Math.min(a[0], b[0])
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j]
    area += Math.abs(i / a.length - j / b.length) * (next - x)
    x = next
    while (i < a.length && a[i] === x) i++
    while (j < b.length && b[j] === x) j++
  }
  return area
}

function profileOf(values, binning, compression) {
  const p = createNumericalProfile(binning, compression)
  for (let i = 0; i < values.length; i++) addNumber(p, values[i])
  return p
}

function wassersteinCase(name, reference, current, compressions) {
  const refSorted = reference.slice().sort()
  const curSorted = current.slice().sort()
  const exact = exactW1(refSorted, curSorted)
  const binning = binningFromSorted(refSorted)
  const byCompression = {}
  for (const c of compressions) {
    const estimate = wassersteinDistance(
      profileOf(reference, binning, c),
      profileOf(current, binning, c),
    )
    byCompression[c] = { estimate, relError: Math.abs(estimate - exact) / exact }
  }
  const profileJsonBytes = Object.fromEntries(
    compressions.map((c) => [
      c,
      Buffer.byteLength(JSON.stringify(encodeProfile(profileOf(current, binning, c)))),
    ]),
  )
  return { name, exact, byCompression, profileJsonBytes }
}

/**
 * @param {{ n?: number, parts?: number, runs?: number, compressions?: number[] }} [options]
 */
export function runCompressionBench(options = {}) {
  const n = options.n ?? 1_000_000
  const parts = options.parts ?? 100
  const runs = options.runs ?? 5
  const compressions = options.compressions ?? [100, profileCompression]
  const machine = machineInfo()
  const values = sample(n, 20240611, standardNormal)
  const sorted = values.slice().sort()
  const partSize = Math.floor(n / parts)

  const digests = {}
  for (const c of compressions) {
    const build = (from = 0, to = n) => {
      const d = new TDigest(c)
      for (let i = from; i < to; i++) d.add(values[i])
      void d.count
      return d
    }
    build()
    const insertMs = []
    let single
    for (let r = 0; r < runs; r++) {
      const { ms, result } = timeMs(() => build())
      insertMs.push(ms)
      single = result
    }
    const pieces = Array.from({ length: parts }, (_, p) => build(p * partSize, (p + 1) * partSize))
    new TDigest(c).merge(...pieces.map((p) => p.clone()))
    const mergeMs = []
    let merged
    for (let r = 0; r < runs; r++) {
      const inputs = pieces.map((p) => p.clone())
      const { ms, result } = timeMs(() => new TDigest(c).merge(...inputs))
      mergeMs.push(ms)
      merged = result
    }
    digests[c] = {
      insertNsPerValue: (median(insertMs) * 1e6) / n,
      merge100Ms: median(mergeMs),
      jsonBytes: Buffer.byteLength(JSON.stringify(single.toJSON())),
      binaryBytes: single.encode().length,
      centroids: single.centroids().means.length,
      maxRankError: maxRankError((x) => single.cdf(x), sorted),
      maxRankErrorMerged: maxRankError((x) => merged.cdf(x), sorted),
    }
  }

  const lognormal = (mu) => (rng) => Math.exp(mu + 2 * standardNormal(rng))
  const gaussian = (mu) => (rng) => mu + standardNormal(rng)
  const wasserstein = [
    wassersteinCase(
      'lognormal(0, 2) vs lognormal(0.1, 2)',
      sample(200_000, 11, lognormal(0)),
      sample(n, 12, lognormal(0.1)),
      compressions,
    ),
    wassersteinCase(
      'N(0, 1) vs N(0.05, 1)',
      sample(200_000, 13, gaussian(0)),
      sample(n, 14, gaussian(0.05)),
      compressions,
    ),
  ]
  return { machine, n, parts, partSize, runs, compressions, digests, wasserstein }
}

export function summaryLines(r) {
  const [lo, hi] = r.compressions
  const a = r.digests[lo]
  const b = r.digests[hi]
  const heavy = r.wasserstein[0]
  return [
    `t-digest compression ${hi} vs ${lo}: insert x${(b.insertNsPerValue / a.insertNsPerValue).toFixed(2)}, merge x${(b.merge100Ms / a.merge100Ms).toFixed(2)}, ` +
      `JSON x${(b.jsonBytes / a.jsonBytes).toFixed(2)}, rank error x${(b.maxRankError / a.maxRankError).toFixed(2)}; ` +
      `Wasserstein error on ${heavy.name}: ${(100 * heavy.byCompression[lo].relError).toFixed(2)} % at ${lo}, ${(100 * heavy.byCompression[hi].relError).toFixed(2)} % at ${hi}`,
  ]
}

export function printCompressionBench(r) {
  const [lo, hi] = r.compressions
  console.log(
    `driftwatch TDigest, compression ${hi} (feature profiles) vs ${lo} (baseline), n = ${r.n} N(0,1), ${r.runs} timed runs, medians`,
  )
  console.log(describeMachine(r.machine))
  const rows = [
    ['insert (ns/value)', 'insertNsPerValue', 1],
    [`merge ${r.parts} x ${r.partSize} (ms)`, 'merge100Ms', 2],
    ['JSON bytes', 'jsonBytes', 0],
    ['binary bytes (encode)', 'binaryBytes', 0],
    ['centroids', 'centroids', 0],
    ['max rank error', 'maxRankError', 5],
    ['max rank error (merged)', 'maxRankErrorMerged', 5],
  ]
  const fmt = (v, digits) => (digits === 5 ? v.toExponential(2) : v.toFixed(digits))
  const lines = [['metric', `δ = ${lo}`, `δ = ${hi}`, `${hi} / ${lo}`]]
  for (const [name, key, digits] of rows) {
    lines.push([
      name,
      fmt(r.digests[lo][key], digits),
      fmt(r.digests[hi][key], digits),
      (r.digests[hi][key] / r.digests[lo][key]).toFixed(2),
    ])
  }
  for (const w of r.wasserstein) {
    lines.push([
      `W1 rel. error, ${w.name}`,
      `${(100 * w.byCompression[lo].relError).toFixed(2)} %`,
      `${(100 * w.byCompression[hi].relError).toFixed(2)} %`,
      (w.byCompression[hi].relError / w.byCompression[lo].relError).toFixed(2),
    ])
  }
  const w0 = r.wasserstein[0]
  lines.push([
    'numerical profile JSON bytes',
    String(w0.profileJsonBytes[lo]),
    String(w0.profileJsonBytes[hi]),
    (w0.profileJsonBytes[hi] / w0.profileJsonBytes[lo]).toFixed(2),
  ])
  console.log(table(lines))
  for (const w of r.wasserstein)
    console.log(`exact W1 (scipy's definition), ${w.name}: ${w.exact.toPrecision(6)}`)
  for (const line of summaryLines(r)) console.log(line)
}

if (isMain(import.meta)) {
  printCompressionBench(runCompressionBench())
}
