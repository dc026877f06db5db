// DRIFTWATCH_* overrides: applied over the file's values; a bad one names the variable.

import { describe, expect, it } from 'vitest'
import { applyEnvOverrides } from '../../../src/config/env.js'
import { ConfigError } from '../../../src/errors.js'

describe('applyEnvOverrides', () => {
  it('puts each variable at its path, over the file and without changing the input', () => {
    const raw = { http: { port: 1 }, kafka: { brokers: ['a:1'] } }
    const out = applyEnvOverrides(raw, {
      DRIFTWATCH_HTTP_PORT: '9500',
      DRIFTWATCH_KAFKA_BROKERS: 'b:1, c:2',
      DRIFTWATCH_LOG_LEVEL: 'debug',
    })
    expect(out).toEqual({
      http: { port: 9500 },
      kafka: { brokers: ['b:1', 'c:2'] },
      logLevel: 'debug',
    })
    expect(raw.http.port).toBe(1)
  })

  it('names DRIFTWATCH_HTTP_PORT when it is not a port number', () => {
    const bad = (): unknown => applyEnvOverrides({}, { DRIFTWATCH_HTTP_PORT: 'abc' })
    expect(bad).toThrow(ConfigError)
    expect(bad).toThrow("DRIFTWATCH_HTTP_PORT: expected a port number, got 'abc'")
  })
})
