import { register as globalRegistry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import {
  createMetrics,
  severityValue,
  type Metrics,
} from '../../../src/adapters/metrics/metrics.js'
import {
  defaultDegradation,
  evaluatePerformance,
} from '../../../src/core/performance/degradation.js'
import {
  addPair,
  defaultPerformanceSettings,
  emptySummary,
} from '../../../src/core/performance/summary.js'
import { amountFeature, countryFeature, sampleReport } from '../../helpers/reports.js'

type Labels = Record<string, string | number>

async function series(
  metrics: Metrics,
  name: string,
): Promise<Array<{ labels: Labels; value: number }>> {
  const metric = metrics.registry.getSingleMetric(name)
  if (metric === undefined) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  return values.map((v) => ({ labels: v.labels as Labels, value: v.value }))
}

async function valueOf(
  metrics: Metrics,
  name: string,
  labels: Labels,
): Promise<number | undefined> {
  const all = await series(metrics, name)
  return all.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value
}

const windowEndMs = Date.UTC(2025, 0, 1, 12, 0, 0)

describe('createMetrics', () => {
  it('recordReport sets the per-feature and per-model gauges', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.recordReport('fraud', 'v3', sampleReport(), windowEndMs)
    const amount = { model: 'fraud', version: 'v3', feature: 'amount' }
    const country = { model: 'fraud', version: 'v3', feature: 'country' }

    expect(await valueOf(metrics, 'driftwatch_feature_psi', amount)).toBe(0.2345)
    expect(await valueOf(metrics, 'driftwatch_feature_ks_statistic', amount)).toBe(0.31)
    expect(await valueOf(metrics, 'driftwatch_feature_wasserstein_normed', amount)).toBe(0.42)
    expect(await valueOf(metrics, 'driftwatch_feature_jensen_shannon', amount)).toBe(0.18)
    expect(
      await valueOf(metrics, 'driftwatch_feature_drift_statistic', { ...amount, test: 'psi' }),
    ).toBe(0.2345)
    expect(await valueOf(metrics, 'driftwatch_feature_drifted', amount)).toBe(1)
    expect(await valueOf(metrics, 'driftwatch_feature_severity', amount)).toBe(2)
    expect(await valueOf(metrics, 'driftwatch_feature_missing_share', amount)).toBe(0.0125)

    expect(
      await valueOf(metrics, 'driftwatch_feature_drift_statistic', {
        ...country,
        test: 'chisquare',
      }),
    ).toBe(0.64)
    expect(await valueOf(metrics, 'driftwatch_feature_drifted', country)).toBe(0)
    expect(await valueOf(metrics, 'driftwatch_feature_severity', country)).toBe(0)
    // a categorical feature has no KS: no series rather than a made-up value
    expect(await valueOf(metrics, 'driftwatch_feature_ks_statistic', country)).toBeUndefined()

    const model = { model: 'fraud', version: 'v3' }
    expect(await valueOf(metrics, 'driftwatch_dataset_drift_share', model)).toBe(0.5)
    expect(await valueOf(metrics, 'driftwatch_dataset_drifted', model)).toBe(1)
    expect(await valueOf(metrics, 'driftwatch_window_end_timestamp_seconds', model)).toBe(
      windowEndMs / 1000,
    )
    // gauges only: publishing is counted by report()
    expect(await series(metrics, 'driftwatch_reports_published_total')).toEqual([])
  })

  it('maps severities to 0, 1, 2', () => {
    expect([severityValue('ok'), severityValue('warning'), severityValue('critical')]).toEqual([
      0, 1, 2,
    ])
  })

  it('removes series that stop applying instead of leaving stale values', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.recordReport('fraud', 'v3', sampleReport(), windowEndMs)
    // amount now decided by KS with no PSI and no statistic computable; country left the config
    const { psi, ...withoutPsi } = amountFeature.metrics
    expect(psi).toBe(0.2345)
    const amountNow = {
      ...amountFeature,
      test: 'ks',
      statistic: null,
      severity: 'warning' as const,
      metrics: withoutPsi,
    }
    metrics.recordReport('fraud', 'v3', sampleReport([amountNow]), windowEndMs + 60_000)

    const amount = { model: 'fraud', version: 'v3', feature: 'amount' }
    expect(await valueOf(metrics, 'driftwatch_feature_psi', amount)).toBeUndefined()
    expect(await valueOf(metrics, 'driftwatch_feature_ks_statistic', amount)).toBe(0.31)
    expect(await valueOf(metrics, 'driftwatch_feature_severity', amount)).toBe(1)
    expect(await series(metrics, 'driftwatch_feature_drift_statistic')).toEqual([])
    for (const name of [
      'driftwatch_feature_psi',
      'driftwatch_feature_severity',
      'driftwatch_feature_missing_share',
    ]) {
      expect((await series(metrics, name)).map((s) => s.labels['feature'])).not.toContain('country')
    }
    // another version of the same model keeps its own series
    metrics.recordReport('fraud', 'v4', sampleReport([countryFeature]), windowEndMs)
    expect(await valueOf(metrics, 'driftwatch_feature_severity', amount)).toBe(1)
  })

  it('implements MetricsSink', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.eventsConsumed('fraud', 'predictions', 5)
    metrics.eventsConsumed('fraud', 'predictions', 0)
    metrics.invalidEvent('json', 'predictions')
    metrics.invalidEvent('json', 'predictions')
    metrics.lateEvents('fraud', 3)
    metrics.flush('applied', 0.004)
    metrics.flush('stale', 0.002)
    metrics.evaluation('fraud', 0.3)
    metrics.report('fraud', 'v3', sampleReport(), windowEndMs)
    metrics.alert('fraud', 'firing')
    metrics.lag('predictions', 0, 42)
    metrics.lag('predictions', 1, 7)
    metrics.lag('predictions', 1, null)
    metrics.up('kafka', true)
    metrics.up('redis', false)
    metrics.reference('fraud', 'v3', 'ref-1')
    metrics.reference('fraud', 'v3', 'ref-2')

    expect(
      await valueOf(metrics, 'driftwatch_events_consumed_total', {
        model: 'fraud',
        topic: 'predictions',
      }),
    ).toBe(5)
    expect(
      await valueOf(metrics, 'driftwatch_events_invalid_total', {
        reason: 'json',
        topic: 'predictions',
      }),
    ).toBe(2)
    expect(await valueOf(metrics, 'driftwatch_events_late_total', { model: 'fraud' })).toBe(3)
    expect(await series(metrics, 'driftwatch_flushes_total')).toEqual([
      { labels: { outcome: 'applied' }, value: 1 },
      { labels: { outcome: 'stale' }, value: 1 },
      { labels: { outcome: 'error' }, value: 0 },
    ])
    const flushCount = (await series(metrics, 'driftwatch_flush_duration_seconds')).find(
      (s) => Object.keys(s.labels).length === 0 && s.value === 2,
    )
    expect(flushCount).toBeDefined()
    expect(
      await valueOf(metrics, 'driftwatch_evaluation_duration_seconds', { le: 0.5, model: 'fraud' }),
    ).toBe(1)
    expect(await valueOf(metrics, 'driftwatch_reports_published_total', { model: 'fraud' })).toBe(1)
    expect(
      await valueOf(metrics, 'driftwatch_feature_psi', {
        model: 'fraud',
        version: 'v3',
        feature: 'amount',
      }),
    ).toBe(0.2345)
    expect(
      await valueOf(metrics, 'driftwatch_alerts_published_total', {
        model: 'fraud',
        status: 'firing',
      }),
    ).toBe(1)
    expect(await series(metrics, 'driftwatch_consumer_lag')).toEqual([
      { labels: { topic: 'predictions', partition: '0' }, value: 42 },
    ])
    expect(await valueOf(metrics, 'driftwatch_kafka_up', {})).toBe(1)
    expect(await valueOf(metrics, 'driftwatch_redis_up', {})).toBe(0)
    expect(await series(metrics, 'driftwatch_reference_info')).toEqual([
      { labels: { model: 'fraud', version: 'v3', reference_id: 'ref-2' }, value: 1 },
    ])
  })

  it('names every metric by STYLE.md §3 and keeps off the global registry', async () => {
    const metrics = createMetrics()
    const other = createMetrics()
    metrics.recordReport('fraud', 'v3', sampleReport(), windowEndMs)
    const all = await metrics.registry.getMetricsAsJSON()
    expect(all.length).toBeGreaterThan(30)
    for (const metric of all) {
      expect(metric.name).toMatch(/^driftwatch_[a-z][a-z0-9]*(_[a-z0-9]+)*$/)
      expect(metric.help.length).toBeGreaterThan(0)
      if (String(metric.type) === 'counter') expect(metric.name).toMatch(/_total$/)
      else expect(metric.name).not.toMatch(/_total$/)
      expect(metric.name).not.toMatch(/_(milliseconds|ms|kilobytes|megabytes|minutes|hours)(_|$)/)
      for (const value of metric.values) {
        for (const label of Object.keys(value.labels)) expect(label).toMatch(/^[a-z][a-z0-9_]*$/)
      }
    }
    const names = all.map((m) => m.name)
    for (const name of [
      'driftwatch_feature_psi',
      'driftwatch_feature_ks_statistic',
      'driftwatch_feature_wasserstein_normed',
      'driftwatch_feature_jensen_shannon',
      'driftwatch_feature_drift_statistic',
      'driftwatch_feature_drifted',
      'driftwatch_feature_severity',
      'driftwatch_feature_missing_share',
      'driftwatch_dataset_drift_share',
      'driftwatch_dataset_drifted',
      'driftwatch_window_end_timestamp_seconds',
      'driftwatch_reference_info',
      'driftwatch_events_consumed_total',
      'driftwatch_events_invalid_total',
      'driftwatch_events_late_total',
      'driftwatch_reports_published_total',
      'driftwatch_alerts_published_total',
      'driftwatch_flushes_total',
      'driftwatch_flush_duration_seconds',
      'driftwatch_evaluation_duration_seconds',
      'driftwatch_consumer_lag',
      'driftwatch_redis_up',
      'driftwatch_kafka_up',
      'driftwatch_process_cpu_seconds_total',
      'driftwatch_nodejs_eventloop_lag_seconds',
    ]) {
      expect(names).toContain(name)
    }
    // instances share nothing, and nothing lands on prom-client's global registry
    expect(
      await valueOf(other, 'driftwatch_feature_psi', {
        model: 'fraud',
        version: 'v3',
        feature: 'amount',
      }),
    ).toBeUndefined()
    expect(
      (await globalRegistry.getMetricsAsJSON()).filter((m) => m.name.startsWith('driftwatch_')),
    ).toEqual([])
  })
})

describe('performance metrics', () => {
  it('shows every metric of the window, the judged drop and severity, and counts labels', async () => {
    const settings = { ...defaultPerformanceSettings, task: 'binary' as const }
    const summary = (correct: number): Map<string, number> => {
      const s = emptySummary()
      for (let i = 0; i < 100; i++) {
        const label = i % 2
        addPair(s, settings, { prediction: i < correct ? label : 1 - label }, label)
      }
      return s
    }
    const performance = evaluatePerformance(summary(90), summary(80), settings, {
      ...defaultDegradation,
      metric: 'accuracy',
    })
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.recordReport('fraud', 'v3', { ...sampleReport(), performance }, windowEndMs)
    const labels = { model: 'fraud', version: 'v3', metric: 'accuracy' }
    expect(await valueOf(metrics, 'driftwatch_model_performance', labels)).toBe(0.8)
    expect(
      await valueOf(metrics, 'driftwatch_model_performance', { ...labels, metric: 'recall' }),
    ).toBeCloseTo(0.8, 12)
    expect(await valueOf(metrics, 'driftwatch_performance_drop', labels)).toBeCloseTo(0.1, 12)
    expect(await valueOf(metrics, 'driftwatch_performance_severity', labels)).toBe(2)
    // Metrics the task has no value for are absent, not 0.
    expect(
      await valueOf(metrics, 'driftwatch_model_performance', { ...labels, metric: 'rmse' }),
    ).toBeUndefined()
    metrics.labelJoin('fraud', 'joined', 7)
    metrics.labelJoin('fraud', 'prediction_expired', 0)
    expect(
      await valueOf(metrics, 'driftwatch_labels_total', { model: 'fraud', outcome: 'joined' }),
    ).toBe(7)
    expect(
      await valueOf(metrics, 'driftwatch_labels_total', {
        model: 'fraud',
        outcome: 'prediction_expired',
      }),
    ).toBeUndefined()
  })
})

describe('model layer gauges', () => {
  const withLayers = {
    ...sampleReport(),
    predictionDrift: { ...amountFeature, name: 'prediction' },
    latency: {
      n: 1000,
      exact: true,
      p50: 12,
      p95: 30,
      p99: 90,
      version: 'v3',
      previousVersion: 'v2',
      reference: { p50: 11, p95: 25, p99: 60, p99Ratio: 1.5, severity: 'warning' as const },
      previous: {
        p50: 10,
        p95: 20,
        p99: 30,
        p99Ratio: 3,
        severity: 'critical' as const,
        windowEnd: '2025-01-01T11:00:00.000Z',
      },
      severity: 'critical' as const,
    },
  }
  const labels = { model: 'fraud', version: 'v3' }

  it('exports the prediction verdict and the latency quantiles (seconds), ratios and severity', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.recordReport('fraud', 'v3', withLayers, windowEndMs)
    expect(
      await valueOf(metrics, 'driftwatch_prediction_drift_statistic', { ...labels, test: 'psi' }),
    ).toBe(0.2345)
    expect(await valueOf(metrics, 'driftwatch_prediction_drifted', labels)).toBe(1)
    expect(await valueOf(metrics, 'driftwatch_prediction_severity', labels)).toBe(2)
    expect(await valueOf(metrics, 'driftwatch_prediction_psi', labels)).toBe(0.2345)
    expect(
      await valueOf(metrics, 'driftwatch_latency_seconds', { ...labels, quantile: '0.5' }),
    ).toBe(0.012)
    expect(
      await valueOf(metrics, 'driftwatch_latency_seconds', { ...labels, quantile: '0.99' }),
    ).toBe(0.09)
    expect(
      await valueOf(metrics, 'driftwatch_latency_p99_ratio', { ...labels, baseline: 'reference' }),
    ).toBe(1.5)
    expect(
      await valueOf(metrics, 'driftwatch_latency_p99_ratio', {
        ...labels,
        baseline: 'previous_version',
      }),
    ).toBe(3)
    expect(await valueOf(metrics, 'driftwatch_latency_severity', labels)).toBe(2)
  })

  it('removes the series of a layer a later report lacks', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.recordReport('fraud', 'v3', withLayers, windowEndMs)
    metrics.recordReport('fraud', 'v3', sampleReport(), windowEndMs + 60_000)
    for (const name of [
      'driftwatch_prediction_drift_statistic',
      'driftwatch_prediction_drifted',
      'driftwatch_latency_seconds',
      'driftwatch_latency_p99_ratio',
      'driftwatch_latency_severity',
    ])
      expect(await series(metrics, name), name).toEqual([])
  })
})
