// The Avro schemas of driftwatch's topics, shipped in `schemas/` at the package root (one .avsc
// per topic kind). Loaded from disk so that the files users read are the ones the code uses.

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const topicSchemas = {
  prediction: 'prediction-event.avsc',
  feature: 'feature-event.avsc',
  label: 'label-event.avsc',
  report: 'drift-report.avsc',
  alert: 'alert.avsc',
  retrain: 'retrain-request.avsc',
  rollback: 'rollback-advice.avsc',
  deadLetter: 'dead-letter.avsc',
} as const
export type TopicSchemaName = keyof typeof topicSchemas

/** The `schemas/` directory, found by walking up (the same code runs from src/ and dist/). */
export function schemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'schemas')
    if (existsSync(join(candidate, topicSchemas.report))) return candidate
    const parent = dirname(dir)
    if (parent === dir)
      throw new Error(`schemas/ not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

/** The parsed .avsc of one topic kind. */
export function loadSchema(name: TopicSchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(schemasDir(), topicSchemas[name]), 'utf8')) as Record<
    string,
    unknown
  >
}
