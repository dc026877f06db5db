// Reference snapshot files carry overflow-safe moments (mean, m2, scale) and the widened
// reference range; files written before them (sum, sumSq) still load, and a numerical profile
// with neither form is refused naming the column.

import { describe, expect, it } from 'vitest'
import {
  parseReferenceJSON,
  snapshotToJSON,
} from '../../../../src/adapters/files/reference-file.js'
import { mean, std, type NumericalProfile } from '../../../../src/core/profile/numerical.js'
import { mulberry32, normal } from '../../../helpers/random.js'
import { referenceOf } from '../../../helpers/profiles.js'

const rng = mulberry32(12)
const values = Array.from({ length: 3000 }, () => normal(rng, 40, 6))
const json = snapshotToJSON({
  createdAt: new Date(0).toISOString(),
  source: { kind: 'test' },
  exactBreakpoints: true,
  kindReasons: new Map([['x', 'test']]),
  profile: referenceOf('x', 'numerical', values),
})
const column = json.columns[0]
if (column === undefined || column.profile.kind !== 'numerical') throw new Error('no column')
const stored = column.profile

describe('reference snapshot moments', () => {
  it('round-trips mean, std and the widened range', () => {
    const snapshot = parseReferenceJSON(JSON.parse(JSON.stringify(json)), 'ref.json')
    const p = snapshot.profile.features.get('x') as NumericalProfile
    const exactMean = values.reduce((a, b) => a + b, 0) / values.length
    expect(mean(p)).toBeCloseTo(exactMean, 10)
    expect(std(p)).toBeGreaterThan(5)
    expect(p.binning.range?.upper).toBeGreaterThan(p.max)
    expect(p.values).toBeNull() // 3000 values: not written into the snapshot
  })

  it('loads a file written with sum and sumSq', () => {
    const { mean: m, m2: _m2, scale: _scale, ...rest } = stored
    const sum = (m as number) * stored.count
    const sumSq = values.reduce((a, v) => a + v * v, 0)
    const old = { ...json, columns: [{ ...column, profile: { ...rest, sum, sumSq } }] }
    const p = parseReferenceJSON(JSON.parse(JSON.stringify(old)), 'old.json').profile.features.get(
      'x',
    ) as NumericalProfile
    expect(mean(p)).toBeCloseTo(m as number, 9)
  })

  it('refuses a numerical profile with neither form of moments', () => {
    const { mean: _m, m2: _m2, scale: _scale, ...rest } = stored
    const broken = { ...json, columns: [{ ...column, profile: rest }] }
    expect(() => parseReferenceJSON(JSON.parse(JSON.stringify(broken)), 'broken.json')).toThrow(
      /columns\.0\.profile|columns\[0\]\.profile|mean, m2 and scale/,
    )
  })
})
