// The Grafana dashboard's shape (its queries run against a real Prometheus in
// test/integration/prometheus-scrape.int.test.ts): unique panel ids, a layout on Grafana's
// 24-column grid with no overlaps, every query on the dashboard's datasource variable, and the
// compose provisioning that loads it.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8')

interface Panel {
  id: number
  type: string
  title: string
  gridPos: { x: number; y: number; w: number; h: number }
  datasource?: { type: string; uid: string }
  targets?: Array<{ refId: string; expr: string; datasource?: { type: string; uid: string } }>
}

const dashboard = JSON.parse(read('deploy/grafana/dashboards/driftwatch.json')) as {
  uid: string
  title: string
  panels: Panel[]
  templating: { list: Array<{ name: string; type: string; query?: unknown }> }
}

describe('deploy/grafana/dashboards/driftwatch.json', () => {
  it('has unique panel ids and a non-overlapping layout on the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    const cells = new Map<string, string>()
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos
      expect(x + w, p.title).toBeLessThanOrEqual(24)
      expect(w * h, p.title).toBeGreaterThan(0)
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          const other = cells.get(`${i},${j}`)
          expect(other, `${p.title} overlaps ${other ?? ''}`).toBeUndefined()
          cells.set(`${i},${j}`, p.title)
        }
    }
  })

  it('queries through its datasource variable, so it works with any Prometheus uid', () => {
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource')
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' })
    const panels = dashboard.panels.filter((p) => p.type !== 'row')
    expect(panels.length).toBeGreaterThanOrEqual(20)
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' })
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
      const refIds = (p.targets ?? []).map((t) => t.refId)
      expect(new Set(refIds).size, p.title).toBe(refIds.length)
      for (const t of p.targets ?? []) {
        expect(t.datasource, p.title).toEqual(p.datasource)
        expect(t.expr.trim(), p.title).not.toBe('')
      }
    }
  })

  it('covers the fleet, a model, a feature, alerts, lag and throughput', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)
    expect(rows).toEqual([
      'Fleet overview',
      'Model $model',
      'Feature $feature',
      'Alerts',
      'Lag and throughput',
    ])
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n')
    for (const needle of [
      'ALERTS{',
      'driftwatch_consumer_lag',
      'driftwatch_events_consumed_total',
      'driftwatch_feature_drift_statistic',
      'driftwatch_dataset_drift_share',
    ])
      expect(exprs).toContain(needle)
  })

  it('is provisioned in compose from the file, with the datasource it expects', () => {
    const provider = parseYaml(read('deploy/grafana/provisioning/dashboards/driftwatch.yml')) as {
      providers: Array<{ options: { path: string } }>
    }
    const datasources = parseYaml(
      read('deploy/grafana/provisioning/datasources/prometheus.yml'),
    ) as {
      datasources: Array<{ type: string; url: string }>
    }
    const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { volumes?: string[] }>
    }
    const volumes = compose.services['grafana']?.volumes ?? []
    expect(volumes).toContain(
      `./deploy/grafana/dashboards:${provider.providers[0]?.options.path}:ro`,
    )
    expect(volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro')
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }),
    ])
  })
})
