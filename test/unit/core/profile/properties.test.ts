// Properties every profile must have: it never drifts from itself, merging is associative, and
// encode → decode keeps everything the tests read.

import { describe, expect, it } from 'vitest'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import { evaluateDrift } from '../../../../src/core/evaluate.js'
import {
  mergeDatasets,
  type CellValue,
  type DatasetProfile,
} from '../../../../src/core/profile/dataset.js'
import {
  cloneProfile,
  decodeProfile,
  encodeProfile,
  mergeProfiles,
} from '../../../../src/core/profile/index.js'
import { mulberry32, normal } from '../../../helpers/random.js'
import { chunkedCurrentOf, currentOf, referenceOf } from '../../../helpers/profiles.js'

const registry = createDefaultRegistry()
const everyTest = registry.names()

function numericValues(seed: number, n: number): CellValue[] {
  const rng = mulberry32(seed)
  return Array.from({ length: n }, (_, i) =>
    i % 50 === 0 ? null : i % 97 === 0 ? Number.POSITIVE_INFINITY : normal(rng, 10, 3),
  )
}

function categoricalValues(seed: number, n: number): CellValue[] {
  const rng = mulberry32(seed)
  const names = ['red', 'green', 'blue', 'cyan', 'magenta']
  return Array.from({ length: n }, (_, i) =>
    i % 40 === 0 ? null : (names[Math.floor(rng() ** 2 * names.length)] ?? 'red'),
  )
}

const cases = [
  { kind: 'numerical' as const, values: numericValues(1, 5000) },
  { kind: 'numerical' as const, values: numericValues(2, 40) },
  { kind: 'numerical' as const, values: Array.from({ length: 3000 }, (_, i) => i % 3) },
  { kind: 'categorical' as const, values: categoricalValues(3, 4000) },
  {
    kind: 'categorical' as const,
    values: Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? 'true' : 'false')),
  },
]

describe.each(cases)('$kind profile of $values.length values', ({ kind, values }) => {
  const reference = referenceOf('x', kind, values)

  it.each(everyTest)('never drifts from itself under %s', (test) => {
    const current = currentOf(reference, 'x', values)
    const report = evaluateDrift(reference, current, {
      registry,
      settings: { driftShare: 0.5, global: { test } },
    })
    const feature = report.features[0]
    expect(feature).toBeDefined()
    if (feature?.insufficientData !== undefined) return // e.g. z on a non-binary feature: no verdict at all
    expect(feature?.drifted).toBe(false)
    expect(feature?.severity).toBe('ok')
  })

  it('merges associatively: (a+b)+c scores like a+(b+c) and like the whole', () => {
    const [a, b, c] = chunkedCurrentOf(reference, 'x', values, 3) as [
      DatasetProfile,
      DatasetProfile,
      DatasetProfile,
    ]
    const left = mergeDatasets(mergeDatasets(clone(a), b), c)
    const right = mergeDatasets(clone(a), mergeDatasets(clone(b), c))
    const whole = currentOf(reference, 'x', values)
    const settings = { driftShare: 0.5 }
    const metricsOf = (p: DatasetProfile): Record<string, unknown> =>
      (evaluateDrift(reference, p, { registry, settings }).features[0]?.metrics ??
        {}) as unknown as Record<string, unknown>
    const l = metricsOf(left)
    const r = metricsOf(right)
    const w = metricsOf(whole)
    for (const key of Object.keys(w)) {
      const wv = w[key]
      if (typeof wv !== 'number') {
        expect(l[key]).toEqual(wv)
        expect(r[key]).toEqual(wv)
        continue
      }
      // Exact counts give exact binned metrics; digest-based ones agree within the rank error.
      const tolerance = [
        'ks',
        'ksPValue',
        'wasserstein',
        'wassersteinNormed',
        'p05',
        'p50',
        'p95',
      ].includes(key)
        ? 0.02
        : 1e-9
      expect(Math.abs((l[key] as number) - wv), key).toBeLessThanOrEqual(
        tolerance * Math.max(1, Math.abs(wv)),
      )
      expect(Math.abs((r[key] as number) - wv), key).toBeLessThanOrEqual(
        tolerance * Math.max(1, Math.abs(wv)),
      )
    }
    expect(left.rows).toBe(values.length)
  })

  it('round-trips through its JSON form', () => {
    const current = currentOf(reference, 'x', values)
    const profile = current.features.get('x')
    if (profile === undefined) throw new Error('no profile')
    const decoded = decodeProfile(JSON.parse(JSON.stringify(encodeProfile(profile))))
    expect(encodeProfile(decoded)).toEqual(encodeProfile(profile))
    const merged = mergeProfiles(cloneProfile(decoded), profile)
    expect(merged.count).toBe(profile.count * 2)
  })
})

function clone(profile: DatasetProfile): DatasetProfile {
  return {
    rows: profile.rows,
    features: new Map([...profile.features].map(([n, p]) => [n, cloneProfile(p)])),
  }
}
