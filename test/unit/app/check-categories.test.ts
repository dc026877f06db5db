// High-cardinality categoricals in `driftwatch check` on raw files: categories are kept by name up
// to 100,000 on each side, so "new" means absent from the reference and distances are exact.
// The reference distances are computed here from the raw values, independently of the profiles.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCheck } from '../../../src/app/check.js'
import { mulberry32 } from '../../helpers/random.js'

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'driftwatch-categories-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** scipy.spatial.distance.jensenshannon (natural log) over the union of categories. */
function exactJensenShannon(ref: readonly string[], cur: readonly string[]): number {
  const count = (values: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>()
    for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
    return m
  }
  const r = count(ref)
  const c = count(cur)
  let divergence = 0
  for (const key of new Set([...r.keys(), ...c.keys()])) {
    const p = (r.get(key) ?? 0) / ref.length
    const q = (c.get(key) ?? 0) / cur.length
    const m = (p + q) / 2
    if (p > 0) divergence += (p * Math.log(p / m)) / 2
    if (q > 0) divergence += (q * Math.log(q / m)) / 2
  }
  return Math.sqrt(divergence)
}

async function check(ref: readonly string[], cur: readonly string[]) {
  const name = Math.random().toString(36).slice(2)
  const reference = join(work, `${name}-ref.csv`)
  const current = join(work, `${name}-cur.csv`)
  await writeFile(reference, 'id\n' + ref.join('\n') + '\n')
  await writeFile(current, 'id\n' + cur.join('\n') + '\n')
  const { report } = await runCheck({
    reference,
    current,
    settings: { driftShare: 0.5 },
    now: () => new Date(0),
  })
  const feature = report.features[0]
  if (feature === undefined) throw new Error('no feature')
  return feature
}

const ids = (n: number, prefix = 'id'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('5,000 IDs in check', () => {
  it('the same IDs on both sides: nothing is new, JS is 0', async () => {
    const feature = await check(ids(5000), ids(5000).reverse())
    expect(feature.kind).toBe('categorical')
    expect(feature.metrics.newCategoryShare).toBe(0)
    expect(feature.metrics.newCategories).toEqual([])
    expect(feature.metrics.jensenShannon).toBe(0)
    expect(feature.categoryCap).toBeUndefined()
  })

  it('all-new IDs: the new share is 1', async () => {
    const feature = await check(ids(5000), ids(5000, 'new'))
    expect(feature.metrics.newCategoryShare).toBe(1)
    expect(feature.metrics.newCategoryCount).toBe(5000)
    expect(feature.metrics.newCategories).toHaveLength(100)
    expect(feature.categoryCap).toBeUndefined()
  })

  it('skewed draws from 5,000 IDs: JS within 1 % of the exact value', async () => {
    const rng = mulberry32(11)
    // Zipf-like reference, flatter current over the same IDs plus a few new ones
    const ref = Array.from({ length: 20_000 }, () => `id${Math.floor(5000 * rng() ** 2)}`)
    const cur = Array.from({ length: 20_000 }, () => `id${Math.floor(5100 * rng() ** 1.5)}`)
    const feature = await check(ref, cur)
    const exact = exactJensenShannon(ref, cur)
    expect(exact).toBeGreaterThan(0.05)
    expect(Math.abs((feature.metrics.jensenShannon ?? NaN) - exact)).toBeLessThanOrEqual(
      0.01 * exact,
    )
    const seen = new Set(ref)
    const newShare = cur.filter((v) => !seen.has(v)).length / cur.length
    expect(feature.metrics.newCategoryShare).toBeCloseTo(newShare, 12)
  })
})
