// Performance metrics against scikit-learn (test/fixtures/performance, generate.py), from the raw
// rows and from the summaries of chunks merged as a window merges its buckets; plus the Redis
// field encoding round trip the stream relies on.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  computePerformance,
  labelCounts,
  type PerformanceMetricName,
} from '../../../../src/core/performance/metrics.js'
import {
  addPair,
  decodeSummary,
  defaultPerformanceSettings,
  emptySummary,
  encodeSummary,
  mergeSummaries,
  type PerformanceSettings,
  type PerformanceSummary,
  type PerformanceTask,
} from '../../../../src/core/performance/summary.js'

interface FixtureRow {
  readonly label: number | string
  readonly prediction?: number | string
  readonly scores?: Record<string, number>
}
interface FixtureCase {
  readonly name: string
  readonly settings: { task: PerformanceTask; positiveClass: string; threshold: number }
  readonly rows: readonly FixtureRow[]
  readonly expected: Partial<Record<PerformanceMetricName, number>>
  readonly binnedRocAuc?: Record<string, number>
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/performance/performance.json', import.meta.url), 'utf8'),
) as { cases: FixtureCase[]; versions: Record<string, string> }

function settingsOf(c: FixtureCase, scoreBins = 100): PerformanceSettings {
  return { ...defaultPerformanceSettings, ...c.settings, scoreBins }
}

function summaryOf(rows: readonly FixtureRow[], settings: PerformanceSettings): PerformanceSummary {
  const summary = emptySummary()
  for (const row of rows) addPair(summary, settings, row, row.label)
  return summary
}

/** Chunks of uneven sizes (7, 70, 700, …), summarised one by one, merged in reverse order. */
function mergedChunks(
  rows: readonly FixtureRow[],
  settings: PerformanceSettings,
): PerformanceSummary {
  const chunks: PerformanceSummary[] = []
  let start = 0
  for (let size = 7; start < rows.length; size = size === 700 ? 7 : size * 10) {
    chunks.push(summaryOf(rows.slice(start, start + size), settings))
    start += size
  }
  expect(chunks.length).toBeGreaterThan(3)
  // Each through its JSON form, as buckets come back from the store.
  return chunks
    .reverse()
    .reduce(
      (into, chunk) =>
        mergeSummaries(into, decodeSummary(JSON.parse(JSON.stringify(encodeSummary(chunk))), 't')),
      emptySummary(),
    )
}

describe('performance metrics match scikit-learn', () => {
  it('records the versions that made the fixture', () => {
    expect(Object.keys(fixture.versions).sort()).toEqual(['numpy', 'scikit-learn'])
    expect(fixture.cases.map((c) => c.name)).toEqual([
      'binary-scores',
      'binary-classes',
      'multiclass-scores',
      'regression',
    ])
  })

  for (const c of fixture.cases) {
    for (const source of ['raw rows', 'merged chunks'] as const) {
      it(`${c.name}, from ${source}`, () => {
        const settings = settingsOf(c)
        const summary =
          source === 'raw rows' ? summaryOf(c.rows, settings) : mergedChunks(c.rows, settings)
        const metrics = computePerformance(summary, settings)
        expect(metrics.n).toBe(c.rows.length)
        expect(metrics.unusable).toBe(0)
        for (const [name, expected] of Object.entries(c.expected)) {
          const actual = metrics[name as PerformanceMetricName]
          if (name === 'rocAuc') {
            // From 100-bin histograms: within the bound it reports of the exact AUC.
            const bound = metrics.rocAucMaxError as number
            expect(bound).toBeGreaterThan(0)
            expect(bound).toBeLessThan(0.01)
            expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(bound)
            continue
          }
          expect(actual, name).toBeCloseTo(expected, 10)
        }
      })
    }
  }

  it('histogram ROC AUC equals scikit-learn on the binned scores, and tightens with more bins', () => {
    const c = fixture.cases.find((x) => x.name === 'binary-scores') as FixtureCase
    const exact = c.expected.rocAuc as number
    const errors: number[] = []
    for (const [bins, expected] of Object.entries(c.binnedRocAuc ?? {})) {
      const settings = settingsOf(c, Number(bins))
      const metrics = computePerformance(mergedChunks(c.rows, settings), settings)
      expect(metrics.rocAuc).toBeCloseTo(expected, 12)
      expect(Math.abs((metrics.rocAuc as number) - exact)).toBeLessThanOrEqual(
        metrics.rocAucMaxError as number,
      )
      errors.push(metrics.rocAucMaxError as number)
    }
    expect(errors).toHaveLength(2)
    // 1000 bins: about a tenth of 100 bins' bound.
    expect(errors[1] as number).toBeLessThan((errors[0] as number) / 5)
  })

  it('counts labels per class for label drift (binary: positive class and the rest)', () => {
    const c = fixture.cases.find((x) => x.name === 'binary-classes') as FixtureCase
    const settings = settingsOf(c)
    const counts = labelCounts(summaryOf(c.rows, settings), settings)
    const fraud = c.rows.filter((r) => r.label === 'fraud').length
    expect(counts).toEqual(
      new Map([
        ['fraud', fraud],
        ['not fraud', c.rows.length - fraud],
      ]),
    )
  })
})

describe('unusable pairs', () => {
  it('counts a prediction of the wrong type apart, and scores the rest', () => {
    const settings: PerformanceSettings = { ...defaultPerformanceSettings, task: 'regression' }
    const summary = emptySummary()
    addPair(summary, settings, { prediction: 'high' }, 3)
    addPair(summary, settings, { prediction: 4 }, 2)
    const metrics = computePerformance(summary, settings)
    expect(metrics).toMatchObject({ n: 1, unusable: 1, mae: 2, rmse: 2, mape: 1 })
  })

  it('a binary score outside [0, 1] falls back to the class it names', () => {
    const settings: PerformanceSettings = { ...defaultPerformanceSettings, task: 'binary' }
    const summary = emptySummary()
    addPair(summary, settings, { prediction: 1 }, true)
    addPair(summary, settings, { prediction: 7 }, 1)
    addPair(summary, settings, { prediction: false }, 0)
    const metrics = computePerformance(summary, settings)
    expect(metrics).toMatchObject({ n: 3, accuracy: 2 / 3, precision: 1, recall: 0.5 })
  })

  it('rejects a corrupt stored summary naming where it came from', () => {
    expect(() => decodeSummary([['n', 'x']], 'bucket 5')).toThrow(/bucket 5.*invalid/)
  })
})
