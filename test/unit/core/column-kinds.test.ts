import { describe, expect, it } from 'vitest'
import {
  ColumnKindObserver,
  inferColumnKinds,
  integerCardinalityLimit,
  type ColumnKind,
  type ObservedValue,
} from '../../../src/core/column-kinds.js'
import { UnknownColumnError } from '../../../src/errors.js'

function observe(values: readonly ObservedValue[], maxDistinct?: number): ColumnKindObserver {
  const observer = new ColumnKindObserver(maxDistinct)
  for (const value of values) observer.observe(value)
  return observer
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i)

describe('ColumnKindObserver follows Evidently infer_column_type on the pandas dtype', () => {
  const cases: [string, readonly ObservedValue[], ColumnKind, string | RegExp][] = [
    ['floats', [0.5, 1.25, 3], 'numerical', 'non-integer numbers'],
    ['floats with missing', [0.5, null, 2.5], 'numerical', 'non-integer numbers'],
    ['infinity makes a float column', [1, 2, Infinity], 'numerical', 'non-integer numbers'],
    [
      'few integers: categorical',
      [0, 1, 1, 0, 2],
      'categorical',
      `integers with 3 distinct values (at most ${integerCardinalityLimit})`,
    ],
    ['exactly 10 distinct integers: categorical', range(10), 'categorical', /10 distinct values/],
    ['11 distinct integers: numerical', range(11), 'numerical', 'integers with 11 distinct values'],
    [
      'few integers with a missing value: float in pandas, numerical',
      [0, 1, null, 1],
      'numerical',
      'integers with missing values (a float column in pandas)',
    ],
    ['NaN counts as missing', [0, 1, Number.NaN], 'numerical', /missing values/],
    ['strings', ['a', 'b', 'a', 'a'], 'categorical', 'text with 2 distinct values'],
    [
      'mostly unique strings',
      ['u1', 'u2', 'u3', 'u1'],
      'categorical',
      'text with 3 distinct values (Evidently would call it text)',
    ],
    ['booleans', [true, false, true], 'categorical', 'boolean values'],
    ['booleans with missing', [true, null, false], 'categorical', 'boolean values'],
    ['numbers and strings (object column)', [1, 'x', 2], 'categorical', 'text mixed with numbers'],
    ['strings and booleans', ['x', true], 'categorical', 'text mixed with booleans'],
    ['numbers and booleans', [1, true], 'categorical', 'numbers mixed with booleans'],
    ['all missing', [null, null], 'categorical', 'all values missing'],
    ['nothing observed', [], 'categorical', 'all values missing'],
  ]

  it.each(cases)('%s', (_name, values, kind, reason) => {
    const decision = observe(values).kind()
    expect(decision.kind).toBe(kind)
    if (typeof reason === 'string') expect(decision.reason).toBe(reason)
    else expect(decision.reason).toMatch(reason)
  })

  it('counts what it saw', () => {
    const observer = observe([1, 2.5, 'a', true, null, null, Number.NaN])
    expect({
      numbers: observer.numbers,
      strings: observer.strings,
      booleans: observer.booleans,
      nulls: observer.nulls,
      allIntegers: observer.allIntegers,
      count: observer.count,
    }).toEqual({ numbers: 2, strings: 1, booleans: 1, nulls: 3, allIntegers: false, count: 4 })
    expect(observer.distinctCount()).toEqual({ count: 4, exact: true })
  })

  it('keeps 1 and "1" and true apart, as pandas does in an object column', () => {
    expect(observe([1, '1', true, 1]).distinctCount()).toEqual({ count: 3, exact: true })
  })

  it('bounds the distinct values it keeps and still decides', () => {
    const observer = observe(range(10_000), 50)
    expect(observer.distinctCount()).toEqual({ count: 51, exact: false })
    expect(observer.kind()).toEqual({
      kind: 'numerical',
      reason: 'integers with more than 50 distinct values',
    })
    const text = observe(
      range(10_000).map((i) => `id${i}`),
      50,
    ).kind()
    expect(text).toEqual({ kind: 'categorical', reason: 'text with more than 50 distinct values' })
  })

  it('needs room for more distinct values than the integer limit', () => {
    expect(() => new ColumnKindObserver(integerCardinalityLimit)).toThrow(RangeError)
  })
})

describe('inferColumnKinds', () => {
  const observers = new Map([
    ['age', observe(range(60, 18))],
    ['plan', observe(['free', 'pro', 'free', 'free', 'pro'])],
    ['rooms', observe([1, 2, 3, 2])],
  ])

  it('infers every column, in order', () => {
    expect([...inferColumnKinds(observers)]).toEqual([
      ['age', { kind: 'numerical', reason: 'integers with 60 distinct values' }],
      ['plan', { kind: 'categorical', reason: 'text with 2 distinct values' }],
      ['rooms', { kind: 'categorical', reason: 'integers with 3 distinct values (at most 10)' }],
    ])
  })

  it('lets overrides win', () => {
    const kinds = inferColumnKinds(observers, { rooms: 'numerical', age: 'categorical' })
    expect(kinds.get('rooms')).toEqual({ kind: 'numerical', reason: 'set in configuration' })
    expect(kinds.get('age')).toEqual({ kind: 'categorical', reason: 'set in configuration' })
    expect(kinds.get('plan')?.kind).toBe('categorical')
  })

  it('refuses an override for a column it never saw', () => {
    expect(() => inferColumnKinds(observers, { agee: 'numerical' })).toThrow(UnknownColumnError)
    expect(() => inferColumnKinds(observers, { agee: 'numerical' })).toThrow(
      "unknown column 'agee' in column kind overrides; columns: age, plan, rooms",
    )
  })

  it('does not mistake an inherited name for an override', () => {
    const onlyToString = new Map([['toString', observe([1.5])]])
    expect(inferColumnKinds(onlyToString).get('toString')?.kind).toBe('numerical')
  })
})

describe('the file’s own types decide float columns (Evidently keeps them numerical)', () => {
  it('whole numbers typed as floats stay numerical however few their values', () => {
    const observer = observe([1, 2, 3, 3, 2, 1, 4, 5])
    expect(observer.kind().kind).toBe('categorical')
    observer.markFloat()
    expect(observer.kind()).toEqual({
      kind: 'numerical',
      reason: 'a float column (typed as floating point in the file) with 5 distinct values',
    })
  })

  it('text and booleans keep their rules even when a float was seen', () => {
    const text = observe(['a', 'b'])
    text.markFloat()
    expect(text.kind().kind).toBe('categorical')
    const flags = observe([true, false])
    flags.markFloat()
    expect(flags.kind().kind).toBe('categorical')
  })
})
