// The sections of a model's config that the layers after drift read: test-suite conditions,
// feature importance and the expected event rate. A condition that does not parse, or names an
// unknown metric, is a config error on its own field (`models[0].conditions[2]`).

import { z } from 'zod'
import { parseCondition, parseConditions, unknownConditionFeatures } from '../core/conditions.js'
import type { ConfigProblem } from './drift-check.js'

export const conditionsSchema = z
  .array(
    z.string().superRefine((text, ctx) => {
      const parsed = parseCondition(text)
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message })
    }),
  )
  .optional()
  .describe(
    "test-suite conditions, e.g. 'recall >= 0.9', 'rows >= 1000', 'feature.amount.missingShare <= 0.01'",
  )

export const importanceSchema = z
  .record(z.string().min(1), z.number().min(0))
  .optional()
  .describe('feature importance weights for impact (any scale; default: equal weights)')

export const expectedRateSchema = z
  .number()
  .positive()
  .optional()
  .describe(
    "expected events per hour, for the volume check (default: a captured reference's own rate)",
  )

/**
 * Features named by conditions or importance that the reference does not have: known once the
 * reference is loaded (`check`, `config check`, `run` with a reference file), one problem per field.
 */
export function layerConfigProblems(input: {
  readonly conditions?: readonly string[] | undefined
  readonly importance?: Readonly<Record<string, number>> | undefined
  readonly features: readonly string[]
  /** '' for `check --config`, `models[0].` for the service. */
  readonly prefix: string
}): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const known = input.features.join(', ')
  for (const { index, feature } of unknownConditionFeatures(
    parseConditions(input.conditions ?? []),
    input.features,
  )) {
    problems.push({
      path: `${input.prefix}conditions[${index}]`,
      message: `unknown feature '${feature}'; features: ${known}`,
    })
  }
  for (const feature of Object.keys(input.importance ?? {})) {
    if (!input.features.includes(feature))
      problems.push({
        path: `${input.prefix}importance.${feature}`,
        message: `unknown feature '${feature}'; features: ${known}`,
      })
  }
  return problems
}
