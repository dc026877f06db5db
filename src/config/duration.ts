// Durations in config files: "500ms", "30s", "5m", "1h", "2d". Plain numbers are milliseconds.

import { z } from 'zod'

const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim())
  if (match === null) return null
  const value = Number(match[1]) * units[match[2] as keyof typeof units]
  return Number.isFinite(value) ? value : null
}

function duration(allowZero: boolean) {
  const number = z.number().int()
  return z
    .union([allowZero ? number.nonnegative() : number.positive(), z.string()])
    .transform((value, ctx) => {
      if (typeof value === 'number') return value
      const ms = parseDuration(value)
      if (ms === null || ms < 0 || (ms === 0 && !allowZero)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration like "500ms", "30s", "5m", "1h" (got "${value}")`,
        })
        return z.NEVER
      }
      return ms
    })
}

export const durationSchema = duration(false)
/** A duration that may also be 0 ("0s"): for waits that are off by default (alerts.cooldown). */
export const zeroOrDurationSchema = duration(true)
