// Reading a YAML or JSON config file and validating it, with errors that name the file and the
// field: `drift.yaml: kinds.numerical.threshold: expected number, received string`.

import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { ConfigError, errorMessage } from '../errors.js'

export async function loadConfigFile<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<z.output<S>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error: unknown) {
    throw new ConfigError('(file)', `cannot read config file: ${errorMessage(error)}`, {
      source: path,
    })
  }
  let raw: unknown
  try {
    raw = parseYaml(text, { prettyErrors: true }) ?? {}
  } catch (error: unknown) {
    throw new ConfigError('(syntax)', errorMessage(error), { source: path })
  }
  return validateConfig(raw, schema, path)
}

export function validateConfig<S extends z.ZodType>(
  raw: unknown,
  schema: S,
  source: string,
): z.output<S> {
  const result = schema.safeParse(raw)
  if (result.success) return result.data
  const [issue, ...rest] = result.error.issues
  if (issue === undefined) throw new ConfigError('(root)', 'invalid configuration', { source })
  // Every problem at once, one line each (the CLI prefixes each line), so two typos take one run.
  const lines = [
    issue.message,
    ...rest.map((other) => `${source}: ${formatPath(other.path)}: ${other.message}`),
  ]
  throw new ConfigError(formatPath(issue.path), lines.join('\n'), { source })
}

/** ['models', 0, 'window', 'hop'] → 'models[0].window.hop' */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)'
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('')
}
