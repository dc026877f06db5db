import { inject } from 'vitest'

// inject() returns undefined at run time when global setup skipped the services,
// whatever ProvidedContext declares; fail with the way out instead of a connection error.
function provided(key: 'kafkaBrokers' | 'redisUrl', what: string): string {
  const value = inject(key) as string | undefined
  if (value === undefined || value === '') {
    throw new Error(
      `this test needs ${what}, but test/global-setup.ts did not start it: ` +
        'unset DRIFTWATCH_TEST_NO_SERVICES, or run with test/global-setup.ts as globalSetup',
    )
  }
  return value
}

/** bootstrap servers of the run's Kafka broker, e.g. '127.0.0.1:40123' */
export function kafkaBrokers(): string {
  return provided('kafkaBrokers', 'Kafka')
}

/** redis:// URL of the run's Redis */
export function redisUrl(): string {
  return provided('redisUrl', 'Redis')
}
