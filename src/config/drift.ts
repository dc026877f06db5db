// The drift section of a configuration: which test each feature gets, its thresholds, the
// dataset-drift share, and column kind overrides. Shared by `driftwatch check --config` and the
// `models[].drift` section of the service's config.

import { z } from 'zod'
import type { DriftSettings, TestChoice } from '../core/drift-tests/thresholds.js'
import {
  defaultDriftMode,
  defaultDriftShare,
  defaultFalseAlarmRate,
  driftModes,
} from '../core/drift-tests/thresholds.js'
import { featureKinds } from '../core/report.js'
import { conditionsSchema, importanceSchema } from './conditions.js'
import { checkPerformanceSchema } from './performance.js'

export const testChoiceSchema = z
  .strictObject({
    test: z
      .string()
      .min(1)
      .optional()
      .describe("a drift test name, or 'auto' for Evidently's choice"),
    threshold: z
      .number()
      .positive()
      .optional()
      .describe('p-value below which (or distance at or above which) a feature drifts'),
    critical: z.number().positive().optional().describe('a drifted feature is critical past this'),
  })
  .describe('test and thresholds')

export const driftSectionSchema = z.strictObject({
  driftShare: z
    .number()
    .gt(0)
    .max(1)
    .default(defaultDriftShare)
    .describe('dataset drift when this share of features drifts'),
  test: z.string().min(1).optional(),
  threshold: z.number().positive().optional(),
  critical: z.number().positive().optional(),
  kinds: z.partialRecord(z.enum(featureKinds), testChoiceSchema).optional(),
  features: z.record(z.string(), testChoiceSchema).optional(),
  columns: z.record(z.string(), z.enum(featureKinds)).optional().describe('column kind overrides'),
  mode: z
    .enum(driftModes)
    .default(defaultDriftMode)
    .describe(
      "'calibrated': flag only past the threshold and the noise floor at this sample size; " +
        "'evidently': Evidently's fixed thresholds, exactly",
    ),
  minCount: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'a feature with fewer current values is insufficientData (default 50 calibrated, 0 evidently)',
    ),
  falseAlarmRate: z
    .number()
    .gt(0)
    .lt(1)
    .default(defaultFalseAlarmRate)
    .describe('calibrated mode: chance per window that a window without drift flags any feature'),
})

export type DriftSection = z.infer<typeof driftSectionSchema>

/**
 * `driftwatch check --config`: the drift section, plus the model's test-suite conditions and
 * feature importance (config/conditions.ts), as a model's section of the service config has them,
 * and how predictions are scored against a label column (config/performance.ts).
 */
export const checkConfigSchema = driftSectionSchema.extend({
  conditions: conditionsSchema,
  importance: importanceSchema,
  performance: checkPerformanceSchema.optional(),
})
export type CheckConfig = z.infer<typeof checkConfigSchema>

export function driftSettingsOf(section: DriftSection): DriftSettings {
  const global: TestChoice = {
    ...(section.test === undefined ? {} : { test: section.test }),
    ...(section.threshold === undefined ? {} : { threshold: section.threshold }),
    ...(section.critical === undefined ? {} : { critical: section.critical }),
  }
  return {
    driftShare: section.driftShare,
    mode: section.mode,
    ...(section.minCount === undefined ? {} : { minCount: section.minCount }),
    falseAlarmRate: section.falseAlarmRate,
    global,
    ...(section.kinds === undefined ? {} : { byKind: stripUndefined(section.kinds) }),
    ...(section.features === undefined ? {} : { byFeature: stripUndefined(section.features) }),
  }
}

function stripUndefined<T extends object>(
  record: Partial<Record<string, T | undefined>>,
): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, T] => entry[1] !== undefined),
  )
}

export function defaultDriftSection(): DriftSection {
  return driftSectionSchema.parse({})
}
