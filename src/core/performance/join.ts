// The two sides of the ground-truth join, as they wait in the store: a prediction waiting for its
// label (written by the ingest flush, adapters/redis/lua/apply-flush.lua) and a label that came
// first, waiting for its prediction (written by the label join, lua/join-labels.lua). And the
// label events themselves, decoded like prediction events: never throwing, every rejection a
// reason for the dead-letter topic.
//
// A pair joins into the performance summary of the bucket its PREDICTION belongs to (its event
// time), whenever the label arrives, so a window's performance is that of the predictions it
// holds. Field names in the store are `<model version>␞<summary field>` (summary.ts).

import {
  decodeTimestamp,
  maxIdLength,
  type DecodeLimits,
  type FeatureValue,
  type InvalidReason,
} from '../events.js'
import {
  pairIncrements,
  type PerformanceSettings,
  type PerformanceSummary,
  type PredictionOutput,
} from './summary.js'

export const versionSeparator = '\u001e'

/** A prediction waiting for its label. */
export interface PendingPrediction {
  /** Start (ms) of the bucket the prediction belongs to. */
  readonly bucket: number
  /** Model version ('' for none). */
  readonly version: string
  readonly output: PredictionOutput
}

export function encodePending(pending: PendingPrediction): string {
  const { prediction, scores } = pending.output
  return JSON.stringify({
    b: pending.bucket,
    v: pending.version,
    ...(prediction === undefined ? {} : { p: prediction }),
    ...(scores === undefined ? {} : { s: { ...scores } }),
  })
}

/** null when the stored text is not a pending prediction (then it is dropped, and counted). */
export function decodePending(text: string): PendingPrediction | null {
  try {
    const json = JSON.parse(text) as { b?: unknown; v?: unknown; p?: unknown; s?: unknown }
    if (typeof json.b !== 'number' || typeof json.v !== 'string') return null
    const p = json.p
    const output: { prediction?: number | string | boolean; scores?: Record<string, number> } = {}
    if (typeof p === 'number' || typeof p === 'string' || typeof p === 'boolean')
      output.prediction = p
    if (typeof json.s === 'object' && json.s !== null) {
      const scores: Record<string, number> = Object.create(null) as Record<string, number>
      for (const [k, v] of Object.entries(json.s)) if (typeof v === 'number') scores[k] = v
      output.scores = scores
    }
    return { bucket: json.b, version: json.v, output }
  } catch {
    return null
  }
}

/** What the join adds to the prediction's bucket: store fields and increments. */
export function joinIncrements(
  settings: PerformanceSettings,
  pending: PendingPrediction,
  label: FeatureValue,
): Array<readonly [string, number]> {
  return pairIncrements(settings, pending.output, label).map(
    ([name, value]) => [`${pending.version}${versionSeparator}${name}`, value] as const,
  )
}

/** A bucket's stored performance fields → model version → summary. */
export function summariesOfFields(
  fields: Readonly<Record<string, string>>,
): Map<string, PerformanceSummary> {
  const byVersion = new Map<string, PerformanceSummary>()
  for (const [key, text] of Object.entries(fields)) {
    const cut = key.indexOf(versionSeparator)
    const value = Number(text)
    if (cut < 0 || !Number.isFinite(value)) continue
    const version = key.slice(0, cut)
    let summary = byVersion.get(version)
    if (summary === undefined) byVersion.set(version, (summary = new Map<string, number>()))
    const name = key.slice(cut + 1)
    summary.set(name, (summary.get(name) ?? 0) + value)
  }
  return byVersion
}

export interface LabelEvent {
  readonly eventId: string
  readonly model: string
  readonly label: FeatureValue
  /** ms since epoch; null when absent */
  readonly timestamp: number | null
}

export type LabelDecodeResult =
  { ok: true; event: LabelEvent } | { ok: false; reason: InvalidReason; detail: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** `{eventId, model, label, timestamp?}`; never throws. */
export function decodeLabelEvent(
  value: Buffer | Uint8Array | null,
  limits: DecodeLimits,
): LabelDecodeResult {
  if (value === null || value.length === 0) return bad('empty', 'no label event')
  if (value.length > limits.maxBytes)
    return bad('too_large', `${value.length} bytes > maxBytes ${limits.maxBytes}`)
  let doc: unknown
  try {
    doc = JSON.parse(utf8.decode(value))
  } catch (error) {
    return error instanceof SyntaxError
      ? bad('invalid_json', 'not JSON')
      : bad('not_utf8', 'not valid UTF-8')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return bad('not_an_object', 'a label event is a JSON object')
  const record = doc as Record<string, unknown>
  for (const name of ['eventId', 'model'] as const) {
    const id = record[name]
    if (id === undefined || id === null) return bad('missing_field', `${name} is missing`)
    if (typeof id !== 'string') return bad('wrong_type', `${name}: expected a string`)
    if (id === '' || id.length > maxIdLength)
      return bad('invalid_value', `${name}: empty or longer than ${maxIdLength}`)
  }
  const label = record['label']
  if (label === undefined || label === null) return bad('missing_field', 'label is missing')
  if (
    typeof label === 'number'
      ? !Number.isFinite(label)
      : !['string', 'boolean'].includes(typeof label)
  )
    return bad('wrong_type', 'label: expected a number, string or boolean')
  const timestamp = decodeTimestamp(record['timestamp'], limits)
  if (typeof timestamp !== 'number' && timestamp !== null)
    return timestamp.ok ? bad('bad_timestamp', 'timestamp') : timestamp
  return {
    ok: true,
    event: {
      eventId: record['eventId'] as string,
      model: record['model'] as string,
      label: label as FeatureValue,
      timestamp,
    },
  }
}

function bad(reason: InvalidReason, detail: string): LabelDecodeResult {
  return { ok: false, reason, detail }
}

/** A label the task cannot use (a string label in a regression): its dead-letter detail. */
export function labelProblem(settings: PerformanceSettings, label: FeatureValue): string | null {
  if (settings.task === 'regression' && typeof label !== 'number')
    return `label: a regression needs a number, got ${typeof label}`
  return null
}
