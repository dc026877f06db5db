// Building the kafkajs client from our config, with security, and kafkajs' logs routed into ours.
// Every kafkajs client of every command is built here (`run`, `reference capture`, `simulate`,
// `demo`), so they all honour the same TLS, SASL, client id and compression codecs.

import { readFileSync } from 'node:fs'
import { Kafka, logLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs'
import type { Logger } from 'pino'
import type { ServiceConfig } from '../../config/service.js'
import { registerCompressionCodecs } from './codecs.js'

/** What a client needs of the config's `kafka` section: where, as whom, and how securely. */
export type KafkaConnection = Pick<ServiceConfig['kafka'], 'brokers' | 'clientId' | 'ssl' | 'sasl'>

export function createKafka(
  config: KafkaConnection,
  logger: Logger,
  secrets: { readonly kafkaPassword?: string | undefined },
): Kafka {
  registerCompressionCodecs()
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger.child({ component: 'kafkajs' })),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    connectionTimeout: 5000,
  }
  if (config.ssl !== undefined) {
    kafkaConfig.ssl = {
      rejectUnauthorized: config.ssl.rejectUnauthorized,
      ...(config.ssl.ca === undefined ? {} : { ca: [readFileSync(config.ssl.ca, 'utf8')] }),
    }
  }
  if (config.sasl !== undefined) {
    const password = secrets.kafkaPassword ?? config.sasl.password
    if (password === undefined)
      throw new Error('kafka.sasl: no password (set DRIFTWATCH_KAFKA_PASSWORD)')
    kafkaConfig.sasl = {
      mechanism: config.sasl.mechanism,
      username: config.sasl.username,
      password,
    } as SASLOptions
  }
  return new Kafka(kafkaConfig)
}

// kafkajs warns of this on every idempotent producer whose retries are bounded. Ours are, on
// purpose (the `retry` above): a send that cannot succeed fails within a bounded time and its
// caller decides, instead of hanging through an outage. Logged at debug: no news on each start.
const boundedRetriesWarning =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees'

function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...extra } = log
      // kafkajs puts broker addresses and errors in `extra`, never credentials
      const payload = { ...extra, namespace }
      if (level === logLevel.ERROR) logger.error(payload, message)
      else if (level === logLevel.WARN && message !== boundedRetriesWarning)
        logger.warn(payload, message)
      else logger.debug(payload, message)
    }
}

export interface KafkaProbe {
  /**
   * Whether a broker answers a metadata request; false once none has answered within
   * `timeoutMs` for `graceMs` in a row.
   */
  reachable(): Promise<boolean>
  close(): Promise<void>
}

/**
 * Readiness asks the brokers directly: kafkajs emits no disconnect event while its consumer and
 * producer retry against a broker that went away (only a consumer crash says so, after its
 * retries, if at all), so their state alone keeps reporting Kafka as up through an outage.
 * One admin client without retries; concurrent callers share the request in flight. One slow
 * answer (a loaded machine, a broker's GC pause) does not make the service unready: Kafka is
 * called unreachable once no probe has succeeded for `graceMs`, which also bounds how late an
 * outage is seen.
 */
export function createKafkaProbe(kafka: Kafka, timeoutMs = 2000, graceMs = 5000): KafkaProbe {
  const admin = kafka.admin({ retry: { retries: 0 } })
  let connected = false
  let inFlight: Promise<boolean> | undefined
  let lastAnswerAt = Number.NEGATIVE_INFINITY
  const probe = async (): Promise<boolean> => {
    try {
      if (!connected) {
        await admin.connect()
        connected = true
      }
      await admin.describeCluster()
      lastAnswerAt = Date.now()
      return true
    } catch {
      return false
    }
  }
  return {
    reachable: async () => {
      const answer = (inFlight ??= probe().finally(() => (inFlight = undefined)))
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<boolean>(
        (resolve) => (timer = setTimeout(resolve, timeoutMs, false)),
      )
      const answered = await Promise.race([answer, timeout]).finally(() => clearTimeout(timer))
      return answered || Date.now() - lastAnswerAt < graceMs
    },
    close: async () => {
      if (connected) await admin.disconnect()
    },
  }
}
