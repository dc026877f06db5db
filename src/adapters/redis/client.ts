// Builds the one ioredis client (standalone or cluster) the stores share, tuned so that a Redis
// outage makes calls FAIL FAST instead of waiting: invariant 5 ("outages pause, never lose") is
// kept by the caller, which pauses consumption on a retryable error and tries again later. A
// client that queued commands until Redis came back would hide the outage, hold every pending
// flush in memory, and let the Kafka consumer run on.
//
// The choices, and why:
//   enableOfflineQueue: false      a command issued while not connected rejects at once ("Stream
//                                  isn't writeable" / "Cluster isn't ready") rather than waiting
//                                  in a queue for as long as the outage lasts.
//   maxRetriesPerRequest: 0        a command in flight when the connection drops rejects at the
//                                  first reconnect attempt; the default (20 attempts with backoff)
//                                  stalls a call for tens of seconds, `null` forever.
//   autoResendUnfulfilledCommands: false
//                                  never replay a write behind our back after a reconnect; the
//                                  caller sees the failure and decides (a repeated flush comes
//                                  back 'stale', which the caller handles by reloading).
//   socketTimeout (5 s)            a server that accepted the connection but stopped answering
//                                  (paused, partitioned, SIGSTOP) has its socket destroyed, which
//                                  fails the pending commands and starts a reconnect; without it a
//                                  call waits for TCP to notice, minutes later.
//   connectTimeout (5 s)           same, for a connect that never completes.
//   retryStrategy / clusterRetryStrategy: backoff 100 ms doubling to 2 s, never giving up, so
//                                  the client is connected again soon after Redis is back and the
//                                  caller's next retry succeeds; nothing waits on it meanwhile.
//   Cluster: a command that meets a closed node connection is retried by ioredis after
//   retryDelayOnFailover (100 ms) at most maxRedirections (16) times: bounded, about 2 s.
//
// `keyPrefix` is NOT given to ioredis' own `keyPrefix` option: the stores apply it through
// keys.ts, so every key name in code and Lua is the real one (CLUSTER KEYSLOT, MONITOR and
// redis-cli show what the code says), and a client shared with other code is not rewritten.
// bullmq refuses ioredis' keyPrefix for the same reasons.
//
// The password is never written into an error or log line: messages name the nodes only, and
// causes are copied without ioredis' command arguments (the handshake's carry the password).

import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { ConfigError, DriftwatchError } from '../../errors.js'
import { translateRedisError } from './errors.js'
import { redisKeys } from './keys.js'
import type { RedisClient } from './scripts.js'

export type { RedisClient } from './scripts.js'

export interface RedisClientConfig {
  /** `redis://[user:password@]host:port[/db]`; `rediss://` for TLS; for a cluster, seed nodes
   * separated by commas: `redis://10.0.0.1:6379,10.0.0.2:6379`. */
  readonly url: string
  /** Wins over a password in the URL (it comes from DRIFTWATCH_REDIS_PASSWORD). */
  readonly password?: string | undefined
  readonly cluster?: boolean | undefined
  readonly tls?:
    | {
        /** a CA bundle: PEM text, or the path of a PEM file */
        readonly ca?: string | undefined
        readonly rejectUnauthorized?: boolean | undefined
      }
    | undefined
  /** Checked here, applied by the stores (see above). */
  readonly keyPrefix: string
}

/** The config's `redis` section as a client config: DRIFTWATCH_REDIS_PASSWORD wins over its
 * `password`. Every command that talks to Redis builds its client from this. */
export function redisConnectionOf(
  section: RedisClientConfig,
  secrets: { readonly redisPassword?: string | undefined },
): RedisClientConfig {
  return { ...section, password: secrets.redisPassword ?? section.password }
}

export interface RedisClientOptions {
  /** How long to wait for the first connection before failing. Default 10 s. */
  readonly readyTimeoutMs?: number
  /** A connected server that stops answering for this long is dropped. Default 5 s. */
  readonly socketTimeoutMs?: number
  readonly connectTimeoutMs?: number
  /** Connection errors while running (translated and redacted). Default: ignored, since every
   * call that hits one fails with it anyway. ioredis prints unhandled ones to stderr otherwise. */
  readonly onError?: (error: DriftwatchError) => void
  /** CLIENT SETNAME, to spot our connections in CLIENT LIST. Default 'driftwatch'. */
  readonly connectionName?: string
}

interface ParsedUrl {
  readonly tls: boolean
  readonly username: string | undefined
  readonly password: string | undefined
  readonly nodes: readonly { host: string; port: number }[]
  readonly db: number
  /** the URL without credentials, for messages */
  readonly display: string
}

const DEFAULT_PORT = 6379

/** Parses a Redis URL, possibly with several comma-separated hosts. Never echoes credentials. */
export function parseRedisUrl(url: string): ParsedUrl {
  const bad = (detail: string): ConfigError => new ConfigError('redis.url', detail)
  const scheme = /^(rediss?):\/\//.exec(url)?.[1]
  if (scheme === undefined) throw bad('expected redis://host:port or rediss://host:port')
  const rest = url.slice(scheme.length + 3)
  const slash = rest.indexOf('/')
  const authority = slash === -1 ? rest : rest.slice(0, slash)
  const path = slash === -1 ? '' : rest.slice(slash + 1)
  const at = authority.lastIndexOf('@')
  const userInfo = at === -1 ? undefined : authority.slice(0, at)
  const hostList = at === -1 ? authority : authority.slice(at + 1)
  let username: string | undefined
  let password: string | undefined
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(':')
    const user = colon === -1 ? userInfo : userInfo.slice(0, colon)
    username = user === '' ? undefined : decodeURIComponent(user)
    password = colon === -1 ? undefined : decodeURIComponent(userInfo.slice(colon + 1))
  }
  const nodes = hostList.split(',').map((hostPort) => {
    let parsed: URL
    try {
      parsed = new URL(`redis://${hostPort}`)
    } catch {
      throw bad(`'${hostPort}' is not host:port`)
    }
    if (parsed.hostname === '') throw bad(`'${hostPort}' has no host`)
    // URL keeps the brackets of an IPv6 literal; net.connect wants it bare.
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
    return { host, port: parsed.port === '' ? DEFAULT_PORT : Number(parsed.port) }
  })
  const db = path === '' ? 0 : Number(path)
  if (!Number.isSafeInteger(db) || db < 0) throw bad(`'/${path}' is not a database number`)
  const display = `${scheme}://${hostList}${path === '' ? '' : `/${path}`}`
  return { tls: scheme === 'rediss', username, password, nodes, db, display }
}

function tlsOptions(config: RedisClientConfig, parsed: ParsedUrl): ConnectionOptions | undefined {
  if (!parsed.tls && config.tls === undefined) return undefined
  const options: ConnectionOptions = {}
  const ca = config.tls?.ca
  if (ca !== undefined) {
    if (ca.includes('-----BEGIN')) {
      options.ca = ca
    } else {
      try {
        options.ca = readFileSync(ca, 'utf8')
      } catch (error) {
        throw new ConfigError(
          'redis.tls.ca',
          `cannot read the CA bundle ${ca}: ${(error as Error).message}`,
        )
      }
    }
  }
  if (config.tls?.rejectUnauthorized !== undefined)
    options.rejectUnauthorized = config.tls.rejectUnauthorized
  return options
}

function backoff(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 5), 2_000)
}

function waitUntilReady(
  client: RedisClient,
  timeoutMs: number,
  describe: () => string,
  secret: string | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: DriftwatchError | undefined
    const finish = (error?: DriftwatchError): void => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('error', onError)
      if (error === undefined) {
        resolve()
        return
      }
      client.disconnect()
      reject(error)
    }
    const onReady = (): void => finish()
    const onError = (error: unknown): void => {
      lastError = translateRedisError(error, `connect to ${describe()}`, secret)
      // A refused password or ACL will be refused again: no point waiting out the timeout.
      if (!lastError.canRetry) finish(lastError)
    }
    const timer = setTimeout(() => {
      const reason = lastError === undefined ? '' : `; last error: ${lastError.message}`
      finish(
        new DriftwatchError(
          'REDIS_UNAVAILABLE',
          `redis: not ready after ${timeoutMs} ms at ${describe()}${reason}`,
          {
            canRetry: true,
            ...(lastError === undefined ? {} : { cause: lastError }),
          },
        ),
      )
    }, timeoutMs)
    client.on('ready', onReady)
    client.on('error', onError)
  })
}

/**
 * Connects to Redis (a single server or a cluster) and resolves once the client is ready, or
 * rejects with REDIS_UNAVAILABLE (canRetry) after `readyTimeoutMs`. The caller owns the client
 * and ends it with `quit()` (or `disconnect()`).
 */
export async function createRedisClient(
  config: RedisClientConfig,
  options: RedisClientOptions = {},
): Promise<RedisClient> {
  redisKeys(config.keyPrefix) // fail at start on a prefix that would break the hash tags
  const parsed = parseRedisUrl(config.url)
  const password = config.password ?? parsed.password
  const tls = tlsOptions(config, parsed)
  const connectTimeout = options.connectTimeoutMs ?? 5_000
  const socketTimeout = options.socketTimeoutMs ?? 5_000
  const connectionName = options.connectionName ?? 'driftwatch'
  const common = {
    connectTimeout,
    socketTimeout,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName,
    ...(password === undefined ? {} : { password }),
    ...(parsed.username === undefined ? {} : { username: parsed.username }),
    ...(tls === undefined ? {} : { tls }),
  } satisfies RedisOptions

  let client: RedisClient
  if (config.cluster === true) {
    if (parsed.db !== 0) throw new ConfigError('redis.url', 'a Redis Cluster has only database 0')
    client = new Cluster(
      parsed.nodes.map((node) => ({ host: node.host, port: node.port })),
      {
        enableOfflineQueue: false,
        clusterRetryStrategy: backoff,
        redisOptions: common,
        lazyConnect: true,
      },
    )
  } else {
    const [node, ...others] = parsed.nodes
    if (node === undefined || others.length > 0) {
      throw new ConfigError(
        'redis.url',
        'several hosts are only for a cluster (set redis.cluster: true)',
      )
    }
    client = new Redis({
      ...common,
      host: node.host,
      port: node.port,
      db: parsed.db,
      enableOfflineQueue: false,
      retryStrategy: backoff,
      lazyConnect: true,
    })
  }

  const onError = options.onError
  // Always listen: without a listener ioredis prints every reconnect failure to stderr, and the
  // raw error may carry the handshake's arguments.
  client.on('error', (error: unknown) =>
    onError?.(translateRedisError(error, `connection to ${parsed.display}`, password)),
  )
  const ready = waitUntilReady(
    client,
    options.readyTimeoutMs ?? 10_000,
    () => parsed.display,
    password,
  )
  // connect() rejects on the first failed attempt while ioredis keeps retrying; readiness is
  // decided by waitUntilReady alone.
  client.connect().catch(() => undefined)
  await ready
  return client
}
