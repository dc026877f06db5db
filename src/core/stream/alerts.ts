// The alert state machine, one per model / feature / alert kind. It fires after `fireAfter`
// consecutive drifted evaluations, resolves after `resolveAfter` consecutive clean ones, and will
// not fire again within `cooldown` of a resolve (flapping features page once, not every hop).
// Only transitions produce alert events; steady states publish nothing.

import type { Severity } from '../report.js'

export interface AlertPolicy {
  readonly fireAfter: number
  readonly resolveAfter: number
  readonly cooldown: number
}

export interface AlertState {
  readonly firing: boolean
  readonly drifted: number
  readonly clean: number
  /** When the current firing started (window end, ms). */
  readonly since: number | null
  readonly resolvedAt: number | null
  /** Highest severity seen since it fired (or the last observation's while not firing). */
  readonly severity: Severity
  /**
   * The severity it fired with: its `severity` label, kept until it resolves so that the
   * resolved event names the same alert (Alertmanager identifies an alert by its labels).
   * Absent in states stored before it existed.
   */
  readonly firedSeverity?: Severity
  /**
   * When the last firing that has resolved had started (window end, ms), so a resolved alert
   * can still be listed with its start. Absent in states stored before it existed.
   */
  readonly lastFiredAt?: number | null
}

export const initialAlertState: AlertState = {
  firing: false,
  drifted: 0,
  clean: 0,
  since: null,
  resolvedAt: null,
  severity: 'ok',
}

export type AlertTransition = 'firing' | 'resolved' | null

export function stepAlert(
  state: AlertState,
  observation: { readonly drifted: boolean; readonly severity: Severity; readonly at: number },
  policy: AlertPolicy,
): { state: AlertState; transition: AlertTransition } {
  if (observation.drifted) {
    const drifted = state.drifted + 1
    const cooled = state.resolvedAt === null || observation.at - state.resolvedAt >= policy.cooldown
    if (!state.firing && drifted >= policy.fireAfter && cooled) {
      return {
        state: {
          firing: true,
          drifted,
          clean: 0,
          since: observation.at,
          resolvedAt: state.resolvedAt,
          severity: observation.severity,
          firedSeverity: observation.severity,
        },
        transition: 'firing',
      }
    }
    return {
      state: {
        ...state,
        drifted,
        clean: 0,
        severity: state.firing ? maxSeverity(state.severity, observation.severity) : state.severity,
      },
      transition: null,
    }
  }
  const clean = state.clean + 1
  if (state.firing && clean >= policy.resolveAfter) {
    return {
      state: {
        firing: false,
        drifted: 0,
        clean,
        since: null,
        resolvedAt: observation.at,
        severity: 'ok',
        lastFiredAt: state.since,
      },
      transition: 'resolved',
    }
  }
  return { state: { ...state, clean, drifted: 0 }, transition: null }
}

const rank = { ok: 0, warning: 1, critical: 2 } as const

function maxSeverity(a: Severity, b: Severity): Severity {
  return rank[a] >= rank[b] ? a : b
}

/** An alert event shaped like Alertmanager's (https://prometheus.io/docs/alerting/latest/clients/). */
export interface AlertEvent {
  readonly status: 'firing' | 'resolved'
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
  readonly startsAt: string
  readonly endsAt: string
  readonly generatorURL: string
  readonly fingerprint: string
}
