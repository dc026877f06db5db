// `driftwatch check` end to end, through the built binary, on the Evidently-checked dataset
// (test/fixtures/drift/dataset, made by test/fixtures/drift/generate.py).

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DriftReport } from '../../src/core/report.js'
import { runCli } from '../helpers/cli.js'

const dir = fileURLToPath(new URL('../fixtures/drift/dataset/', import.meta.url))
const reference = join(dir, 'reference.csv')
const current = join(dir, 'current.csv')
interface GoldenColumn {
  readonly kind: 'numerical' | 'categorical'
  readonly psi: number
  readonly ks?: number
  readonly wassersteinNormed?: number
  readonly evidently: {
    readonly autoTest: string
    readonly autoDrifted: boolean
    readonly autoScore: number
  }
}
const golden = JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8')) as {
  columns: Record<string, GoldenColumn>
  datasetDrift: { datasetDrift: boolean; shareOfDriftedColumns: number }
}

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'driftwatch-check-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('driftwatch check on the Evidently dataset', () => {
  let report: DriftReport
  let code: number | null

  // Evidently's verdicts exactly: the compatible mode (the default, calibrated, is checked below)
  beforeAll(async () => {
    const result = await runCli([
      'check',
      '--reference',
      reference,
      '--current',
      current,
      '--mode',
      'evidently',
      '--format',
      'json',
    ])
    code = result.code
    expect(result.stderr).toBe('')
    report = JSON.parse(result.stdout) as DriftReport
  })

  it('reaches Evidently’s dataset verdict and exits 1 on dataset drift', () => {
    expect(report.datasetDrift).toBe(golden.datasetDrift.datasetDrift)
    expect(report.driftShare).toBeCloseTo(golden.datasetDrift.shareOfDriftedColumns, 12)
    expect(code).toBe(1)
    expect(report.nReference).toBe(3000)
    expect(report.nCurrent).toBe(2500)
  })

  it('gives every column Evidently’s test and verdict, with scipy’s numbers', () => {
    expect(report.features.map((f) => f.name).sort()).toEqual(Object.keys(golden.columns).sort())
    for (const feature of report.features) {
      const g = golden.columns[feature.name] as GoldenColumn
      expect(feature.test, feature.name).toBe(g.evidently.autoTest)
      expect(feature.drifted, feature.name).toBe(g.evidently.autoDrifted)
      // scipy's numbers follow the column's pandas dtype; Evidently (and we) may call an integer
      // column with few values categorical, and then bin by category instead of decile
      if (feature.kind === g.kind) expect(feature.metrics.psi, feature.name).toBeCloseTo(g.psi, 9)
      if (g.ks !== undefined && feature.kind === 'numerical')
        expect(Math.abs((feature.metrics.ks ?? NaN) - g.ks)).toBeLessThanOrEqual(0.01)
      if (g.wassersteinNormed !== undefined && feature.kind === 'numerical') {
        expect(
          Math.abs((feature.metrics.wassersteinNormed ?? NaN) - g.wassersteinNormed),
        ).toBeLessThanOrEqual(0.02 * g.wassersteinNormed + 1e-9)
      }
    }
  })

  it('prints every metric that applies to each kind', () => {
    for (const f of report.features) {
      expect(Object.keys(f).sort()).toEqual(
        expect.arrayContaining([
          'name',
          'kind',
          'test',
          'statistic',
          'pValue',
          'threshold',
          'drifted',
          'severity',
          'metrics',
        ]),
      )
      const keys = Object.keys(f.metrics)
      const expected =
        f.kind === 'numerical'
          ? [
              'psi',
              'ks',
              'ksPValue',
              'wasserstein',
              'wassersteinNormed',
              'jensenShannon',
              'missingShare',
              'mean',
              'p50',
              'p95',
            ]
          : ['psi', 'jensenShannon', 'chiSquarePValue', 'missingShare', 'newCategoryShare']
      expect(keys, f.name).toEqual(expect.arrayContaining(expected))
    }
  })

  it('gives the same report from a reference snapshot as from the raw file', async () => {
    const snapshot = join(work, 'ref.json')
    const built = await runCli(['reference', 'build', '--input', reference, '--out', snapshot])
    expect(built.code).toBe(0)
    const fromSnapshot = await runCli([
      'check',
      '--reference',
      snapshot,
      '--current',
      current,
      '--mode',
      'evidently',
      '--format',
      'json',
    ])
    expect(fromSnapshot.code).toBe(1)
    // The raw file keeps its values, so KS and Wasserstein are exact; a snapshot of 3000 rows
    // keeps its sketch only. Everything else is the same, and those agree within the sketch's
    // accuracy (benchmarks/sketch-accuracy.bench.js).
    const sketched = JSON.parse(fromSnapshot.stdout) as DriftReport
    const sketchedOnly = ['ks', 'ksPValue', 'wasserstein', 'wassersteinNormed'] as const
    // Impact scores (and so the order of causes) read those statistics too; the kind does not.
    expect(sketched.diagnosis?.kind).toBe(report.diagnosis?.kind)
    const strip = ({ impact: _impact, diagnosis: _diagnosis, ...r }: DriftReport): unknown => ({
      ...r,
      features: r.features.map((f) => ({
        ...f,
        statistic: f.test === 'ks' || f.test === 'wasserstein' ? null : f.statistic,
        pValue: f.test === 'ks' ? null : f.pValue,
        metrics: Object.fromEntries(
          Object.entries(f.metrics).filter(
            ([k]) => !(sketchedOnly as readonly string[]).includes(k),
          ),
        ),
      })),
    })
    expect(strip(sketched)).toEqual(strip(report))
    for (const [i, feature] of sketched.features.entries()) {
      const exact = report.features[i]?.metrics
      if (feature.kind !== 'numerical' || exact === undefined) continue
      expect(
        Math.abs((feature.metrics.ks as number) - (exact.ks as number)),
        feature.name,
      ).toBeLessThan(0.01)
      const w = exact.wassersteinNormed as number
      expect(
        Math.abs((feature.metrics.wassersteinNormed as number) - w),
        feature.name,
      ).toBeLessThanOrEqual(0.02 * w)
    }
  })

  it('writes text and a self-contained HTML report', async () => {
    const text = await runCli(['check', '-r', reference, '-c', current])
    expect(text.stdout).toMatch(/^DATASET DRIFT: 5 of 9 features drifted/)
    const html = join(work, 'report.html')
    const written = await runCli([
      'check',
      '-r',
      reference,
      '-c',
      current,
      '--format',
      'html',
      '--out',
      html,
    ])
    expect(written.code).toBe(1)
    const page = await readFile(html, 'utf8')
    expect(page).toMatch(/^<!doctype html>/i)
    expect(page).not.toMatch(/(src|href)=["']https?:/)
  })

  it('in calibrated mode (the default), flags the same real drifts, each past its noise floor', async () => {
    const result = await runCli(['check', '-r', reference, '-c', current, '--format', 'json'])
    const calibrated = JSON.parse(result.stdout) as DriftReport
    expect(calibrated.mode).toBe('calibrated')
    expect(result.code).toBe(1)
    for (const f of calibrated.features) {
      const evidently = report.features.find((e) => e.name === f.name)
      expect(f.drifted, f.name).toBe(evidently?.drifted)
      expect(f.noiseFloor, f.name).toBeTypeOf('number')
      if (f.drifted) expect(f.statistic as number, f.name).toBeGreaterThan(f.noiseFloor as number)
    }
  })

  it('exits 0 when nothing drifted', async () => {
    const same = await runCli(['check', '-r', reference, '-c', reference, '--format', 'json'])
    expect(same.code).toBe(0)
    expect((JSON.parse(same.stdout) as DriftReport).nDrifted).toBe(0)
  })

  it('honours --columns and per-feature tests from --config', async () => {
    const config = join(work, 'drift.yaml')
    await writeFile(
      config,
      'driftShare: 0.5\nfeatures:\n  age:\n    test: ks\n    threshold: 0.01\nkinds:\n  categorical:\n    test: psi\n',
    )
    const result = await runCli([
      'check',
      '-r',
      reference,
      '-c',
      current,
      '--columns',
      'age,region',
      '--config',
      config,
      '--format',
      'json',
    ])
    const r = JSON.parse(result.stdout) as DriftReport
    expect(r.features.map((f) => [f.name, f.test, f.threshold])).toEqual([
      ['age', 'ks', 0.01],
      ['region', 'psi', 0.1],
    ])
  })
})

describe('driftwatch check errors (exit 2, one clear line)', () => {
  it.each([
    [['check', '-r', 'nope.csv', '-c', current], /nope\.csv/],
    [
      ['check', '-r', reference, '-c', current, '--columns', 'agee'],
      /unknown column 'agee'.*age, income/,
    ],
  ])('%j', async (args, message) => {
    const result = await runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('names the valid tests for an unknown one', async () => {
    const config = join(work, 'bad-test.yaml')
    await writeFile(config, 'test: psii\n')
    const result = await runCli(['check', '-r', reference, '-c', current, '--config', config])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(
      "unknown drift test 'psii'; available: ks, chisquare, z, psi, wasserstein, jensenshannon, kl_div, hellinger",
    )
  })

  it('reports every config mistake that needs the reference, once it is loaded', async () => {
    const snapshot = join(work, 'ref-for-config.json')
    expect(
      (await runCli(['reference', 'build', '--input', reference, '--out', snapshot])).code,
    ).toBe(0)
    const config = join(work, 'typos.yaml')
    await writeFile(
      config,
      'features:\n  agee:\n    threshold: 0.2\n  region:\n    test: ks\ncolumns:\n  age: categorical\n',
    )
    const result = await runCli(['check', '-r', snapshot, '-c', current, '--config', config])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.trim().split('\n')).toEqual([
      `driftwatch: error: ${config}: columns.age: a kind override cannot apply to a reference snapshot (its kinds were fixed when it was built); give this config to \`driftwatch reference build\` instead`,
      expect.stringMatching(/: features\.agee: unknown feature 'agee'; did you mean 'age'\?/),
      expect.stringMatching(
        /: features\.region\.test: ks does not fit feature 'region': ks applies to numerical features only/,
      ),
    ])
  })

  it('names the config field that is wrong', async () => {
    const config = join(work, 'bad-field.yaml')
    await writeFile(config, 'kinds:\n  numerical:\n    threshold: high\n')
    const result = await runCli(['check', '-r', reference, '-c', current, '--config', config])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/bad-field\.yaml: kinds\.numerical\.threshold: /)
  })

  it('gives the line number of an unreadable row', async () => {
    const broken = join(work, 'broken.csv')
    await writeFile(broken, 'age,income\n1,2\n3,4,5\n')
    const result = await runCli(['check', '-r', reference, '-c', broken, '--columns', 'age,income'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/broken\.csv:3/)
  })
})

describe('column kind overrides', () => {
  it('profiles an overridden column with the given kind', async () => {
    const snapshot = join(work, 'ref-kinds.json')
    const built = await runCli([
      'reference',
      'build',
      '-i',
      reference,
      '-o',
      snapshot,
      '--kind',
      'n_products=numerical',
      '--kind',
      'age=categorical',
    ])
    expect(built.code, built.stderr).toBe(0)
    const json = JSON.parse(await readFile(snapshot, 'utf8')) as {
      columns: Array<{ name: string; kind: string; kindReason: string }>
    }
    const byName = new Map(json.columns.map((c) => [c.name, c]))
    expect(byName.get('n_products')).toMatchObject({ kind: 'numerical', kindReason: 'override' })
    expect(byName.get('age')).toMatchObject({ kind: 'categorical', kindReason: 'override' })
    expect(byName.get('income')?.kind).toBe('numerical')
  })
})

describe('driftwatch check on data that cannot pass', () => {
  const header = 'a,b\n'
  const refRows = Array.from({ length: 200 }, (_, i) => `${(i % 37) / 3},${'xyz'[i % 3]}`).join(
    '\n',
  )
  let ref: string
  beforeAll(async () => {
    ref = join(work, 'quality-ref.csv')
    await writeFile(ref, header + refRows + '\n')
  })

  it.each([
    ['header only', header, /has no rows/],
    ['100 rows of empty cells', header + ',\n'.repeat(100), /every cell .* is empty \(100 rows/],
  ])('a current file with %s exits 2 naming the file', async (_, body, message) => {
    const path = join(work, `empty-${Math.random().toString(36).slice(2)}.csv`)
    await writeFile(path, body)
    const result = await runCli(['check', '-r', ref, '-c', path])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(path)
    expect(result.stderr).toMatch(message)
    // the same file as the reference fails the same way
    const asReference = await runCli(['check', '-r', path, '-c', ref])
    expect(asReference.code).toBe(2)
    expect(asReference.stderr).toContain(path)
  })

  it('a column going from 0 % to 61 % missing is a critical data-quality finding: exit 1', async () => {
    const rows = refRows.split('\n').map((row, i) => (i % 100 < 61 ? `,${row.split(',')[1]}` : row))
    const path = join(work, 'missing.csv')
    await writeFile(path, header + rows.join('\n') + '\n')
    const json = await runCli(['check', '-r', ref, '-c', path, '--format', 'json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout) as DriftReport
    expect(report.datasetDrift).toBe(false)
    expect(report.dataQuality).toMatchObject({
      severity: 'critical',
      nWarning: 0,
      nCritical: 1,
      incident: true,
    })
    // 122 of 400 cells.
    expect(report.dataQuality?.missingShare).toBeCloseTo(0.305, 12)
    // Quality first: the diagnosis names the emptied column, not drift.
    expect(report.diagnosis).toMatchObject({ kind: 'data-quality', topCauses: ['a'] })
    const a = report.features.find((f) => f.name === 'a')
    expect(a?.dataQuality?.findings[0]).toMatchObject({
      check: 'missingShare',
      severity: 'critical',
    })
    expect(a?.dataQuality?.findings[0]?.value).toBeCloseTo(0.61, 12)
    const text = await runCli(['check', '-r', ref, '-c', path])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^DATA QUALITY CRITICAL: 1 critical/m)
    expect(text.stdout).toMatch(/critical +a: missing share up \+61 points \(0 % → 61 %\)/)
  })

  it('numbers that became text are flagged as a type change, in JSON, text and HTML', async () => {
    const rows = refRows.split('\n').map((row, i) => `id-${i},${row.split(',')[1]}`)
    const path = join(work, 'retyped.csv')
    await writeFile(path, header + rows.join('\n') + '\n')
    const json = await runCli(['check', '-r', ref, '-c', path, '--format', 'json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout) as DriftReport
    const a = report.features.find((f) => f.name === 'a')
    expect(a?.severity).toBe('ok') // the drift test cannot run on it...
    expect(a?.dataQuality?.severity).toBe('critical') // ...and the column is flagged anyway
    expect(a?.dataQuality?.findings.map((f) => f.check)).toEqual(['typeChanged'])
    const html = join(work, 'retyped.html')
    const out = await runCli(['check', '-r', ref, '-c', path, '--format', 'html', '--out', html])
    expect(out.code).toBe(1)
    const page = await readFile(html, 'utf8')
    expect(page).toContain('<h2>Data quality</h2>')
    expect(page).toContain('<a href="#data-quality">findings</a>')
    expect(page).toContain('type changed: 100 % of present values are not numbers')
    expect(page.indexOf('<h2>Data quality</h2>')).toBeLessThan(
      page.indexOf('<h2>Feature drift</h2>'),
    )
  })
})

describe('test-suite conditions in check --config', () => {
  // The reference against itself: no drift, no data-quality finding, so only conditions decide.
  async function checkWith(config: unknown, format = 'json') {
    const path = join(work, `conditions-${Math.random().toString(36).slice(2)}.yaml`)
    await writeFile(path, JSON.stringify(config))
    return runCli(['check', '-r', reference, '-c', reference, '--config', path, '--format', format])
  }

  it('all conditions pass (an unknown one does not fail): exit 0, each in the report', async () => {
    const result = await checkWith({
      conditions: ['rows >= 3000', 'missingShare <= 0.05', 'driftShare < 0.3', 'precision >= 0.85'],
    })
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as DriftReport
    expect(report.conditions).toEqual([
      { condition: 'rows >= 3000', metric: 'rows', value: 3000, passed: true },
      {
        condition: 'missingShare <= 0.05',
        metric: 'missingShare',
        value: report.dataQuality?.missingShare,
        passed: true,
      },
      { condition: 'driftShare < 0.3', metric: 'driftShare', value: 0, passed: true },
      { condition: 'precision >= 0.85', metric: 'precision', value: null, passed: null },
    ])
    // The fixture has a few missing cells (under 1 %), the same on both sides.
    expect(report.dataQuality?.missingShare).toBeGreaterThan(0)
    expect(report.dataQuality?.missingShare).toBeLessThan(0.01)
    expect(report.diagnosis?.kind).toBe('none')
  })

  it('a failing condition exits 1 and says which, in JSON and text', async () => {
    const config = { conditions: ['rows >= 5000', 'feature.age.missingShare <= 0.01'] }
    const json = await checkWith(config)
    expect(json.code, json.stderr).toBe(1)
    const report = JSON.parse(json.stdout) as DriftReport
    expect(report.datasetDrift).toBe(false)
    expect(report.conditions?.map((c) => [c.condition, c.passed])).toEqual([
      ['rows >= 5000', false],
      ['feature.age.missingShare <= 0.01', true],
    ])
    const text = await checkWith(config, 'text')
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^conditions: 1 passed, 1 failed, 0 unknown$/m)
    expect(text.stdout).toMatch(/^ {2}FAILED {4}rows >= 5000 \(rows = 3000\)$/m)
  })

  it('an unknown metric or feature is a config error naming the field: exit 2', async () => {
    const metric = await checkWith({ conditions: ['rows >= 1', 'recal >= 0.9'] })
    expect(metric.code).toBe(2)
    expect(metric.stderr).toMatch(/conditions\[1\]: unknown metric 'recal'/)
    const feature = await checkWith({ conditions: ['feature.agee.missingShare <= 0.1'] })
    expect(feature.code).toBe(2)
    expect(feature.stderr).toMatch(/conditions\[0\]: unknown feature 'agee'/)
  })

  it('the diagnosis ranks drifted features by configured importance (Evidently dataset)', async () => {
    const path = join(work, 'importance.yaml')
    await writeFile(path, JSON.stringify({ importance: { channel: 10, balance: 1 } }))
    const result = await runCli([
      'check',
      '-r',
      reference,
      '-c',
      current,
      '--config',
      path,
      '--mode',
      'evidently',
      '--format',
      'json',
    ])
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout) as DriftReport
    expect(report.impact?.importanceSource).toBe('config')
    expect(report.diagnosis?.kind).toBe('covariate-shift')
    // channel drifted with most of the importance: the first cause, whatever its statistic.
    expect(report.diagnosis?.topCauses[0]).toBe('channel')
  })
})

describe('check with ground truth: a label column beside the prediction', () => {
  // 400 rows each: an input x the same in both files, a 0/1 prediction and a 0/1 label. In the
  // reference the model is right but for 1 row in 20; in the current file it flags as positive
  // most of the negatives of every fourth row group, so precision collapses while x stays put.
  function rows(collapse: boolean): string {
    const lines = ['x,prediction,label']
    for (let i = 0; i < 400; i++) {
      const label = i % 3 === 0 ? 1 : 0
      const wrong = collapse ? label === 0 && i % 4 !== 3 : i % 20 === 7
      const prediction = wrong ? 1 - label : label
      lines.push(`${((i * 37) % 101) / 10},${prediction},${label}`)
    }
    return lines.join('\n') + '\n'
  }
  /** precision, recall and accuracy written out from the rows. */
  function metricsOf(text: string): { precision: number; recall: number; accuracy: number } {
    const pairs = text
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').slice(1).map(Number) as [number, number])
    const count = (p: number, l: number): number =>
      pairs.filter(([a, b]) => a === p && b === l).length
    const tp = count(1, 1)
    return {
      precision: tp / (tp + count(1, 0)),
      recall: tp / (tp + count(0, 1)),
      accuracy: (tp + count(0, 0)) / pairs.length,
    }
  }

  it('precision collapses: the condition fails with its value, performance is critical, exit 1', async () => {
    const ref = join(work, 'labelled-ref.csv')
    const cur = join(work, 'labelled-cur.csv')
    await writeFile(ref, rows(false))
    await writeFile(cur, rows(true))
    const config = join(work, 'labelled.yaml')
    await writeFile(config, JSON.stringify({ conditions: ['precision >= 0.85', 'recall >= 0.9'] }))
    const result = await runCli(['check', '-r', ref, '-c', cur, '--config', config, '-f', 'json'])
    expect(result.code, result.stderr).toBe(1)
    const report = JSON.parse(result.stdout) as DriftReport
    const now = metricsOf(rows(true))
    const before = metricsOf(rows(false))
    expect(now.precision).toBeLessThan(0.5)
    // the label is the ground truth, not a feature; x is the same: no drift decides the exit
    expect(report.features.map((f) => f.name)).toEqual(['x'])
    expect(report.datasetDrift).toBe(false)
    expect(report.conditions).toEqual([
      { condition: 'precision >= 0.85', metric: 'precision', value: now.precision, passed: false },
      { condition: 'recall >= 0.9', metric: 'recall', value: now.recall, passed: true },
    ])
    expect(report.performance).toMatchObject({
      metric: 'accuracy',
      nLabels: 400,
      severity: 'critical',
      degraded: true,
    })
    expect(report.performance?.value).toBeCloseTo(now.accuracy, 12)
    expect(report.performance?.baseline).toBeCloseTo(before.accuracy, 12)
    expect(report.performance?.current.precision).toBeCloseTo(now.precision, 12)
    expect(report.performance?.reference?.precision).toBeCloseTo(before.precision, 12)
    expect(report.labelDrift).toMatchObject({ name: 'label', drifted: false })
    // the same run in text: the performance line and the failed condition
    const text = await runCli(['check', '-r', ref, '-c', cur, '--config', config])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^performance \(accuracy\): .*DEGRADED, critical; 400 labels$/m)
    expect(text.stdout).toMatch(/^ {2}FAILED {4}precision >= 0\.85 \(precision = /m)
    // a label column of another name, with --label-column; without it, it is a feature
    const truth = (text: string): string => text.replace('x,prediction,label', 'x,prediction,truth')
    const refTruth = join(work, 'truth-ref.csv')
    const curTruth = join(work, 'truth-cur.csv')
    await writeFile(refTruth, truth(rows(false)))
    await writeFile(curTruth, truth(rows(true)))
    const named = await runCli([
      'check',
      '-r',
      refTruth,
      '-c',
      curTruth,
      '--label-column',
      'truth',
      '-f',
      'json',
    ])
    expect(named.code, named.stderr).toBe(1)
    const namedReport = JSON.parse(named.stdout) as DriftReport
    expect(namedReport.features.map((f) => f.name)).toEqual(['x'])
    expect(namedReport.performance?.value).toBeCloseTo(now.accuracy, 12)
    const unnamed = await runCli(['check', '-r', refTruth, '-c', curTruth, '-f', 'json'])
    const unnamedReport = JSON.parse(unnamed.stdout) as DriftReport
    expect(unnamedReport.features.map((f) => f.name)).toEqual(['x', 'truth'])
    expect(unnamedReport.performance).toBeUndefined()
  })

  it('the reference against itself passes the same conditions: exit 0', async () => {
    const ref = join(work, 'labelled-ref.csv')
    const config = join(work, 'labelled-pass.yaml')
    await writeFile(config, JSON.stringify({ conditions: ['precision >= 0.85'] }))
    const result = await runCli(['check', '-r', ref, '-c', ref, '--config', config, '-f', 'json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as DriftReport
    expect(report.conditions?.[0]).toMatchObject({ passed: true })
    expect(report.performance).toMatchObject({ severity: 'ok', drop: 0 })
  })
})

// --threads: the files read and the columns compared on worker threads (app/check-pool.ts) give
// the in-thread report, byte for byte, and the same errors.
describe('check on worker threads', () => {
  // Every kind of column, a prediction and a latency beside the features, a new category, values
  // of another type in a numerical column and missing cells: each goes through the workers.
  async function mixedFiles(): Promise<{ ref: string; cur: string }> {
    const ref = join(work, 'threads-ref.csv')
    const cur = join(work, 'threads-cur.csv')
    const row = (i: number, shift: number): string =>
      [
        ((i * 7919) % 1000) / 10 + shift,
        i % 3 === 0 ? '' : ['a', 'b', 'c', shift > 0 && i % 5 === 0 ? 'new' : 'a'][i % 4],
        i % 97 === 0 && shift > 0 ? 'n/a' : (i % 13) + shift,
        (i % 11) / 10,
        20 + (i % 50) + shift * 3,
      ].join(',')
    const header = 'x,group,count,prediction,latencyMs\n'
    await writeFile(
      ref,
      header + Array.from({ length: 3000 }, (_, i) => row(i, 0)).join('\n') + '\n',
    )
    await writeFile(
      cur,
      header + Array.from({ length: 2000 }, (_, i) => row(i, 1)).join('\n') + '\n',
    )
    return { ref, cur }
  }

  it('gives the in-thread report byte for byte, in JSON and text, from a file and a snapshot', async () => {
    const { ref, cur } = await mixedFiles()
    const snapshot = join(work, 'threads-ref.json')
    expect((await runCli(['reference', 'build', '--input', ref, '--out', snapshot])).code).toBe(0)
    for (const [r, c] of [
      [reference, current],
      [ref, cur],
      [snapshot, cur],
    ] as const) {
      for (const format of ['json', 'text']) {
        const one = await runCli(['check', '-r', r, '-c', c, '-f', format, '--threads', '1'])
        const two = await runCli(['check', '-r', r, '-c', c, '-f', format, '--threads', '2'])
        expect(one.code, one.stderr).not.toBe(2)
        expect(two.code).toBe(one.code)
        expect(two.stdout).toBe(one.stdout)
      }
    }
    const json = await runCli(['check', '-r', ref, '-c', cur, '-f', 'json', '--threads', '3'])
    const report = JSON.parse(json.stdout) as DriftReport
    expect(report.features.map((f) => f.name)).toEqual(['x', 'group', 'count'])
    expect(report.predictionDrift).toBeDefined()
    expect(report.latency).toBeDefined()
  }, 300_000)

  it('fails on a broken current or reference file as the in-thread path does', async () => {
    const broken = join(work, 'threads-broken.csv')
    await writeFile(broken, 'age,income\n1,2\n3,4,5\n')
    for (const args of [
      ['-r', reference, '-c', broken, '--columns', 'age,income'],
      ['-r', broken, '-c', current],
    ]) {
      const one = await runCli(['check', ...args, '--threads', '1'])
      const two = await runCli(['check', ...args, '--threads', '2'])
      expect(one.code).toBe(2)
      expect(two.code).toBe(2)
      expect(two.stderr).toMatch(/threads-broken\.csv:3/)
      expect(two.stderr).toBe(one.stderr)
    }
  })

  it('refuses a thread count that is not a whole number of at least 1', async () => {
    const result = await runCli(['check', '-r', reference, '-c', current, '--threads', '0'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--threads/)
  })
})
