// Alertmanager's API v2 (POST /api/v2/alerts), as Prometheus itself talks to it: a JSON list of
// postable alerts (labels, annotations, startsAt, endsAt, generatorURL). Alertmanager identifies
// an alert by its label set, so labels with an empty value are left out, as Prometheus does (a
// model without versions has model_version ''): the same alert then gets the same identity from
// every sender.

import { DriftwatchError, errorMessage } from '../../errors.js'
import type { AlertEvent } from '../../core/stream/alerts.js'
import type { AlertNotifier } from '../../ports/alert-notifier.js'

export interface AlertmanagerOptions {
  /** Base URL, e.g. http://alertmanager:9093 (a path prefix, if it has one, included). */
  readonly url: string
  /** A POST that has not answered by then fails, and is retried by the caller. */
  readonly timeoutMs: number
}

export interface PostableAlert {
  readonly labels: Record<string, string>
  readonly annotations: Record<string, string>
  readonly startsAt: string
  readonly endsAt: string
  readonly generatorURL: string
}

export function postableAlert(alert: AlertEvent): PostableAlert {
  const nonEmpty = (record: Readonly<Record<string, string>>): Record<string, string> =>
    Object.fromEntries(Object.entries(record).filter(([, value]) => value !== ''))
  return {
    labels: nonEmpty(alert.labels),
    annotations: nonEmpty(alert.annotations),
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    generatorURL: alert.generatorURL,
  }
}

export class AlertmanagerNotifier implements AlertNotifier {
  readonly #endpoint: string
  readonly #timeoutMs: number

  constructor(options: AlertmanagerOptions) {
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/api/v2/alerts`
    this.#timeoutMs = options.timeoutMs
  }

  async notify(alerts: readonly AlertEvent[]): Promise<void> {
    if (alerts.length === 0) return
    let response: Response
    try {
      response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts.map(postableAlert)),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error: unknown) {
      throw new DriftwatchError(
        'ALERTMANAGER_UNAVAILABLE',
        `alertmanager: POST ${this.#endpoint}: ${errorMessage(error)}`,
        { canRetry: true, cause: error },
      )
    }
    if (!response.ok) {
      const body = (await response.text().catch(() => '')).slice(0, 300)
      // 4xx: Alertmanager refused what we sent (a bug of ours, or a proxy's refusal); it is
      // retried all the same, since the next send carries the alerts afresh.
      throw new DriftwatchError(
        'ALERTMANAGER_UNAVAILABLE',
        `alertmanager: POST ${this.#endpoint}: HTTP ${response.status} ${body}`.trim(),
        { canRetry: true },
      )
    }
    // Drain the body so that the connection is reused.
    await response.arrayBuffer().catch(() => undefined)
  }
}
