// The model's outputs next to its inputs: the prediction and the latency of each event.
//
// A prediction is profiled exactly like a feature, on the reference's layout (scores are
// numerical, classes and booleans categorical, by the same kind rule as features), so every
// drift test applies to it unchanged (core/prediction-drift.ts). The latency is a numerical
// profile on an empty binning: no drift test reads it, only its quantiles (core/latency.ts), which
// come from the values the profile keeps exactly (up to its exact limit) or from its t-digest.
//
// In files (a reference or `check`'s current data) both are ordinary columns, named by
// `OutputColumns`; a profile built from a file moves them out of its features with
// `separateOutputs`, so they never count as input features in the dataset drift share.

import { addCell, type CellValue, type DatasetProfile } from './profile/dataset.js'
import type { Binning } from './profile/binning.js'
import { addNumber, createNumericalProfile, type NumericalProfile } from './profile/numerical.js'

export interface OutputColumns {
  /** The column holding the model's prediction (score, class or boolean). */
  readonly prediction: string
  /** The column holding the model's latency, in milliseconds. */
  readonly latency: string
}

/** The column names of the event fields (docs/architecture.md, Contracts: input event). */
export const defaultOutputColumns: OutputColumns = {
  prediction: 'prediction',
  latency: 'latencyMs',
}

/** Latency profiles need no breakpoints: only their quantiles are read. */
export const latencyBinning: Binning = Object.freeze({
  edges: new Float64Array(0),
  decileEdges: new Int32Array(0),
})

/**
 * Adds one event's outputs. The prediction is profiled only when the profile has one (its
 * reference has a prediction); the latency whenever the event carries it.
 */
export function addOutputs(
  profile: DatasetProfile,
  prediction: CellValue | undefined,
  latencyMs: number | undefined,
): void {
  if (profile.prediction !== undefined) addCell(profile.prediction, prediction)
  if (latencyMs !== undefined) {
    profile.latency ??= createLatencyProfile()
    addNumber(profile.latency, latencyMs)
  }
}

export function createLatencyProfile(exactLimit?: number): NumericalProfile {
  return createNumericalProfile(latencyBinning, undefined, exactLimit)
}

/**
 * Moves the output columns of a profile built from a table out of its features: the prediction
 * column becomes `prediction`, the latency column `latency` (only when numerical: a latency
 * column of text is an input like any other). Returns the same profile.
 */
export function separateOutputs(profile: DatasetProfile, columns: OutputColumns): DatasetProfile {
  const prediction = profile.features.get(columns.prediction)
  if (prediction !== undefined) {
    profile.features.delete(columns.prediction)
    profile.prediction = prediction
  }
  const latency = profile.features.get(columns.latency)
  if (latency?.kind === 'numerical') {
    profile.features.delete(columns.latency)
    profile.latency = latency
  }
  return profile
}
