// Deterministic prediction events for the stream tests: 20 numerical features (f00..f19) and
// three categorical ones, with chosen features shifted by 1.5 standard deviations. Written apart
// from `driftwatch simulate` on purpose: the tests' ground truth must not share code with the
// product's generator.

import { mulberry32, normal, type Rng } from './random.js'

export const numericalFeatures = Array.from(
  { length: 20 },
  (_, i) => `f${String(i).padStart(2, '0')}`,
)
export const categoricalFeatures = {
  country: ['us', 'de', 'fr', 'gb', 'in', 'br', 'jp', 'ca'],
  device: ['ios', 'android', 'web'],
  plan: ['free', 'basic', 'pro', 'team'],
} as const

export interface EventOptions {
  readonly model: string
  readonly seed: number
  readonly drifted?: readonly string[]
  readonly idPrefix: string
}

export function featureRow(
  rng: Rng,
  drifted: ReadonlySet<string>,
): Record<string, number | string> {
  const row: Record<string, number | string> = {}
  numericalFeatures.forEach((name, i) => {
    const mean = 10 * (i + 1)
    const sd = 1 + (i % 5)
    row[name] = Number((normal(rng, mean, sd) + (drifted.has(name) ? 1.5 * sd : 0)).toFixed(4))
  })
  for (const [name, values] of Object.entries(categoricalFeatures)) {
    const u = rng()
    row[name] = values[Math.min(values.length - 1, Math.floor(u * u * values.length))] as string
  }
  return row
}

export function* predictionEvents(
  n: number,
  startTime: number,
  stepMs: number,
  options: EventOptions,
): Generator<{ key: string; value: string }> {
  const rng = mulberry32(options.seed)
  const drifted = new Set(options.drifted ?? [])
  for (let i = 0; i < n; i++) {
    const eventId = `${options.idPrefix}-${i}`
    const event = {
      eventId,
      model: options.model,
      timestamp: startTime + i * stepMs,
      features: featureRow(rng, drifted),
      prediction: rng() < 0.1 ? 1 : 0,
      latencyMs: Math.round(5 + 20 * rng()),
    }
    yield { key: eventId, value: JSON.stringify(event) }
  }
}

export function referenceRows(n: number, seed: number): Array<Record<string, number | string>> {
  const rng = mulberry32(seed)
  return Array.from({ length: n }, () => featureRow(rng, new Set()))
}
