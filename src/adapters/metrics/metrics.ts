// The service's Prometheus metrics on ONE Registry made here (never prom-client's global one,
// so two services in one process, or two tests, never share series). Names follow STYLE.md §3:
// `driftwatch_` prefix, base units, `_total` on counters; labels only from bounded sets.
//
// Verdict gauges are replaced per report, not accumulated: a feature that leaves the report, a
// metric that no longer applies or a test the automatic choice swapped out has its old series
// removed, so a dashboard never shows a stale value as if it were current.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { driftScore } from '../../core/diagnosis.js'
import { performanceMetricNames } from '../../core/performance/metrics.js'
import { severities, type DriftReport, type Severity } from '../../core/report.js'
import {
  flushOutcomes,
  type AlertStatus,
  type Dependency,
  type FlushOutcomeKind,
  type LabelJoinOutcome,
  type MetricsSink,
  type NotificationOutcome,
} from '../../ports/metrics.js'

type FeatureLabel = 'model' | 'version' | 'feature'
type ModelLabel = 'model' | 'version'

export interface Metrics extends MetricsSink {
  readonly registry: Registry
  readonly featurePsi: Gauge<FeatureLabel>
  readonly featureKsStatistic: Gauge<FeatureLabel>
  readonly featureWassersteinNormed: Gauge<FeatureLabel>
  readonly featureJensenShannon: Gauge<FeatureLabel>
  readonly featureDriftStatistic: Gauge<FeatureLabel | 'test'>
  readonly featureDrifted: Gauge<FeatureLabel>
  readonly featureSeverity: Gauge<FeatureLabel>
  readonly featureMissingShare: Gauge<FeatureLabel>
  readonly featureDriftScore: Gauge<FeatureLabel>
  readonly datasetDriftShare: Gauge<ModelLabel>
  readonly datasetDrifted: Gauge<ModelLabel>
  readonly dataQualityIncident: Gauge<ModelLabel>
  readonly conditionsFailed: Gauge<ModelLabel>
  readonly windowEndTimestampSeconds: Gauge<ModelLabel>
  readonly referenceInfo: Gauge<ModelLabel | 'reference_id'>
  readonly predictionDriftStatistic: Gauge<ModelLabel | 'test'>
  readonly predictionDrifted: Gauge<ModelLabel>
  readonly predictionSeverity: Gauge<ModelLabel>
  readonly predictionPsi: Gauge<ModelLabel>
  readonly latencySeconds: Gauge<ModelLabel | 'quantile'>
  readonly latencyP99Ratio: Gauge<ModelLabel | 'baseline'>
  readonly latencySeverity: Gauge<ModelLabel>
  readonly eventsConsumedTotal: Counter<'model' | 'topic'>
  readonly eventsInvalidTotal: Counter<'reason' | 'topic'>
  readonly eventsLateTotal: Counter<'model'>
  readonly reportsPublishedTotal: Counter<'model'>
  readonly alertsPublishedTotal: Counter<'model' | 'status'>
  readonly alertmanagerNotificationsTotal: Counter<'outcome'>
  readonly flushesTotal: Counter<'outcome'>
  readonly flushDurationSeconds: Histogram<never>
  readonly evaluationDurationSeconds: Histogram<'model'>
  readonly consumerLag: Gauge<'topic' | 'partition'>
  readonly redisUp: Gauge<never>
  readonly kafkaUp: Gauge<never>
  readonly modelPerformance: Gauge<ModelLabel | 'metric'>
  readonly performanceDrop: Gauge<ModelLabel | 'metric'>
  readonly performanceSeverity: Gauge<ModelLabel | 'metric'>
  readonly labelsTotal: Counter<'model' | 'outcome'>
  /** Sets the verdict gauges of `model`/`version` from a report (no counter moves). */
  recordReport(model: string, version: string, report: DriftReport, windowEndMs: number): void
}

export interface CreateMetricsOptions {
  /**
   * Process and Node.js metrics (`driftwatch_process_*`, `driftwatch_nodejs_*`); default true.
   * prom-client never stops their collectors, so short-lived instances (tests) may turn them off.
   */
  readonly defaultMetrics?: boolean
}

/** 0 ok, 1 warning, 2 critical: the order of `severities`, so `>= 1` means "at least warning". */
export function severityValue(severity: Severity): number {
  return severities.indexOf(severity)
}

// A flush is one Redis round trip with a Lua script: milliseconds, seconds when Redis struggles.
const flushBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
// An evaluation merges a window of bucket sketches and runs every test: up to seconds.
const evaluationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

const legacyTotalGauges = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const

export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'driftwatch_' })
    // prom-client names these gauges `_total` (the sum over the `type` label of their
    // unsuffixed siblings), which STYLE.md §3 and `promtool check metrics` reserve for
    // counters; `sum(driftwatch_nodejs_active_handles)` gives the same number.
    for (const name of legacyTotalGauges) registry.removeSingleMetric(`driftwatch_${name}`)
  }
  const registers = [registry]
  const featureLabels = ['model', 'version', 'feature'] as const
  const modelLabels = ['model', 'version'] as const

  const featureGauge = (name: string, help: string): Gauge<FeatureLabel> =>
    new Gauge({ name, help, labelNames: featureLabels, registers })
  const modelGauge = (name: string, help: string): Gauge<(typeof modelLabels)[number]> =>
    new Gauge({ name, help, labelNames: modelLabels, registers })

  const featurePsi = featureGauge(
    'driftwatch_feature_psi',
    'Population stability index of the feature, latest window vs reference',
  )
  const featureKsStatistic = featureGauge(
    'driftwatch_feature_ks_statistic',
    'Kolmogorov-Smirnov statistic of the numerical feature, latest window vs reference',
  )
  const featureWassersteinNormed = featureGauge(
    'driftwatch_feature_wasserstein_normed',
    'Wasserstein distance of the numerical feature divided by the reference standard deviation',
  )
  const featureJensenShannon = featureGauge(
    'driftwatch_feature_jensen_shannon',
    'Jensen-Shannon distance of the feature, latest window vs reference',
  )
  const featureDriftStatistic = new Gauge({
    name: 'driftwatch_feature_drift_statistic',
    help: 'Statistic of the drift test that decides the feature verdict (a p-value or a distance)',
    labelNames: [...featureLabels, 'test'] as const,
    registers,
  })
  const featureDrifted = featureGauge(
    'driftwatch_feature_drifted',
    '1 when the feature drifted in the latest window, else 0',
  )
  const featureSeverity = featureGauge(
    'driftwatch_feature_severity',
    'Drift severity of the feature in the latest window: 0 ok, 1 warning, 2 critical',
  )
  const featureMissingShare = featureGauge(
    'driftwatch_feature_missing_share',
    'Share of events in the latest window without a value for the feature',
  )
  const featureDriftScore = featureGauge(
    'driftwatch_feature_drift_score',
    'Drift score of the feature in the latest window, on one scale for every test: 1 is the drift boundary (statistic over its threshold and noise floor; for p-value tests ln p over ln threshold), capped at 100',
  )
  const datasetDriftShare = modelGauge(
    'driftwatch_dataset_drift_share',
    'Share of the model features that drifted in the latest window',
  )
  const datasetDrifted = modelGauge(
    'driftwatch_dataset_drifted',
    '1 when the drift share reached the configured dataset drift share, else 0',
  )
  const dataQualityIncident = modelGauge(
    'driftwatch_data_quality_incident',
    '1 when the latest window had critical data quality (a data-quality incident), else 0',
  )
  const conditionsFailed = modelGauge(
    'driftwatch_conditions_failed',
    'Test-suite conditions of the model that failed in the latest window (unknown ones do not count)',
  )
  const predictionDriftStatistic = new Gauge({
    name: 'driftwatch_prediction_drift_statistic',
    help: 'Statistic of the drift test that decides the prediction verdict (a p-value or a distance), latest window vs reference',
    labelNames: [...modelLabels, 'test'] as const,
    registers,
  })
  const predictionDrifted = modelGauge(
    'driftwatch_prediction_drifted',
    '1 when the model prediction drifted in the latest window, else 0',
  )
  const predictionSeverity = modelGauge(
    'driftwatch_prediction_severity',
    'Drift severity of the model prediction in the latest window: 0 ok, 1 warning, 2 critical',
  )
  const predictionPsi = modelGauge(
    'driftwatch_prediction_psi',
    'Population stability index of the model prediction, latest window vs reference',
  )
  const latencySeconds = new Gauge({
    name: 'driftwatch_latency_seconds',
    help: 'Model latency quantile (0.5, 0.95, 0.99) of the events in the latest window, seconds',
    labelNames: [...modelLabels, 'quantile'] as const,
    registers,
  })
  const latencyP99Ratio = new Gauge({
    name: 'driftwatch_latency_p99_ratio',
    help: 'P99 latency of the latest window divided by the baseline P99 (baseline: reference or previous_version)',
    labelNames: [...modelLabels, 'baseline'] as const,
    registers,
  })
  const latencySeverity = modelGauge(
    'driftwatch_latency_severity',
    'Latency severity of the latest window (P99 +50 % warning, +100 % critical): 0 ok, 1 warning, 2 critical',
  )
  const windowEndTimestampSeconds = modelGauge(
    'driftwatch_window_end_timestamp_seconds',
    'End of the latest evaluated window, seconds since the Unix epoch',
  )
  const referenceInfo = new Gauge({
    name: 'driftwatch_reference_info',
    help: 'Always 1; reference_id names the reference snapshot the model is compared with',
    labelNames: [...modelLabels, 'reference_id'] as const,
    registers,
  })
  const eventsConsumedTotal = new Counter({
    name: 'driftwatch_events_consumed_total',
    help: 'Valid events read and routed to a model',
    labelNames: ['model', 'topic'] as const,
    registers,
  })
  const eventsInvalidTotal = new Counter({
    name: 'driftwatch_events_invalid_total',
    help: 'Events that could not be used and went to the dead-letter topic, by reason',
    labelNames: ['reason', 'topic'] as const,
    registers,
  })
  const eventsLateTotal = new Counter({
    name: 'driftwatch_events_late_total',
    help: 'Events that arrived after their window was evaluated (or after their bucket closed): counted, and re-evaluated while the window is kept',
    labelNames: ['model'] as const,
    registers,
  })
  const windowsSkippedTotal = new Counter({
    name: 'driftwatch_windows_skipped_total',
    help: 'Windows holding events that will never be evaluated, by reason',
    labelNames: ['model', 'reason'] as const,
    registers,
  })
  const reportRevisionsTotal = new Counter({
    name: 'driftwatch_report_revisions_total',
    help: 'Revised drift reports published: late events changed a verdict of a reported window',
    labelNames: ['model'] as const,
    registers,
  })
  const reportsPublishedTotal = new Counter({
    name: 'driftwatch_reports_published_total',
    help: 'Drift reports published',
    labelNames: ['model'] as const,
    registers,
  })
  const alertsPublishedTotal = new Counter({
    name: 'driftwatch_alerts_published_total',
    help: 'Alert transitions published, by status (firing or resolved)',
    labelNames: ['model', 'status'] as const,
    registers,
  })
  const alertmanagerNotificationsTotal = new Counter({
    name: 'driftwatch_alertmanager_notifications_total',
    help: 'Announcements of the firing and resolved alerts to Alertmanager (alerts.alertmanager), by outcome (sent, failed)',
    labelNames: ['outcome'] as const,
    registers,
  })
  const flushesTotal = new Counter({
    name: 'driftwatch_flushes_total',
    help: 'Flushes to the sketch store, by outcome (applied, stale, error)',
    labelNames: ['outcome'] as const,
    registers,
  })
  const flushDurationSeconds = new Histogram({
    name: 'driftwatch_flush_duration_seconds',
    help: 'Duration of one flush to the sketch store',
    buckets: flushBuckets,
    registers,
  })
  const evaluationDurationSeconds = new Histogram({
    name: 'driftwatch_evaluation_duration_seconds',
    help: 'Duration of one window evaluation',
    labelNames: ['model'] as const,
    buckets: evaluationBuckets,
    registers,
  })
  const consumerLag = new Gauge({
    name: 'driftwatch_consumer_lag',
    help: 'Messages between our position and the high watermark, per owned input partition',
    labelNames: ['topic', 'partition'] as const,
    registers,
  })
  const redisUp = new Gauge({
    name: 'driftwatch_redis_up',
    help: '1 when Redis answers, else 0',
    registers,
  })
  const kafkaUp = new Gauge({
    name: 'driftwatch_kafka_up',
    help: '1 when Kafka answers, else 0',
    registers,
  })

  const modelPerformance = new Gauge({
    name: 'driftwatch_model_performance',
    help: 'Performance metric of the model on the labelled predictions of the latest window',
    labelNames: [...modelLabels, 'metric'] as const,
    registers,
  })
  const performanceDrop = new Gauge({
    name: 'driftwatch_performance_drop',
    help: 'How much worse than the baseline the judged metric is (absolute points, or relative for error metrics)',
    labelNames: [...modelLabels, 'metric'] as const,
    registers,
  })
  const performanceSeverity = new Gauge({
    name: 'driftwatch_performance_severity',
    help: 'Performance degradation of the latest window: 0 ok, 1 warning, 2 critical',
    labelNames: [...modelLabels, 'metric'] as const,
    registers,
  })
  const labelsTotal = new Counter({
    name: 'driftwatch_labels_total',
    help: 'Labels joined or waiting, and predictions or labels that stopped waiting (expired, evicted)',
    labelNames: ['model', 'outcome'] as const,
    registers,
  })

  // Every outcome shows from the start, so rate() and "== 0" alerts work before the first event.
  for (const outcome of flushOutcomes) flushesTotal.inc({ outcome }, 0)
  redisUp.set(0)
  kafkaUp.set(0)

  // Per model/version: each feature's current test, to remove series that stop applying.
  const published = new Map<string, Map<string, string | null>>()
  const references = new Map<string, string>()
  const keyOf = (model: string, version: string): string => JSON.stringify([model, version])

  const featureGauges = [
    featurePsi,
    featureKsStatistic,
    featureWassersteinNormed,
    featureJensenShannon,
    featureDrifted,
    featureSeverity,
    featureMissingShare,
    featureDriftScore,
  ]

  function setOrRemove<T extends string>(
    gauge: Gauge<T>,
    labels: Partial<Record<T, string>>,
    value: number | null | undefined,
  ): void {
    if (value === undefined || value === null || Number.isNaN(value)) gauge.remove(labels)
    else gauge.set(labels, value)
  }

  function recordReport(
    model: string,
    version: string,
    report: DriftReport,
    windowEndMs: number,
  ): void {
    const key = keyOf(model, version)
    const previous = published.get(key) ?? new Map<string, string | null>()
    const current = new Map<string, string | null>()

    for (const feature of report.features) {
      const labels = { model, version, feature: feature.name }
      const { metrics } = feature
      setOrRemove(featurePsi, labels, metrics.psi)
      setOrRemove(featureKsStatistic, labels, metrics.ks)
      setOrRemove(featureWassersteinNormed, labels, metrics.wassersteinNormed)
      setOrRemove(featureJensenShannon, labels, metrics.jensenShannon)
      featureDrifted.set(labels, feature.drifted ? 1 : 0)
      featureSeverity.set(labels, severityValue(feature.severity))
      setOrRemove(featureMissingShare, labels, metrics.missingShare)
      setOrRemove(featureDriftScore, labels, driftScore(feature))

      const oldTest = previous.get(feature.name)
      if (oldTest !== undefined && oldTest !== null && oldTest !== feature.test) {
        featureDriftStatistic.remove({ ...labels, test: oldTest })
      }
      setOrRemove(featureDriftStatistic, { ...labels, test: feature.test }, feature.statistic)
      current.set(feature.name, feature.test)
    }

    for (const [feature, oldTest] of previous) {
      if (current.has(feature)) continue
      const labels = { model, version, feature }
      for (const gauge of featureGauges) gauge.remove(labels)
      if (oldTest !== null) featureDriftStatistic.remove({ ...labels, test: oldTest })
    }
    published.set(key, current)

    const modelLabels = { model, version }
    datasetDriftShare.set(modelLabels, report.driftShare)
    datasetDrifted.set(modelLabels, report.datasetDrift ? 1 : 0)
    dataQualityIncident.set(modelLabels, report.dataQuality?.incident === true ? 1 : 0)
    conditionsFailed.set(
      modelLabels,
      (report.conditions ?? []).filter((c) => c.passed === false).length,
    )
    windowEndTimestampSeconds.set(modelLabels, windowEndMs / 1000)

    const performance = report.performance
    if (performance !== undefined) {
      for (const name of performanceMetricNames)
        setOrRemove(modelPerformance, { ...modelLabels, metric: name }, performance.current[name])
      const judged = { ...modelLabels, metric: performance.metric }
      setOrRemove(performanceDrop, judged, performance.drop)
      performanceSeverity.set(judged, severityValue(performance.severity))
    }
    recordModelLayers(modelLabels, report)
  }

  // Per model/version: the prediction's current test, to remove its series when it changes.
  const predictionTests = new Map<string, string>()

  /** Prediction drift and latency of a report; a section absent from it removes its series. */
  function recordModelLayers(
    labels: { model: string; version: string },
    report: DriftReport,
  ): void {
    const key = keyOf(labels.model, labels.version)
    const prediction = report.predictionDrift
    const oldTest = predictionTests.get(key)
    if (oldTest !== undefined && oldTest !== prediction?.test) {
      predictionDriftStatistic.remove({ ...labels, test: oldTest })
      predictionTests.delete(key)
    }
    if (prediction === undefined) {
      for (const gauge of [predictionDrifted, predictionSeverity, predictionPsi])
        gauge.remove(labels)
    } else {
      setOrRemove(
        predictionDriftStatistic,
        { ...labels, test: prediction.test },
        prediction.statistic,
      )
      predictionTests.set(key, prediction.test)
      predictionDrifted.set(labels, prediction.drifted ? 1 : 0)
      predictionSeverity.set(labels, severityValue(prediction.severity))
      setOrRemove(predictionPsi, labels, prediction.metrics.psi)
    }
    const latency = report.latency
    for (const [quantile, value] of [
      ['0.5', latency?.p50],
      ['0.95', latency?.p95],
      ['0.99', latency?.p99],
    ] as const)
      setOrRemove(
        latencySeconds,
        { ...labels, quantile },
        value === undefined ? null : value / 1000,
      )
    setOrRemove(latencyP99Ratio, { ...labels, baseline: 'reference' }, latency?.reference?.p99Ratio)
    setOrRemove(
      latencyP99Ratio,
      { ...labels, baseline: 'previous_version' },
      latency?.previous?.p99Ratio,
    )
    if (latency === undefined || latency.insufficientData !== undefined)
      latencySeverity.remove(labels)
    else latencySeverity.set(labels, severityValue(latency.severity))
  }

  /** Every gauge a report sets: the verdicts of the window an instance evaluated last. */
  const verdictGauges: ReadonlyArray<Gauge<string>> = [
    ...featureGauges,
    featureDriftStatistic,
    featureDriftScore,
    datasetDriftShare,
    datasetDrifted,
    dataQualityIncident,
    conditionsFailed,
    predictionDriftStatistic,
    predictionDrifted,
    predictionSeverity,
    predictionPsi,
    latencySeconds,
    latencyP99Ratio,
    latencySeverity,
    windowEndTimestampSeconds,
    modelPerformance,
    performanceDrop,
    performanceSeverity,
  ]

  /** Removes every verdict series of `model` (all versions), and what was kept to update them. */
  async function forgetVerdicts(model: string): Promise<void> {
    for (const gauge of verdictGauges) {
      const { values } = await gauge.get()
      for (const { labels } of values) if (labels['model'] === model) gauge.remove(labels)
    }
    for (const key of [...published.keys(), ...predictionTests.keys()])
      if ((JSON.parse(key) as string[])[0] === model) {
        published.delete(key)
        predictionTests.delete(key)
      }
  }

  return {
    registry,
    featurePsi,
    featureKsStatistic,
    featureWassersteinNormed,
    featureJensenShannon,
    featureDriftStatistic,
    featureDrifted,
    featureSeverity,
    featureMissingShare,
    featureDriftScore,
    datasetDriftShare,
    datasetDrifted,
    dataQualityIncident,
    conditionsFailed,
    windowEndTimestampSeconds,
    referenceInfo,
    predictionDriftStatistic,
    predictionDrifted,
    predictionSeverity,
    predictionPsi,
    latencySeconds,
    latencyP99Ratio,
    latencySeverity,
    eventsConsumedTotal,
    eventsInvalidTotal,
    eventsLateTotal,
    reportsPublishedTotal,
    alertsPublishedTotal,
    alertmanagerNotificationsTotal,
    flushesTotal,
    flushDurationSeconds,
    evaluationDurationSeconds,
    consumerLag,
    redisUp,
    kafkaUp,
    modelPerformance,
    performanceDrop,
    performanceSeverity,
    labelsTotal,
    recordReport,

    eventsConsumed(model: string, topic: string, n: number): void {
      if (n > 0) eventsConsumedTotal.inc({ model, topic }, n)
    },
    invalidEvent(reason: string, topic: string): void {
      eventsInvalidTotal.inc({ reason, topic })
    },
    lateEvents(model: string, n: number): void {
      if (n > 0) eventsLateTotal.inc({ model }, n)
    },
    windowsSkipped(model: string, reason: string, n: number): void {
      if (n > 0) windowsSkippedTotal.inc({ model, reason }, n)
    },
    revision(model: string): void {
      reportRevisionsTotal.inc({ model })
    },
    flush(outcome: FlushOutcomeKind, seconds: number): void {
      flushesTotal.inc({ outcome })
      flushDurationSeconds.observe(seconds)
    },
    evaluation(model: string, seconds: number): void {
      evaluationDurationSeconds.observe({ model }, seconds)
    },
    report(model: string, version: string, report: DriftReport, windowEndMs: number): void {
      recordReport(model, version, report, windowEndMs)
      reportsPublishedTotal.inc({ model })
    },
    reference(model: string, version: string, referenceId: string): void {
      const key = keyOf(model, version)
      const old = references.get(key)
      if (old !== undefined && old !== referenceId)
        referenceInfo.remove({ model, version, reference_id: old })
      references.set(key, referenceId)
      referenceInfo.set({ model, version, reference_id: referenceId }, 1)
    },
    alertNotification(outcome: NotificationOutcome): void {
      alertmanagerNotificationsTotal.inc({ outcome })
    },
    alert(model: string, status: AlertStatus): void {
      alertsPublishedTotal.inc({ model, status })
    },
    lag(topic: string, partition: number, messages: number | null): void {
      const labels = { topic, partition: String(partition) }
      if (messages === null) consumerLag.remove(labels)
      else consumerLag.set(labels, messages)
    },
    labelJoin(model: string, outcome: LabelJoinOutcome, n: number): void {
      if (n > 0) labelsTotal.inc({ model, outcome }, n)
    },
    released(model: string): void {
      void forgetVerdicts(model)
    },
    up(dependency: Dependency, up: boolean): void {
      const gauge = dependency === 'kafka' ? kafkaUp : redisUp
      gauge.set(up ? 1 : 0)
    },
  }
}
