// driftwatch run --config driftwatch.yaml
// Runs the streaming detector until SIGTERM/SIGINT, then stops in order: stop consuming, flush,
// commit, close the producer, quit Redis, close HTTP (see app/service.ts).

import type { Command } from 'commander'
import { constants } from 'node:fs'
import { access, readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { readReferenceFile } from '../adapters/files/reference-file.js'
import { startApp } from '../app/service.js'
import { applyEnvOverrides, readSecrets } from '../config/env.js'
import { parseDuration } from '../config/duration.js'
import { layerConfigProblems } from '../config/conditions.js'
import {
  configProblemsError,
  driftConfigProblems,
  type ConfigProblem,
} from '../config/drift-check.js'
import { driftSettingsOf } from '../config/drift.js'
import { validateConfig } from '../config/load.js'
import type { DatasetProfile } from '../core/profile/dataset.js'
import { createDefaultRegistry } from '../core/drift-tests/registry.js'
import { watchedColumns } from '../core/profile/dataset.js'
import {
  serviceConfigJsonSchema,
  serviceConfigSchema,
  type ServiceConfig,
} from '../config/service.js'
import { ConfigError, errorMessage } from '../errors.js'

export async function loadServiceConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error: unknown) {
    throw new ConfigError('(file)', `cannot read config: ${errorMessage(error)}`, { source: path })
  }
  let raw: unknown
  try {
    raw = parseYaml(text) ?? {}
  } catch (error: unknown) {
    // The yaml package appends an excerpt of the file on more lines; the first says what and where.
    const first = (errorMessage(error).split('\n')[0] ?? '').replace(/:\s*$/, '')
    throw new ConfigError('(syntax)', `invalid YAML: ${first}`, { source: path })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      '(root)',
      `expected a mapping of settings (kafka, redis, models, ...), got ${Array.isArray(raw) ? 'a list' : typeof raw}`,
      { source: path },
    )
  }
  return validateConfig(applyEnvOverrides(raw, env), serviceConfigSchema, path)
}

/**
 * What the schema cannot see, checked before `run` connects to anything (and by `config check`),
 * and reported all at once, one line per field: model names used twice, drift test names the
 * registry does not know (the service would start and then fail every evaluation), reference
 * files that cannot be read, watched features (`models[].features`) the reference file does not
 * have, and the drift section's own mistakes (config/drift-check.ts: unknown feature names,
 * tests that do not fit a feature's kind, kind overrides a snapshot cannot take).
 */
export async function checkServiceConfig(config: ServiceConfig, path: string): Promise<void> {
  const registry = createDefaultRegistry()
  const problems: ConfigProblem[] = []
  const seen = new Map<string, number>()
  for (const [i, model] of config.models.entries()) {
    const first = seen.get(model.name)
    if (first !== undefined)
      problems.push({
        path: `models[${i}].name`,
        message: `'${model.name}' is already the name of models[${first}]`,
      })
    else seen.set(model.name, i)
    const drift = model.drift
    const choices: Array<[string, string | undefined]> = [
      ['drift.test', drift.test],
      ...Object.entries(drift.kinds ?? {}).map(([kind, c]): [string, string | undefined] => [
        `drift.kinds.${kind}.test`,
        c?.test,
      ]),
      ...Object.entries(drift.features ?? {}).map(([feature, c]): [string, string | undefined] => [
        `drift.features.${feature}.test`,
        c?.test,
      ]),
    ]
    for (const [field, test] of choices) {
      if (test !== undefined && test !== 'auto' && !registry.has(test)) {
        problems.push({
          path: `models[${i}].${field}`,
          message: `unknown drift test '${test}'; available: auto, ${registry.names().join(', ')}`,
        })
      }
    }
    let reference: DatasetProfile | undefined
    let features: readonly string[] | undefined
    if (model.reference !== undefined) {
      try {
        await access(model.reference.file, constants.R_OK)
      } catch (error: unknown) {
        problems.push({
          path: `models[${i}].reference.file`,
          message: `cannot read ${model.reference.file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
        })
        continue
      }
      const snapshot = await readReferenceFile(model.reference.file)
      reference = snapshot.profile
      try {
        watchedColumns(snapshot.profile, model.features)
        features = model.features
      } catch (error: unknown) {
        problems.push({ path: `models[${i}].features`, message: errorMessage(error) })
      }
      problems.push(
        ...layerConfigProblems({
          conditions: model.conditions,
          importance: model.importance,
          features: features ?? [...snapshot.profile.features.keys()],
          prefix: `models[${i}].`,
        }),
      )
    }
    // The service always compares against a snapshot (a file, or one stored in Redis).
    problems.push(
      ...driftConfigProblems({
        settings: driftSettingsOf(drift),
        kindOverrides: drift.columns,
        registry,
        prefix: `models[${i}].drift.`,
        reference,
        features,
        referenceIsSnapshot: true,
      }),
    )
  }
  if (problems.length > 0) throw configProblemsError(problems, path)
}

/** `--from`: an ISO 8601 time, or a duration before `now` ("2h", "30m"). */
export function parseFromTime(text: string, now: number): number {
  const ago = parseDuration(text)
  if (ago !== null) return now - ago
  const at = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(at))
    throw new ConfigError(
      '--from',
      `expected an ISO 8601 time like 2024-06-10T12:00:00Z or a duration ago like "2h" (got "${text}")`,
    )
  return at
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the streaming detector (Kafka in, Redis state, reports and alerts out)')
    .requiredOption('--config <path>', 'driftwatch.yaml')
    .option(
      '--from-beginning',
      'read input topics from the start when the group has no offsets, and evaluate every window of the backlog in order',
      false,
    )
    .option(
      '--from <time>',
      'replay from a time (ISO 8601, or a duration ago like "2h"): read from the start when the group has no offsets, count events stamped from then on, evaluate every complete window after it in order',
    )
    .action(async (flags: { config: string; fromBeginning: boolean; from?: string }) => {
      const from = flags.from === undefined ? undefined : parseFromTime(flags.from, Date.now())
      const config = await loadServiceConfig(flags.config)
      await checkServiceConfig(config, flags.config)
      // Listen before starting: a pod stopped while it joins the group still leaves it cleanly
      // once started (a second signal during start-up exits at once).
      let starting = true
      const stopRequested = new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          if (starting) {
            process.stderr.write(
              `driftwatch: ${signal} while starting; stopping once started (again to exit now)\n`,
            )
            starting = false
            process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)))
          }
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          resolve()
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      const app = await startApp(config, {
        secrets: readSecrets(process.env),
        fromBeginning: flags.fromBeginning,
        ...(from === undefined ? {} : { from }),
      })
      starting = false
      await stopRequested
      await app.stop()
    })

  const config = program.command('config').description('configuration helpers')
  config
    .command('schema')
    .description('print the JSON Schema of driftwatch.yaml (for editors)')
    .action(() => {
      process.stdout.write(JSON.stringify(serviceConfigJsonSchema(), null, 2) + '\n')
    })
  config
    .command('check')
    .description('validate a config file and exit (0 valid, 2 invalid)')
    .argument('<path>')
    .action(async (path: string) => {
      await checkServiceConfig(await loadServiceConfig(path), path)
      process.stdout.write(`${path}: valid\n`)
    })
}
