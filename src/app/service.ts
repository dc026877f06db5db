// The composition root of `run`: it builds the service's Kafka, Redis, schema registry and HTTP
// clients, through the adapters' factories (adapters/kafka/client.ts, adapters/redis/client.ts,
// adapters/schema-registry/client.ts), which the other commands use too. It keeps a stack of
// releasers and runs them in reverse on stop (graphile-worker's withReleasers): stop consuming →
// flush → commit → stop evaluating → close producer → quit Redis → close HTTP.

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { pino, type Logger } from 'pino'
import {
  readReferenceFile,
  parseReferenceJSON,
  snapshotToJSON,
} from '../adapters/files/reference-file.js'
import { AlertmanagerNotifier } from '../adapters/alertmanager/notifier.js'
import { startHttpServer } from '../adapters/http/server.js'
import { createKafka, createKafkaProbe } from '../adapters/kafka/client.js'
import { KafkaBacklog } from '../adapters/kafka/backlog.js'
import { KafkaSink } from '../adapters/kafka/sink.js'
import { KafkaSource } from '../adapters/kafka/source.js'
import { ensureTopics } from '../adapters/kafka/topics.js'
import { createMetrics } from '../adapters/metrics/metrics.js'
import { createRedisClient, redisConnectionOf } from '../adapters/redis/client.js'
import { RedisLabelStore } from '../adapters/redis/label-store.js'
import { RedisLeaseStore } from '../adapters/redis/lease-store.js'
import { RedisReferenceStore } from '../adapters/redis/reference-store.js'
import { RedisSketchStore } from '../adapters/redis/sketch-store.js'
import { AvroEventDecoder } from '../adapters/schema-registry/avro-decoder.js'
import { AvroOutputEncoder } from '../adapters/schema-registry/avro-encoder.js'
import { createSchemaRegistry, registryConnectionOf } from '../adapters/schema-registry/client.js'
import type { EventDecoder } from '../ports/event-decoder.js'
import type { OutputEncoder } from '../ports/output-encoder.js'
import { driftSettingsOf } from '../config/drift.js'
import { degradationSettingsOf, performanceSettingsOf } from '../config/performance.js'
import type { PerformanceSummary } from '../core/performance/summary.js'
import type { Secrets } from '../config/env.js'
import type { ModelConfig, ServiceConfig } from '../config/service.js'
import { parseConditions } from '../core/conditions.js'
import { createDefaultRegistry } from '../core/drift-tests/registry.js'
import { layoutOf, watchedColumns } from '../core/profile/dataset.js'
import type { ReferenceSnapshot } from '../core/reference.js'
import type { FeatureKind } from '../core/report.js'
import { ConfigError, DriftwatchError, errorMessage } from '../errors.js'
import { AlertRelay } from './alert-relay.js'
import { Evaluator, type EvaluatedModel } from './evaluator.js'
import { Ingestor, type ModelRuntime } from './ingest.js'
import { LabelJoiner, type JoinedModel } from './labels.js'
import { loadPerformanceBaseline } from './performance-baseline.js'
import { LiveStatus } from './status.js'

export interface App {
  /** Base URL of the HTTP server. */
  readonly httpUrl: string
  readonly instanceId: string
  stop(): Promise<void>
}

export interface CreateAppOptions {
  readonly secrets: Secrets
  readonly logger?: Logger
  readonly now?: () => number
  /** Read input topics from the beginning when the group has no committed offset. */
  readonly fromBeginning?: boolean
  /**
   * `run --from`: a replay from this time (ms): topics are read from the beginning when the group
   * has no committed offset, events stamped before it are not counted, and windows are evaluated
   * from the first that starts at or after it.
   */
  readonly from?: number
}

export async function startApp(config: ServiceConfig, options: CreateAppOptions): Promise<App> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'driftwatch' } })
  const now = options.now ?? Date.now
  const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
  const releasers: Array<{ name: string; release: () => Promise<void> }> = []
  const release = async (): Promise<void> => {
    while (releasers.length > 0) {
      const next = releasers.pop()
      if (next === undefined) break
      try {
        await next.release()
      } catch (error: unknown) {
        logger.warn({ step: next.name, err: errorMessage(error) }, 'error while stopping')
      }
    }
  }

  try {
    logger.info({ instanceId, models: config.models.map((m) => m.name) }, 'driftwatch starting')
    const metrics = createMetrics()
    const redis = await createRedisClient(redisConnectionOf(config.redis, options.secrets), {
      onError: () => metrics.up('redis', false),
    })
    releasers.push({ name: 'redis', release: async () => void (await redis.quit()) })
    const store = new RedisSketchStore(redis, config.redis.keyPrefix)
    const leases = new RedisLeaseStore(redis, config.redis.keyPrefix)
    const references = new RedisReferenceStore(redis, config.redis.keyPrefix)
    const labelStore = new RedisLabelStore(redis, config.redis.keyPrefix)
    const baselines = new Map<string, PerformanceSummary | null>()
    for (const [i, model] of config.models.entries()) {
      const section = model.performance
      if (section === undefined) continue
      baselines.set(
        model.name,
        section.baseline === undefined
          ? null
          : await loadPerformanceBaseline(
              section.baseline,
              performanceSettingsOf(section),
              `models[${i}].performance.baseline`,
            ),
      )
    }
    if (baselines.size > 0 && config.kafka.topics.labels === undefined)
      throw new ConfigError(
        'kafka.topics.labels',
        'a model has a performance section: set the labels topic its ground truth comes from',
      )

    const runtimes = new Map<
      string,
      ModelRuntime & { snapshot: ReferenceSnapshot; config: ModelConfig }
    >()
    for (const [i, model] of config.models.entries()) {
      const snapshot = await loadReference(model, references, logger)
      let runtime: ModelRuntime
      try {
        runtime = runtimeOf(model, snapshot, options.from)
      } catch (error: unknown) {
        throw new ConfigError(`models[${i}].features`, errorMessage(error))
      }
      runtimes.set(model.name, { ...runtime, snapshot, config: model })
      metrics.reference(model.name, '', snapshot.id)
    }

    const replay = (options.fromBeginning ?? false) || options.from !== undefined
    const kafka = createKafka(config.kafka, logger, options.secrets)
    const topics = config.kafka.topics
    await ensureTopics(
      kafka,
      [topics.deadLetter, topics.reports, topics.alerts, topics.retrain].map((topic) => ({
        topic,
      })),
    )
    const { decoder, encoder } = await schemaRegistryParts(config, options.secrets, logger)
    const sink = new KafkaSink(kafka, topics, {
      compression: config.kafka.compression,
      ...(encoder === undefined ? {} : { encoder }),
    })
    await sink.connect()
    releasers.push({ name: 'kafka producer', release: () => sink.disconnect() })
    const source = new KafkaSource(kafka, {
      groupId: config.kafka.groupId,
      topics: topics.predictions,
      fromBeginning: replay,
      sessionTimeoutMs: config.kafka.sessionTimeout,
      ...(config.kafka.heartbeatInterval === undefined
        ? {}
        : { heartbeatIntervalMs: config.kafka.heartbeatInterval }),
    })

    const ingestor = new Ingestor({
      store,
      sink,
      source,
      metrics,
      logger: logger.child({ component: 'ingest' }),
      models: runtimes,
      maxEventBytes: config.kafka.maxEventBytes,
      flushIntervalMs: config.flushInterval,
      now,
      ...(decoder === undefined ? {} : { decoder }),
    })
    const evaluatedModels: EvaluatedModel[] = config.models.map((model) => ({
      name: model.name,
      spec: specOf(model),
      settings: driftSettingsOf(model.drift),
      features: model.features,
      alertPolicy: model.alerts,
      gradualDrift: {
        enabled: model.gradualDrift.enabled,
        threshold: model.gradualDrift.threshold,
        spanMs: model.gradualDrift.span,
      },
      minCriticalFeatures: model.retrain.minCriticalFeatures,
      idleAfterMs: model.window.idleAfter,
      ...(model.conditions === undefined ? {} : { conditions: parseConditions(model.conditions) }),
      ...(model.importance === undefined ? {} : { importance: model.importance }),
      ...(model.expectedRate === undefined ? {} : { expectedRate: model.expectedRate }),
      ...(model.performance === undefined
        ? {}
        : {
            performance: {
              settings: performanceSettingsOf(model.performance),
              degradation: degradationSettingsOf(model.performance),
              baseline: baselines.get(model.name) ?? null,
            },
          }),
      reference: () => (runtimes.get(model.name) as { snapshot: ReferenceSnapshot }).snapshot,
    }))
    const backlog = new KafkaBacklog(kafka, {
      groupId: config.kafka.groupId,
      topics: topics.predictions,
      fromBeginning: replay,
    })
    releasers.push({ name: 'kafka backlog', release: () => backlog.close() })
    const alertmanager = config.alerts.alertmanager
    const alertRelay =
      alertmanager === undefined
        ? undefined
        : new AlertRelay({
            notifier: new AlertmanagerNotifier({
              url: alertmanager.url,
              timeoutMs: alertmanager.timeout,
            }),
            resendIntervalMs: alertmanager.resendInterval,
            now,
            logger: logger.child({ component: 'alertmanager' }),
            metrics,
          })
    const evaluator = new Evaluator({
      backlog,
      owner: instanceId,
      store,
      leases,
      sink,
      metrics,
      logger: logger.child({ component: 'evaluator' }),
      registry: createDefaultRegistry(),
      models: evaluatedModels,
      intervalMs: config.evaluateInterval,
      leaseTtlMs: Math.max(10_000, config.evaluateInterval * 5),
      ...(replay ? { replay: { from: options.from ?? null } } : {}),
      lateHorizonMs: Math.max(...config.models.map((m) => m.window.retention - m.window.size)),
      labels: labelStore,
      now,
      ...(alertRelay === undefined ? {} : { alertRelay }),
    })

    const replaceReference = async (model: string, raw: unknown): Promise<{ id: string }> => {
      const runtime = runtimes.get(model)
      if (runtime === undefined)
        throw new DriftwatchError('NOT_FOUND', `model '${model}' is not configured`)
      const snapshot = parseReferenceJSON(raw, 'request body')
      watchedColumns(snapshot.profile, runtime.config.features) // refuse a reference without a watched feature
      const json = snapshotToJSON(snapshot)
      await references.put(model, JSON.stringify(json), json.id)
      applyReference(runtime, { ...snapshot, id: json.id }, runtime.config.features)
      metrics.reference(model, '', json.id)
      logger.info({ model, referenceId: json.id }, 'reference replaced')
      return { id: json.id }
    }
    // Other instances learn of a replaced reference from Redis.
    const refresh = setInterval(() => {
      void (async () => {
        for (const [model, runtime] of runtimes) {
          try {
            const stored = await references.current(model)
            if (stored === null) continue
            const snapshot = parseReferenceJSON(JSON.parse(stored), `redis reference of ${model}`)
            if (snapshot.id !== runtime.referenceId)
              applyReference(runtime, snapshot, runtime.config.features)
          } catch (error: unknown) {
            logger.warn(
              { model, err: errorMessage(error) },
              'reference refresh failed: keeping the current reference',
            )
          }
        }
      })()
    }, 5000)
    releasers.push({
      name: 'reference refresh',
      release: () => Promise.resolve(clearInterval(refresh)),
    })

    const kafkaProbe = createKafkaProbe(kafka)
    releasers.push({ name: 'kafka probe', release: () => kafkaProbe.close() })
    const status = new LiveStatus({
      leases,
      runtimes,
      redisUp: async () => {
        try {
          await redis.ping()
          return true
        } catch {
          return false
        }
      },
      kafkaUp: async () => source.connected() && sink.connected() && (await kafkaProbe.reachable()),
      storeHealthy: () => ingestor.storeHealthy(),
      deadLettersHealthy: () => ingestor.deadLettersHealthy(),
    })
    // driftwatch_redis_up / driftwatch_kafka_up follow the same probes as /readyz.
    const probeDependencies = (): void => {
      void status.readiness().then(
        (r) => {
          metrics.up('redis', r.checks['redis']?.ok === true)
          metrics.up('kafka', r.checks['kafka']?.ok === true)
        },
        () => undefined,
      )
    }
    probeDependencies()
    const upTimer = setInterval(probeDependencies, 5000)
    releasers.push({
      name: 'dependency probes',
      release: () => Promise.resolve(clearInterval(upTimer)),
    })
    const http = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      adminToken: options.secrets.adminToken ?? config.http.adminToken,
      maxBodyBytes: config.http.maxBodyBytes,
      registry: metrics.registry,
      status,
      admin: { replaceReference },
      logger: logger.child({ component: 'http' }),
    })
    releasers.push({ name: 'http', release: () => http.close() })

    evaluator.start()
    releasers.push({ name: 'evaluator', release: () => evaluator.stop() })
    await source.start({
      onBatch: (batch, control) => ingestor.onBatch(batch, control),
      onAssigned: (refs) => ingestor.onAssigned(refs),
      onRevoked: (refs) => ingestor.onRevoked(refs),
    })
    ingestor.startTimer()
    const labelsTopic = topics.labels
    if (labelsTopic !== undefined && baselines.size > 0) {
      const joined = new Map<string, JoinedModel>()
      for (const model of config.models) {
        if (model.performance === undefined) continue
        joined.set(model.name, {
          name: model.name,
          settings: performanceSettingsOf(model.performance),
          joinTtlMs: model.performance.joinTtl,
          maxPending: model.performance.maxPending,
          retentionMs: model.window.retention,
        })
      }
      // A group of its own: the labels' offsets and partitions are not the predictions'.
      const labelSource = new KafkaSource(kafka, {
        groupId: `${config.kafka.groupId}.labels`,
        topics: [labelsTopic],
        fromBeginning: replay,
        sessionTimeoutMs: config.kafka.sessionTimeout,
        ...(config.kafka.heartbeatInterval === undefined
          ? {}
          : { heartbeatIntervalMs: config.kafka.heartbeatInterval }),
      })
      const joiner = new LabelJoiner({
        store: labelStore,
        sink,
        source: labelSource,
        metrics,
        logger: logger.child({ component: 'labels' }),
        models: joined,
        maxEventBytes: config.kafka.maxEventBytes,
        now,
      })
      await labelSource.start({
        onBatch: (batch, control) => joiner.onBatch(batch, control),
        onAssigned: (refs) => joiner.onAssigned(refs),
        onRevoked: (refs) => joiner.onRevoked(refs),
      })
      joiner.startSweeps()
      releasers.push({
        name: 'labels consumer',
        release: async () => {
          labelSource.pause()
          await joiner.stop()
          await labelSource.stop()
        },
      })
    }
    // Stop consuming, flush and commit while the group is still joined, then leave it.
    releasers.push({
      name: 'consumer: pause, final flush and commit, stop',
      release: async () => {
        source.pause()
        await ingestor.stop()
        await source.stop()
      },
    })
    logger.info({ instanceId, http: http.url, models: [...runtimes.keys()] }, 'driftwatch running')
    return { httpUrl: http.url, instanceId, stop: release }
  } catch (error: unknown) {
    await release()
    throw error
  }
}

async function loadReference(
  model: ModelConfig,
  references: RedisReferenceStore,
  logger: Logger,
): Promise<ReferenceSnapshot> {
  if (model.reference !== undefined) {
    const snapshot = await readReferenceFile(model.reference.file)
    const json = snapshotToJSON(snapshot)
    const seed = await references.seedFromFile(model.name, JSON.stringify(json), json.id)
    if (seed.applied) return { ...snapshot, id: json.id }
    // An operator replaced the reference through the admin API since this file was seeded: a
    // restart must not undo that. A changed file would be applied (a new decision).
    logger.warn(
      { model: model.name, referenceId: seed.currentId, file: model.reference.file },
      'keeping the reference put through the admin API; the unchanged reference file is not applied',
    )
  }
  const stored = await references.current(model.name)
  if (stored === null) {
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `model '${model.name}' has no reference: set models[].reference.file, or store one with PUT /admin/models/${model.name}/reference`,
    )
  }
  return parseReferenceJSON(JSON.parse(stored), `redis reference of ${model.name}`)
}

function specOf(model: ModelConfig): ModelRuntime['spec'] {
  const { bucket, size, hop, allowedLateness } = model.window
  return { bucket, size, hop, allowedLateness }
}

function runtimeOf(
  model: ModelConfig,
  snapshot: ReferenceSnapshot,
  notBefore: number | undefined,
): ModelRuntime {
  const runtime: ModelRuntime = {
    name: model.name,
    spec: specOf(model),
    retentionMs: model.window.retention,
    maxClockSkewMs: model.window.maxClockSkew,
    ...(notBefore === undefined ? {} : { notBefore }),
    referenceId: snapshot.id,
    layout: { columns: [] },
    kinds: new Map(),
    ...(model.performance === undefined
      ? {}
      : {
          performance: {
            joinTtlMs: model.performance.joinTtl,
            maxPending: model.performance.maxPending,
          },
        }),
  }
  applyReference(runtime, snapshot, model.features)
  return runtime
}

function applyReference(
  runtime: ModelRuntime & { snapshot?: ReferenceSnapshot },
  snapshot: ReferenceSnapshot,
  features: readonly string[] | undefined,
): void {
  const watched = watchedColumns(snapshot.profile, features)
  // The prediction is profiled on the reference's layout too (core/model-outputs.ts).
  const prediction = layoutOf(snapshot.profile).prediction
  runtime.layout =
    prediction === undefined ? { columns: watched } : { columns: watched, prediction }
  runtime.kinds = new Map<string, FeatureKind>(watched.map((c) => [c.name, c.kind]))
  runtime.referenceId = snapshot.id
  runtime.snapshot = snapshot
}

/**
 * With `schemaRegistry`: the Avro input decoder, and with `output.format: avro` the output encoder,
 * whose schemas are registered here, once, before anything is published.
 */
async function schemaRegistryParts(
  config: ServiceConfig,
  secrets: Secrets,
  logger: Logger,
): Promise<{ decoder?: EventDecoder; encoder?: OutputEncoder }> {
  const settings = config.schemaRegistry
  if (settings === undefined) {
    if (config.output.format === 'avro')
      throw new ConfigError('output.format', 'avro needs a schema registry (schemaRegistry.url)')
    return {}
  }
  const connection = registryConnectionOf(settings, secrets)
  const decoder = new AvroEventDecoder(createSchemaRegistry(connection), {
    deadLetterAfterMs: settings.deadLetterAfter,
  })
  if (config.output.format !== 'avro') return { decoder }
  const topics = config.kafka.topics
  const { encoder, registered } = await AvroOutputEncoder.register(
    { report: topics.reports, alert: topics.alerts, retrain: topics.retrain },
    {
      ...connection,
      compatibility: settings.compatibility,
      warn: (message) => logger.warn(message),
    },
  )
  logger.info({ registered, compatibility: settings.compatibility }, 'output schemas registered')
  return { decoder, encoder }
}
