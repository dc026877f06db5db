// What the service tells its operators, in the domain's words. The app calls these; the
// prom-client adapter (src/adapters/metrics) turns them into `driftwatch_*` series. Every
// string argument becomes a label, so it must come from a bounded set: model, version, feature
// and topic names from the config, reasons from the decoder's closed list, never an event's
// own values.

import type { DriftReport } from '../core/report.js'

export const flushOutcomes = ['applied', 'stale', 'error'] as const
/** applied: stored; stale: a newer owner moved on, the flush was dropped; error: the store failed. */
export type FlushOutcomeKind = (typeof flushOutcomes)[number]

export const alertStatuses = ['firing', 'resolved'] as const
export type AlertStatus = (typeof alertStatuses)[number]

export const notificationOutcomes = ['sent', 'failed'] as const
/** sent: Alertmanager accepted the alerts; failed: it did not answer or refused (retried). */
export type NotificationOutcome = (typeof notificationOutcomes)[number]
/**
 * What became of labels and of predictions waiting for them (app/labels.ts):
 * joined: a label met its prediction and was scored; early: a label came before its prediction
 * and waits; prediction_expired / prediction_evicted: a prediction stopped waiting for its label
 * (past `joinTtl` / beyond `maxPending`); label_expired / label_evicted: the same for early labels.
 */
export const labelJoinOutcomes = [
  'joined',
  'early',
  'prediction_expired',
  'prediction_evicted',
  'label_expired',
  'label_evicted',
] as const
export type LabelJoinOutcome = (typeof labelJoinOutcomes)[number]

export const dependencies = ['kafka', 'redis'] as const
export type Dependency = (typeof dependencies)[number]

export interface MetricsSink {
  /** `n` valid events of `model` were read from `topic` and added (or counted late). */
  eventsConsumed(model: string, topic: string, n: number): void
  /** One event could not be used (it went to the dead-letter topic); its model is unknown. */
  invalidEvent(reason: string, topic: string): void
  /**
   * `n` events of `model` arrived late: after their bucket had closed on their partition
   * (counted, not added), or after a window holding them was evaluated (added, and the window
   * looked at again: core/stream/lateness.ts).
   */
  lateEvents(model: string, n: number): void
  /** `n` windows of `model` holding events will never be evaluated (reason: SkipReason). */
  windowsSkipped(model: string, reason: string, n: number): void
  /** A revised report of an already reported window of `model` was published. */
  revision(model: string): void
  /** One flush to the sketch store finished after `seconds`. */
  flush(outcome: FlushOutcomeKind, seconds: number): void
  /** One window evaluation of `model` took `seconds`. */
  evaluation(model: string, seconds: number): void
  /**
   * A drift report for the window ending at `windowEndMs` (ms since epoch) was published:
   * the verdict gauges now show it. `version` is '' for a model without versions.
   */
  report(model: string, version: string, report: DriftReport, windowEndMs: number): void
  /** The reference snapshot `referenceId` is the one `model`/`version` is compared with now. */
  reference(model: string, version: string, referenceId: string): void
  /** An alert transition of `model` was published. */
  alert(model: string, status: AlertStatus): void
  /** One announcement of firing and resolved alerts to Alertmanager (alerts.alertmanager) ended. */
  alertNotification(outcome: NotificationOutcome): void
  /** Messages behind the high watermark on a partition we own; null once it is revoked. */
  lag(topic: string, partition: number, messages: number | null): void
  /** Whether a dependency answers right now. */
  up(dependency: Dependency, up: boolean): void
  /** `n` labels or waiting predictions of `model` had this outcome (LabelJoinOutcome). */
  labelJoin(model: string, outcome: LabelJoinOutcome, n: number): void
  /**
   * This instance no longer holds `model`'s evaluator lease: its verdict gauges go, so that only
   * the holder exports them (a stale copy would keep a drift alert firing).
   */
  released(model: string): void
}
