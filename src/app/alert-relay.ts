// Announces each model's firing alerts to an AlertNotifier (Alertmanager) the way Prometheus
// announces its own: every firing alert again each `resendInterval`, valid until 4 resend
// intervals from now, so that Alertmanager keeps it while driftwatch runs and lets it lapse
// if driftwatch stops; a resolved alert once more with `endsAt` = when it resolved, so that it
// ends at once instead of lapsing. The alerts topic carries transitions only; this carries state.
//
// Only the evaluator lease holder of a model relays it (the evaluator calls relay() after each
// turn it holds the lease), and what fires is read from the evaluation state in Redis: a new
// lease holder announces the same alerts at once. Sending never holds up the evaluator: one
// POST per model is in flight at most, and what it could not send goes with the next.

import type { Logger } from 'pino'
import { firingAlerts, type EvaluationState } from '../core/stream/evaluation.js'
import type { AlertEvent } from '../core/stream/alerts.js'
import { errorMessage } from '../errors.js'
import type { AlertNotifier } from '../ports/alert-notifier.js'
import type { MetricsSink } from '../ports/metrics.js'

/** Alertmanager keeps an alert this many resend intervals (Prometheus's own factor). */
const validForResends = 4
/** After a failed send, the next attempt waits this long at most (less with a shorter resend). */
const retryAfterMs = 10_000

export interface AlertRelayOptions {
  readonly notifier: AlertNotifier
  readonly resendIntervalMs: number
  readonly now: () => number
  readonly logger: Logger
  readonly metrics: MetricsSink
}

export class AlertRelay {
  readonly #options: AlertRelayOptions
  /** Per model: wall-clock ms when its alerts were last sent, or last attempted in vain. */
  readonly #lastAttempt = new Map<string, { at: number; ok: boolean }>()
  /** Per model: resolved alerts not yet accepted (their endsAt is when they resolved). */
  readonly #resolved = new Map<string, AlertEvent[]>()
  readonly #sending = new Map<string, Promise<void>>()

  constructor(options: AlertRelayOptions) {
    this.#options = options
  }

  /**
   * After an evaluator turn of `model` under its lease: `state` as committed, `transitions` the
   * alert events published in this turn. Starts a send when one is due; never throws.
   */
  relay(
    model: string,
    state: EvaluationState,
    transitions: readonly AlertEvent[],
    statusUrl: string,
  ): void {
    const { now, resendIntervalMs } = this.#options
    const at = now()
    const validForMs = validForResends * resendIntervalMs
    const firing = firingAlerts(model, state, statusUrl).map(({ alert }) => ({
      ...alert,
      startsAt: earlier(alert.startsAt, at),
      endsAt: new Date(at + validForMs).toISOString(),
    }))
    const firingNow = new Set(firing.map((a) => a.fingerprint))
    const resolved = [
      ...(this.#resolved.get(model) ?? []),
      ...transitions
        .filter((t) => t.status === 'resolved')
        .map((t) => ({
          ...t,
          startsAt: earlier(t.startsAt, at),
          endsAt: new Date(at).toISOString(),
        })),
    ]
      // Firing again since: the firing announcement supersedes it. Resolved longer ago than an
      // announcement stays valid: Alertmanager has let the alert lapse by itself.
      .filter((a) => !firingNow.has(a.fingerprint) && at - Date.parse(a.endsAt) < validForMs)
    this.#resolved.set(model, resolved)

    if (this.#sending.has(model)) return
    const last = this.#lastAttempt.get(model)
    const due =
      last === undefined
        ? true
        : last.ok
          ? at - last.at >= resendIntervalMs ||
            resolved.length > 0 ||
            transitions.some((t) => t.status === 'firing')
          : at - last.at >= Math.min(resendIntervalMs, retryAfterMs)
    if (!due) return
    // Resolved ones first: with one batch, Alertmanager applies them in order.
    const batch = [...resolved, ...firing]
    if (batch.length === 0) {
      this.#lastAttempt.set(model, { at, ok: true })
      return
    }
    const sending = this.#options.notifier
      .notify(batch)
      .then(
        () => {
          if (last?.ok === false)
            this.#options.logger.info({ model }, 'alerts reach Alertmanager again')
          this.#lastAttempt.set(model, { at, ok: true })
          const sent = new Set(resolved)
          this.#resolved.set(
            model,
            (this.#resolved.get(model) ?? []).filter((a) => !sent.has(a)),
          )
          this.#options.metrics.alertNotification('sent')
        },
        (error: unknown) => {
          if (last?.ok !== false)
            this.#options.logger.warn(
              { model, alerts: batch.length, err: errorMessage(error) },
              'could not announce alerts to Alertmanager; retrying',
            )
          this.#lastAttempt.set(model, { at, ok: false })
          this.#options.metrics.alertNotification('failed')
        },
      )
      .finally(() => this.#sending.delete(model))
    this.#sending.set(model, sending)
  }

  /**
   * This instance no longer holds `model`'s lease: its new holder announces the alerts from now
   * on. Resolves not yet sent are dropped; the alert lapses within 4 resend intervals.
   */
  released(model: string): void {
    this.#lastAttempt.delete(model)
    this.#resolved.delete(model)
  }

  /** Waits for the sends in flight (at stop, so that a last resolve goes out). */
  async drain(): Promise<void> {
    await Promise.all(this.#sending.values())
  }
}

function earlier(iso: string, ms: number): string {
  return Date.parse(iso) <= ms ? iso : new Date(ms).toISOString()
}
