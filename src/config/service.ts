// The service's configuration (`driftwatch run --config driftwatch.yaml`): one schema gives the
// TypeScript type, the validation with errors that name the field, and the JSON Schema for editors
// (`driftwatch config schema`). Secrets may come from the environment: DRIFTWATCH_KAFKA_PASSWORD,
// DRIFTWATCH_REDIS_PASSWORD, DRIFTWATCH_ADMIN_TOKEN (see config/env.ts).

import { z } from 'zod'
import { conditionsSchema, expectedRateSchema, importanceSchema } from './conditions.js'
import { driftSectionSchema } from './drift.js'
import { durationSchema, zeroOrDurationSchema } from './duration.js'
import { performanceSectionSchema } from './performance.js'

const topicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name (letters, digits, . _ -)')

export const kafkaSchema = z
  .strictObject({
    brokers: z.array(z.string().min(1)).min(1),
    clientId: z.string().default('driftwatch'),
    groupId: z.string().default('driftwatch'),
    ssl: z
      .strictObject({
        ca: z.string().optional().describe('path to a CA bundle (PEM)'),
        rejectUnauthorized: z.boolean().default(true),
      })
      .optional(),
    sasl: z
      .strictObject({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().optional().describe('prefer DRIFTWATCH_KAFKA_PASSWORD'),
      })
      .optional(),
    topics: z
      .strictObject({
        predictions: z.array(topicName).min(1).default(['predictions']),
        deadLetter: topicName.default('driftwatch.dead-letter'),
        reports: topicName.default('driftwatch.drift-reports'),
        alerts: topicName.default('driftwatch.alerts'),
        retrain: topicName.default('driftwatch.retrain'),
        labels: topicName
          .optional()
          .describe(
            'ground truth {eventId, model, label, timestamp}, joined to predictions by eventId',
          ),
      })
      .prefault({}),
    /** Largest accepted event, bytes; larger ones go to the dead-letter topic. */
    maxEventBytes: z.number().int().positive().default(1_048_576),
    /**
     * How long the group waits for a silent member (a killed pod) before handing its partitions on;
     * the whole group stalls that long after a kill -9. Brokers accept 6s to 30m by default.
     */
    sessionTimeout: durationSchema
      .default(30_000)
      .refine((ms) => ms >= 6000 && ms <= 1_800_000, {
        message:
          'expected between 6s and 30m (the broker defaults of group.min/max.session.timeout.ms)',
      })
      .describe('consumer group session timeout, e.g. "10s"'),
    /**
     * How often the consumer tells the group it is alive, and learns that a rebalance started: a
     * member that left (SIGTERM) is replaced after up to one interval, since the others join the
     * new generation at their next heartbeat. Default: a third of sessionTimeout, at most 3s.
     */
    heartbeatInterval: durationSchema
      .optional()
      .refine((ms) => ms === undefined || ms >= 100, { message: 'expected at least 100ms' })
      .describe('consumer group heartbeat interval (default: sessionTimeout / 3, at most 3s)'),
    compression: z
      .enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      .default('none')
      .describe('codec of the batches driftwatch writes; input topics are read in any codec'),
  })
  // Kafka's own advice (heartbeat.interval.ms): heartbeats at most a third of the session apart,
  // so one lost or late heartbeat does not expel a live member.
  .refine((k) => k.heartbeatInterval === undefined || k.heartbeatInterval * 3 <= k.sessionTimeout, {
    message: 'expected at most a third of kafka.sessionTimeout',
    path: ['heartbeatInterval'],
  })

export const redisSchema = z.strictObject({
  url: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port or rediss://host:port'),
  password: z.string().optional().describe('prefer DRIFTWATCH_REDIS_PASSWORD'),
  keyPrefix: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default('dw'),
  cluster: z.boolean().default(false),
  tls: z
    .strictObject({ ca: z.string().optional(), rejectUnauthorized: z.boolean().default(true) })
    .optional(),
})

export const windowSchema = z
  .strictObject({
    bucket: durationSchema.default(60_000),
    size: durationSchema.default(3_600_000),
    hop: durationSchema.default(300_000),
    allowedLateness: durationSchema.default(60_000),
    retention: durationSchema.default(26 * 3_600_000),
    /**
     * A partition read to its end whose newest event of the model lags the model's newest by more
     * than this (event time) stops holding windows back. Set it above the longest silence you
     * expect from a partition that still carries the model.
     */
    idleAfter: durationSchema
      .default(300_000)
      .describe('event-time lag after which a caught-up, silent partition is idle'),
    /**
     * Events stamped further ahead of the wall clock than this go to the dead-letter topic
     * (reason clock_skew): one producer's bad clock must not close windows that have not happened.
     */
    maxClockSkew: durationSchema
      .default(300_000)
      .describe('how far ahead of the wall clock an event time may be before it is dead-lettered'),
  })
  .refine((w) => w.size % w.bucket === 0, {
    message: 'size must be a whole number of buckets',
    path: ['size'],
  })
  .refine((w) => w.hop % w.bucket === 0, {
    message: 'hop must be a whole number of buckets',
    path: ['hop'],
  })
  .refine((w) => w.retention >= w.size + w.allowedLateness, {
    message: 'retention must cover the window size plus the allowed lateness',
    path: ['retention'],
  })

export const alertPolicySchema = z.strictObject({
  fireAfter: z
    .number()
    .int()
    .positive()
    .default(2)
    .describe('consecutive drifted evaluations before firing'),
  resolveAfter: z
    .number()
    .int()
    .positive()
    .default(2)
    .describe('consecutive clean evaluations before resolving'),
  cooldown: zeroOrDurationSchema
    .default(0)
    .describe('minimum time between a resolve and the next firing'),
})

export const gradualDriftSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('publish DriftwatchFeatureDriftGradual alerts on the alerts topic'),
    threshold: z
      .number()
      .positive()
      .default(0.3)
      .describe(
        'least-squares slope of a feature drift score over the span, times the span, that counts as gradual drift',
      ),
    span: durationSchema
      .default(7 * 86_400_000)
      .describe(
        'event time the slope is measured over (default 7d); a series is judged once it is 6/7 of it old',
      ),
  })
  .describe(
    'gradual drift in event time: a slow climb of a feature drift score no single window shows (the Kafka twin of the Prometheus rule DriftwatchFeatureDriftGradual)',
  )

export const modelSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,100}$/, 'expected a model name (letters, digits, . _ -)'),
  reference: z
    .strictObject({ file: z.string().min(1) })
    .optional()
    .describe('a snapshot from `driftwatch reference build`; else the one stored in Redis'),
  features: z
    .array(z.string().min(1))
    .optional()
    .describe('features to watch (default: every reference column)'),
  window: windowSchema.prefault({}),
  drift: driftSectionSchema.prefault({}),
  alerts: alertPolicySchema.prefault({}),
  gradualDrift: gradualDriftSchema.prefault({}),
  retrain: z
    .strictObject({ minCriticalFeatures: z.number().int().positive().default(3) })
    .prefault({})
    .describe('ask for retraining when at least this many features are critical'),
  conditions: conditionsSchema,
  importance: importanceSchema,
  expectedRate: expectedRateSchema,
  performance: performanceSectionSchema
    .optional()
    .describe('score predictions against ground truth from kafka.topics.labels'),
})

export const compatibilityLevels = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const

/** A Confluent-compatible schema registry: Avro input is decoded, Avro output registered, there. */
export const schemaRegistrySchema = z.strictObject({
  url: z
    .string()
    .regex(
      /^https?:\/\/\S+$/,
      'expected http(s)://host:port[/path] of the Confluent-compatible API',
    )
    .describe('e.g. http://registry:8081, or Apicurio: http://host:8080/apis/ccompat/v7'),
  username: z.string().min(1).optional(),
  password: z.string().optional().describe('prefer DRIFTWATCH_SCHEMA_REGISTRY_PASSWORD'),
  requestTimeout: durationSchema
    .default(5000)
    .describe('a registry request that has not answered by then fails (and is retried)'),
  deadLetterAfter: zeroOrDurationSchema
    .default(300_000)
    .describe(
      'while the registry cannot be reached, input partitions pause with back-off; after this long, the events that need it go to the dead-letter topic instead (0: at once)',
    ),
  compatibility: z
    .enum(compatibilityLevels)
    .default('BACKWARD')
    .describe(
      'compatibility rule set on the subjects driftwatch registers its output schemas under',
    ),
})

export const outputSchema = z.strictObject({
  format: z
    .enum(['json', 'avro'])
    .default('json')
    .describe('reports, alerts and retrain requests as JSON text, or Avro (needs schemaRegistry)'),
})

/** Alertmanager, announced to directly (besides the alerts topic, which carries transitions only). */
export const alertmanagerSchema = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'expected http(s)://host:port[/path] of Alertmanager')
    .describe('e.g. http://alertmanager:9093; driftwatch POSTs to its /api/v2/alerts'),
  resendInterval: durationSchema
    .default(60_000)
    .describe(
      'default 1m: firing alerts are sent again this often, each valid for 4 intervals; a resolved one is sent once more, ended',
    ),
  timeout: durationSchema
    .default(5000)
    .describe('default 5s: a POST that has not answered by then fails (and is retried)'),
})

export const serviceConfigSchema = z.strictObject({
  kafka: kafkaSchema,
  redis: redisSchema,
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(9464),
      adminToken: z
        .string()
        .min(16)
        .optional()
        .describe('prefer DRIFTWATCH_ADMIN_TOKEN; admin routes are off without one'),
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(10 * 1_048_576),
    })
    .prefault({}),
  flushInterval: durationSchema.default(1000),
  evaluateInterval: durationSchema
    .default(1000)
    .describe('how often the evaluator checks for due windows'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  models: z.array(modelSchema).min(1),
  schemaRegistry: schemaRegistrySchema.optional(),
  output: outputSchema.prefault({}),
  alerts: z
    .strictObject({ alertmanager: alertmanagerSchema.optional() })
    .prefault({})
    .describe('where alerts go besides the alerts topic'),
})

export type ServiceConfig = z.output<typeof serviceConfigSchema>
export type ModelConfig = z.output<typeof modelSchema>
export type WindowConfig = z.output<typeof windowSchema>

/** The JSON Schema of the config file, for editors (`driftwatch config schema`). */
export function serviceConfigJsonSchema(): unknown {
  return z.toJSONSchema(serviceConfigSchema, { io: 'input', unrepresentable: 'any' })
}
