// docs/config.md and docs/metrics.md are generated (npm run docs): they must say what the code
// does. A new config key or metric fails this test until the pages are regenerated.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderConfigReference, renderMetricsTable } from '../../scripts/generate-docs.mjs'
import { createMetrics } from '../../src/adapters/metrics/metrics.js'
import { serviceConfigJsonSchema } from '../../src/config/service.js'

const page = (name: string): string =>
  readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8')

describe('generated reference pages', () => {
  it('docs/config.md lists every key of the config schema', () => {
    const rendered = renderConfigReference(serviceConfigJsonSchema())
    expect(rendered).toContain('| `models[].window.size` |')
    expect(page('config.md'), 'run `npm run build && npm run docs`').toBe(rendered)
  })

  it('docs/metrics.md lists every metric the service exports', () => {
    const rendered = renderMetricsTable(createMetrics({ defaultMetrics: false }).registry)
    expect(rendered).toContain('| `driftwatch_events_late_total` | counter |')
    expect(page('metrics.md'), 'run `npm run build && npm run docs`').toBe(rendered)
  })
})
