// One error base for the whole project. Every failure a user can see carries a stable `code`
// (a closed list, so callers can switch on it) and `canRetry`, which is the only thing retry
// loops look at. Foreign errors (kafkajs, ioredis, fs) are wrapped at the edge, kept as `cause`.

export const errorCodes = [
  'CONFIG_INVALID',
  'UNKNOWN_DRIFT_TEST',
  'UNKNOWN_COLUMN',
  'FILE_READ',
  'REFERENCE_INVALID',
  'SKETCH_DECODE',
  'KAFKA_UNAVAILABLE',
  'REDIS_UNAVAILABLE',
  // Redis answered, but with an error or a value we cannot read (wrong key type, refused
  // credentials, a script bug, corrupt state): retrying the same call will not help.
  'REDIS_ERROR',
  'STALE_OFFSETS',
  'LEASE_LOST',
  'SERVICE_START',
  // The schema registry did not answer (down, refused, timed out, 5xx): worth retrying.
  'SCHEMA_REGISTRY_UNAVAILABLE',
  // The schema registry answered with a refusal (incompatible schema, bad credentials).
  'SCHEMA_REGISTRY_ERROR',
  // Alertmanager did not accept the alerts driftwatch announced (down, timed out, refused).
  'ALERTMANAGER_UNAVAILABLE',
  // A caller broke a port's contract (e.g. a flush writing a bucket of a partition it does not
  // check): a bug in our code, never retried.
  'INVALID_ARGUMENT',
  // HTTP API (src/adapters/http): each maps to one status code; NOT_FOUND is also for
  // StatusSource/AdminActions implementers to throw for an unknown model.
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNAUTHORIZED',
  'PAYLOAD_TOO_LARGE',
  'BAD_REQUEST',
  'INTERNAL',
] as const
export type ErrorCode = (typeof errorCodes)[number]

export class DriftwatchError extends Error {
  readonly code: ErrorCode
  readonly canRetry: boolean

  constructor(
    code: ErrorCode,
    message: string,
    options: { canRetry?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DriftwatchError'
    this.code = code
    this.canRetry = options.canRetry ?? false
  }
}

/** A setting a user wrote is wrong; `path` names the field (`models[0].window.hop`). */
export class ConfigError extends DriftwatchError {
  readonly path: string
  constructor(path: string, message: string, options: { source?: string } = {}) {
    const where = options.source === undefined ? path : `${options.source}: ${path}`
    super('CONFIG_INVALID', `${where}: ${message}`)
    this.name = 'ConfigError'
    this.path = path
  }
}

export class UnknownDriftTestError extends DriftwatchError {
  constructor(name: string, available: readonly string[]) {
    super('UNKNOWN_DRIFT_TEST', `unknown drift test '${name}'; available: ${available.join(', ')}`)
    this.name = 'UnknownDriftTestError'
  }
}

export class UnknownColumnError extends DriftwatchError {
  constructor(name: string, available: readonly string[], where: string) {
    super(
      'UNKNOWN_COLUMN',
      `unknown column '${name}' in ${where}; columns: ${available.join(', ')}`,
    )
    this.name = 'UnknownColumnError'
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
