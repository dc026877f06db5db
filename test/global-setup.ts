import type { TestProject } from 'vitest/node'
import { startLocalServices } from '../src/adapters/local-services/index.js'

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string
    redisUrl: string
  }
}

/**
 * Starts one Kafka broker and one Redis for the whole run (about 5 s and 1 GiB, so not
 * per file). Unit-only runs skip that with DRIFTWATCH_TEST_NO_SERVICES=1; KAFKA_BROKERS
 * and REDIS_URL point the run at services that are already up.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env['DRIFTWATCH_TEST_NO_SERVICES'] === '1') return () => Promise.resolve()

  const services = await startLocalServices(
    { kafka: true, redis: true },
    { log: (line) => console.log(`[local-services] ${line}`) },
  )
  project.provide('kafkaBrokers', services.brokers)
  project.provide('redisUrl', services.redisUrl)
  return () => services.stop()
}
