// `driftwatch check` with the model's outputs in the files: a `prediction` column (or the one
// named) is compared apart from the features (predictionDrift), a `latencyMs` column gives the
// latency section; both travel through a reference snapshot.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { snapshotToJSON, writeReferenceFile } from '../../../src/adapters/files/reference-file.js'
import { buildReferenceFromFile, runCheck } from '../../../src/app/check.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { renderTextReport } from '../../../src/report/text.js'
import { mulberry32, normal } from '../../helpers/random.js'

const now = (): Date => new Date(0)
const settings = driftSettingsOf(driftSectionSchema.parse({}))
let work: string

/** Rows of x, a 0/1 prediction with the given positive share, and a latency (× `slower`). */
async function csv(
  name: string,
  rows: number,
  seed: number,
  options: { positive: number; slower?: number; predictionColumn?: string; outputs?: boolean },
): Promise<string> {
  const rng = mulberry32(seed)
  const column = options.predictionColumn ?? 'prediction'
  const outputs = options.outputs ?? true
  const lines = [outputs ? `x,${column},latencyMs` : 'x']
  for (let i = 0; i < rows; i++) {
    const x = normal(rng, 0, 1).toFixed(4)
    const prediction = rng() < options.positive ? 1 : 0
    const latency = (Math.exp(2.5 + 0.3 * normal(rng)) * (options.slower ?? 1)).toFixed(2)
    lines.push(outputs ? `${x},${prediction},${latency}` : x)
  }
  const path = join(work, name)
  await writeFile(path, lines.join('\n') + '\n')
  return path
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'driftwatch-outputs-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('check with prediction and latency columns', () => {
  it('compares the prediction apart from the features, and the latency with the reference', async () => {
    const reference = await csv('ref.csv', 3000, 1, { positive: 0.1 })
    const current = await csv('cur.csv', 2000, 2, { positive: 0.3, slower: 3 })
    const { report } = await runCheck({ reference, current, settings, now })
    expect(report.features.map((f) => f.name)).toEqual(['x'])
    expect(report.nDrifted).toBe(0)
    expect(report.predictionDrift).toMatchObject({
      name: 'prediction',
      kind: 'categorical',
      drifted: true,
      nCurrent: 2000,
    })
    expect(report.latency).toMatchObject({ n: 2000, exact: true, severity: 'critical' })
    expect(report.latency?.reference?.p99Ratio).toBeGreaterThan(2.5)
    const text = renderTextReport(report)
    expect(text).toMatch(/^prediction \(categorical\): DRIFT, \w+; /m)
    expect(text).toMatch(/^latency ms: p50 .*; critical \(p99 ×/m)
  })

  it('takes the prediction test from drift.features.prediction', async () => {
    const reference = await csv('ref-psi.csv', 3000, 9, { positive: 0.1 })
    const current = await csv('cur-psi.csv', 2000, 10, { positive: 0.3 })
    const withPsi = driftSettingsOf(
      driftSectionSchema.parse({ features: { prediction: { test: 'psi', threshold: 0.1 } } }),
    )
    const { report } = await runCheck({ reference, current, settings: withPsi, now })
    expect(report.predictionDrift).toMatchObject({ test: 'psi', threshold: 0.1, drifted: true })
  })

  it('finds no prediction drift or latency regression when nothing moved', async () => {
    const reference = await csv('ref-same.csv', 3000, 3, { positive: 0.1 })
    const current = await csv('cur-same.csv', 2000, 4, { positive: 0.1 })
    const { report } = await runCheck({ reference, current, settings, now })
    expect(report.predictionDrift?.drifted).toBe(false)
    expect(report.latency?.severity).toBe('ok')
  })

  it('keeps both in a reference snapshot, under the column name it was built with', async () => {
    const rows = await csv('ref-score.csv', 3000, 5, { positive: 0.1, predictionColumn: 'label' })
    const outputColumns = { prediction: 'label', latency: 'latencyMs' }
    const snapshot = await buildReferenceFromFile(rows, { now, outputColumns })
    expect([...snapshot.profile.features.keys()]).toEqual(['x'])
    const { id: _unset, ...rest } = snapshot
    const json = snapshotToJSON(rest)
    expect(json.prediction).toMatchObject({ name: 'label', kind: 'categorical' })
    expect(json.latency?.kind).toBe('numerical')
    const snapshotPath = join(work, 'ref.json')
    await writeReferenceFile(snapshotPath, json)
    const current = await csv('cur-score.csv', 2000, 6, {
      positive: 0.3,
      predictionColumn: 'label',
    })
    const { report } = await runCheck({ reference: snapshotPath, current, settings, now })
    expect(report.predictionDrift?.drifted).toBe(true)
    expect(report.latency?.reference?.severity).toBe('ok')
  })

  it('leaves them out when the current file has no outputs', async () => {
    const reference = await csv('ref-only.csv', 3000, 7, { positive: 0.1 })
    const current = await csv('cur-none.csv', 2000, 8, { positive: 0.1, outputs: false })
    const { report } = await runCheck({ reference, current, settings, now })
    expect(report.predictionDrift).toBeUndefined()
    expect(report.latency).toBeUndefined()
    expect(renderTextReport(report)).not.toMatch(/^(prediction|latency)/m)
  })
})
