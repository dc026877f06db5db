// Layering: defaults (in the schema) < config file < environment. Secrets are read from the
// environment or from files named there (`*_FILE`, as Docker and Kubernetes secrets mount them),
// and kept out of the validated config object so nothing logs them by accident.

import { readFileSync } from 'node:fs'
import { ConfigError, errorMessage } from '../errors.js'

export interface Secrets {
  readonly kafkaPassword?: string | undefined
  readonly redisPassword?: string | undefined
  readonly adminToken?: string | undefined
  readonly schemaRegistryPassword?: string | undefined
}

const overrides: ReadonlyArray<{
  env: string
  path: readonly string[]
  parse: (v: string) => unknown
}> = [
  {
    env: 'DRIFTWATCH_KAFKA_BROKERS',
    path: ['kafka', 'brokers'],
    parse: (v) =>
      v
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
  },
  { env: 'DRIFTWATCH_REDIS_URL', path: ['redis', 'url'], parse: (v) => v },
  {
    env: 'DRIFTWATCH_HTTP_PORT',
    path: ['http', 'port'],
    parse: (v) => {
      // Number('abc') is NaN, which the schema would report as `http.port` without naming the
      // variable the value came from.
      if (!/^\d+$/.test(v.trim()))
        throw new ConfigError('DRIFTWATCH_HTTP_PORT', `expected a port number, got '${v}'`)
      return Number(v)
    },
  },
  { env: 'DRIFTWATCH_HTTP_HOST', path: ['http', 'host'], parse: (v) => v },
  { env: 'DRIFTWATCH_LOG_LEVEL', path: ['logLevel'], parse: (v) => v },
  { env: 'DRIFTWATCH_SCHEMA_REGISTRY_URL', path: ['schemaRegistry', 'url'], parse: (v) => v },
]

/** Applies DRIFTWATCH_* overrides to the raw (unvalidated) config object. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  const root: Record<string, unknown> = isRecord(raw) ? structuredClone(raw) : {}
  for (const { env: name, path, parse } of overrides) {
    const value = env[name]
    if (value === undefined || value === '') continue
    let node = root
    for (const key of path.slice(0, -1)) {
      const child = node[key]
      node = isRecord(child) ? child : (node[key] = {})
    }
    node[path[path.length - 1] as string] = parse(value)
  }
  return root
}

export function readSecrets(env: NodeJS.ProcessEnv): Secrets {
  return {
    kafkaPassword: secret(env, 'DRIFTWATCH_KAFKA_PASSWORD'),
    redisPassword: secret(env, 'DRIFTWATCH_REDIS_PASSWORD'),
    adminToken: secret(env, 'DRIFTWATCH_ADMIN_TOKEN'),
    schemaRegistryPassword: secret(env, 'DRIFTWATCH_SCHEMA_REGISTRY_PASSWORD'),
  }
}

function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name]
  if (direct !== undefined && direct !== '') return direct
  const file = env[`${name}_FILE`]
  if (file === undefined || file === '') return undefined
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (error: unknown) {
    // the path is not secret; the content never reaches a message
    throw new ConfigError(`${name}_FILE`, `cannot read secret file ${file}: ${errorMessage(error)}`)
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
