import { describe, expect, it } from 'vitest'
import { watchedColumns } from '../../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../../src/core/reference.js'
import { DriftwatchError } from '../../../../src/errors.js'

function reference(): ReturnType<ReferenceBuilder['build']> {
  const builder = new ReferenceBuilder([
    { name: 'amount', kind: 'numerical', reason: 'test' },
    { name: 'country', kind: 'categorical', reason: 'test' },
    { name: 'age', kind: 'numerical', reason: 'test' },
  ])
  for (let i = 0; i < 50; i++)
    builder.add({ amount: i, country: i % 2 === 0 ? 'us' : 'de', age: 20 + (i % 30) })
  return builder.build()
}

describe('watchedColumns', () => {
  it('watches every reference column when no features are named', () => {
    expect(watchedColumns(reference(), undefined).map((c) => c.name)).toEqual([
      'amount',
      'country',
      'age',
    ])
  })

  it('keeps the reference order and kinds of the named features', () => {
    const columns = watchedColumns(reference(), ['age', 'country'])
    expect(columns.map((c) => [c.name, c.kind])).toEqual([
      ['country', 'categorical'],
      ['age', 'numerical'],
    ])
  })

  it('refuses a feature the reference does not have, naming it and the columns there are', () => {
    const attempt = (): unknown => watchedColumns(reference(), ['amount', 'amuont', 'zip'])
    expect(attempt).toThrow(DriftwatchError)
    expect(attempt).toThrow(
      "'amuont', 'zip' not in the reference (its columns: amount, country, age)",
    )
  })
})
