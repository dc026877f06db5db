// driftwatch reference build --input <file> [--out ref.json] [--columns a,b] [--config f.yaml]
// driftwatch reference capture --config driftwatch.yaml --model m --from t --to t [--store]
//
// capture builds its Kafka and Redis clients with the adapters' factories, from the config's
// sections and the DRIFTWATCH_* secrets, as `run` does: the same TLS, SASL and passwords.

import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { snapshotToJSON } from '../adapters/files/reference-file.js'
import { buildReferenceFromFile } from '../app/check.js'
import { driftSectionSchema } from '../config/drift.js'
import { loadConfigFile } from '../config/load.js'
import { defaultOutputColumns } from '../core/model-outputs.js'
import type { FeatureKind } from '../core/report.js'
import { captureReference } from '../app/capture.js'
import { createKafka } from '../adapters/kafka/client.js'
import { createRedisClient, redisConnectionOf } from '../adapters/redis/client.js'
import { RedisReferenceStore } from '../adapters/redis/reference-store.js'
import { readSecrets } from '../config/env.js'
import { parseIsoTimestamp } from '../core/events.js'
import { DriftwatchError } from '../errors.js'
import { commandLogger } from './logger.js'
import { loadServiceConfig } from './run.js'
import { terminalProgress } from './progress.js'

interface BuildFlags {
  input: string
  out?: string
  columns?: string
  config?: string
  kind?: string[]
  predictionColumn: string
  latencyColumn: string
}

export function registerReference(program: Command): void {
  const reference = program.command('reference').description('reference snapshots')
  reference
    .command('build')
    .description('profile a training/reference data file into a versioned snapshot')
    .requiredOption('-i, --input <path>', 'reference data (CSV, JSONL, Parquet)')
    .option('-o, --out <path>', 'snapshot file to write (default: stdout)')
    .option('--columns <names>', 'comma-separated columns to keep (default: all)')
    .option('--config <path>', 'YAML drift settings; its `columns:` section overrides column kinds')
    .option(
      '--kind <column=kind...>',
      'override a column kind: numerical or categorical (repeatable)',
    )
    .option(
      '--prediction-column <name>',
      "the model's prediction: kept as the reference's prediction distribution, not a feature",
      defaultOutputColumns.prediction,
    )
    .option(
      '--latency-column <name>',
      "the model's latency in ms: kept as the reference's latency",
      defaultOutputColumns.latency,
    )
    .action(async (flags: BuildFlags) => {
      const section =
        flags.config === undefined
          ? undefined
          : await loadConfigFile(flags.config, driftSectionSchema)
      const kindOverrides: Record<string, FeatureKind> = {
        ...(section?.columns ?? {}),
        ...parseKinds(flags.kind ?? []),
      }
      const snapshot = await buildReferenceFromFile(flags.input, {
        columns: flags.columns
          ?.split(',')
          .map((c) => c.trim())
          .filter((c) => c.length > 0),
        kindOverrides,
        outputColumns: { prediction: flags.predictionColumn, latency: flags.latencyColumn },
        onProgress: terminalProgress(),
        now: () => new Date(),
      })
      const { id: _unset, ...rest } = snapshot
      const json = snapshotToJSON(rest)
      const text = JSON.stringify(json) + '\n'
      if (flags.out === undefined) process.stdout.write(text)
      else {
        await writeFile(flags.out, text)
        process.stderr.write(
          `wrote reference ${json.id} (${json.rows} rows, ${json.columns.length} columns) to ${flags.out}\n`,
        )
      }
    })
  registerCapture(reference)
}

interface CaptureFlags {
  config: string
  model: string
  from: string
  to: string
  out?: string
  store: boolean
  kind?: string[]
}

function registerCapture(reference: Command): void {
  reference
    .command('capture')
    .description("profile a model's events from a Kafka time range into a snapshot")
    .requiredOption('--config <path>', 'driftwatch.yaml (Kafka, topics, Redis)')
    .requiredOption('--model <name>', 'the model whose events to capture')
    .requiredOption('--from <time>', 'start of the range (ISO-8601 or ms since epoch), inclusive')
    .requiredOption('--to <time>', 'end of the range, exclusive')
    .option('-o, --out <path>', 'snapshot file to write (default: stdout unless --store)')
    .option('--store', "also store it in Redis as the model's current reference", false)
    .option('--kind <column=kind...>', 'override a column kind (repeatable)')
    .action(async (flags: CaptureFlags) => {
      const config = await loadServiceConfig(flags.config)
      const secrets = readSecrets(process.env)
      const kafka = createKafka(config.kafka, commandLogger(), secrets)
      const { snapshot, read, kept, invalid } = await captureReference({
        kafka,
        topics: config.kafka.topics.predictions,
        model: flags.model,
        from: timeOf('--from', flags.from),
        to: timeOf('--to', flags.to),
        maxEventBytes: config.kafka.maxEventBytes,
        kindOverrides: parseKinds(flags.kind ?? []),
        now: () => new Date(),
      })
      const { id: _unset, ...rest } = snapshot
      const json = snapshotToJSON(rest)
      const text = JSON.stringify(json) + '\n'
      if (flags.out !== undefined) await writeFile(flags.out, text)
      else if (!flags.store) process.stdout.write(text)
      if (flags.store) {
        const redis = await createRedisClient(redisConnectionOf(config.redis, secrets))
        try {
          await new RedisReferenceStore(redis, config.redis.keyPrefix).put(
            flags.model,
            JSON.stringify(json),
            json.id,
          )
        } finally {
          await redis.quit()
        }
      }
      process.stderr.write(
        `captured reference ${json.id}: ${kept} events of ${flags.model} (${read} read, ${invalid} invalid)${flags.store ? ', stored in Redis' : ''}\n`,
      )
    })
}

function timeOf(flag: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : parseIsoTimestamp(text)
  if (ms === null || !Number.isFinite(ms))
    throw new DriftwatchError(
      'CONFIG_INVALID',
      `${flag}: expected an ISO-8601 time or ms since epoch, got '${text}'`,
    )
  return ms
}

function parseKinds(pairs: readonly string[]): Record<string, FeatureKind> {
  const out: Record<string, FeatureKind> = {}
  for (const pair of pairs) {
    const [column, kind] = pair.split('=')
    if (column === undefined || (kind !== 'numerical' && kind !== 'categorical')) {
      throw new Error(`--kind ${pair}: expected column=numerical or column=categorical`)
    }
    out[column] = kind
  }
  return out
}
