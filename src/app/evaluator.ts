// The evaluator loop: for each model it holds the Redis lease for, it evaluates every window that
// is due, publishes the reports, alerts and retrain requests, and records the window — only while
// its fencing token is still current (docs/architecture.md, guarantee 4). Publishing happens before the
// record: a crash in between re-publishes that window with the same reportId (consumers dedupe
// on it) rather than losing it.

import type { Logger } from 'pino'
import type { DriftTestRegistry } from '../core/drift-tests/registry.js'
import type { DriftSettings } from '../core/drift-tests/thresholds.js'
import { mergeDatasets, type DatasetProfile } from '../core/profile/dataset.js'
import type { ReferenceSnapshot } from '../core/reference.js'
import { decodeBucket, parseSeriesKey } from '../core/stream/bucket-codec.js'
import type { AlertPolicy } from '../core/stream/alerts.js'
import {
  evaluateWindow,
  initialEvaluationState,
  type EvaluationState,
} from '../core/stream/evaluation.js'
import { dueWindowEnds, windowBuckets, type WindowSpec } from '../core/stream/windows.js'
import { errorMessage } from '../errors.js'
import type { EventSink, InputBacklog } from '../ports/event-source.js'
import type { MetricsSink } from '../ports/metrics.js'
import { partitionId, type LeaseStore, type SketchStore } from '../ports/sketch-store.js'

export interface EvaluatedModel {
  readonly name: string
  readonly spec: WindowSpec
  readonly settings: DriftSettings
  readonly features: readonly string[] | undefined
  readonly alertPolicy: AlertPolicy
  readonly minCriticalFeatures: number
  /** See IdlePolicy (core/stream/watermark.ts); absent: no partition is ever idle. */
  readonly idleAfterMs?: number
  reference(): ReferenceSnapshot
}

export interface EvaluatorOptions {
  readonly owner: string
  readonly store: SketchStore
  readonly leases: LeaseStore
  readonly sink: EventSink
  readonly metrics: MetricsSink
  readonly logger: Logger
  readonly registry: DriftTestRegistry
  readonly models: readonly EvaluatedModel[]
  readonly intervalMs: number
  readonly leaseTtlMs: number
  /** How long an owner's "caught up" stays believed (IdlePolicy.freshMs); default 10 s. */
  readonly caughtUpFreshMs?: number
  readonly now: () => number
  /** What the group has still to read; without it, the first windows may miss unread partitions. */
  readonly backlog?: InputBacklog
}

export class Evaluator {
  readonly #options: EvaluatorOptions
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false
  /** Closed buckets never change: their decoded merge is kept (bounded by the window size). */
  readonly #closedCache = new Map<string, Map<string, DatasetProfile>>()
  /** Models whose input has been read once on every partition that had events to read. */
  readonly #inputRead = new Set<string>()
  readonly #waitingLogged = new Set<string>()

  constructor(options: EvaluatorOptions) {
    this.#options = options
  }

  start(): void {
    const tick = (): void => {
      if (this.#stopped || this.#running !== undefined) return
      this.#running = this.tick().finally(() => {
        this.#running = undefined
      })
    }
    this.#timer = setInterval(tick, this.#options.intervalMs)
    tick()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await this.#running
    await Promise.all(
      this.#options.models.map((m) =>
        this.#options.leases.release(m.name, this.#options.owner).catch(() => undefined),
      ),
    )
  }

  /**
   * Event time is complete up to the slowest partition, but only over the partitions read so far:
   * one with events nobody has read yet has no watermark to hold windows back. So a fresh group
   * over a backlog would evaluate its first windows on the partitions it happened to read first.
   * Until every partition with unread events has been read once for the model, nothing is
   * evaluated; after that, the slowest-partition rule covers them all, and this is not asked again.
   */
  async #everyPartitionRead(model: string): Promise<boolean> {
    const backlog = this.#options.backlog
    if (backlog === undefined || this.#inputRead.has(model)) return true
    const pending = await backlog.partitionsWithUnreadEvents()
    const checkpoints =
      pending.length === 0
        ? new Map<string, unknown>()
        : await this.#options.store.loadCheckpoints(model, pending)
    const unread = pending.filter((ref) => !checkpoints.has(partitionId(ref)))
    if (unread.length > 0) {
      if (!this.#waitingLogged.has(model)) {
        this.#waitingLogged.add(model)
        this.#options.logger.info(
          { model, unread: unread.map(partitionId) },
          'first evaluation waits until every input partition has been read',
        )
      }
      return false
    }
    this.#inputRead.add(model)
    return true
  }

  async tick(): Promise<void> {
    for (const model of this.#options.models) {
      try {
        await this.evaluateModel(model)
      } catch (error: unknown) {
        this.#options.logger.error(
          { model: model.name, err: errorMessage(error) },
          'evaluation failed; retrying next tick',
        )
      }
    }
  }

  async evaluateModel(model: EvaluatedModel): Promise<number> {
    const { leases, store, sink, metrics, logger, owner } = this.#options
    const token = await leases.acquire(model.name, owner, this.#options.leaseTtlMs)
    if (token === null) return 0
    const watermark = await store.modelWatermark(
      model.name,
      model.idleAfterMs === undefined
        ? undefined
        : {
            idleAfterMs: model.idleAfterMs,
            freshMs: this.#options.caughtUpFreshMs ?? 10_000,
            now: this.#options.now(),
          },
    )
    if (watermark === null) return 0
    if (!(await this.#everyPartitionRead(model.name))) return 0
    const last = await leases.lastEvaluation(model.name)
    let state: EvaluationState =
      last === null ? initialEvaluationState : (JSON.parse(last.state) as EvaluationState)
    let evaluated = 0
    for (const end of dueWindowEnds(last?.windowEnd ?? null, watermark, model.spec)) {
      const started = performance.now()
      const reference = model.reference()
      const current = await this.#windowProfiles(model, end, reference.id)
      const outcome = evaluateWindow(
        {
          model: model.name,
          windowStart: end - model.spec.size,
          windowEnd: end,
          referenceId: reference.id,
          reference: reference.profile,
          current,
          features: model.features ?? [...reference.profile.features.keys()],
          settings: model.settings,
          registry: this.#options.registry,
          alertPolicy: model.alertPolicy,
          minCriticalFeatures: model.minCriticalFeatures,
          generatedAt: new Date(this.#options.now()).toISOString(),
          statusUrl: `/api/models/${encodeURIComponent(model.name)}/status`,
        },
        state,
      )
      // Fencing: do not publish if the lease changed hands while we computed.
      if ((await leases.acquire(model.name, owner, this.#options.leaseTtlMs)) !== token) {
        logger.warn({ model: model.name }, 'lost the evaluator lease: not publishing')
        return evaluated
      }
      for (const report of outcome.reports) await sink.report(report.reportId, report)
      await sink.alerts(outcome.alerts)
      for (const request of outcome.retrain) await sink.retrain(request.reportId, request)
      const committed = await leases.commitEvaluation(
        model.name,
        token,
        end,
        JSON.stringify(outcome.state),
      )
      if (committed === 'fenced') {
        logger.warn(
          { model: model.name, windowEnd: end },
          'evaluation fenced after publishing: the new owner will not repeat it',
        )
        return evaluated
      }
      state = outcome.state
      evaluated++
      for (const report of outcome.reports)
        metrics.report(model.name, report.modelVersion ?? '', report, end)
      for (const alert of outcome.alerts) metrics.alert(model.name, alert.alert.status)
      metrics.evaluation(model.name, (performance.now() - started) / 1000)
      logger.info(
        {
          model: model.name,
          windowEnd: new Date(end).toISOString(),
          reports: outcome.reports.length,
          alerts: outcome.alerts.length,
        },
        'window evaluated',
      )
    }
    return evaluated
  }

  async #windowProfiles(
    model: EvaluatedModel,
    end: number,
    referenceId: string,
  ): Promise<Map<string, DatasetProfile>> {
    const buckets = windowBuckets(end, model.spec)
    const stored = await this.#options.store.readBuckets(model.name, buckets)
    const merged = new Map<string, DatasetProfile>()
    for (const bucket of buckets) {
      for (const blob of stored.get(bucket)?.values() ?? []) {
        for (const [series, profile] of decodeBucket(blob)) {
          const { referenceId: ref, modelVersion } = parseSeriesKey(series)
          if (ref !== referenceId) continue
          const into = merged.get(modelVersion)
          if (into === undefined) merged.set(modelVersion, profile)
          else mergeDatasets(into, profile)
        }
      }
    }
    return merged
  }
}
