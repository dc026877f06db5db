// Test-suite conditions (core/conditions.ts, config/conditions.ts): the grammar users write, the
// config errors that name the field, evaluation with unknown values, and the values a drift
// report gives them.

import { describe, expect, it } from 'vitest'
import { layerConfigProblems } from '../../../src/config/conditions.js'
import { checkConfigSchema } from '../../../src/config/drift.js'
import { validateConfig } from '../../../src/config/load.js'
import { serviceConfigSchema } from '../../../src/config/service.js'
import {
  evaluateConditions,
  metricValues,
  parseCondition,
  parseConditions,
} from '../../../src/core/conditions.js'
import { assessVolume } from '../../../src/core/data-quality.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { evaluateDrift } from '../../../src/core/evaluate.js'
import { withLayers } from '../../../src/core/layers.js'
import { addRow, createDatasetProfile, layoutOf } from '../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import { ConfigError } from '../../../src/errors.js'

describe('parseCondition', () => {
  it.each([
    ['precision >= 0.85', 'precision', '>=', 0.85],
    ['recall>=0.9', 'recall', '>=', 0.9],
    ['rows >= 1000', 'rows', '>=', 1000],
    ['  missingShare <= 0.05 ', 'missingShare', '<=', 0.05],
    ['driftShare < 0.3', 'driftShare', '<', 0.3],
    ['nDrifted == 0', 'nDrifted', '==', 0],
    ['latencyP99 < 1.5e2', 'latencyP99', '<', 150],
    ['rows != -1', 'rows', '!=', -1],
    ['volumeRatio > .5', 'volumeRatio', '>', 0.5],
  ])('reads %s', (text, metric, operator, bound) => {
    const parsed = parseCondition(text)
    expect(parsed).toEqual({
      ok: true,
      condition: { text: text.trim(), metric, operator, bound },
    })
  })

  it('reads feature metrics, with dots in the feature name', () => {
    const parsed = parseCondition('feature.user.age.missingShare <= 0.01')
    expect(parsed).toEqual({
      ok: true,
      condition: {
        text: 'feature.user.age.missingShare <= 0.01',
        metric: 'feature.user.age.missingShare',
        feature: 'user.age',
        operator: '<=',
        bound: 0.01,
      },
    })
  })

  it.each([
    ['precison >= 0.85', /unknown metric 'precison'; known: rows, missingShare/],
    ['feature.amount.mean <= 3', /unknown feature metric 'feature.amount.mean'/],
    ['feature.missingShare <= 3', /unknown feature metric/],
    ['recall => 0.9', /cannot read condition 'recall => 0.9'/],
    ['recall >= high', /cannot read condition/],
    ['recall >= 0.9 and rows > 3', /cannot read condition/],
    ['', /cannot read condition/],
  ])('refuses %j', (text, message) => {
    const parsed = parseCondition(text)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.message).toMatch(message)
  })
})

describe('conditions in config', () => {
  const service = (conditions: unknown): unknown => ({
    kafka: { brokers: ['k:9092'] },
    redis: { url: 'redis://r:6379' },
    models: [{ name: 'fraud' }, { name: 'churn', conditions }],
  })

  it('accepts the users’ conditions per model', () => {
    const config = validateConfig(
      service(['precision >= 0.85', 'recall >= 0.90', 'rows >= 1000', 'missingShare <= 0.05']),
      serviceConfigSchema,
      'driftwatch.yaml',
    )
    expect(config.models[1]?.conditions).toHaveLength(4)
    expect(config.models[0]?.conditions).toBeUndefined()
  })

  it('names the field of an unknown metric: models[1].conditions[1]', () => {
    expect(() =>
      validateConfig(
        service(['rows >= 1000', 'recal >= 0.9']),
        serviceConfigSchema,
        'driftwatch.yaml',
      ),
    ).toThrow(/driftwatch\.yaml: models\[1\]\.conditions\[1\]: unknown metric 'recal'/)
  })

  it('check --config takes conditions and importance next to the drift settings', () => {
    const config = validateConfig(
      { driftShare: 0.3, conditions: ['rows >= 10'], importance: { a: 2 } },
      checkConfigSchema,
      'drift.yaml',
    )
    expect(config).toMatchObject({ driftShare: 0.3, conditions: ['rows >= 10'] })
    expect(() =>
      validateConfig({ conditions: ['rows >> 10'] }, checkConfigSchema, 'drift.yaml'),
    ).toThrow(ConfigError)
  })

  it('names features the reference lacks, in conditions and importance', () => {
    expect(
      layerConfigProblems({
        conditions: ['rows > 1', 'feature.amont.missingShare <= 0.1'],
        importance: { amount: 1, contry: 2 },
        features: ['amount', 'country'],
        prefix: 'models[0].',
      }),
    ).toEqual([
      {
        path: 'models[0].conditions[1]',
        message: "unknown feature 'amont'; features: amount, country",
      },
      {
        path: 'models[0].importance.contry',
        message: "unknown feature 'contry'; features: amount, country",
      },
    ])
  })
})

describe('evaluateConditions', () => {
  const values = new Map([
    ['rows', 1000],
    ['missingShare', 0.05],
    ['feature.a.missingShare', 0.2],
  ])

  it('passes and fails on the bound, both ways of every operator', () => {
    const results = evaluateConditions(
      parseConditions([
        'rows >= 1000',
        'rows > 1000',
        'missingShare <= 0.05',
        'missingShare < 0.05',
        'rows == 1000',
        'rows != 1000',
        'feature.a.missingShare <= 0.01',
      ]),
      values,
    )
    expect(results.map((r) => r.passed)).toEqual([true, false, true, false, true, false, false])
    expect(results[6]).toEqual({
      condition: 'feature.a.missingShare <= 0.01',
      metric: 'feature.a.missingShare',
      value: 0.2,
      passed: false,
    })
  })

  it('a metric no layer measured is unknown (null), never a failure', () => {
    expect(evaluateConditions(parseConditions(['precision >= 0.85']), values)).toEqual([
      { condition: 'precision >= 0.85', metric: 'precision', value: null, passed: null },
    ])
  })

  it('other layers plug in by adding their values to the map', () => {
    const extended = new Map([...values, ['precision', 0.8]])
    expect(evaluateConditions(parseConditions(['precision >= 0.85']), extended)[0]?.passed).toBe(
      false,
    )
  })
})

describe('conditions on a real report', () => {
  const builder = new ReferenceBuilder([
    { name: 'amount', kind: 'numerical', reason: 'test' },
    { name: 'country', kind: 'categorical', reason: 'test' },
  ])
  for (let i = 0; i < 1000; i++) builder.add({ amount: i % 100, country: ['us', 'de'][i % 2] })
  const reference = builder.build()
  const current = createDatasetProfile(layoutOf(reference))
  // 400 rows: amount missing in a quarter of them, country always there.
  for (let i = 0; i < 400; i++)
    addRow(current, { amount: i % 4 === 0 ? null : i % 100, country: ['us', 'de'][i % 2] })
  const report = evaluateDrift(reference, current, {
    registry: createDefaultRegistry(),
    settings: { driftShare: 0.5 },
  })

  it('gives rows, the dataset missing share and each feature’s metrics', () => {
    const values = metricValues(report)
    expect(values.get('rows')).toBe(400)
    // 100 missing cells of 800.
    expect(values.get('missingShare')).toBeCloseTo(100 / 800, 12)
    expect(values.get('feature.amount.missingShare')).toBeCloseTo(0.25, 12)
    expect(values.get('feature.country.missingShare')).toBe(0)
    expect(values.get('nDrifted')).toBe(report.nDrifted)
    expect(values.has('volumeRatio')).toBe(false)
  })

  it('gives volumeRatio when the stream measured the volume', () => {
    const judged = withLayers(report, {
      conditions: parseConditions(['volumeRatio >= 0.5']),
      volume: assessVolume(400, 3_600_000, { perHour: 1000, source: 'config' }),
    })
    expect(judged.conditions).toEqual([
      { condition: 'volumeRatio >= 0.5', metric: 'volumeRatio', value: 0.4, passed: false },
    ])
  })

  it('lands in the report as conditions: [{condition, metric, value, passed}]', () => {
    const judged = withLayers(report, {
      conditions: parseConditions([
        'rows >= 1000',
        'feature.amount.missingShare <= 0.3',
        'recall >= 0.9',
      ]),
    })
    expect(judged.conditions).toEqual([
      { condition: 'rows >= 1000', metric: 'rows', value: 400, passed: false },
      {
        condition: 'feature.amount.missingShare <= 0.3',
        metric: 'feature.amount.missingShare',
        value: 0.25,
        passed: true,
      },
      { condition: 'recall >= 0.9', metric: 'recall', value: null, passed: null },
    ])
  })
})
