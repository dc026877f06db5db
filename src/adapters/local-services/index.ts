import { startKafka } from './kafka.js'
import { startRedis } from './redis.js'

export { ensureKafkaJars, startKafka, type LocalKafka, type StartKafkaOptions } from './kafka.js'
export { startRedis, type LocalRedis, type StartRedisOptions } from './redis.js'
export {
  ensureApicurio,
  startApicurio,
  type LocalApicurio,
  type StartApicurioOptions,
} from './apicurio.js'
export { freePort, freePorts } from './free-port.js'

export interface ServicesWanted {
  readonly kafka: boolean
  readonly redis: boolean
}

export interface LocalServices<W extends ServicesWanted = ServicesWanted> {
  /** bootstrap servers; undefined when Kafka was not asked for */
  readonly brokers: W['kafka'] extends true ? string : string | undefined
  /** redis:// URL; undefined when Redis was not asked for */
  readonly redisUrl: W['redis'] extends true ? string : string | undefined
  /** Stops what this call started; services given through the environment are left alone. */
  stop(): Promise<void>
}

export interface StartLocalServicesOptions {
  readonly log?: (line: string) => void
  /** Defaults to process.env; KAFKA_BROKERS and REDIS_URL there mean "already running". */
  readonly env?: NodeJS.ProcessEnv
}

interface Started {
  readonly value: string
  stop(): Promise<void>
}

function fromEnv(value: string | undefined): Started | undefined {
  const trimmed = value?.trim()
  if (trimmed === undefined || trimmed === '') return undefined
  return { value: trimmed, stop: () => Promise.resolve() }
}

/**
 * Starts the wanted services in parallel, unless the environment already points at them
 * (KAFKA_BROKERS, REDIS_URL), which lets CI or a developer reuse long-running ones.
 * If one fails to start, the other is stopped before the error is thrown.
 */
export async function startLocalServices<const W extends ServicesWanted>(
  wanted: W,
  options: StartLocalServicesOptions = {},
): Promise<LocalServices<W>> {
  const env = options.env ?? process.env
  const log = options.log
  const logOption = log === undefined ? {} : { log }

  const kafkaTask: Promise<Started | undefined> = wanted.kafka
    ? Promise.resolve(fromEnv(env['KAFKA_BROKERS'])).then(
        async (given) => given ?? toStarted(await startKafka(logOption), (k) => k.brokers),
      )
    : Promise.resolve(undefined)
  const redisTask: Promise<Started | undefined> = wanted.redis
    ? Promise.resolve(fromEnv(env['REDIS_URL'])).then(
        async (given) => given ?? toStarted(await startRedis(logOption), (r) => r.url),
      )
    : Promise.resolve(undefined)

  const [kafka, redis] = await Promise.allSettled([kafkaTask, redisTask])
  const started = [kafka, redis].flatMap((result) =>
    result.status === 'fulfilled' && result.value !== undefined ? [result.value] : [],
  )
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((service) => service.stop()))
  }
  if (kafka.status === 'rejected' || redis.status === 'rejected') {
    await stopAll()
    const errors = [kafka, redis].flatMap((r) =>
      r.status === 'rejected' ? [r.reason as unknown] : [],
    )
    throw errors.length === 1
      ? errors[0]
      : new AggregateError(errors, 'local services failed to start')
  }

  let stopping: Promise<void> | undefined
  return {
    brokers: kafka.value?.value,
    redisUrl: redis.value?.value,
    stop: () => (stopping ??= stopAll()),
  } as LocalServices<W>
}

function toStarted<T extends { stop(): Promise<void> }>(
  service: T,
  value: (s: T) => string,
): Started {
  return { value: value(service), stop: () => service.stop() }
}
