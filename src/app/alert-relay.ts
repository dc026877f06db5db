// Announces each model's firing alerts to an AlertNotifier (Alertmanager) the way Prometheus
// announces its own: every firing alert again each `resendInterval`, valid until 4 resend
// intervals from now, so that Alertmanager keeps it while driftwatch runs and lets it lapse
// if driftwatch stops; a resolved alert once more with `endsAt` = when it resolved, so that it
// ends at once instead of lapsing. The alerts topic carries transitions only; this carries state.
//
// Only the evaluator lease holder of a model relays it: the evaluator hands over the model's
// evaluation state (from Redis, so a new lease holder announces the same alerts at once) after
// every window it commits and every turn it holds the lease, with the time until which the lease
// is surely still its own. Re-sends run on a timer of their own, not on the evaluator's turns,
// which a long catch-up can stretch beyond an announcement's validity; they stop when the lease
// may have passed on. Sending never holds up the evaluator: one POST per model is in flight at
// most, and what it could not send goes with the next.

import type { Logger } from 'pino'
import type { AlertEvent } from '../core/stream/alerts.js'
import { firingAlerts, type EvaluationState } from '../core/stream/evaluation.js'
import { errorMessage } from '../errors.js'
import type { AlertNotifier } from '../ports/alert-notifier.js'
import type { MetricsSink } from '../ports/metrics.js'

/** Alertmanager keeps an alert this many resend intervals (Prometheus's own factor). */
const validForResends = 4
/** After a failed send, the next attempt waits this long at most (less with a shorter resend). */
const retryAfterMs = 10_000
/** How often the timer looks for a due re-send (at most; less with a shorter resend). */
const lookEveryMs = 1000

export interface AlertRelayOptions {
  readonly notifier: AlertNotifier
  readonly resendIntervalMs: number
  readonly now: () => number
  readonly logger: Logger
  readonly metrics: MetricsSink
}

interface Relayed {
  /** The alerts firing as of the latest state handed over (endsAt open). */
  firing: readonly AlertEvent[]
  /** Resolved alerts not yet accepted (their endsAt is when they resolved). */
  resolved: AlertEvent[]
  /** Wall-clock ms until which this instance surely holds the model's lease. */
  heldUntil: number
  /** When the alerts were last sent, or last attempted in vain. */
  lastAttempt: { readonly at: number; readonly ok: boolean } | undefined
  /** A firing transition not announced yet. */
  fired: boolean
  sending: Promise<void> | undefined
}

export class AlertRelay {
  readonly #options: AlertRelayOptions
  readonly #models = new Map<string, Relayed>()
  #timer: NodeJS.Timeout | undefined

  constructor(options: AlertRelayOptions) {
    this.#options = options
  }

  /** Starts the re-send timer. */
  start(): void {
    const every = Math.min(lookEveryMs, this.#options.resendIntervalMs)
    this.#timer = setInterval(() => this.tick(), every)
    this.#timer.unref()
  }

  /**
   * The lease holder's latest word on `model`: `state` as committed, `transitions` the alert
   * events it published since its last call, `heldUntil` until when the lease is surely its own.
   * Sends at once what is new (a firing or a resolve); never throws.
   */
  relay(
    model: string,
    update: {
      readonly state: EvaluationState
      readonly transitions: readonly AlertEvent[]
      readonly statusUrl: string
      readonly heldUntil: number
    },
  ): void {
    const at = this.#options.now()
    const entry = this.#models.get(model) ?? {
      firing: [],
      resolved: [],
      heldUntil: 0,
      lastAttempt: undefined,
      fired: false,
      sending: undefined,
    }
    entry.firing = firingAlerts(model, update.state, update.statusUrl).map(({ alert }) => alert)
    entry.heldUntil = update.heldUntil
    for (const t of update.transitions) {
      if (t.status === 'firing') entry.fired = true
      else entry.resolved.push({ ...t, endsAt: new Date(at).toISOString() })
    }
    this.#models.set(model, entry)
    this.#sendIfDue(model, entry)
  }

  /** Sends every model's announcement that is due (the timer calls it). */
  tick(): void {
    for (const [model, entry] of this.#models) this.#sendIfDue(model, entry)
  }

  /**
   * This instance no longer holds `model`'s lease: its new holder announces the alerts from now
   * on. Resolves not yet sent are dropped; the alert lapses within 4 resend intervals.
   */
  released(model: string): void {
    this.#models.delete(model)
  }

  /** Stops the timer and waits for the sends in flight (so that a last resolve goes out). */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await this.drain()
  }

  /** Waits for the sends in flight. */
  async drain(): Promise<void> {
    const sending: Array<Promise<void>> = []
    for (const entry of this.#models.values())
      if (entry.sending !== undefined) sending.push(entry.sending)
    await Promise.all(sending)
  }

  #sendIfDue(model: string, entry: Relayed): void {
    const { now, resendIntervalMs } = this.#options
    const at = now()
    const validForMs = validForResends * resendIntervalMs
    // The lease may have passed on: the new holder speaks for the model now.
    if (at > entry.heldUntil || entry.sending !== undefined) return
    const firingNow = new Set(entry.firing.map((a) => a.fingerprint))
    // Firing again since: the firing announcement supersedes it. Resolved longer ago than an
    // announcement stays valid: Alertmanager has let the alert lapse by itself.
    entry.resolved = entry.resolved.filter(
      (a) => !firingNow.has(a.fingerprint) && at - Date.parse(a.endsAt) < validForMs,
    )
    const last = entry.lastAttempt
    const due =
      last === undefined
        ? true
        : last.ok
          ? at - last.at >= resendIntervalMs || entry.fired || entry.resolved.length > 0
          : at - last.at >= Math.min(resendIntervalMs, retryAfterMs)
    if (!due) return
    const resolved = entry.resolved
    const firing = entry.firing.map((alert) => ({
      ...alert,
      startsAt: earlier(alert.startsAt, at),
      endsAt: new Date(at + validForMs).toISOString(),
    }))
    // Resolved ones first: Alertmanager applies one batch in order.
    const batch = [
      ...resolved.map((a) => ({ ...a, startsAt: earlier(a.startsAt, Date.parse(a.endsAt)) })),
      ...firing,
    ]
    entry.fired = false
    if (batch.length === 0) {
      entry.lastAttempt = { at, ok: true }
      return
    }
    entry.sending = this.#options.notifier
      .notify(batch)
      .then(
        () => {
          if (last?.ok === false)
            this.#options.logger.info({ model }, 'alerts reach Alertmanager again')
          entry.lastAttempt = { at, ok: true }
          const sent = new Set(resolved)
          entry.resolved = entry.resolved.filter((a) => !sent.has(a))
          this.#options.metrics.alertNotification('sent')
        },
        (error: unknown) => {
          if (last?.ok !== false)
            this.#options.logger.warn(
              { model, alerts: batch.length, err: errorMessage(error) },
              'could not announce alerts to Alertmanager; retrying',
            )
          entry.lastAttempt = { at, ok: false }
          this.#options.metrics.alertNotification('failed')
        },
      )
      .finally(() => {
        entry.sending = undefined
      })
  }
}

function earlier(iso: string, ms: number): string {
  return Date.parse(iso) <= ms ? iso : new Date(ms).toISOString()
}
