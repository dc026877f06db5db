// driftwatch simulate --topic predictions --model fraud --scenario sudden-shift --features f01,f05,f12
//                    --rate 2000 --duration 120s [--drift-after 60s] [--count N] [--seed 1]
//                    [--event-time-step-ms N --start-time T] [--reference-out rows.csv --reference-rows 20000]
//                    [--brokers host:port | --config driftwatch.yaml]
//
// Simulated prediction events with known drift into Kafka. Durations run on the event clock:
// the wall clock, or synthetic time when --event-time-step-ms is given (see app/simulate.ts).
// Ctrl-C stops after the batch in flight; a second Ctrl-C exits at once.
//
// With --config, Kafka (TLS, SASL) and the schema registry are reached as `run` reaches them:
// the same sections of driftwatch.yaml and the same DRIFTWATCH_* secrets, through the same
// adapter factories.

import { randomBytes } from 'node:crypto'
import { InvalidArgumentError, Option, type Command } from 'commander'
import {
  openSimulationProducer,
  referenceSeedOf,
  runSimulation,
  writeReferenceRowsCsv,
  type SimulationProgress,
} from '../app/simulate.js'
import { parseDuration } from '../config/duration.js'
import { readSecrets } from '../config/env.js'
import { createPredictionEncoder } from '../adapters/schema-registry/avro-encoder.js'
import { registryConnectionOf } from '../adapters/schema-registry/client.js'
import { ConfigError } from '../errors.js'
import { parseIsoTimestamp } from '../core/events.js'
import { scenarioNames, type ScenarioName } from '../core/simulate/scenarios.js'
import { commandLogger } from './logger.js'
import { loadServiceConfig } from './run.js'

interface SimulateFlags {
  brokers: string
  config?: string
  topic: string
  labelsTopic?: string
  partitions: number
  model: string
  modelVersion?: string
  scenario: ScenarioName
  features?: string
  rate: number
  duration?: number
  count?: number
  driftAfter?: number
  driftDuration?: number
  seed: number
  eventTimeStepMs?: number
  startTime?: number
  idPrefix?: string
  referenceOut?: string
  referenceRows: number
  format: 'json' | 'avro'
  schemaRegistry?: string
  priorShift?: number
  latencyFactor?: number
  nextModelVersion?: string
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('produce simulated prediction events with a drift scenario into Kafka')
    .addOption(
      new Option('--brokers <list>', 'Kafka bootstrap servers, comma-separated')
        .env('KAFKA_BROKERS')
        .default('127.0.0.1:9092'),
    )
    .option(
      '--config <path>',
      'driftwatch.yaml: Kafka (brokers, TLS, SASL) and schema registry as `run` uses them, with DRIFTWATCH_KAFKA_PASSWORD and DRIFTWATCH_SCHEMA_REGISTRY_PASSWORD; instead of --brokers',
    )
    .option('--topic <name>', 'topic to produce to', 'predictions')
    .option(
      '--labels-topic <name>',
      "also produce each event's ground truth {eventId, model, label, timestamp} here (concept-drift)",
    )
    .option('--partitions <n>', 'partitions when the topic has to be created', positiveInteger, 3)
    .option('--model <name>', 'model name in the events', 'fraud')
    .option('--model-version <version>', 'modelVersion in the events (default: none)')
    .addOption(
      new Option('--scenario <name>', 'drift scenario').choices(scenarioNames).default('stable'),
    )
    .option(
      '--features <names>',
      'comma-separated drift features (default: f01,f05,f12; country for new-category)',
    )
    .option(
      '--rate <events/s>',
      'events per second; 0 = as fast as Kafka takes them',
      nonNegativeNumber,
      2000,
    )
    .option(
      '--duration <duration>',
      'stop after this long on the event clock, e.g. 120s (default: until --count or Ctrl-C)',
      duration,
    )
    .option('--count <n>', 'stop after this many events', nonNegativeInteger)
    .option(
      '--drift-after <duration>',
      'drift starts this long after the start (default: half the run)',
      duration,
    )
    .option(
      '--drift-duration <duration>',
      'gradual-shift, gradual-drift: time to reach the full shift; quality-incident: how long it lasts (default: until the end)',
      duration,
    )
    .option(
      '--prior-shift <logit>',
      'prior-shift: added to the score logit (default 1.5: positives from ~12 % to ~34 %)',
      finiteNumber,
    )
    .option(
      '--latency-factor <x>',
      'latency-regression: latency multiplier of the new version (default 3)',
      positiveNumber,
    )
    .option(
      '--next-model-version <version>',
      'latency-regression: the version that takes over (default: --model-version, v1, plus one)',
    )
    .option(
      '--seed <n>',
      'PRNG seed: the same seed gives the same feature values',
      nonNegativeInteger,
      1,
    )
    .option(
      '--event-time-step-ms <ms>',
      'synthetic event time: start at --start-time, advance this much per event (default: wall clock)',
      positiveNumber,
    )
    .option(
      '--start-time <time>',
      'with --event-time-step-ms: first event time, ISO-8601 or ms since epoch (default: now)',
      timestamp,
    )
    .option(
      '--id-prefix <prefix>',
      'eventIds are <prefix>-<n> (default: sim-<seed>-<random>, unique per run)',
    )
    .option(
      '--reference-out <path>',
      'also write stable reference rows as CSV here, for `driftwatch reference build`',
    )
    .option('--reference-rows <n>', 'rows in --reference-out', positiveInteger, 20_000)
    .addOption(
      new Option(
        '--format <format>',
        'event encoding: JSON text, or Avro in the Confluent wire format',
      )
        .choices(['json', 'avro'])
        .default('json'),
    )
    .addOption(
      new Option(
        '--schema-registry <url>',
        'Confluent-compatible registry for --format avro (registers schemas/prediction-event.avsc under <topic>-value)',
      ).env('SCHEMA_REGISTRY_URL'),
    )
    .action(async (flags: SimulateFlags, command: Command) => {
      if (flags.startTime !== undefined && flags.eventTimeStepMs === undefined) {
        throw new ConfigError(
          '--start-time',
          'needs --event-time-step-ms (with the wall clock, events are stamped now)',
        )
      }
      if (flags.referenceOut !== undefined) {
        await writeReferenceRowsCsv(flags.referenceOut, {
          rows: flags.referenceRows,
          seed: referenceSeedOf(flags.seed),
        })
        process.stderr.write(
          `simulate: wrote ${flags.referenceRows} reference rows to ${flags.referenceOut}; ` +
            `build the snapshot with: driftwatch reference build --input ${flags.referenceOut} --out reference.json\n`,
        )
      }
      if (flags.count === 0) return

      const config = flags.config === undefined ? undefined : await loadServiceConfig(flags.config)
      if (config !== undefined && command.getOptionValueSource('brokers') === 'cli')
        throw new ConfigError(
          '--brokers',
          'with --config the brokers are its kafka.brokers (or DRIFTWATCH_KAFKA_BROKERS): give one or the other',
        )
      const secrets = readSecrets(process.env)
      let encode: ((event: object) => Buffer) | undefined
      if (flags.format === 'avro') {
        const registry =
          flags.schemaRegistry !== undefined
            ? { url: flags.schemaRegistry, requestTimeoutMs: 10_000 }
            : config?.schemaRegistry === undefined
              ? undefined
              : registryConnectionOf(config.schemaRegistry, secrets)
        if (registry === undefined)
          throw new ConfigError(
            '--schema-registry',
            'needed with --format avro (or a --config with a schemaRegistry section)',
          )
        encode = await createPredictionEncoder(flags.topic, {
          ...registry,
          compatibility: 'BACKWARD',
        })
      }
      const kafka = await openSimulationProducer({
        kafka: config?.kafka ?? {
          brokers: flags.brokers
            .split(',')
            .map((b) => b.trim())
            .filter((b) => b.length > 0),
          clientId: 'driftwatch-simulate',
        },
        secrets,
        logger: commandLogger(),
        topic: flags.topic,
        partitions: flags.partitions,
        ...(flags.labelsTopic === undefined ? {} : { labelsTopic: flags.labelsTopic }),
      })
      const controller = new AbortController()
      const onSigint = (): void => {
        if (controller.signal.aborted) process.exit(130)
        process.stderr.write(
          '\nsimulate: stopping after the batch in flight (Ctrl-C again to quit now)\n',
        )
        controller.abort()
      }
      process.on('SIGINT', onSigint)
      try {
        const result = await runSimulation(
          {
            topic: flags.topic,
            labelsTopic: flags.labelsTopic,
            model: flags.model,
            modelVersion: flags.modelVersion ?? null,
            scenario: flags.scenario,
            driftFeatures: flags.features
              ?.split(',')
              .map((f) => f.trim())
              .filter((f) => f.length > 0),
            seed: flags.seed,
            rate: flags.rate,
            count: flags.count,
            durationMs: flags.duration,
            driftAfterMs: flags.driftAfter,
            driftDurationMs: flags.driftDuration,
            eventTimeStepMs: flags.eventTimeStepMs,
            startTime: flags.startTime,
            idPrefix: flags.idPrefix ?? `sim-${flags.seed}-${randomBytes(4).toString('hex')}`,
            signal: controller.signal,
            onProgress: printProgress,
            encode,
            priorShift: flags.priorShift,
            latencyFactor: flags.latencyFactor,
            nextModelVersion: flags.nextModelVersion,
          },
          { producer: kafka.producer },
        )
        const seconds = result.elapsedMs / 1000
        process.stderr.write(
          `simulate: ${result.sent} events to ${flags.topic} in ${seconds.toFixed(1)} s ` +
            `(${seconds > 0 ? Math.round(result.sent / seconds) : result.sent}/s), stopped by ${result.stoppedBy}\n`,
        )
      } finally {
        process.off('SIGINT', onSigint)
        await kafka.close()
      }
    })
}

function printProgress({ sent, elapsedMs, rate }: SimulationProgress): void {
  process.stderr.write(
    `simulate: ${sent} sent, ${Math.round(rate)}/s, ${(elapsedMs / 1000).toFixed(0)} s\n`,
  )
}

function duration(text: string): number {
  const ms = parseDuration(text)
  if (ms === null)
    throw new InvalidArgumentError(`expected a duration like 500ms, 30s, 5m, 1h (got "${text}")`)
  return ms
}

function timestamp(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : parseIsoTimestamp(text)
  if (ms === null || !Number.isSafeInteger(Math.floor(ms))) {
    throw new InvalidArgumentError(`expected ISO-8601 or ms since epoch (got "${text}")`)
  }
  return ms
}

function nonNegativeNumber(text: string): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number ≥ 0 (got "${text}")`)
  return n
}

function finiteNumber(text: string): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number (got "${text}")`)
  return n
}

function positiveNumber(text: string): number {
  const n = nonNegativeNumber(text)
  if (n === 0) throw new InvalidArgumentError(`expected a number > 0 (got "${text}")`)
  return n
}

function nonNegativeInteger(text: string): number {
  const n = nonNegativeNumber(text)
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected an integer (got "${text}")`)
  return n
}

function positiveInteger(text: string): number {
  const n = nonNegativeInteger(text)
  if (n === 0) throw new InvalidArgumentError(`expected an integer > 0 (got "${text}")`)
  return n
}
