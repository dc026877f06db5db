// The benchmarks' model: 20 numerical features f00..f19 and 3 categorical ones, the shape the
// perf notes and the 1M x 23 file benchmark assume. Mixed distributions on purpose, because the
// cost of a t-digest and of binning depends on them: normal (f00-f07), lognormal with heavy tails
// up to sigma = 2 (f08-f11), uniform (f12-f15), bimodal (f16-f17), Poisson counts with more than
// ten distinct values so they stay numerical (f18-f19).
//
// `drifted: true` moves f01 by +0.5 sd, f09 by +0.3 in log space, f13 by a tenth of its range,
// and shifts `plan` towards 'pro': a current file that should report those four as drifted.
// Values are rounded to 6 decimals, as a feature store or pandas' float_format='%.6f' writes them.
// Deterministic: the same seed gives the same rows on every machine.

import { mulberry32, standardNormal } from './common.js'

export const numericalNames = Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`)
export const categorical = {
  country: {
    values: ['us', 'de', 'fr', 'gb', 'in', 'br', 'jp', 'ca'],
    weights: [30, 12, 10, 10, 15, 10, 8, 5],
  },
  device: { values: ['ios', 'android', 'web'], weights: [40, 45, 15] },
  plan: { values: ['free', 'basic', 'pro', 'team'], weights: [55, 25, 15, 5] },
}
export const categoricalNames = Object.keys(categorical)
export const columnNames = [...numericalNames, ...categoricalNames]
export const driftedColumns = ['f01', 'f09', 'f13', 'plan']

const driftedPlanWeights = [35, 25, 35, 5]

function cumulative(weights) {
  const total = weights.reduce((a, b) => a + b, 0)
  let run = 0
  return weights.map((w) => (run += w / total))
}

function pick(values, cum, u) {
  for (let i = 0; i < cum.length - 1; i++) if (u < cum[i]) return values[i]
  return values[values.length - 1]
}

function poisson(rng, lambda) {
  const limit = Math.exp(-lambda)
  let k = 0
  let p = rng()
  while (p > limit) {
    k++
    p *= rng()
  }
  return k
}

const round6 = (x) => Math.round(x * 1e6) / 1e6

/**
 * A row generator: each call returns the next row as an array in `columnNames` order.
 * @param {{ seed: number, drifted?: boolean }} options
 */
export function rowGenerator({ seed, drifted = false }) {
  const rng = mulberry32(seed)
  const cums = {
    country: cumulative(categorical.country.weights),
    device: cumulative(categorical.device.weights),
    plan: cumulative(drifted ? driftedPlanWeights : categorical.plan.weights),
  }
  const row = new Array(columnNames.length)
  return () => {
    for (let i = 0; i < 8; i++) {
      const sd = 1 + (i % 5)
      row[i] = round6(10 * (i + 1) + sd * standardNormal(rng) + (drifted && i === 1 ? 0.5 * sd : 0))
    }
    for (let i = 8; i < 12; i++) {
      const sigma = i === 11 ? 2 : 0.5 + 0.25 * (i - 8)
      row[i] = round6(
        Math.exp(i - 8 + (drifted && i === 9 ? 0.3 : 0) + sigma * standardNormal(rng)),
      )
    }
    for (let i = 12; i < 16; i++) {
      const width = 10 * (i - 11)
      row[i] = round6(width * rng() + (drifted && i === 13 ? width / 10 : 0))
    }
    for (let i = 16; i < 18; i++) {
      const first = rng() < 0.6
      row[i] = round6(first ? 20 + 2 * standardNormal(rng) : 35 + 4 * standardNormal(rng))
    }
    row[18] = poisson(rng, 8)
    row[19] = poisson(rng, 25)
    row[20] = pick(categorical.country.values, cums.country, rng())
    row[21] = pick(categorical.device.values, cums.device, rng())
    row[22] = pick(categorical.plan.values, cums.plan, rng())
    return row
  }
}
