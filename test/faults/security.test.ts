// Security end to end (issue "Prove it under faults", part 6), on real services started here:
//   - a Kafka broker with a SASL_SSL listener (SCRAM-SHA-512 over TLS, certificates made with
//     openssl, the user created at format time) beside its PLAINTEXT one, which the test's own
//     producer uses;
//   - a redis-server with `requirepass` and a TLS port (Debian's redis-server 7 is built with TLS);
//   - the detector in-process (startApp) against each, with right and wrong passwords;
//   - the built CLI (`bin/driftwatch.js run`) with every secret set, the admin route exercised,
//     failures provoked, and everything it printed or served searched for the secrets;
//   - `npm audit --omit=dev` through scripts/audit.sh.
// Secrets are random per run, so a hit can only come from this run.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { pino, type Logger } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import { startKafka, type LocalKafka } from '../../src/adapters/local-services/kafka.js'
import { startRedis, type LocalRedis } from '../../src/adapters/local-services/redis.js'
import { createRedisClient, type RedisClient } from '../../src/adapters/redis/client.js'
import { RedisLeaseStore } from '../../src/adapters/redis/lease-store.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { startApp, type App } from '../../src/app/service.js'
import type { Secrets } from '../../src/config/env.js'
import type { ServiceConfig } from '../../src/config/service.js'
import type { WindowReport } from '../../src/core/stream/evaluation.js'
import { binPath, runCli, type CliResult } from '../helpers/cli.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { storedCounts, waitFor } from '../helpers/redis-counts.js'
import { redisUrl } from '../helpers/services.js'
import {
  createTopics,
  produceAll,
  readTopic,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
  type StreamNames,
} from '../helpers/stream.js'

const hex = (): string => randomBytes(12).toString('hex')
const secret = {
  kafka: `kafka-pw-${hex()}`,
  redis: `redis-pw-${hex()}`,
  admin: `admin-token-${hex()}`,
}
const wrong = {
  kafka: `wrong-kafka-${hex()}`,
  redis: `wrong-redis-${hex()}`,
  admin: `wrong-admin-${hex()}`,
}
const everySecret = [...Object.values(secret), ...Object.values(wrong)]
const KAFKA_USER = 'driftwatch'

// 12,000 events 1 ms apart from T0 (two hours back, on a 10 s boundary): the window [T0, T0+10 s)
// is full (10,000 events) and closed (watermark past its end plus the 1 s lateness).
const events = 12_000
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000

const work = mkdtempSync(join(tmpdir(), 'driftwatch-security-'))
let certs: Certificates
let secureKafka: LocalKafka | undefined
let secureRedis: LocalRedis | undefined

interface Certificates {
  readonly ca: string
  readonly cert: string
  readonly key: string
  /** key + certificate in one PEM file, Kafka's `ssl.keystore.type=PEM` */
  readonly keystore: string
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, valid two days. */
function makeCertificates(dir: string): Certificates {
  const path = (name: string): string => join(dir, name)
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  }
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=driftwatch test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
    '-subj',
    '/CN=localhost',
  )
  writeFileSync(
    path('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n',
  )
  openssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path('server.pem'),
    '-days',
    '2',
    '-extfile',
    path('server.ext'),
  )
  // openssl 3 writes unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), which Kafka's PEM keystore reads.
  writeFileSync(
    path('keystore.pem'),
    readFileSync(path('server.key'), 'utf8') + readFileSync(path('server.pem'), 'utf8'),
  )
  return {
    ca: path('ca.pem'),
    cert: path('server.pem'),
    key: path('server.key'),
    keystore: path('keystore.pem'),
  }
}

function expectNoSecret(what: string, text: string): void {
  // The message names the kind of secret only, never the value.
  for (const [i, value] of everySecret.entries())
    expect(text.includes(value), `${what} contains secret #${i}`).toBe(false)
}

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  return {
    logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
    lines,
  }
}

/** The whole error as a person or a log would see it: message, stack, cause chain, own fields. */
function everythingOf(error: unknown): string {
  return `${String(error)}\n${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`
}

function secureKafkaOf(config: ServiceConfig): ServiceConfig {
  if (secureKafka?.saslSslBrokers === undefined) throw new Error('no SASL_SSL broker')
  return {
    ...config,
    kafka: {
      ...config.kafka,
      brokers: [secureKafka.saslSslBrokers],
      ssl: { ca: certs.ca, rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: KAFKA_USER },
    },
  }
}

function secureRedisOf(config: ServiceConfig, options: { ca?: boolean } = {}): ServiceConfig {
  if (secureRedis?.tlsUrl === undefined) throw new Error('no TLS Redis')
  return {
    ...config,
    redis: {
      ...config.redis,
      url: secureRedis.tlsUrl,
      tls:
        options.ca === false
          ? { rejectUnauthorized: true }
          : { ca: certs.ca, rejectUnauthorized: true },
    },
  }
}

/** The Kafka that holds the input topic: the secure broker's PLAINTEXT listener, or the run's. */
function plainKafkaOf(which: 'secure' | 'run'): Kafka {
  if (which === 'run') return testKafka()
  if (secureKafka === undefined) throw new Error('no secure broker')
  return new Kafka({
    clientId: `test-${hex().slice(0, 8)}`,
    brokers: [secureKafka.brokers],
    logLevel: logLevel.NOTHING,
  })
}

async function secureRedisClient(keyPrefix: string): Promise<RedisClient> {
  if (secureRedis?.tlsUrl === undefined) throw new Error('no TLS Redis')
  return createRedisClient({
    url: secureRedis.tlsUrl,
    password: secret.redis,
    tls: { ca: certs.ca },
    keyPrefix,
  })
}

async function produce(
  kafka: Kafka,
  topic: string,
  from: number,
  n: number,
  idPrefix: string,
): Promise<number> {
  const producer = kafka.producer()
  await producer.connect()
  try {
    return await produceAll(
      producer,
      topic,
      predictionEvents(n, from, 1, {
        model: 'fraud',
        seed: Math.floor(from / 1000) % 1_000_000,
        idPrefix,
      }),
    )
  } finally {
    await producer.disconnect()
  }
}

/** Waits until Redis holds `expected` rows over [from, to) and the window ending `windowEnd` is evaluated. */
async function waitForStream(
  client: RedisClient,
  keyPrefix: string,
  from: number,
  to: number,
  expected: number,
  windowEnd: number,
): Promise<{ rows: number; perFeature: Map<string, number>; countedAt: number }> {
  const sketches = new RedisSketchStore(client, keyPrefix)
  const leases = new RedisLeaseStore(client, keyPrefix)
  const counts = await waitFor(
    `${expected} events in Redis`,
    async () => {
      const c = await storedCounts(sketches, 'fraud', from, to, 1000)
      return c.rows === expected ? c : undefined
    },
    60_000,
  )
  const countedAt = performance.now()
  await waitFor(
    `window ${windowEnd - T0} evaluated`,
    async () =>
      (await leases.lastEvaluation('fraud'))?.windowEnd === windowEnd ? true : undefined,
    60_000,
  )
  return { ...counts, countedAt }
}

interface StreamRun {
  readonly produced: number
  readonly rows: number
  readonly perFeature: Map<string, number>
  readonly reports: WindowReport[]
  readonly logs: string[]
  /** ms from the start of the call: app started, events produced, all counted, window evaluated */
  readonly timings: { started: number; produced: number; counted: number; evaluated: number }
}

/** One small stream through an in-process detector. */
async function streamThrough(options: {
  names: StreamNames
  config: ServiceConfig
  secrets: Secrets
  kafka: Kafka
  redis: () => Promise<RedisClient>
}): Promise<StreamRun> {
  const { names, config, kafka } = options
  const { logger, lines } = capturingLogger()
  await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
  let app: App | undefined
  let client: RedisClient | undefined
  const t0 = performance.now()
  const at = (): number => Math.round(performance.now() - t0)
  try {
    app = await startApp(config, { secrets: options.secrets, fromBeginning: true, logger })
    const started = at()
    const produced = await produce(kafka, names.input, T0, events, names.id)
    const producedAt = at()
    client = await options.redis()
    const lastWindowEnd = T0 + 10_000
    const counts = await waitForStream(
      client,
      names.keyPrefix,
      T0,
      T0 + events,
      produced,
      lastWindowEnd,
    )
    const timings = {
      started,
      produced: producedAt,
      counted: counts.countedAt - t0,
      evaluated: at(),
    }
    const reports = (await readTopic(kafka, names.reports, (m) => m.length >= 1, 15_000)).map(
      (b) => JSON.parse(b.toString()) as WindowReport,
    )
    return {
      produced,
      rows: counts.rows,
      perFeature: counts.perFeature,
      reports,
      logs: lines,
      timings: { ...timings, counted: Math.round(timings.counted) },
    }
  } finally {
    await app?.stop()
    client?.disconnect()
  }
}

beforeAll(async () => {
  certs = makeCertificates(work)
  const log = (line: string): void => console.log(`[security] ${line}`)
  const [kafka, redis] = await Promise.allSettled([
    startKafka({
      log,
      saslSsl: {
        keystorePem: certs.keystore,
        scramUsers: [{ name: KAFKA_USER, password: secret.kafka }],
      },
    }),
    startRedis({
      log,
      password: secret.redis,
      tls: { certFile: certs.cert, keyFile: certs.key, caFile: certs.ca },
    }),
  ])
  if (kafka.status === 'fulfilled') secureKafka = kafka.value
  if (redis.status === 'fulfilled') secureRedis = redis.value
  if (kafka.status === 'rejected') throw kafka.reason
  if (redis.status === 'rejected') throw redis.reason
}, 150_000)

afterAll(async () => {
  await Promise.allSettled([secureKafka?.stop(), secureRedis?.stop()])
  rmSync(work, { recursive: true, force: true })
})

describe('Kafka SASL_SSL (SCRAM-SHA-512 over TLS)', () => {
  it('the detector consumes over SASL_SSL with DRIFTWATCH_KAFKA_PASSWORD and counts every event', async () => {
    const names = streamNames()
    const dir = mkdtempSync(join(work, 'kafka-'))
    const config = secureKafkaOf(streamConfig(names, await writeReference(dir, 5000, 1)))
    const run = await streamThrough({
      names,
      config,
      secrets: { kafkaPassword: secret.kafka },
      kafka: plainKafkaOf('secure'),
      redis: () => createRedisClient({ url: redisUrl(), keyPrefix: names.keyPrefix }),
    })
    console.log(
      `[security] SASL_SSL: ${run.produced} produced, ${run.rows} stored, ${run.reports.length} report(s); ms: ${JSON.stringify(run.timings)}`,
    )
    expect(run.produced).toBe(events)
    expect(run.rows).toBe(events)
    expect(run.perFeature.get('f00')).toBe(events)
    expect(run.reports.length).toBeGreaterThanOrEqual(1)
    expect(run.reports.every((r) => r.nCurrent === 10_000)).toBe(true)
    expectNoSecret('detector log', run.logs.join(''))
  }, 90_000)

  it('a wrong password fails at start with a clear error that does not contain it', async () => {
    const names = streamNames()
    const dir = mkdtempSync(join(work, 'kafka-wrong-'))
    const config = secureKafkaOf(streamConfig(names, await writeReference(dir, 1000, 2)))
    const { logger, lines } = capturingLogger()
    const started = performance.now()
    const error = await startApp(config, { secrets: { kafkaPassword: wrong.kafka }, logger }).then(
      async (app) => {
        await app.stop()
        return undefined
      },
      (e: unknown) => e,
    )
    const ms = Math.round(performance.now() - started)
    console.log(`[security] wrong Kafka password refused in ${ms} ms: ${String(error)}`)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/SASL SCRAM SHA512 authentication failed/)
    expect((error as Error).message).toMatch(/invalid credentials/)
    expect(ms).toBeLessThan(15_000)
    expectNoSecret('start error', everythingOf(error))
    expectNoSecret('detector log', lines.join(''))
  }, 30_000)

  it('no password at all is a config error before any connection', async () => {
    const names = streamNames()
    const dir = mkdtempSync(join(work, 'kafka-none-'))
    const config = secureKafkaOf(streamConfig(names, await writeReference(dir, 1000, 3)))
    await expect(
      startApp(config, { secrets: {}, logger: pino({ level: 'silent' }) }),
    ).rejects.toThrow(/kafka\.sasl: no password \(set DRIFTWATCH_KAFKA_PASSWORD\)/)
  }, 30_000)
})

describe('Redis AUTH (requirepass) over TLS', () => {
  it('the detector works over rediss:// with DRIFTWATCH_REDIS_PASSWORD and counts every event', async () => {
    const names = streamNames()
    const dir = mkdtempSync(join(work, 'redis-'))
    const config = secureRedisOf(streamConfig(names, await writeReference(dir, 5000, 4)))
    const run = await streamThrough({
      names,
      config,
      secrets: { redisPassword: secret.redis },
      kafka: plainKafkaOf('run'),
      redis: () => secureRedisClient(names.keyPrefix),
    })
    console.log(
      `[security] Redis AUTH+TLS: ${run.produced} produced, ${run.rows} stored, ${run.reports.length} report(s); ms: ${JSON.stringify(run.timings)}`,
    )
    expect(run.rows).toBe(events)
    expect(run.perFeature.get('country')).toBe(events)
    expect(run.reports.length).toBeGreaterThanOrEqual(1)
    expectNoSecret('detector log', run.logs.join(''))
    // Nothing of this stream reached the plain, password-less Redis of the run.
    const plain = await createRedisClient({ url: redisUrl(), keyPrefix: names.keyPrefix })
    try {
      expect(await plain.exists(`${names.keyPrefix}:{fraud}:checkpoints`)).toBe(0)
    } finally {
      plain.disconnect()
    }
  }, 90_000)

  it('a wrong or missing password fails at start, clearly, without echoing it', async () => {
    const names = streamNames()
    const dir = mkdtempSync(join(work, 'redis-wrong-'))
    const config = secureRedisOf(streamConfig(names, await writeReference(dir, 1000, 5)))
    for (const [label, secrets, expected] of [
      ['wrong', { redisPassword: wrong.redis }, /WRONGPASS/],
      ['missing', {}, /NOAUTH/],
    ] as const) {
      const { logger, lines } = capturingLogger()
      const started = performance.now()
      const error = await startApp(config, { secrets, logger }).then(
        async (app) => {
          await app.stop()
          return undefined
        },
        (e: unknown) => e,
      )
      const ms = Math.round(performance.now() - started)
      console.log(`[security] ${label} Redis password refused in ${ms} ms: ${String(error)}`)
      expect(error, label).toBeInstanceOf(Error)
      const message = (error as Error).message
      expect(message).toMatch(expected)
      expect(message).toContain('check the Redis password or ACL user')
      expect(message).toContain(secureRedis?.tlsUrl ?? '?')
      expect((error as { code?: string }).code).toBe('REDIS_ERROR')
      expect(ms).toBeLessThan(5_000)
      expectNoSecret(`${label}: start error`, everythingOf(error))
      expectNoSecret(`${label}: detector log`, lines.join(''))
    }
  }, 30_000)

  it('the server certificate is verified: without the CA the TLS connection is refused', async () => {
    const names = streamNames()
    const dir = mkdtempSync(join(work, 'redis-noca-'))
    const config = secureRedisOf(streamConfig(names, await writeReference(dir, 1000, 6)), {
      ca: false,
    })
    const started = Date.now()
    const error = await startApp(config, {
      secrets: { redisPassword: secret.redis },
      logger: pino({ level: 'silent' }),
    }).then(
      async (app) => {
        await app.stop()
        return undefined
      },
      (e: unknown) => e,
    )
    const ms = Date.now() - started
    console.log(`[security] Redis TLS without the CA, refused after ${ms} ms: ${String(error)}`)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/self[- ]signed certificate/i)
    expect((error as Error).message).toContain('set redis.tls.ca')
    // Not retried until the 10 s start timeout: an untrusted certificate stays untrusted.
    expect((error as Error).message).not.toMatch(/not ready after/)
    expectNoSecret('start error', everythingOf(error))
  }, 30_000)
})

// ---------------------------------------------------------------------------------------------
// The other commands build their clients with run's factories (docs/architecture.md, "Clients are
// built in one place"), so the same config secures them: `simulate --config` produces over
// SASL_SSL, `reference capture --store` reads it back over SASL_SSL and stores into AUTH+TLS Redis.

describe('simulate and reference capture over SASL_SSL Kafka and AUTH+TLS Redis', () => {
  const outputs: Array<{ what: string; text: string }> = []
  let names: StreamNames
  let configPath = ''
  // 2,000 events 10 ms apart in event time from `start`; the capture takes [start+5 s, start+15 s).
  // Near now: capture narrows its scan by record time (stamped now) ± 5 minutes (app/capture.ts).
  const start = Math.floor((Date.now() - 60_000) / 1000) * 1000
  const simulate = (password: string): Promise<CliResult> =>
    runCli(
      [
        'simulate',
        '--config',
        configPath,
        '--topic',
        names.input,
        '--partitions',
        '2',
        '--model',
        'fraud',
        '--scenario',
        'stable',
        '--count',
        '2000',
        '--rate',
        '0',
        '--event-time-step-ms',
        '10',
        '--start-time',
        String(start),
        '--id-prefix',
        names.id,
      ],
      { env: { DRIFTWATCH_KAFKA_PASSWORD: password }, timeoutMs: 60_000 },
    )

  beforeAll(() => {
    if (secureKafka?.saslSslBrokers === undefined || secureRedis?.tlsUrl === undefined)
      throw new Error('secure services missing')
    names = streamNames()
    configPath = join(mkdtempSync(join(work, 'commands-')), 'driftwatch.yaml')
    const config = {
      kafka: {
        brokers: [secureKafka.saslSslBrokers],
        ssl: { ca: certs.ca },
        sasl: { mechanism: 'scram-sha-512', username: KAFKA_USER },
        topics: { predictions: [names.input] },
      },
      redis: { url: secureRedis.tlsUrl, keyPrefix: names.keyPrefix, tls: { ca: certs.ca } },
      models: [{ name: 'fraud' }],
    }
    writeFileSync(configPath, JSON.stringify(config, null, 2))
  })

  it('simulate --config produces over SASL_SSL with DRIFTWATCH_KAFKA_PASSWORD', async () => {
    const result = await simulate(secret.kafka)
    outputs.push({ what: 'simulate', text: result.stdout + result.stderr })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/simulate: 2000 events to /)
  }, 70_000)

  it('reference capture --store reads them over SASL_SSL and stores the snapshot over AUTH+TLS', async () => {
    const result = await runCli(
      [
        'reference',
        'capture',
        '--config',
        configPath,
        '--model',
        'fraud',
        '--from',
        String(start + 5_000),
        '--to',
        String(start + 15_000),
        '--store',
      ],
      {
        env: { DRIFTWATCH_KAFKA_PASSWORD: secret.kafka, DRIFTWATCH_REDIS_PASSWORD: secret.redis },
        timeoutMs: 60_000,
      },
    )
    outputs.push({ what: 'reference capture', text: result.stdout + result.stderr })
    expect(result.code, result.stderr).toBe(0)
    // Every event simulate wrote was read; the 1,000 inside the range were kept.
    const captured =
      /captured reference (\S+): 1000 events of fraud \(2000 read, 0 invalid\), stored in Redis/.exec(
        result.stderr,
      )
    expect(captured, result.stderr).not.toBeNull()
    const client = await secureRedisClient(names.keyPrefix)
    try {
      expect(await client.get(`${names.keyPrefix}:{fraud}:reference`)).toBe(captured?.[1])
    } finally {
      client.disconnect()
    }
  }, 70_000)

  it('a wrong Kafka password: simulate exits 2 with the broker refusal, not the password', async () => {
    const result = await simulate(wrong.kafka)
    outputs.push({ what: 'simulate, wrong password', text: result.stdout + result.stderr })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /driftwatch: error: cannot reach Kafka at .*SASL SCRAM SHA512 authentication failed/,
    )
  }, 70_000)

  it('no secret in what the commands printed', () => {
    expect(outputs.map((o) => o.what)).toEqual([
      'simulate',
      'reference capture',
      'simulate, wrong password',
    ])
    for (const { what, text } of outputs) expectNoSecret(what, text)
  })
})

// ---------------------------------------------------------------------------------------------
// The built CLI with every secret set: SASL_SSL Kafka, AUTH+TLS Redis, admin token from a file.

interface CliRun {
  readonly child: ChildProcess
  output(): string
  readonly exited: Promise<number | null>
}

const children = new Set<ChildProcess>()

function startCli(configPath: string, env: Record<string, string>): CliRun {
  const child = spawn(
    process.execPath,
    [binPath, 'run', '--config', configPath, '--from-beginning'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.add(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      children.delete(child)
      resolve(code)
    })
  })
  return { child, output: () => output, exited }
}

async function exitWithin(run: CliRun, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), ms)),
  )
  const result = await Promise.race([run.exited, timeout]).finally(() => clearTimeout(timer))
  if (result === 'timeout') {
    run.child.kill('SIGKILL')
    throw new Error(
      `driftwatch did not exit within ${ms} ms; output:\n${run.output().slice(-4000)}`,
    )
  }
  return result
}

describe('driftwatch run with every secret set', () => {
  const seen: Array<{ what: string; text: string }> = []
  let base = ''
  let run: CliRun | undefined
  let configPath = ''
  let names: StreamNames
  let client: RedisClient | undefined
  let newReference = ''
  let newReferenceId = ''
  let maxBodyBytes = 0
  const env = (): Record<string, string> => ({
    DRIFTWATCH_KAFKA_PASSWORD: secret.kafka,
    DRIFTWATCH_REDIS_PASSWORD: secret.redis,
    DRIFTWATCH_ADMIN_TOKEN_FILE: join(work, 'admin-token'),
  })
  const http = async (
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; text: string }> => {
    const response = await fetch(new URL(path, base), init)
    const text = await response.text()
    seen.push({ what: `${init?.method ?? 'GET'} ${path} (${response.status})`, text })
    return { status: response.status, text }
  }
  const put = (body: string, token?: string): Promise<{ status: number; text: string }> =>
    http('/admin/models/fraud/reference', {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body,
    })

  beforeAll(async () => {
    if (secureKafka?.saslSslBrokers === undefined || secureRedis?.tlsUrl === undefined)
      throw new Error('secure services missing')
    names = streamNames()
    const refDir = mkdtempSync(join(work, 'cli-ref-'))
    const newDir = mkdtempSync(join(work, 'cli-new-'))
    const referenceFile = await writeReference(refDir, 5000, 7)
    newReference = readFileSync(await writeReference(newDir, 5000, 8), 'utf8')
    newReferenceId = (JSON.parse(newReference) as { id: string }).id
    maxBodyBytes = Buffer.byteLength(newReference) + 4096
    writeFileSync(join(work, 'admin-token'), `${secret.admin}\n`, { mode: 0o600 })
    const port = await freePort()
    base = `http://127.0.0.1:${port}/`
    const config = {
      kafka: {
        brokers: [secureKafka.saslSslBrokers],
        groupId: names.groupId,
        ssl: { ca: certs.ca },
        sasl: { mechanism: 'scram-sha-512', username: KAFKA_USER },
        topics: {
          predictions: [names.input],
          deadLetter: names.deadLetter,
          reports: names.reports,
          alerts: names.alerts,
          retrain: names.retrain,
        },
      },
      redis: { url: secureRedis.tlsUrl, keyPrefix: names.keyPrefix, tls: { ca: certs.ca } },
      http: { port, maxBodyBytes },
      flushInterval: '250ms',
      evaluateInterval: '250ms',
      // Everything the service can say, to give a leak every chance to show.
      logLevel: 'debug',
      models: [
        {
          name: 'fraud',
          reference: { file: referenceFile },
          window: { bucket: '1s', size: '10s', hop: '10s', allowedLateness: '1s', retention: '1h' },
        },
      ],
    }
    configPath = join(work, 'driftwatch.yaml')
    writeFileSync(configPath, JSON.stringify(config, null, 2))
    await createTopics(plainKafkaOf('secure'), [{ topic: names.input, numPartitions: 3 }])
    client = await secureRedisClient(names.keyPrefix)

    run = startCli(configPath, env())
    const current = run
    await waitFor(
      'driftwatch run ready',
      async () => {
        if (current.child.exitCode !== null)
          throw new Error(`driftwatch exited with ${current.child.exitCode}:\n${current.output()}`)
        const response = await fetch(new URL('/readyz', base)).catch(() => undefined)
        return response?.status === 200 ? true : undefined
      },
      60_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\n--- driftwatch output ---\n${current.output().slice(-4000)}`,
      )
    })
    const produced = await produce(plainKafkaOf('secure'), names.input, T0, events, `${names.id}-a`)
    await waitForStream(client, names.keyPrefix, T0, T0 + events, produced, T0 + 10_000)
  }, 120_000)

  afterAll(() => {
    client?.disconnect()
    // Only if a test failed before its process exited.
    for (const child of children) child.kill('SIGKILL')
  })

  it('PUT /admin/models/fraud/reference: 401 without a token and with a wrong one', async () => {
    const body = newReference
    const none = await put(body)
    expect(none.status).toBe(401)
    expect(JSON.parse(none.text)).toMatchObject({ error: { code: 'UNAUTHORIZED' } })
    const bad = await put(body, wrong.admin)
    expect(bad.status).toBe(401)
    expect(JSON.parse(bad.text)).toMatchObject({
      error: { code: 'UNAUTHORIZED', message: 'the bearer token is not valid' },
    })
  })

  it('413 for a body over http.maxBodyBytes, even with the right token', async () => {
    const tooLarge = await put(
      `${newReference}${' '.repeat(maxBodyBytes - Buffer.byteLength(newReference) + 1)}`,
      secret.admin,
    )
    expect(tooLarge.status).toBe(413)
    expect(JSON.parse(tooLarge.text)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
    // the service still answers
    expect((await http('/healthz')).status).toBe(200)
  })

  it('200 with the right token and a valid snapshot; the new reference is in force at once', async () => {
    const accepted = await put(newReference, secret.admin)
    expect(accepted.status).toBe(200)
    expect(JSON.parse(accepted.text)).toEqual({ model: 'fraud', id: newReferenceId })
    const metrics = await http('/metrics')
    expect(metrics.text).toContain(
      `driftwatch_reference_info{model="fraud",version="",reference_id="${newReferenceId}"} 1`,
    )
    const ready = await http('/readyz')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.text)).toMatchObject({
      ready: true,
      checks: { 'reference:fraud': { ok: true } },
    })
    // stored as the model's current reference, for the other instances
    expect(await client?.get(`${names.keyPrefix}:{fraud}:reference`)).toBe(newReferenceId)
  })

  it('the next windows are evaluated against the new reference and /api serves its id', async () => {
    if (client === undefined) throw new Error('no client')
    // Phase B from T0+20 s: the window [T0+20 s, T0+30 s) holds only events of the new reference.
    const produced = await produce(
      plainKafkaOf('secure'),
      names.input,
      T0 + 20_000,
      events,
      `${names.id}-b`,
    )
    const counts = await waitForStream(
      client,
      names.keyPrefix,
      T0,
      T0 + 20_000 + events,
      events + produced,
      T0 + 30_000,
    )
    expect(counts.rows).toBe(2 * events)
    const status = JSON.parse((await http('/api/models/fraud/status')).text) as {
      referenceId: string
      window: { endMs: number }
    }
    expect(status.referenceId).toBe(newReferenceId)
    expect(status.window.endMs).toBe(T0 + 30_000)
    const report = JSON.parse((await http('/api/models/fraud/report')).text) as WindowReport
    expect(report.referenceId).toBe(newReferenceId)
    expect(report.nCurrent).toBe(10_000)
    const lastEnd = new Date(T0 + 30_000).toISOString()
    const reports = (
      await readTopic(
        plainKafkaOf('secure'),
        names.reports,
        (m) => m.some((b) => (JSON.parse(b.toString()) as WindowReport).window.end === lastEnd),
        15_000,
      )
    ).map((b) => JSON.parse(b.toString()) as WindowReport)
    expect(
      reports.find((r) => r.window.end === new Date(T0 + 10_000).toISOString())?.referenceId,
    ).not.toBe(newReferenceId)
    expect(reports.find((r) => r.window.end === lastEnd)?.referenceId).toBe(newReferenceId)
    for (const path of [
      '/api/models',
      '/api/models/fraud/features/f01/distribution',
      '/readyz',
      '/healthz',
      '/metrics',
      '/',
    ]) {
      expect((await http(path)).status, path).toBe(200)
    }
  }, 90_000)

  it('stops cleanly on SIGTERM', async () => {
    if (run === undefined) throw new Error('not running')
    run.child.kill('SIGTERM')
    expect(await exitWithin(run, 30_000)).toBe(0)
    seen.push({ what: 'driftwatch run output', text: run.output() })
  }, 40_000)

  it('a second start with a wrong Redis password exits 2 with a clear message', async () => {
    const second = startCli(configPath, { ...env(), DRIFTWATCH_REDIS_PASSWORD: wrong.redis })
    const code = await exitWithin(second, 30_000)
    const output = second.output()
    seen.push({ what: 'driftwatch run output, wrong Redis password', text: output })
    expect(code).toBe(2)
    expect(output).toMatch(
      /driftwatch: error: redis: connect to rediss:\/\/127\.0\.0\.1:\d+: WRONGPASS .*\(check the Redis password or ACL user\)/,
    )
  }, 40_000)

  it('a start with a wrong Kafka password exits 2 with a clear message', async () => {
    const third = startCli(configPath, { ...env(), DRIFTWATCH_KAFKA_PASSWORD: wrong.kafka })
    const code = await exitWithin(third, 30_000)
    const output = third.output()
    seen.push({ what: 'driftwatch run output, wrong Kafka password', text: output })
    expect(code).toBe(2)
    expect(output).toMatch(/driftwatch: error: .*SASL SCRAM SHA512 authentication failed/)
  }, 40_000)

  it('no secret in any output, error, /metrics or /api answer', () => {
    const whats = seen.map((s) => s.what)
    expect(whats).toContain('driftwatch run output')
    expect(whats.some((w) => w.startsWith('GET /metrics'))).toBe(true)
    expect(whats.some((w) => w.startsWith('PUT /admin/models/fraud/reference (401)'))).toBe(true)
    const total = seen.reduce((n, s) => n + s.text.length, 0)
    console.log(
      `[security] searched ${seen.length} captures, ${total} characters, for ${everySecret.length} secrets`,
    )
    expect(total).toBeGreaterThan(10_000)
    for (const { what, text } of seen) expectNoSecret(what, text)
  })
})

describe('npm audit --omit=dev', () => {
  it('no high or critical advisory in the production dependencies (scripts/audit.sh)', (context) => {
    let stdout = ''
    let code = 0
    try {
      stdout = execFileSync('bash', ['scripts/audit.sh'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      })
    } catch (error: unknown) {
      const failed = error as { status?: number | null; stdout?: string; stderr?: string }
      code = failed.status ?? -1
      stdout = `${failed.stdout ?? ''}${failed.stderr ?? ''}`
    }
    console.log(`[security] scripts/audit.sh exited ${code}:\n${stdout}`)
    if (code === 3) {
      // The advisory endpoint did not answer: NOT a pass. Reported as skipped, with the reason;
      // RELIABILITY.md records the gap and CI runs scripts/audit.sh where the registry answers.
      context.skip(
        `npm audit could not run here (advisory endpoint unreachable): ${stdout.trim().split('\n').at(-1) ?? ''}`,
      )
      return
    }
    expect(code, stdout).toBe(0)
  }, 150_000)
})
