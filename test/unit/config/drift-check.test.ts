// The drift section's checks that need the reference: unknown features, tests that do not fit a
// feature's kind, overrides a snapshot cannot take; all problems at once.

import { describe, expect, it } from 'vitest'
import { closest, driftConfigProblems, editDistance } from '../../../src/config/drift-check.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import type { DriftSettings } from '../../../src/core/drift-tests/thresholds.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'

const registry = createDefaultRegistry()
const builder = new ReferenceBuilder([
  { name: 'amount', kind: 'numerical', reason: 'test' },
  { name: 'rooms', kind: 'numerical', reason: 'test' },
  { name: 'binary', kind: 'numerical', reason: 'test' },
  { name: 'country', kind: 'categorical', reason: 'test' },
  { name: 'flag', kind: 'categorical', reason: 'test' },
])
for (let i = 0; i < 200; i++) {
  builder.add({
    amount: i * 1.5,
    rooms: i % 4,
    binary: i % 2,
    country: ['us', 'de', 'fr'][i % 3],
    flag: i % 2 === 0,
  })
}
const reference = builder.build()

function problems(
  settings: Partial<DriftSettings>,
  extra: { snapshot?: boolean; overrides?: Record<string, 'numerical' | 'categorical'> } = {},
) {
  return driftConfigProblems({
    settings: { driftShare: 0.5, ...settings },
    kindOverrides: extra.overrides,
    registry,
    prefix: '',
    reference,
    referenceIsSnapshot: extra.snapshot ?? false,
  })
}

describe('edit distance and did-you-mean', () => {
  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['amount', 'amount', 0],
    ['amuont', 'amount', 2],
  ])('%s → %s is %i', (a, b, d) => expect(editDistance(a, b)).toBe(d))

  it('suggests only a near name', () => {
    expect(closest('amuont', ['amount', 'country'])).toBe('amount')
    expect(closest('Country', ['amount', 'country'])).toBe('country')
    expect(closest('zzzzzz', ['amount', 'country'])).toBeUndefined()
  })
})

describe('tests that fit the feature kinds', () => {
  it('accepts every fitting choice', () => {
    expect(
      problems({
        global: { test: 'psi' },
        byFeature: {
          rooms: { test: 'chisquare' },
          binary: { test: 'z' },
          flag: { test: 'z' },
          country: { test: 'chisquare' },
          amount: { test: 'wasserstein' },
        },
      }),
    ).toEqual([])
  })

  it.each([
    [
      'ks on a categorical',
      { country: { test: 'ks' } },
      'features.country.test',
      /ks applies to numerical features only; in the reference, 'country' is categorical with 3 values/,
    ],
    [
      'chisquare on a numerical with many values',
      { amount: { test: 'chisquare' } },
      'features.amount.test',
      /at most 5 distinct values; in the reference, 'amount' is numerical with more than 5/,
    ],
    [
      'z on 4 values',
      { rooms: { test: 'z' } },
      'features.rooms.test',
      /z applies to features with at most 2 values; in the reference, 'rooms' is numerical with 4 values/,
    ],
    [
      'z on 3 categories',
      { country: { test: 'z' } },
      'features.country.test',
      /'country' is categorical with 3 values/,
    ],
  ])('%s', (_, byFeature, path, message) => {
    const found = problems({ byFeature })
    expect(found.map((p) => p.path)).toEqual([path])
    expect(found[0]?.message).toMatch(message)
  })

  it('a global misfit is one problem on the global field, listing the features it hits', () => {
    const found = problems({ global: { test: 'wasserstein' } })
    expect(found).toHaveLength(1)
    expect(found[0]?.path).toBe('test')
    expect(found[0]?.message).toMatch(/^wasserstein does not fit features 'country', 'flag'/)
  })

  it('a per-feature choice shields the feature from a misfitting global one', () => {
    expect(
      problems({
        global: { test: 'ks' },
        byFeature: { country: { test: 'psi' }, flag: { test: 'z' } },
      }),
    ).toEqual([])
  })
})

describe('unknown features and overrides, all at once', () => {
  it('reports each problem, naming its field', () => {
    const found = problems(
      {
        byFeature: { amuont: { threshold: 0.2 }, contry: { test: 'psi' }, country: { test: 'ks' } },
      },
      { snapshot: true, overrides: { rooms: 'categorical' } },
    )
    expect(found.map((p) => p.path)).toEqual([
      'columns.rooms',
      'features.amuont',
      'features.contry',
      'features.country.test',
    ])
    expect(found[1]?.message).toMatch(/did you mean 'amount'\?/)
    expect(found[2]?.message).toMatch(/did you mean 'country'\?/)
  })

  it('overrides are fine when the reference is built from a file', () => {
    expect(problems({}, { overrides: { rooms: 'categorical' } })).toEqual([])
  })

  it('without a reference, only kind-level misfits are known', () => {
    const found = driftConfigProblems({
      settings: {
        driftShare: 0.5,
        byKind: { categorical: { test: 'ks' }, numerical: { test: 'chisquare' } },
        byFeature: { nope: {} },
      },
      registry,
      prefix: 'models[0].drift.',
      referenceIsSnapshot: false,
    })
    expect(found.map((p) => p.path)).toEqual(['models[0].drift.kinds.categorical.test'])
  })
})
