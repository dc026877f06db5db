// What /readyz, /api and the dashboard show, read from the live service and from the evaluation
// state in Redis (so every instance answers the same, whichever one evaluated).

import type { ReferenceSnapshot } from '../core/reference.js'
import type { EvaluationState, WindowReport } from '../core/stream/evaluation.js'
import type { LeaseStore } from '../ports/sketch-store.js'
import {
  summarizeReport,
  type FeatureDistribution,
  type ModelDiagnosis,
  type Health,
  type ModelStatus,
  type ModelSummary,
  type PublishedReport,
  type Readiness,
  type StatusSource,
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
    const report = (await this.#reports(model))[0] ?? null
    const state = await this.#state(model)
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
    }
  }

  async report(model: string): Promise<PublishedReport | null> {
    if (!this.options.runtimes.has(model)) return null
    return ((await this.#reports(model))[0] ?? null) as PublishedReport | null
  }

  async distributions(model: string, feature: string): Promise<FeatureDistribution | null> {
    const report = (await this.#reports(model))[0]
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

  async #reports(model: string): Promise<WindowReport[]> {
    const state = await this.#state(model)
    if (state === null) return []
    return Object.values(state.lastReports).sort((a, b) => b.window.end.localeCompare(a.window.end))
  }

  async #state(model: string): Promise<EvaluationState | null> {
    const last = await this.options.leases.lastEvaluation(model)
    return last === null ? null : (JSON.parse(last.state) as EvaluationState)
  }
}

function boundsOf(report: WindowReport): { startMs: number; endMs: number } {
  return { startMs: Date.parse(report.window.start), endMs: Date.parse(report.window.end) }
}
