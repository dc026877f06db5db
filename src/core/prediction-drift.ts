// Prediction drift: the model's output distribution against the reference's, with the same
// tests, thresholds and modes as an input feature (core/evaluate.ts). Numerical scores get the
// numerical tests, classes and booleans the categorical ones, by the reference's kind.
//
// It is its own layer: it is never counted in the dataset drift share of the input features, and
// in calibrated mode it gets the window's whole false-alarm rate (it is one test, not one of the
// features the rate is split among). Its test and thresholds can be set like a feature's, under
// the name `prediction` in `drift.features`.

import { evaluateFeature, type EvaluateOptions } from './evaluate.js'
import type { DatasetProfile } from './profile/dataset.js'
import type { FeatureResult } from './report.js'

/** The name the prediction's verdict carries, and its key in `drift.features` settings. */
export const predictionName = 'prediction'

/**
 * The prediction's verdict, or undefined when either side has no prediction profile (a reference
 * built without predictions, or data without them).
 */
export function evaluatePredictionDrift(
  reference: DatasetProfile,
  current: DatasetProfile,
  options: EvaluateOptions,
): FeatureResult | undefined {
  if (reference.prediction === undefined || current.prediction === undefined) return undefined
  if (reference.prediction.kind !== current.prediction.kind) return undefined
  return evaluateFeature(predictionName, reference.prediction, current.prediction, options, 1)
}
