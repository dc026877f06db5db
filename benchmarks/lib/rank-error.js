// Accuracy of a quantile sketch against the exact sorted data: the largest |F̂(x) − F(x)| over a
// grid of the data at 2000 even ranks, the value just below each, and 2000 even steps between
// the extremes. Shared by tdigest.bench.js and tdigest-compression.bench.js.

export function countAtMost(sorted, x) {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function countBelow(sorted, x) {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

export function evaluationGrid(sorted, points = 2000) {
  const n = sorted.length
  const grid = []
  for (let i = 0; i <= points; i++) {
    const x = sorted[Math.floor((i * (n - 1)) / points)]
    grid.push(x)
    const below = countBelow(sorted, x)
    if (below > 0) grid.push(sorted[below - 1])
  }
  const lo = sorted[0]
  const hi = sorted[n - 1]
  for (let i = 0; i <= points; i++) grid.push(lo + ((hi - lo) * i) / points)
  return grid
}

/** `cdf`: the sketch's CDF; `grid`: from evaluationGrid(sorted). */
export function maxRankError(cdf, sorted, grid = evaluationGrid(sorted)) {
  let worst = 0
  for (const x of grid) {
    const err = Math.abs(cdf(x) - countAtMost(sorted, x) / sorted.length)
    if (err > worst) worst = err
  }
  return worst
}
