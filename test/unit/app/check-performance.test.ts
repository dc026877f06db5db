// `driftwatch check` with ground truth: a label column beside the prediction column. Through the
// whole check path from raw rows in CSV files, the current file's metrics must be scikit-learn's
// on the same rows (test/fixtures/performance, made by generate.py), the reference file's pairs
// the baseline, and the conditions on performance metrics must get those values.

import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { snapshotToJSON, writeReferenceFile } from '../../../src/adapters/files/reference-file.js'
import { buildReferenceFromFile, runCheck } from '../../../src/app/check.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { failedConditions } from '../../../src/core/layers.js'
import type { PerformanceMetricName } from '../../../src/core/performance/metrics.js'
import type { PerformanceTask } from '../../../src/core/performance/summary.js'
import { renderHtmlReport } from '../../../src/report/html.js'
import { renderTextReport } from '../../../src/report/text.js'
import { mulberry32, normal } from '../../helpers/random.js'

interface FixtureRow {
  readonly label: number | string
  readonly prediction?: number | string
}
interface FixtureCase {
  readonly name: string
  readonly settings: { task: PerformanceTask; positiveClass: string; threshold: number }
  readonly rows: readonly FixtureRow[]
  readonly expected: Partial<Record<PerformanceMetricName, number>>
  readonly binnedRocAuc?: Record<string, number>
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/performance/performance.json', import.meta.url), 'utf8'),
) as { cases: FixtureCase[] }
const caseNamed = (name: string): FixtureCase => {
  const found = fixture.cases.find((c) => c.name === name)
  if (found === undefined) throw new Error(`no fixture case ${name}`)
  return found
}

const now = (): Date => new Date(0)
const settings = driftSettingsOf(driftSectionSchema.parse({}))
let work: string

/** The rows as a CSV of an input feature x (stable noise), the prediction and the label. */
async function csv(name: string, rows: readonly FixtureRow[], seed: number): Promise<string> {
  const rng = mulberry32(seed)
  const lines = ['x,prediction,label']
  for (const row of rows)
    lines.push(`${normal(rng, 0, 1).toFixed(4)},${String(row.prediction)},${String(row.label)}`)
  const path = join(work, name)
  await writeFile(path, lines.join('\n') + '\n')
  return path
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'driftwatch-check-performance-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('check scores the current file against its labels as scikit-learn does', () => {
  // The multiclass case carries per-class scores, which a file's one prediction column cannot
  // (app/performance-baseline.ts says the same of the stream's baseline): it is left out here.
  const cases = [
    { name: 'binary-scores', task: undefined, positiveClass: undefined },
    { name: 'binary-classes', task: 'binary' as const, positiveClass: 'fraud' },
    { name: 'regression', task: undefined, positiveClass: undefined },
  ]
  for (const { name, task, positiveClass } of cases) {
    it(`${name}: every metric, on both files, and the conditions' values`, async () => {
      const c = caseNamed(name)
      // The reference holds the same pairs in another order: same metrics, no degradation.
      const reference = await csv(`${name}-ref.csv`, [...c.rows].reverse(), 1)
      const current = await csv(`${name}-cur.csv`, c.rows, 2)
      const metrics = Object.keys(c.expected) as PerformanceMetricName[]
      const { report } = await runCheck({
        reference,
        current,
        settings,
        now,
        performance: { task, positiveClass },
        conditions: metrics.map((m) => `${m} >= 0.5`),
      })
      // The label is the ground truth, not an input: never a feature.
      expect(report.features.map((f) => f.name)).toEqual(['x'])
      const p = report.performance
      expect(p?.current.task).toBe(c.settings.task)
      expect(p?.nLabels).toBe(c.rows.length)
      for (const metric of metrics) {
        // ROC AUC comes from 100-bin score histograms: scikit-learn's AUC of the binned scores,
        // within the reported bound of the exact one (core/performance/metrics.ts)
        const expected =
          metric === 'rocAuc' ? (c.binnedRocAuc?.['100'] as number) : (c.expected[metric] as number)
        expect(p?.current[metric], metric).toBeCloseTo(expected, 10)
        expect(p?.reference?.[metric], metric).toBeCloseTo(expected, 10)
        const condition = report.conditions?.find((x) => x.metric === metric)
        expect(condition?.value, metric).toBeCloseTo(expected, 10)
        expect(condition?.passed, metric).toBe(expected >= 0.5)
      }
      if (c.expected.rocAuc !== undefined) {
        const error = Math.abs((p?.current.rocAuc ?? NaN) - c.expected.rocAuc)
        expect(error).toBeLessThanOrEqual(p?.current.rocAucMaxError ?? 0)
      }
      expect(p).toMatchObject({ degraded: false, severity: 'ok' })
      expect(p?.drop).toBeCloseTo(0, 12)
      expect(p?.insufficientData).toBeUndefined()
      if (c.settings.task !== 'regression')
        expect(report.labelDrift).toMatchObject({ name: 'label', drifted: false })
      else expect(report.labelDrift).toBeUndefined()
    })
  }

  it('judges a collapse of precision against the reference: critical, and the condition fails', async () => {
    const c = caseNamed('binary-classes')
    const reference = await csv('classes-ref.csv', c.rows, 3)
    // Half of the `ok` rows now predicted `fraud`: precision collapses, recall stays.
    const collapsed = c.rows.map((row, i) =>
      row.label === 'ok' && i % 2 === 0 ? { ...row, prediction: 'fraud' } : row,
    )
    const current = await csv('classes-cur.csv', collapsed, 4)
    const { report } = await runCheck({
      reference,
      current,
      settings,
      now,
      performance: { task: 'binary', positiveClass: 'fraud', metric: 'precision' },
      conditions: ['precision >= 0.85'],
    })
    // precision written out from the rows: true fraud among predicted fraud
    const predicted = collapsed.filter((r) => r.prediction === 'fraud')
    const precision = predicted.filter((r) => r.label === 'fraud').length / predicted.length
    const p = report.performance
    expect(p?.metric).toBe('precision')
    expect(p?.value).toBeCloseTo(precision, 12)
    expect(p?.baseline).toBeCloseTo(c.expected.precision as number, 10)
    expect(p?.drop).toBeCloseTo((c.expected.precision as number) - precision, 10)
    expect(p?.severity).toBe('critical')
    expect(failedConditions(report)).toEqual(['precision >= 0.85'])
    expect(report.diagnosis?.alsoSeen.concat(report.diagnosis.kind)).toContain('concept-drift')
    const text = renderTextReport(report)
    expect(text).toContain(`performance (precision): ${precision.toPrecision(4)}`)
    expect(text).toContain('DEGRADED, critical')
    const html = renderHtmlReport(report, {
      referenceLabel: 'ref',
      currentLabel: 'cur',
      generatedAt: 'now',
      version: 'test',
    })
    expect(html).toContain('<section class="card" id="model"><h2>Model</h2><h3>Performance</h3>')
    expect(html).toContain('<tr data-metric="precision">')
  })

  it('against a reference snapshot: metrics and conditions, but no baseline to judge', async () => {
    const c = caseNamed('binary-scores')
    const rows = await csv('scores-ref.csv', c.rows, 5)
    const snapshot = await buildReferenceFromFile(rows, { now, excludeColumns: ['label'] })
    const snapshotPath = join(work, 'scores.snapshot.json')
    const { id: _id, ...rest } = snapshot
    await writeReferenceFile(snapshotPath, snapshotToJSON(rest))
    const { report } = await runCheck({
      reference: snapshotPath,
      current: rows,
      settings,
      now,
      conditions: ['recall >= 0.99'],
    })
    expect(report.performance?.value).toBeCloseTo(c.expected.accuracy as number, 10)
    expect(report.performance?.baseline).toBeNull()
    expect(report.performance?.insufficientData?.reason).toMatch(/no baseline accuracy/)
    expect(report.conditions?.[0]).toMatchObject({ passed: false })
    expect(report.conditions?.[0]?.value).toBeCloseTo(c.expected.recall as number, 10)
  })

  it("a current file without labels: the reference's label is still no feature, and no score", async () => {
    const c = caseNamed('binary-scores')
    const reference = await csv('scores-labelled.csv', c.rows, 6)
    const unlabelled = join(work, 'scores-unlabelled.csv')
    await writeFile(
      unlabelled,
      (await csv('scores-tmp.csv', c.rows, 7).then((p) => readFileSync(p, 'utf8')))
        .split('\n')
        .map((line) => line.split(',').slice(0, 2).join(','))
        .join('\n'),
    )
    const { report } = await runCheck({
      reference,
      current: unlabelled,
      settings,
      now,
      conditions: ['precision >= 0.85'],
    })
    expect(report.features.map((f) => f.name)).toEqual(['x'])
    expect(report.performance).toBeUndefined()
    expect(report.conditions?.[0]).toMatchObject({ value: null, passed: null })
  })

  it('scoring asked for, and the current file has no label column: an error naming it', async () => {
    const c = caseNamed('binary-scores')
    const reference = await csv('scores-required.csv', c.rows, 8)
    const unlabelled = join(work, 'scores-required-cur.csv')
    await writeFile(unlabelled, 'x,prediction\n0.1,0.9\n0.2,0.1\n')
    await expect(
      runCheck({
        reference,
        current: unlabelled,
        settings,
        now,
        performance: { labelColumn: 'label', required: true },
      }),
    ).rejects.toThrow(/unknown column 'label' in .*scores-required-cur\.csv \(performance\)/)
  })
})
