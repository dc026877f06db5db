// The reference's breakpoints, shared by every profile compared with that reference.
//
// Inner edges are the reference percentiles q = k/100 (k = 1..99, numpy 'linear'), with repeated
// values collapsed: data with ties yields repeated percentiles, and numpy's histogram gives a
// zero-width bin [e, e) nothing, so dropping the repeats changes no count. The outer bins are open:
// (-inf, e_1) and [e_m, +inf). Bins are half-open [e_i, e_{i+1}), as numpy.histogram's are.
//
// PSI, Jensen–Shannon, KL and Hellinger on numerical features use the reference DECILES
// (k = 10, 20, …, 90), a subset of these edges; `decileEdges` indexes them, so there are always ten
// decile bins, some empty when deciles tie, exactly as numpy.histogram counts them. Keeping the finer
// percentile grid costs 99 counters and gives exact CDF anchors for KS and the report's pictures.

import { quantileSorted } from '../stats/quantile.js'

export interface Binning {
  /** Sorted, distinct, finite inner edges. */
  readonly edges: Float64Array
  /** Indices into `edges` of the nine reference deciles, ascending; repeated when deciles tie. */
  readonly decileEdges: Int32Array
  /**
   * The reference's range widened on each side (see `widenedRange`): a current value beyond it is
   * counted as out of range, and Wasserstein treats it as sitting on the bound. Absent on
   * profiles stored before the range was kept: then nothing is out of range.
   */
  readonly range?: ValueRange | undefined
}

/** A closed interval of values; either end may be infinite. */
export interface ValueRange {
  readonly lower: number
  readonly upper: number
}

/** How many reference standard deviations a value may lie beyond the reference's extremes. */
export const rangeMargin = 10

/**
 * The reference range [min, max] widened by `rangeMargin` reference standard deviations on each
 * side (by max(|min|, 1) when the reference is constant). A value beyond it is "far outside the
 * reference": a data-quality finding of its own, and bounded in what it can add to a distance.
 * Measured in standard deviations so that one value on the edge adds at most
 * ((max − mean) / std + 10) / n to a normed Wasserstein distance: about 0.014 over 1,000 normal
 * values, 0.03 over lognormal(0, 1) ones, so one wild value among thousands cannot flip a verdict.
 */
export function widenedRange(min: number, max: number, std: number): ValueRange {
  if (!(min <= max)) return { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY }
  const margin = max > min && std > 0 ? rangeMargin * std : Math.max(Math.abs(min), 1)
  return { lower: min - margin, upper: max + margin }
}

/** Population standard deviation of a sorted sample, without overflow (scaled two-pass). */
export function sortedStd(sorted: ArrayLike<number>): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const scale = Math.max(
    Math.abs(sorted[0] as number),
    Math.abs(sorted[n - 1] as number),
    Number.MIN_VALUE,
  )
  let mean = 0
  for (let i = 0; i < n; i++) mean += (sorted[i] as number) / scale / n
  let m2 = 0
  for (let i = 0; i < n; i++) m2 += ((sorted[i] as number) / scale - mean) ** 2
  return Math.sqrt(m2 / n) * scale
}

export const percentileCount = 100

export function binningFromSorted(sorted: ArrayLike<number>): Binning {
  if (sorted.length === 0) return { edges: new Float64Array(0), decileEdges: new Int32Array(0) }
  const range = widenedRange(
    sorted[0] as number,
    sorted[sorted.length - 1] as number,
    sortedStd(sorted),
  )
  const edges: number[] = []
  const deciles: number[] = []
  for (let k = 1; k < percentileCount; k++) {
    const value = quantileSorted(sorted, k / percentileCount)
    if (edges.length === 0 || value > (edges[edges.length - 1] as number)) edges.push(value)
    // Repeated deciles stay: each is a zero-width bin numpy would count, and KL's renormalization
    // after clipping sees every bin.
    if (k % 10 === 0) deciles.push(edges.length - 1)
  }
  return { edges: Float64Array.from(edges), decileEdges: Int32Array.from(deciles), range }
}

/** Index of the bin holding x: the number of edges <= x. */
export function binIndex(edges: Float64Array, x: number): number {
  let lo = 0
  let hi = edges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((edges[mid] as number) <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * A lookup table in front of binIndex: the span of the edges cut into equal cells, each holding
 * the bin index at its start. A value's cell gives the bins it can fall in, and a search over
 * those few (usually none or one) ends where binIndex ends: the answer is exactly binIndex's for
 * every value, however rounding places a value near a cell's border, because the last step
 * corrects any guess. Binary search over ~99 edges mispredicts a branch at most steps; this
 * costs a multiply and a load, and measured ~10x less per value (BENCHMARKS.md, ingest path).
 */
export interface BinTable {
  readonly edges: Float64Array
  /** starts[c]: the number of edges <= the start of cell c; cells + 1 entries. */
  readonly starts: Int32Array
  readonly low: number
  /** Cells per unit of value. */
  readonly scale: number
  readonly cells: number
}

/**
 * Cells per table: enough for about two per gap between the closest edges, so most cells hold at
 * most one edge, within [1024, 16384] (4 to 64 KB per column).
 */
const minTableCells = 1024
const maxTableCells = 16_384
const binTables = new WeakMap<Float64Array, BinTable>()

/**
 * The lookup table of a binning's edges (one per edges array, kept while the edges live: callers
 * ask with a reference's edges, which every profile on that reference shares).
 */
export function binTableOf(edges: Float64Array): BinTable {
  const known = binTables.get(edges)
  if (known !== undefined) return known
  const m = edges.length
  const low = m === 0 ? 0 : (edges[0] as number)
  const span = m === 0 ? 0 : (edges[m - 1] as number) - low
  let minGap = Number.POSITIVE_INFINITY
  for (let i = 1; i < m; i++)
    minGap = Math.min(minGap, (edges[i] as number) - (edges[i - 1] as number))
  const wanted = Math.min(maxTableCells, Math.max(minTableCells, Math.ceil((2 * span) / minGap)))
  const scale = span > 0 && Number.isFinite(span) ? wanted / span : 0
  const cells = scale > 0 && Number.isFinite(scale) ? wanted : 0
  const starts = new Int32Array(cells + 1)
  let at = 0
  for (let c = 0; c <= cells; c++) {
    const start = low + c / scale
    while (at < m && (edges[at] as number) <= start) at++
    starts[c] = at
  }
  const table = { edges, starts, low, scale, cells }
  binTables.set(edges, table)
  return table
}

/** binIndex(table.edges, x), through the table. */
export function lookupBin(table: BinTable, x: number): number {
  const edges = table.edges
  const m = edges.length
  if (table.cells === 0) return binIndex(edges, x)
  const c = (x - table.low) * table.scale
  let lo: number
  let hi: number
  if (c >= 0 && c < table.cells) {
    const cell = c | 0
    lo = table.starts[cell] as number
    hi = table.starts[cell + 1] as number
  } else {
    lo = c >= table.cells ? (table.starts[table.cells] as number) : 0
    hi = lo
  }
  // The answer is near [lo, hi]: search it, then step to the exact place.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((edges[mid] as number) <= x) lo = mid + 1
    else hi = mid
  }
  while (lo > 0 && (edges[lo - 1] as number) > x) lo--
  while (lo < m && (edges[lo] as number) <= x) lo++
  return lo
}

export function sameBinning(a: Binning, b: Binning): boolean {
  if (a === b) return true
  if (a.edges.length !== b.edges.length || a.decileEdges.length !== b.decileEdges.length)
    return false
  for (let i = 0; i < a.edges.length; i++) if (a.edges[i] !== b.edges[i]) return false
  for (let i = 0; i < a.decileEdges.length; i++)
    if (a.decileEdges[i] !== b.decileEdges[i]) return false
  return a.range?.lower === b.range?.lower && a.range?.upper === b.range?.upper
}

/**
 * Sums fine-bin counts into the decile bins: bin j of the result spans from decile edge j-1
 * (or -inf) to decile edge j (or +inf).
 */
export function decileCounts(binning: Binning, bins: Float64Array): Float64Array {
  const out = new Float64Array(binning.decileEdges.length + 1)
  let decile = 0
  for (let i = 0; i < bins.length; i++) {
    // fine bin i spans [edges[i-1], edges[i]); it belongs to the decile bin whose upper edge is
    // the first decile edge at index >= i
    while (decile < binning.decileEdges.length && (binning.decileEdges[decile] as number) < i)
      decile++
    out[decile] = (out[decile] as number) + (bins[i] as number)
  }
  return out
}
