// The evaluator loop: for each model it holds the Redis lease for, it evaluates every window that
// is due, publishes the reports, alerts and retrain requests, and records the window — only while
// its fencing token is still current (docs/architecture.md, guarantee 4). Publishing happens before the
// record: a crash in between re-publishes that window with the same reportId (consumers dedupe
// on it) rather than losing it.

import { createHash } from 'node:crypto'
import { setImmediate } from 'node:timers/promises'
import type { Logger } from 'pino'
import { NoiseFloors } from '../core/drift-tests/noise-floor.js'
import type { DriftTestRegistry } from '../core/drift-tests/registry.js'
import type { DriftSettings } from '../core/drift-tests/thresholds.js'
import type { DegradationSettings } from '../core/performance/degradation.js'
import { summariesOfFields } from '../core/performance/join.js'
import {
  mergeSummaries,
  type PerformanceSettings,
  type PerformanceSummary,
} from '../core/performance/summary.js'
import { mergeDatasets, type DatasetProfile } from '../core/profile/dataset.js'
import type { ReferenceSnapshot } from '../core/reference.js'
import {
  compactBucketFields,
  mergeBucket,
  type BucketBlob,
  parseSeriesKey,
  windowExactLimit,
} from '../core/stream/bucket-codec.js'
import type { Condition } from '../core/conditions.js'
import { referenceRate } from '../core/data-quality.js'
import type { AlertPolicy } from '../core/stream/alerts.js'
import {
  evaluateWindow,
  initialEvaluationState,
  judgePerformanceLate,
  type EvaluationState,
  type WindowInput,
  type WindowOutcome,
  type WindowPerformance,
} from '../core/stream/evaluation.js'
import { reviseWindow as reviseHistory } from '../core/stream/history.js'
import type { GradualDriftPolicy } from '../core/stream/trend.js'
import { pruneRecords, recordOf, reviseWindow } from '../core/stream/lateness.js'
import { completeWatermarkOf, type PartitionReading } from '../core/stream/watermark.js'
import { dueWindows, windowBuckets, type WindowSpec } from '../core/stream/windows.js'
import { errorMessage } from '../errors.js'
import type { EventSink, InputBacklog } from '../ports/event-source.js'
import type { LabelStore } from '../ports/label-store.js'
import type { MetricsSink } from '../ports/metrics.js'
import type { AlertRelay } from './alert-relay.js'
import { partitionId, type LeaseStore, type SketchStore } from '../ports/sketch-store.js'

/** Bounds the evaluation state (it is rewritten with every window): at most this many watched. */
const maxWatchedWindows = 500

export interface EvaluatedModel {
  readonly name: string
  readonly spec: WindowSpec
  readonly settings: DriftSettings
  readonly features: readonly string[] | undefined
  readonly alertPolicy: AlertPolicy
  /** Gradual drift over days of event time (core/stream/trend.ts); its defaults when absent. */
  readonly gradualDrift?: GradualDriftPolicy
  readonly minCriticalFeatures: number
  /** See IdlePolicy (core/stream/watermark.ts); absent: no partition is ever idle. */
  readonly idleAfterMs?: number
  /** Test-suite conditions, feature importance and expected events per hour (config). */
  readonly conditions?: readonly Condition[]
  readonly importance?: Readonly<Record<string, number>>
  readonly expectedRate?: number
  /** Scored against labels (`performance:`): the window reports its performance. */
  readonly performance?: {
    readonly settings: PerformanceSettings
    readonly degradation: DegradationSettings
    readonly baseline: PerformanceSummary | null
  }
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
  readonly now: () => number
  /**
   * The input's positions, fetched fresh every tick: completeness is judged from them. Without
   * them, event time is complete up to the slowest partition stored, and no partition is idle.
   */
  readonly backlog?: InputBacklog
  /**
   * A replay (`run --from-beginning`, `--from`): the first evaluation starts at the backlog's
   * first window (with `from`, the first starting at or after it) and evaluates every window in
   * order, instead of judging only the newest. Absent: a live start.
   */
  readonly replay?: { readonly from: number | null }
  /** How long reported windows are watched for late events (default: 24 h of event time). */
  readonly lateHorizonMs?: number
  /** Announces the firing alerts of the models this instance holds (alerts.alertmanager). */
  readonly alertRelay?: AlertRelay
  /** Where joined labels are summarised (app/labels.ts); needed by models with `performance`. */
  readonly labels?: LabelStore
}

export class Evaluator {
  readonly #options: EvaluatorOptions
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false
  /** Calibrated mode's floors, kept per reference profile across windows (weakly: a new
   * reference snapshot drops the old one's). */
  readonly #floors = new NoiseFloors()
  /** Per model, the merged buckets of the window read last (#windowProfiles, for #compact). */
  readonly #merges = new Map<string, Map<number, { fingerprint: string; compacted: Uint8Array }>>()
  /** Models whose lease this instance held at its last tick. */
  readonly #held = new Set<string>()
  /** Per model, the input positions at the last look for late events (nothing moved: no look). */
  readonly #looked = new Map<string, string>()
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
    this.#options.alertRelay?.start()
    tick()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await this.#running
    await this.#options.alertRelay?.stop()
    await Promise.all(
      this.#options.models.map((m) =>
        this.#options.leases.release(m.name, this.#options.owner).catch(() => undefined),
      ),
    )
  }

  /**
   * How far the model's event time is complete. With the input's positions (production): judged
   * from end offsets fetched now, before the checkpoints are read, so a partition with unread
   * events is never idle and one nobody has read yet holds everything back
   * (completeWatermarkOf). Without them (tests of the loop alone): the slowest partition stored.
   */
  async #completeness(
    model: EvaluatedModel,
  ): Promise<{ watermark: number | null; earliest: number | null; progress: string | null }> {
    const { backlog, store, logger } = this.#options
    if (backlog === undefined)
      return { watermark: await store.modelWatermark(model.name), earliest: null, progress: null }
    const positions = await backlog.positions()
    const checkpoints = await store.loadCheckpoints(
      model.name,
      positions.map((p) => p.ref),
    )
    let earliest: number | null = null
    const readings: PartitionReading[] = positions.map((p) => {
      const id = partitionId(p.ref)
      const checkpoint = checkpoints.get(id)
      if (
        checkpoint?.earliest !== undefined &&
        (earliest === null || checkpoint.earliest < earliest)
      )
        earliest = checkpoint.earliest
      const position = BigInt(checkpoint?.nextOffset ?? p.start)
      return {
        id,
        watermark: checkpoint === undefined ? null : checkpoint.watermark,
        unread: BigInt(p.end) > position,
      }
    })
    const completeness = completeWatermarkOf(
      readings,
      model.idleAfterMs ?? Number.POSITIVE_INFINITY,
    )
    if (completeness.waitingFor.length > 0 && !this.#waitingLogged.has(model.name)) {
      this.#waitingLogged.add(model.name)
      logger.info(
        { model: model.name, unread: completeness.waitingFor },
        'evaluation waits until every input partition holding events has been read',
      )
    }
    // Every flush that stores events moves a checkpoint: unchanged positions, nothing grew. And
    // every label joined moves the join counter.
    const labels = this.#options.labels
    const joined =
      model.performance === undefined || labels === undefined
        ? ''
        : `|${await labels.joinedLabels(model.name)}`
    const progress =
      positions.map((p) => checkpoints.get(partitionId(p.ref))?.nextOffset ?? '-').join(',') +
      joined
    return { watermark: completeness.watermark, earliest, progress }
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
    const { leases, sink, metrics, logger, owner } = this.#options
    // The lease is surely ours until its TTL from before we asked for it (the alert relay's bound).
    let heldUntil = this.#options.now() + this.#options.leaseTtlMs
    const token = await leases.acquire(model.name, owner, this.#options.leaseTtlMs)
    if (token === null) {
      this.#release(model.name)
      return 0
    }
    this.#held.add(model.name)
    const { watermark, earliest, progress } = await this.#completeness(model)
    if (watermark === null) return 0
    const last = await leases.lastEvaluation(model.name)
    let state: EvaluationState =
      last === null ? initialEvaluationState : (JSON.parse(last.state) as EvaluationState)
    const due = dueWindows(last?.windowEnd ?? null, watermark, this.#options.now(), model.spec, {
      earliestEvent: earliest,
      from: this.#options.replay?.from ?? null,
      replay: this.#options.replay !== undefined,
    })
    let evaluated = 0
    let lastEnd = last?.windowEnd ?? null
    for (const end of due.ends) {
      const started = performance.now()
      const reference = model.reference()
      // The counters first: a flush landing between the two reads is then seen as growth later.
      const stored = await this.#storedRows(model, end)
      const current = await this.#windowProfiles(model, end, reference.id)
      // The label counters before the summaries too, for the same reason.
      const storedLabels =
        model.performance === undefined ? undefined : await this.#storedLabels(model, end)
      const labelled = await this.#windowPerformance(model, end)
      const outcome = await this.#evaluate(
        this.#windowInput(model, end, reference, current, labelled),
        state,
      )
      // Fencing: do not publish if the lease changed hands while we computed.
      const renewing = this.#options.now() + this.#options.leaseTtlMs
      if ((await leases.acquire(model.name, owner, this.#options.leaseTtlMs)) !== token) {
        logger.warn({ model: model.name }, 'lost the evaluator lease: not publishing')
        this.#release(model.name)
        return evaluated
      }
      heldUntil = renewing
      for (const report of outcome.reports) await sink.report(report.reportId, report)
      await sink.alerts(outcome.alerts)
      for (const request of outcome.retrain) await sink.retrain(request.reportId, request)
      const skipped = lastEnd === null ? due.skipped : (state.skipped ?? null)
      const record = {
        ...recordOf(end, stored, outcome.reports),
        referenceId: reference.id,
        ...(storedLabels === undefined ? {} : { labels: storedLabels }),
      }
      const next: EvaluationState = {
        ...outcome.state,
        skipped,
        windows: pruneRecords(
          [...(state.windows ?? []), record],
          end,
          this.#options.lateHorizonMs ?? 86_400_000,
          maxWatchedWindows,
        ),
      }
      const committed = await leases.commitEvaluation(model.name, token, end, JSON.stringify(next))
      if (committed === 'fenced') {
        logger.warn(
          { model: model.name, windowEnd: end },
          'evaluation fenced after publishing: the new owner will not repeat it',
        )
        this.#release(model.name)
        return evaluated
      }
      if (lastEnd === null && skipped !== null) {
        metrics.windowsSkipped(model.name, skipped.reason, skipped.count)
        logger.warn(
          { model: model.name, skipped: skipped.count, reason: skipped.reason },
          `${skipped.count} earlier windows holding events will not be evaluated (${skipped.reason})`,
        )
      }
      state = next
      lastEnd = end
      evaluated++
      for (const report of outcome.reports)
        metrics.report(model.name, report.modelVersion ?? '', report, end)
      for (const alert of outcome.alerts) metrics.alert(model.name, alert.alert.status)
      this.#options.alertRelay?.relay(model.name, {
        state,
        transitions: outcome.alerts.map((a) => a.alert),
        statusUrl: statusUrlOf(model),
        heldUntil,
      })
      metrics.evaluation(model.name, (performance.now() - started) / 1000)
      logger.info(
        {
          model: model.name,
          windowEnd: new Date(end).toISOString(),
          reports: outcome.reports.length,
          nCurrent: outcome.reports.map((r) => r.nCurrent),
          alerts: outcome.alerts.length,
        },
        'window evaluated',
      )
    }
    if (evaluated > 0 && lastEnd !== null) await this.#compact(model, lastEnd)
    if (lastEnd !== null && (progress === null || this.#looked.get(model.name) !== progress)) {
      await this.#reviseLate(model, token, lastEnd, state)
      if (progress !== null) this.#looked.set(model.name, progress)
    }
    this.#options.alertRelay?.relay(model.name, {
      state,
      transitions: [],
      statusUrl: statusUrlOf(model),
      heldUntil,
    })
    return evaluated
  }

  /**
   * Looks again at the reported windows whose buckets grew since: counts the growth as late and
   * publishes a revised report when a verdict changed (core/stream/lateness.ts).
   */
  async #reviseLate(
    model: EvaluatedModel,
    token: number,
    lastEnd: number,
    state: EvaluationState,
  ): Promise<void> {
    const { leases, sink, metrics, logger, owner, store } = this.#options
    const records = state.windows ?? []
    if (records.length === 0) return
    const buckets = new Set<number>()
    for (const r of records) for (const b of windowBuckets(r.end, model.spec)) buckets.add(b)
    const rows = await store.bucketRows(model.name, [...buckets])
    const labelRows =
      model.performance === undefined || this.#options.labels === undefined
        ? null
        : await this.#options.labels.bucketLabels(model.name, [...buckets])
    const windows = [...records]
    let changed = false
    // Counted in the metric once recorded in Redis: a fenced owner's count is redone by the next.
    let pendingLate = 0
    for (const [i, record] of records.entries()) {
      const stored = windowBuckets(record.end, model.spec).reduce(
        (n, b) => n + (rows.get(b) ?? 0),
        0,
      )
      const labels =
        labelRows === null
          ? undefined
          : windowBuckets(record.end, model.spec).reduce((n, b) => n + (labelRows.get(b) ?? 0), 0)
      if (stored <= record.stored && (labels === undefined || labels <= (record.labels ?? 0)))
        continue
      const reference = model.reference()
      const current = await this.#windowProfiles(model, record.end, reference.id)
      const labelled = await this.#windowPerformance(model, record.end)
      const outcome = await this.#evaluate(
        this.#windowInput(model, record.end, reference, current, labelled),
        state,
      )
      // Binned on another reference since: the verdicts are not comparable; count, never revise.
      const sameReference = record.referenceId === undefined || record.referenceId === reference.id
      const revision = reviseWindow(record, stored, sameReference ? outcome.reports : [])
      const judged: Record<string, true> = { ...record.judged }
      if (revision.reports.length > 0) {
        if ((await leases.acquire(model.name, owner, this.#options.leaseTtlMs)) !== token) {
          logger.warn({ model: model.name }, 'lost the evaluator lease: not publishing a revision')
          return
        }
        for (const report of revision.reports) await sink.report(report.reportId, report)
        // Labels that came after the first report: the window's performance votes now.
        for (const report of revision.reports) {
          const version = report.modelVersion ?? ''
          if (judged[version] === true) continue
          const input = {
            model: model.name,
            referenceId: report.referenceId,
            alertPolicy: model.alertPolicy,
            statusUrl: `/api/models/${encodeURIComponent(model.name)}/status`,
          }
          const voted = judgePerformanceLate(input, report, state.alerts)
          if (report.performance !== undefined && report.performance.insufficientData === undefined)
            judged[version] = true
          state = { ...state, alerts: voted.alerts }
          if (voted.alert !== null) {
            await sink.alerts([voted.alert])
            metrics.alert(model.name, voted.alert.alert.status)
          }
        }
        for (const report of revision.reports) {
          metrics.revision(model.name)
          logger.info(
            {
              model: model.name,
              windowEnd: new Date(record.end).toISOString(),
              revision: report.revision,
              nCurrent: report.nCurrent,
              nLate: report.lateness.nLate,
            },
            'late events changed a verdict: revised report published',
          )
        }
      }
      pendingLate += revision.newlyLate
      // The newest window's revision is what the status API and the on-call page show from now on.
      if (record.end === lastEnd && revision.reports.length > 0) {
        const lastReports = { ...state.lastReports }
        for (const report of revision.reports) lastReports[report.modelVersion ?? ''] = report
        state = { ...state, lastReports }
      }
      // The on-call page's history shows each window's latest verdicts too.
      if (revision.reports.length > 0 && state.history !== undefined) {
        let history = state.history
        for (const report of revision.reports) history = reviseHistory(history, report) ?? history
        state = { ...state, history }
      }
      windows[i] = {
        ...revision.record,
        ...(record.referenceId === undefined ? {} : { referenceId: record.referenceId }),
        ...(labels === undefined ? {} : { labels: Math.max(labels, record.labels ?? 0) }),
        ...(Object.keys(judged).length > 0 ? { judged } : {}),
      }
      changed = true
      if (revision.reports.length > 0) {
        const next: EvaluationState = { ...state, windows }
        if (
          (await leases.commitRevision(model.name, token, lastEnd, JSON.stringify(next))) !==
          'committed'
        )
          return
        metrics.lateEvents(model.name, pendingLate)
        pendingLate = 0
      }
    }
    if (changed) {
      const next = JSON.stringify({ ...state, windows })
      if ((await leases.commitRevision(model.name, token, lastEnd, next)) === 'committed')
        metrics.lateEvents(model.name, pendingLate)
    }
  }

  async #storedLabels(model: EvaluatedModel, end: number): Promise<number> {
    const labels = this.#options.labels
    if (labels === undefined) return 0
    const buckets = windowBuckets(end, model.spec)
    const counts = await labels.bucketLabels(model.name, buckets)
    return buckets.reduce((n, b) => n + (counts.get(b) ?? 0), 0)
  }

  async #storedRows(model: EvaluatedModel, end: number): Promise<number> {
    const buckets = windowBuckets(end, model.spec)
    const rows = await this.#options.store.bucketRows(model.name, buckets)
    return buckets.reduce((n, b) => n + (rows.get(b) ?? 0), 0)
  }

  /**
   * The lease of `model` is (or may be) another instance's now: stop announcing its alerts and
   * exporting its verdicts; the holder does both.
   */
  #release(model: string): void {
    this.#options.alertRelay?.released(model)
    if (this.#held.delete(model)) this.#options.metrics.released(model)
  }

  /**
   * evaluateWindow, with the noise floors it lacks computed first, one per event-loop turn: a
   * window of a new size computes ~2 s of floors, which must not starve the consumers, the lease
   * renewals and the readiness probes that share this loop.
   */
  async #evaluate(input: WindowInput, state: EvaluationState): Promise<WindowOutcome> {
    let outcome = undefined as WindowOutcome | undefined
    const missing = this.#floors.missing(() => (outcome = evaluateWindow(input, state)))
    // Every floor was cached (the usual window): that evaluation is the real one.
    if (missing.length === 0 && outcome !== undefined) return outcome
    for (const computeFloor of missing) {
      computeFloor()
      await setImmediate()
    }
    return evaluateWindow(input, state)
  }

  #windowInput(
    model: EvaluatedModel,
    end: number,
    reference: ReferenceSnapshot,
    current: Map<string, DatasetProfile>,
    performance: WindowPerformance | undefined,
  ): WindowInput {
    return {
      model: model.name,
      windowStart: end - model.spec.size,
      windowEnd: end,
      referenceId: reference.id,
      reference: reference.profile,
      current,
      features: model.features ?? [...reference.profile.features.keys()],
      settings: model.settings,
      registry: this.#options.registry,
      floors: this.#floors,
      alertPolicy: model.alertPolicy,
      minCriticalFeatures: model.minCriticalFeatures,
      generatedAt: new Date(this.#options.now()).toISOString(),
      statusUrl: statusUrlOf(model),
      ...(model.conditions === undefined ? {} : { conditions: model.conditions }),
      ...(model.importance === undefined ? {} : { importance: model.importance }),
      referenceRate: referenceRate(model.expectedRate, reference.source, reference.profile.rows),
      ...(performance === undefined ? {} : { performance }),
      ...(model.gradualDrift === undefined ? {} : { gradualDrift: model.gradualDrift }),
    }
  }

  /**
   * The window's labelled predictions, per version: the performance summaries of its buckets,
   * merged: the labels joined by now. Labels joined later make #reviseLate look again.
   */
  async #windowPerformance(
    model: EvaluatedModel,
    end: number,
  ): Promise<WindowPerformance | undefined> {
    const labels = this.#options.labels
    if (model.performance === undefined || labels === undefined) return undefined
    const buckets = windowBuckets(end, model.spec)
    const stored = await labels.readPerformance(model.name, buckets)
    const current = new Map<string, PerformanceSummary>()
    for (const bucket of buckets) {
      for (const [version, summary] of summariesOfFields(stored.get(bucket) ?? {})) {
        const into = current.get(version)
        if (into === undefined) current.set(version, summary)
        else mergeSummaries(into, summary)
      }
    }
    return { ...model.performance, current }
  }

  async #windowProfiles(
    model: EvaluatedModel,
    end: number,
    referenceId: string,
  ): Promise<Map<string, DatasetProfile>> {
    const buckets = windowBuckets(end, model.spec)
    const stored = await this.#options.store.readBuckets(model.name, buckets)
    const merged = new Map<string, DatasetProfile>()
    // Kept for #compact, which stores the same merge when it finds the same fields.
    const merges = new Map<number, { fingerprint: string; compacted: Uint8Array }>()
    this.#merges.set(model.name, merges)
    for (const bucket of buckets) {
      const fields = stored.get(bucket)
      if (fields === undefined || fields.size === 0) continue
      // Each bucket as its compacted form would hold it (mergeBucketFields), so a window scores
      // the same before and after its buckets are compacted.
      const { profiles, compacted } = mergeBucket(fields, { exactLimit: windowExactLimit })
      if (compacted !== undefined)
        merges.set(bucket, { fingerprint: fingerprintOf(fields), compacted })
      for (const [series, profile] of profiles) {
        const { referenceId: ref, modelVersion } = parseSeriesKey(series)
        if (ref !== referenceId) continue
        const into = merged.get(modelVersion)
        if (into === undefined) merged.set(modelVersion, profile)
        else mergeDatasets(into, profile)
      }
    }
    return merged
  }

  /**
   * Merges the partitions of the window's buckets that no partition can write any more into one
   * blob each (SketchStore.compactBuckets): 6 partitions store 1 bucket per minute instead of 6.
   * A window's buckets stay in the next windows, so a bucket held back now (a partition behind)
   * is tried again at the next evaluation. Failing here loses nothing: the bucket stays as it was.
   */
  async #compact(model: EvaluatedModel, end: number): Promise<void> {
    const store = this.#options.store
    if (store.compactBuckets === undefined) return
    const spec = model.spec
    try {
      const compacted = await store.compactBuckets(
        model.name,
        windowBuckets(end, spec).map((start) => ({
          start,
          closesAt: start + spec.bucket + spec.allowedLateness,
        })),
        (fields, start) => {
          const known = this.#merges.get(model.name)?.get(start)
          return known !== undefined && known.fingerprint === fingerprintOf(fields)
            ? known.compacted
            : compactBucketFields(fields)
        },
      )
      if (compacted > 0)
        this.#options.logger.debug({ model: model.name, compacted }, 'buckets compacted')
    } catch (error: unknown) {
      this.#merges.delete(model.name)
      this.#options.logger.warn(
        { model: model.name, err: errorMessage(error) },
        'bucket compaction failed; the buckets stay as they are and are tried again later',
      )
    }
  }
}

/**
 * A bucket's fields as read, in a few bytes: two reads with the same fingerprint hold the same
 * fields with the same bytes (SHA-256 of each blob), so the merge of one is the merge of the other.
 */
function fingerprintOf(fields: ReadonlyMap<string, BucketBlob>): string {
  const hash = createHash('sha256')
  for (const name of [...fields.keys()].sort()) {
    const blob = fields.get(name) as BucketBlob
    hash.update(`${name}\u0000${createHash('sha256').update(blob).digest('hex')}\u0000`)
  }
  return hash.digest('hex')
}

/** Where an alert of `model` points (its generatorURL): the model's status in the HTTP API. */
function statusUrlOf(model: EvaluatedModel): string {
  return `/api/models/${encodeURIComponent(model.name)}/status`
}
