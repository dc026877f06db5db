import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DriftwatchError,
  UnknownColumnError,
  UnknownDriftTestError,
} from '../../src/errors.js'

describe('errors carry their own code', () => {
  it.each([
    [new ConfigError('models[0].window.hop', 'expected a duration'), 'CONFIG_INVALID'],
    [new UnknownDriftTestError('x', ['psi']), 'UNKNOWN_DRIFT_TEST'],
    [new UnknownColumnError('x', ['a'], 'f.csv'), 'UNKNOWN_COLUMN'],
  ] as const)('%s', (error, code) => {
    expect(error).toBeInstanceOf(DriftwatchError)
    expect(error.code).toBe(code)
    expect(error.canRetry).toBe(false)
  })

  it('names the field in config errors', () => {
    expect(
      new ConfigError('models[0].window.hop', 'expected a duration', { source: 'dw.yaml' }).message,
    ).toBe('dw.yaml: models[0].window.hop: expected a duration')
  })
})
