// Standard prediction events for the ingest benchmark: the 23 features of feature-data.js in the
// input contract's JSON (src/core/events.ts), with the fields producers typically add and the
// decoder ignores (a request id, a host), about 640 bytes each, the size of
// the events our users log from their model servers. Deterministic for a seed.

import { mulberry32 } from './common.js'
import { columnNames, rowGenerator } from './feature-data.js'

const featureKeys = columnNames.map((name) => JSON.stringify(name) + ':')

function hex(rng, digits) {
  let out = ''
  while (out.length < digits)
    out += Math.floor(rng() * 0x100000000)
      .toString(16)
      .padStart(8, '0')
  return out.slice(0, digits)
}

/**
 * A generator of event JSON strings: event `index` has timestamp startTime + index * stepMs.
 * @param {{ seed: number, model: string, startTime: number, stepMs: number, drifted?: boolean }} o
 */
export function eventGenerator({ seed, model, startTime, stepMs, drifted = false }) {
  const next = rowGenerator({ seed, drifted })
  const rng = mulberry32(seed ^ 0x5eed)
  const modelJson = JSON.stringify(model)
  let index = 0
  return () => {
    const row = next()
    let features = '{'
    for (let i = 0; i < row.length; i++) {
      features +=
        (i === 0 ? '' : ',') +
        featureKeys[i] +
        (typeof row[i] === 'string' ? `"${row[i]}"` : row[i])
    }
    features += '}'
    const score = Math.round(rng() * 1e6) / 1e6
    const id = hex(rng, 32)
    const event =
      `{"eventId":"${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}",` +
      `"model":${modelJson},"modelVersion":"2024-06-01.3","timestamp":${startTime + index * stepMs},` +
      `"features":${features},"prediction":${score > 0.9 ? 1 : 0},` +
      `"scores":{"fraud":${score},"legit":${Math.round((1 - score) * 1e6) / 1e6}},` +
      `"latencyMs":${Math.round(rng() * 4000) / 100},"requestId":"req-${hex(rng, 24)}",` +
      `"host":"scorer-${Math.floor(rng() * 16)}.prod.internal","region":"eu-west-1"}`
    index++
    return event
  }
}
