// A model's `performance:` section: how its predictions are scored against the ground truth that
// arrives on the labels topic (`kafka.topics.labels`), and when a drop is a degradation. See
// core/performance/ for the metrics and app/labels.ts for the join.

import { z } from 'zod'
import {
  defaultDegradation,
  defaultMetricOf,
  type DegradationSettings,
} from '../core/performance/degradation.js'
import { performanceMetricNames } from '../core/performance/metrics.js'
import {
  defaultPerformanceSettings,
  performanceTasks,
  type PerformanceSettings,
} from '../core/performance/summary.js'
import { durationSchema } from './duration.js'

export const performanceSectionSchema = z.strictObject({
  task: z
    .enum(performanceTasks)
    .describe('binary (positive class + score), multiclass (macro averages) or regression'),
  positiveClass: z
    .union([z.string().min(1), z.number(), z.boolean()])
    .default('1')
    .describe(
      'binary: the positive label; booleans count as 1 / 0, so the default matches 1 and true',
    ),
  threshold: z
    .number()
    .min(0)
    .max(1)
    .default(defaultPerformanceSettings.threshold)
    .describe('binary: a score at or above this predicts the positive class'),
  scoreBins: z
    .number()
    .int()
    .min(10)
    .max(1000)
    .default(defaultPerformanceSettings.scoreBins)
    .describe('binary: score histogram bins for ROC AUC (error bound reported with it)'),
  metric: z
    .enum(performanceMetricNames)
    .optional()
    .describe('metric degradation is judged on (default: accuracy; rmse for regression)'),
  warningDrop: z
    .number()
    .positive()
    .default(defaultDegradation.warningDrop)
    .describe(
      'drop from the baseline that is a warning: absolute points, or relative for error metrics',
    ),
  criticalDrop: z.number().positive().default(defaultDegradation.criticalDrop),
  minLabels: z
    .number()
    .int()
    .positive()
    .default(defaultDegradation.minLabels)
    .describe('labelled predictions a window needs for a verdict'),
  baseline: z
    .strictObject({
      file: z.string().min(1),
      predictionColumn: z.string().min(1).default('prediction'),
      labelColumn: z.string().min(1).default('label'),
    })
    .optional()
    .describe('reference data with prediction and label columns: the baseline performance'),
  joinTtl: durationSchema
    .default(7 * 86_400_000)
    .describe('how long a prediction (or an early label) waits for the other side of the join'),
  maxPending: z
    .number()
    .int()
    .positive()
    .default(1_000_000)
    .describe('predictions (and, apart, early labels) waiting per model; the oldest fall out'),
})

export type PerformanceSection = z.output<typeof performanceSectionSchema>

export function performanceSettingsOf(section: PerformanceSection): PerformanceSettings {
  return {
    task: section.task,
    positiveClass: positiveClassKey(section.positiveClass),
    threshold: section.threshold,
    scoreBins: section.scoreBins,
  }
}

/** A configured positive class as a class key (core/performance/summary.ts, classKey). */
export function positiveClassKey(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? '1' : '0') : String(value)
}

export function degradationSettingsOf(section: PerformanceSection): DegradationSettings {
  return {
    metric: section.metric ?? defaultMetricOf(performanceSettingsOf(section)),
    warningDrop: section.warningDrop,
    criticalDrop: section.criticalDrop,
    minLabels: section.minLabels,
  }
}

/**
 * `driftwatch check --config`'s `performance:` section: how the current file's predictions are
 * scored against its label column, the reference file's being the baseline. The task may be left
 * out: it is then read from the labels (core/performance/task.ts).
 */
export const checkPerformanceSchema = performanceSectionSchema
  .pick({
    positiveClass: true,
    threshold: true,
    scoreBins: true,
    metric: true,
    warningDrop: true,
    criticalDrop: true,
    minLabels: true,
  })
  .extend({
    task: performanceSectionSchema.shape.task
      .optional()
      .describe(
        'binary, multiclass or regression (default: read from the labels: 0/1 or booleans binary, other numbers regression, strings multiclass)',
      ),
    labelColumn: z
      .string()
      .min(1)
      .optional()
      .describe("the ground truth column of both files (default 'label')"),
  })

export type CheckPerformanceSection = z.output<typeof checkPerformanceSchema>
