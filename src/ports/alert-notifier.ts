// Where the alerts currently firing are announced again and again (Alertmanager in production).
// The alerts topic of EventSink carries transitions only, once each; a receiver like Alertmanager
// instead keeps an alert only until its `endsAt`, so it must hear every firing alert again before
// then, and hear explicitly when one resolves (app/alert-relay.ts decides what and when).

import type { AlertEvent } from '../core/stream/alerts.js'

export interface AlertNotifier {
  /**
   * Announces `alerts`: a firing alert is valid until its `endsAt`, a resolved one ended at its
   * `endsAt`. Resolves once the receiver accepted them all; rejects (retryable) otherwise.
   */
  notify(alerts: readonly AlertEvent[]): Promise<void>
}
