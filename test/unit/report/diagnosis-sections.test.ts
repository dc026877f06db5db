// The diagnosis, impact and conditions in the text and HTML reports: after data quality, before
// the feature table, with every condition's verdict and the top causes by impact.

import { describe, expect, it } from 'vitest'
import { parseConditions } from '../../../src/core/conditions.js'
import { withLayers } from '../../../src/core/layers.js'
import { renderHtmlReport } from '../../../src/report/html.js'
import { renderTextReport } from '../../../src/report/text.js'
import { sampleReport } from '../../helpers/reports.js'

const report = withLayers(
  { ...sampleReport(), dataQuality: { severity: 'ok', nWarning: 0, nCritical: 0 } },
  {
    conditions: parseConditions(['rows >= 1000', 'driftShare < 0.6', 'recall >= 0.9']),
    importance: { amount: 3, country: 1 },
  },
)

describe('diagnosis in the reports', () => {
  it('text: the diagnosis, the impact of the drifted features, and each condition', () => {
    const text = renderTextReport(report)
    expect(text).toMatch(/^diagnosis: covariate-shift: Covariate shift: 1 of 2 features drifted/m)
    expect(text).toMatch(/^ {2}action: Retrain on recent data/m)
    // amount: 0.75 × (0.2345 / 0.1)
    expect(text).toMatch(
      /impact \(configured importance × drift score\): amount 1\.759 \(0\.75 × 2\.345\)/,
    )
    expect(text).toMatch(/^conditions: 1 passed, 1 failed, 1 unknown$/m)
    expect(text).toMatch(/^ {2}FAILED {4}rows >= 1000 \(rows = 800\)$/m)
    expect(text).toMatch(/^ {2}passed {4}driftShare < 0\.6 \(driftShare = 0\.5\)$/m)
    expect(text).toMatch(/^ {2}unknown {3}recall >= 0\.9 \(not measured\)$/m)
    expect(text.indexOf('diagnosis:')).toBeLessThan(text.indexOf('feature  '))
  })

  it('HTML: a Diagnosis section before the feature table, conditions with their results', () => {
    const html = renderHtmlReport(report, {
      referenceLabel: 'ref.csv',
      currentLabel: 'cur.csv',
      generatedAt: '2025-01-01T00:00:00Z',
      version: 'test',
    })
    expect(html).toContain('<section class="card" id="diagnosis"><h2>Diagnosis</h2>')
    expect(html).toContain('<p><b>covariate-shift</b>: Covariate shift')
    expect(html).toMatch(/<td>rows &gt;= 1000<\/td><td>.*failed<\/td><td class="n">800<\/td>/)
    expect(html).toMatch(/<td>recall &gt;= 0\.9<\/td><td> unknown<\/td><td class="n">not measured/)
    expect(html.indexOf('id="diagnosis"')).toBeLessThan(html.indexOf('<h2>Feature drift</h2>'))
  })
})
