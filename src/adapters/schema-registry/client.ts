// The schema registry client: @kafkajs/confluent-schema-registry (Confluent's REST API, which
// Apicurio serves under /apis/ccompat/v7) with what it lacks by default: a request timeout (a
// registry that accepts connections and never answers would hang a lookup forever) and a short,
// explicit retry (a `retry` option mutates the library's module default, so every field is given).
// Registry errors are translated here: nothing outside this folder sees a mappersmith error.

import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import type { Type } from 'avsc'
import type { ServiceConfig } from '../../config/service.js'
import { DriftwatchError, errorMessage } from '../../errors.js'

export interface RegistryOptions {
  readonly url: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly requestTimeoutMs: number
}

/** The config's `schemaRegistry` section as client options: DRIFTWATCH_SCHEMA_REGISTRY_PASSWORD
 * wins over its `password`. */
export function registryConnectionOf(
  section: SchemaRegistrySection,
  secrets: { readonly schemaRegistryPassword?: string | undefined },
): RegistryOptions {
  return {
    url: section.url,
    username: section.username,
    password: secrets.schemaRegistryPassword ?? section.password,
    requestTimeoutMs: section.requestTimeout,
  }
}

type SchemaRegistrySection = NonNullable<ServiceConfig['schemaRegistry']>

type Middlewares = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>

/** mappersmith middleware: every request without its own timeout gets `ms`. */
function timeoutMiddleware(ms: number): Middlewares[number] {
  return () => ({
    async prepareRequest(next) {
      const request = await next()
      return request.timeout() ? request : request.enhance({ timeout: ms })
    },
  })
}

export function createSchemaRegistry(options: RegistryOptions): SchemaRegistry {
  return new SchemaRegistry(
    {
      host: options.url.replace(/\/+$/, ''),
      clientId: 'driftwatch',
      middlewares: [timeoutMiddleware(options.requestTimeoutMs)],
      retry: {
        retries: 1,
        initialRetryTimeInSecs: 0.1,
        maxRetryTimeInSecs: 1,
        factor: 0.2,
        multiplier: 2,
      },
      ...(options.username === undefined
        ? {}
        : { auth: { username: options.username, password: options.password ?? '' } }),
    },
    // Unions decode to plain values (an int|double feature is a number, not {"double": 1.5}); the
    // binary carries the branch, so nothing is ambiguous when reading.
    { [SchemaType.AVRO]: { wrapUnions: false } },
  )
}

export type Lookup =
  | { readonly status: 'found'; readonly type: Type }
  | { readonly status: 'unknown'; readonly detail: string }

/** The writer schema of `id`; `unknown` when the registry says it has none. */
export async function lookupSchema(registry: SchemaRegistry, id: number): Promise<Lookup> {
  try {
    return { status: 'found', type: (await registry.getSchema(id)) as Type }
  } catch (error: unknown) {
    const status = (error as { status?: unknown } | null)?.status
    if (status === 404 || status === 422)
      return { status: 'unknown', detail: `schema id ${id}: ${errorMessage(error).slice(0, 120)}` }
    throw registryError(error, `looking up schema id ${id}`)
  }
}

/**
 * Retryable unless the registry answered with a refusal (401, 403, 404, 409, 422). mappersmith
 * reports its own failures (refused connection, timeout) as status 400, so 400 counts as "no
 * answer": a registry rarely says 400 itself.
 */
export function registryError(error: unknown, doing: string): DriftwatchError {
  const status = (error as { status?: unknown } | null)?.status
  const refused = typeof status === 'number' && status > 400 && status < 500
  return new DriftwatchError(
    refused ? 'SCHEMA_REGISTRY_ERROR' : 'SCHEMA_REGISTRY_UNAVAILABLE',
    `schema registry: ${doing}: ${errorMessage(error)}`,
    { canRetry: !refused, cause: error },
  )
}
