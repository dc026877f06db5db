// What /readyz, /api and the on-call page show, read from the live service and from the evaluation
// state in Redis (so every instance answers the same, whichever one evaluated).

import type { ReferenceSnapshot } from '../core/reference.js'
import type { Severity } from '../core/report.js'
import type { EvaluationState, WindowReport } from '../core/stream/evaluation.js'
import { driftedStreak, type WindowVerdicts } from '../core/stream/history.js'
import type { LeaseStore } from '../ports/sketch-store.js'
import {
  summarizeReport,
  type FeatureDistribution,
  type ModelDiagnosis,
  type Health,
  type ModelStatus,
  type ModelSummary,
  type OnCallAlert,
  type OnCallFeature,
  type ModelLayers,
  type OnCallModel,
  type PublishedReport,
  type Readiness,
  type StatusSource,
  type VersionLayers,
  verdictOf,
} from '../ports/status.js'

export interface LiveStatusOptions {
  readonly leases: LeaseStore
  readonly runtimes: ReadonlyMap<string, { readonly snapshot: ReferenceSnapshot }>
  redisUp(): Promise<boolean>
  kafkaUp(): Promise<boolean>
  storeHealthy(): boolean
  deadLettersHealthy(): boolean
}

export class LiveStatus implements StatusSource {
  constructor(private readonly options: LiveStatusOptions) {}

  health(): Health {
    return { live: true }
  }

  async readiness(): Promise<Readiness> {
    const [redisAnswers, kafka] = await Promise.all([
      this.options.redisUp(),
      this.options.kafkaUp(),
    ])
    const redis = redisAnswers && this.options.storeHealthy()
    const checks: Record<string, { ok: boolean; detail?: string }> = {
      redis: redis
        ? { ok: true }
        : {
            ok: false,
            detail: 'Redis does not answer or the last flush failed; consumption is paused',
          },
      kafka: !kafka
        ? { ok: false, detail: 'not connected to the Kafka brokers' }
        : this.options.deadLettersHealthy()
          ? { ok: true }
          : {
              ok: false,
              detail: 'the last flush could not write the dead-letter topic; consumption is paused',
            },
    }
    for (const [model, runtime] of this.options.runtimes)
      checks[`reference:${model}`] = { ok: runtime.snapshot.id !== '' }
    return { ready: Object.values(checks).every((c) => c.ok), checks }
  }

  async models(): Promise<readonly ModelSummary[]> {
    const out: ModelSummary[] = []
    for (const [model, runtime] of this.options.runtimes) {
      const reports = await this.#reports(model)
      if (reports.length === 0) {
        out.push({
          model,
          version: null,
          referenceId: runtime.snapshot.id,
          window: null,
          datasetDrift: null,
          driftShare: null,
          severity: null,
          features: [],
        })
      }
      for (const report of reports) {
        out.push({
          model,
          version: report.modelVersion,
          referenceId: report.referenceId,
          window: boundsOf(report),
          ...summarizeReport(report),
        })
      }
    }
    return out
  }

  async modelStatus(model: string): Promise<ModelStatus | null> {
    const runtime = this.options.runtimes.get(model)
    if (runtime === undefined) return null
    const state = await this.#state(model)
    const reports = state === null ? [] : newestFirst(state)
    const report = reports[0] ?? null
    const windows = state?.windows ?? []
    return {
      model,
      version: report?.modelVersion ?? null,
      referenceId: report?.referenceId ?? runtime.snapshot.id,
      window: report === null ? null : boundsOf(report),
      evaluatedAtMs: report === null ? null : Date.parse(report.generatedAt),
      report,
      ...(state === null
        ? {}
        : {
            completeness: {
              skippedWindows: state.skipped ?? null,
              lateEvents: windows.reduce(
                (n, w) => n + Object.values(w.late).reduce((a, b) => a + b, 0),
                0,
              ),
              revisedWindows: windows.filter((w) => w.revision > 0).length,
            },
          }),
      ...(report === null ? {} : { layers: modelLayersOf(report, reports) }),
    }
  }

  async report(model: string): Promise<PublishedReport | null> {
    if (!this.options.runtimes.has(model)) return null
    return ((await this.#reports(model))[0] ?? null) as PublishedReport | null
  }

  async distributions(
    model: string,
    feature: string,
    version?: string,
  ): Promise<FeatureDistribution | null> {
    const reports = await this.#reports(model)
    const report =
      version === undefined ? reports[0] : reports.find((r) => (r.modelVersion ?? '') === version)
    const entry = report?.features.find((f) => f.name === feature)
    if (report === undefined || entry === undefined) return null
    return {
      model,
      feature,
      kind: entry.kind,
      referenceId: report.referenceId,
      window: boundsOf(report),
      bins: entry.distribution,
    }
  }

  async diagnosis(model: string): Promise<ModelDiagnosis | null> {
    if (!this.options.runtimes.has(model)) return null
    const reports = await this.#reports(model)
    return {
      model,
      versions: reports.map((report) => ({
        version: report.modelVersion,
        reportId: report.reportId,
        window: boundsOf(report),
        diagnosis: report.diagnosis ?? null,
        impact: report.impact ?? null,
        dataQuality: report.dataQuality ?? null,
        conditions: report.conditions ?? [],
      })),
    }
  }

  async onCall(): Promise<readonly OnCallModel[]> {
    const out: OnCallModel[] = []
    for (const [model, runtime] of this.options.runtimes) {
      const state = await this.#state(model)
      const reports = state === null ? [] : newestFirst(state)
      if (state === null || reports.length === 0) {
        out.push({
          model,
          version: null,
          referenceId: runtime.snapshot.id,
          window: null,
          datasetDrift: null,
          driftShare: null,
          severity: null,
          features: [],
          alerts: [],
          layers: null,
        })
        continue
      }
      for (const report of reports) out.push(onCallModel(model, report, state))
    }
    return out
  }

  async #reports(model: string): Promise<WindowReport[]> {
    const state = await this.#state(model)
    return state === null ? [] : newestFirst(state)
  }

  async #state(model: string): Promise<EvaluationState | null> {
    const last = await this.options.leases.lastEvaluation(model)
    return last === null ? null : (JSON.parse(last.state) as EvaluationState)
  }
}

function boundsOf(report: WindowReport): { startMs: number; endMs: number } {
  return { startMs: Date.parse(report.window.start), endMs: Date.parse(report.window.end) }
}

function newestFirst(state: EvaluationState): WindowReport[] {
  return Object.values(state.lastReports).sort((a, b) => b.window.end.localeCompare(a.window.end))
}

const severityRank: Readonly<Record<Severity, number>> = { ok: 0, warning: 1, critical: 2 }

/** One model version's latest verdicts with their recent history and its alerts. */
function onCallModel(model: string, report: WindowReport, state: EvaluationState): OnCallModel {
  const version = report.modelVersion ?? ''
  const windows: readonly WindowVerdicts[] = state.history?.[version] ?? []
  // The alert keys of core/stream/evaluation.ts: model|version|kind|feature.
  const prefix = `${model}|${version}|`
  const summary = summarizeReport(report)
  const features = summary.features.map((f): OnCallFeature => {
    const history = windows.flatMap((w) => {
      const point = w.features[f.name]
      return point === undefined ? [] : [{ startMs: w.startMs, endMs: w.endMs, ...point }]
    })
    let drifting: OnCallFeature['drifting'] = null
    if (f.drifted) {
      const streak = driftedStreak(windows, f.name) ?? {
        // no history yet (a state stored before it was kept): the latest window alone
        startMs: Date.parse(report.window.start),
        windows: 1,
        complete: false,
      }
      // The alert state counts the drifted windows in a row without a bound: when it counted
      // more than the history holds, the streak began before the oldest window kept.
      const counted = state.alerts[`${prefix}feature_drift|${f.name}`]?.drifted ?? 0
      drifting = {
        sinceMs: streak.startMs,
        windows: Math.max(streak.windows, counted),
        complete: streak.complete && counted <= streak.windows,
      }
    }
    return { ...f, history, drifting }
  })
  const oldestEndMs = windows[0]?.endMs ?? Date.parse(report.window.end)
  const alerts: OnCallAlert[] = []
  for (const [key, alert] of Object.entries(state.alerts)) {
    if (!key.startsWith(prefix)) continue
    const rest = key.slice(prefix.length)
    const cut = rest.indexOf('|')
    const kind = cut < 0 ? rest : rest.slice(0, cut)
    const feature = cut < 0 ? '' : rest.slice(cut + 1)
    const alertname = onCallAlertNames[kind] ?? 'DriftwatchFeatureDrift'
    if (alert.firing) {
      alerts.push({
        alertname,
        feature: kind === 'feature_drift' || kind === 'condition_failed' ? feature : null,
        firing: true,
        severity: alert.severity,
        startedAtMs: alert.since,
        resolvedAtMs: null,
      })
    } else if (alert.resolvedAt !== null && alert.resolvedAt >= oldestEndMs) {
      alerts.push({
        alertname,
        feature: kind === 'feature_drift' || kind === 'condition_failed' ? feature : null,
        firing: false,
        severity: 'ok',
        startedAtMs: alert.lastFiredAt ?? null,
        resolvedAtMs: alert.resolvedAt,
      })
    }
  }
  alerts.sort(
    (a, b) =>
      Number(b.firing) - Number(a.firing) ||
      severityRank[b.severity] - severityRank[a.severity] ||
      (a.firing
        ? (a.startedAtMs ?? 0) - (b.startedAtMs ?? 0)
        : (b.resolvedAtMs ?? 0) - (a.resolvedAtMs ?? 0)) ||
      (a.feature ?? '').localeCompare(b.feature ?? ''),
  )
  return {
    model,
    version: report.modelVersion,
    referenceId: report.referenceId,
    window: boundsOf(report),
    ...summary,
    features,
    alerts,
    layers: layersOf(report),
  }
}

/** The layers of one version's latest window, as its stored report has them. */
function layersOf(report: WindowReport): VersionLayers {
  return {
    version: report.modelVersion,
    reportId: report.reportId,
    window: boundsOf(report),
    dataQuality: report.dataQuality ?? null,
    predictionDrift:
      report.predictionDrift === undefined ? null : verdictOf(report.predictionDrift),
    performance: report.performance ?? null,
    labelDrift: report.labelDrift === undefined ? null : verdictOf(report.labelDrift),
    latency: report.latency ?? null,
    diagnosis: report.diagnosis ?? null,
  }
}

/** The newest window's layers, with every version's latency (`reports` newest first). */
function modelLayersOf(latest: WindowReport, reports: readonly WindowReport[]): ModelLayers {
  return {
    ...layersOf(latest),
    latencyByVersion: reports.map((r) => ({
      version: r.modelVersion,
      window: boundsOf(r),
      latency: r.latency ?? null,
    })),
  }
}

/** The alertname of each alert kind of core/stream/evaluation.ts, for the on-call page. */
const onCallAlertNames: Readonly<Record<string, OnCallAlert['alertname']>> = {
  feature_drift: 'DriftwatchFeatureDrift',
  dataset_drift: 'DriftwatchDatasetDrift',
  data_quality_incident: 'DriftwatchDataQualityIncident',
  condition_failed: 'DriftwatchConditionFailed',
  performance_degradation: 'DriftwatchPerformanceDegradation',
  prediction_drift: 'DriftwatchPredictionDrift',
  latency: 'DriftwatchLatencyRegression',
  rollback_advice: 'DriftwatchRollbackAdvice',
}
