// driftwatch run --config driftwatch.yaml
// Runs the streaming detector until SIGTERM/SIGINT, then stops in order: stop consuming, flush,
// commit, close the producer, quit Redis, close HTTP (see app/service.ts).

import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { startApp } from '../app/service.js'
import { applyEnvOverrides, readSecrets } from '../config/env.js'
import { validateConfig } from '../config/load.js'
import { serviceConfigJsonSchema, serviceConfigSchema, type ServiceConfig } from '../config/service.js'
import { ConfigError, errorMessage } from '../errors.js'

export async function loadServiceConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ServiceConfig> {
  let raw: unknown
  try {
    raw = parseYaml(await readFile(path, 'utf8')) ?? {}
  } catch (error: unknown) {
    throw new ConfigError('(file)', `cannot read config: ${errorMessage(error)}`, { source: path })
  }
  return validateConfig(applyEnvOverrides(raw, env), serviceConfigSchema, path)
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the streaming detector (Kafka in, Redis state, reports and alerts out)')
    .requiredOption('--config <path>', 'driftwatch.yaml')
    .option('--from-beginning', 'read input topics from the start when the group has no offsets', false)
    .action(async (flags: { config: string; fromBeginning: boolean }) => {
      const config = await loadServiceConfig(flags.config)
      const app = await startApp(config, { secrets: readSecrets(process.env), fromBeginning: flags.fromBeginning })
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          resolve()
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
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
      await loadServiceConfig(path)
      process.stdout.write(`${path}: valid\n`)
    })
}
