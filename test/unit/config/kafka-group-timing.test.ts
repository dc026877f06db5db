// kafka.sessionTimeout and kafka.heartbeatInterval: how fast the group notices a dead or departed
// member (docs/operations.md, "Restarts and the consumer group"). Bad values name the field.

import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { serviceConfigSchema } from '../../../src/config/service.js'
import { ConfigError } from '../../../src/errors.js'

function configWith(kafka: Record<string, unknown>): Record<string, unknown> {
  return {
    kafka: { brokers: ['127.0.0.1:9092'], ...kafka },
    redis: { url: 'redis://127.0.0.1:6379' },
    models: [{ name: 'fraud' }],
  }
}

function problem(kafka: Record<string, unknown>): ConfigError {
  try {
    validateConfig(configWith(kafka), serviceConfigSchema, 'driftwatch.yaml')
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('kafka group timing', () => {
  it('reads both as milliseconds; the heartbeat is left to the source when absent', () => {
    const tuned = validateConfig(
      configWith({ sessionTimeout: '10s', heartbeatInterval: '1s' }),
      serviceConfigSchema,
      'driftwatch.yaml',
    )
    expect(tuned.kafka.sessionTimeout).toBe(10_000)
    expect(tuned.kafka.heartbeatInterval).toBe(1000)
    const defaults = validateConfig(configWith({}), serviceConfigSchema, 'driftwatch.yaml')
    expect(defaults.kafka.sessionTimeout).toBe(30_000)
    expect(defaults.kafka.heartbeatInterval).toBeUndefined()
  })

  it('accepts a heartbeat of exactly a third of the session', () => {
    const config = validateConfig(
      configWith({ sessionTimeout: '9s', heartbeatInterval: '3s' }),
      serviceConfigSchema,
      'driftwatch.yaml',
    )
    expect(config.kafka.heartbeatInterval).toBe(3000)
  })

  it('names kafka.heartbeatInterval when it exceeds a third of the session timeout', () => {
    const error = problem({ sessionTimeout: '10s', heartbeatInterval: '5s' })
    expect(error.path).toBe('kafka.heartbeatInterval')
    expect(error.message).toBe(
      'driftwatch.yaml: kafka.heartbeatInterval: expected at most a third of kafka.sessionTimeout',
    )
    // against the default session (30 s) too
    expect(problem({ heartbeatInterval: '11s' }).path).toBe('kafka.heartbeatInterval')
  })

  it('names kafka.heartbeatInterval when it is below 100ms or not a duration', () => {
    expect(problem({ heartbeatInterval: '50ms' }).message).toBe(
      'driftwatch.yaml: kafka.heartbeatInterval: expected at least 100ms',
    )
    expect(problem({ heartbeatInterval: 'often' }).message).toMatch(
      /^driftwatch\.yaml: kafka\.heartbeatInterval: expected a duration like/,
    )
  })

  it('names kafka.sessionTimeout outside what brokers accept', () => {
    const error = problem({ sessionTimeout: '5s' })
    expect(error.path).toBe('kafka.sessionTimeout')
    expect(error.message).toMatch(/expected between 6s and 30m/)
  })
})
