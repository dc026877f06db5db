// Builds profiles from plain arrays the way `driftwatch check` builds them from files.

import {
  addRow,
  createDatasetProfile,
  type CellValue,
  type DatasetProfile,
} from '../../src/core/profile/dataset.js'
import { exactValueLimit, ReferenceBuilder } from '../../src/core/reference.js'
import type { FeatureKind } from '../../src/core/report.js'

export function referenceOf(
  name: string,
  kind: FeatureKind,
  values: readonly CellValue[],
): DatasetProfile {
  const builder = new ReferenceBuilder([{ name, kind, reason: 'test' }])
  for (const value of values) builder.add({ [name]: value })
  return builder.build()
}

export function currentOf(
  reference: DatasetProfile,
  name: string,
  values: readonly CellValue[],
): DatasetProfile {
  const layout = {
    columns: [...reference.features]
      .filter(([n]) => n === name)
      .map(([n, p]) =>
        p.kind === 'numerical'
          ? ({ name: n, kind: 'numerical', binning: p.binning } as const)
          : ({ name: n, kind: 'categorical', vocabulary: p.vocabulary } as const),
      ),
  }
  // As `driftwatch check` does: the current keeps its values up to the reference's limit.
  const profile = createDatasetProfile(layout, { exactLimit: exactValueLimit })
  for (const value of values) addRow(profile, { [name]: value })
  return profile
}

/** Splits values into `parts` chunks, profiles each chunk against the reference. */
export function chunkedCurrentOf(
  reference: DatasetProfile,
  name: string,
  values: readonly CellValue[],
  parts: number,
): DatasetProfile[] {
  const size = Math.ceil(values.length / parts)
  const out: DatasetProfile[] = []
  for (let i = 0; i < values.length; i += size)
    out.push(currentOf(reference, name, values.slice(i, i + size)))
  return out
}
