// The baseline performance of a model: its reference data's `prediction` and `label` columns
// (names configurable) scored with the model's performance settings, once at start. Per-row
// scores (multiclass probabilities) are not read from files: a multiclass baseline has no log
// loss, and a binary one takes its score from a numeric prediction column.

import { openTable } from '../adapters/files/table-source.js'
import type { PerformanceSection } from '../config/performance.js'
import {
  addPair,
  emptySummary,
  type PerformanceSettings,
  type PerformanceSummary,
} from '../core/performance/summary.js'
import { ConfigError } from '../errors.js'

export async function loadPerformanceBaseline(
  baseline: NonNullable<PerformanceSection['baseline']>,
  settings: PerformanceSettings,
  where: string,
): Promise<PerformanceSummary> {
  const table = openTable(baseline.file)
  const columns = await table.columns()
  for (const name of [baseline.predictionColumn, baseline.labelColumn]) {
    if (!columns.includes(name))
      throw new ConfigError(
        where,
        `${baseline.file} has no column '${name}' (columns: ${columns.slice(0, 20).join(', ')})`,
      )
  }
  const summary = emptySummary()
  for await (const row of table.rows({
    columns: [baseline.predictionColumn, baseline.labelColumn],
  })) {
    const prediction = row.values[baseline.predictionColumn]
    const label = row.values[baseline.labelColumn]
    if (prediction === null || prediction === undefined || label === null || label === undefined)
      continue
    addPair(summary, settings, { prediction }, label)
  }
  return summary
}
