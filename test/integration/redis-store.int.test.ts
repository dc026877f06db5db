import { readdirSync, readFileSync } from 'node:fs'
import { createServer, Socket, type Server } from 'node:net'
import { inspect } from 'node:util'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import { startRedis, type LocalRedis } from '../../src/adapters/local-services/redis.js'
import {
  createRedisClient,
  parseRedisUrl,
  type RedisClient,
} from '../../src/adapters/redis/client.js'
import { redisKeys } from '../../src/adapters/redis/keys.js'
import { RedisLeaseStore } from '../../src/adapters/redis/lease-store.js'
import { RedisReferenceStore } from '../../src/adapters/redis/reference-store.js'
import { scriptCodes } from '../../src/adapters/redis/script-codes.js'
import { RedisSketchStore } from '../../src/adapters/redis/sketch-store.js'
import { DriftwatchError } from '../../src/errors.js'
import {
  describeLeaseStoreContract,
  describeReferenceStoreContract,
  describeSketchStoreContract,
} from '../contract/sketch-store.contract.js'
import { deletePrefix, redisHarnesses, testPrefix } from '../helpers/redis-stores.js'
import { redisUrl } from '../helpers/services.js'

const SECRET = 'hunter2-do-not-print'

let shared: RedisClient | undefined
const client = (): RedisClient => {
  if (shared === undefined) throw new Error('no Redis client yet')
  return shared
}

beforeAll(async () => {
  shared = await createRedisClient({ url: redisUrl(), keyPrefix: 'dw' })
})

afterAll(async () => {
  await shared?.quit()
})

const harnesses = redisHarnesses(client)
describeSketchStoreContract('redis', harnesses.sketches)
describeLeaseStoreContract('redis', harnesses.leases)
describeReferenceStoreContract('redis', harnesses.references)

async function rejection(work: Promise<unknown>): Promise<DriftwatchError> {
  const error: unknown = await work.then(
    () => undefined,
    (rejected: unknown) => rejected,
  )
  expect(error).toBeInstanceOf(DriftwatchError)
  return error as DriftwatchError
}

/** Rejects if `work` takes longer than `ms`: the calls under test must fail, not hang. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not true after ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('redis key layout', () => {
  let prefix = ''
  afterEach(async () => {
    await deletePrefix(client(), prefix)
  })

  it('keeps every key of a model under <prefix>:{model}:…', async () => {
    prefix = testPrefix()
    const ref = { topic: 'predictions', partition: 3 }
    await new RedisSketchStore(client(), prefix).applyFlush({
      model: 'fraud',
      partitions: [{ ref, expected: null, next: { nextOffset: '12', watermark: 1_000, late: 0 } }],
      buckets: [{ bucketStart: 60_000, ref, blob: 'b' }],
      retentionMs: 60_000,
    })
    const leases = new RedisLeaseStore(client(), prefix)
    const token = (await leases.acquire('fraud', 'me', 60_000)) ?? 0
    await leases.commitEvaluation('fraud', token, 120_000, 'state')
    await new RedisReferenceStore(client(), prefix).put('fraud', '{}', 'ref-1')

    const keys = (await client().keys(`${prefix}:*`)).sort()
    expect(keys).toEqual(
      [
        'bucket:60000',
        'checkpoints',
        'evaluation',
        'lease',
        'lease:token',
        'reference',
        'reference:ref-1',
      ].map((suffix) => `${prefix}:{fraud}:${suffix}`),
    )
    expect(await client().hgetall(`${prefix}:{fraud}:checkpoints`)).toEqual({
      'predictions:3': '{"nextOffset":"12","watermark":1000,"late":0}',
    })
    expect(await client().hgetall(`${prefix}:{fraud}:evaluation`)).toEqual({
      windowEnd: '120000',
      state: 'state',
    })
  })

  it('refuses a prefix or a model that would break the hash tag', () => {
    expect(() => redisKeys('dw{x}')).toThrow(DriftwatchError)
    expect(() => redisKeys('dw').checkpoints('a}b')).toThrow(/cannot be used in a Redis key/)
    expect(() => redisKeys('dw').checkpoints('')).toThrow(DriftwatchError)
  })

  it('writes nothing, and says REDIS_ERROR, when a key of the flush holds another type', async () => {
    prefix = testPrefix()
    const keys = redisKeys(prefix)
    await client().set(keys.bucket('fraud', 120_000), 'not a hash')
    const ref = { topic: 'predictions', partition: 0 }
    const error = await rejection(
      new RedisSketchStore(client(), prefix).applyFlush({
        model: 'fraud',
        partitions: [{ ref, expected: null, next: { nextOffset: '1', watermark: 1, late: 0 } }],
        buckets: [
          { bucketStart: 60_000, ref, blob: 'a' },
          { bucketStart: 120_000, ref, blob: 'b' },
        ],
        retentionMs: 60_000,
      }),
    )
    expect(error.code).toBe('REDIS_ERROR')
    expect(error.canRetry).toBe(false)
    expect(await client().exists(keys.bucket('fraud', 60_000), keys.checkpoints('fraud'))).toBe(0)
  })
})

describe('lua scripts', () => {
  const luaDir = new URL('../../src/adapters/redis/lua/', import.meta.url)
  const files = readdirSync(luaDir).filter((file) => file.endsWith('.lua'))

  it.each(files)('%s has a header and returns only codes from the table', (file) => {
    const lua = readFileSync(new URL(file, luaDir), 'utf8')
    expect(lua.startsWith('--[[')).toBe(true)
    const header = lua.slice(0, lua.indexOf(']]'))
    expect(header).toMatch(/Input:[\s\S]*KEYS\[1\][\s\S]*Output:/)
    const known = new Set<number>(scriptCodes.map((entry) => entry.code))
    const returned = [...lua.matchAll(/return\s*\{?\s*(-\d+)/g)].map((match) => Number(match[1]))
    for (const code of returned) {
      expect(known.has(code), `${file} returns ${code}, not in script-codes.ts`).toBe(true)
      expect(header, `${file}'s header does not document ${code}`).toContain(String(code))
    }
  })
})

interface Proxy {
  readonly port: number
  /** closes the listener and every connection: connection refused from now on */
  down(): Promise<void>
  /** listens again on the same port */
  up(): Promise<void>
  /** keeps connections open but forwards nothing: a server that stopped answering */
  freeze(frozen: boolean): void
  close(): Promise<void>
}

/** A TCP proxy in front of Redis, to take it away and bring it back without touching it. */
async function startProxy(targetPort: number): Promise<Proxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  let frozen = false
  let server: Server | undefined
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = createServer((downstream) => {
        const upstream = new Socket()
        upstream.connect(targetPort, '127.0.0.1')
        for (const socket of [downstream, upstream]) {
          sockets.add(socket)
          socket.on('error', () => undefined)
          socket.on('close', () => {
            sockets.delete(socket)
            downstream.destroy()
            upstream.destroy()
          })
        }
        downstream.on('data', (chunk) => frozen || upstream.write(chunk))
        upstream.on('data', (chunk) => frozen || downstream.write(chunk))
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
  const down = async (): Promise<void> => {
    const closing = new Promise<void>((resolve) =>
      server === undefined ? resolve() : server.close(() => resolve()),
    )
    for (const socket of sockets) socket.destroy()
    await closing
    server = undefined
  }
  await listen()
  return { port, down, up: listen, freeze: (value) => (frozen = value), close: down }
}

describe('redis failure modes', () => {
  let own: LocalRedis | undefined
  let proxy: Proxy | undefined
  let viaProxy: RedisClient | undefined
  const errors: DriftwatchError[] = []

  beforeAll(async () => {
    own = await startRedis()
    proxy = await startProxy(own.port)
    viaProxy = await createRedisClient(
      { url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: 'dw' },
      { socketTimeoutMs: 500, connectTimeoutMs: 500, onError: (error) => errors.push(error) },
    )
  })

  afterAll(async () => {
    viaProxy?.disconnect()
    await proxy?.close()
    await own?.stop()
  })

  it('fails fast with REDIS_UNAVAILABLE while Redis is away, and works again once it is back', async () => {
    const store = new RedisSketchStore(viaProxy as RedisClient, testPrefix())
    const ref = { topic: 't', partition: 0 }
    const first = { ref, expected: null, next: { nextOffset: '5', watermark: 1, late: 0 } }
    expect(
      await store.applyFlush({ model: 'm', partitions: [first], buckets: [], retentionMs: 60_000 }),
    ).toEqual({
      status: 'applied',
    })

    await proxy?.down()
    for (let i = 0; i < 3; i++) {
      const error = await rejection(within(3_000, store.loadCheckpoints('m', [ref])))
      expect(error.code).toBe('REDIS_UNAVAILABLE')
      expect(error.canRetry).toBe(true)
    }
    const during = await rejection(
      within(
        3_000,
        store.applyFlush({
          model: 'm',
          partitions: [{ ref, expected: '5', next: { nextOffset: '9', watermark: 2, late: 0 } }],
          buckets: [],
          retentionMs: 60_000,
        }),
      ),
    )
    expect(during.code).toBe('REDIS_UNAVAILABLE')

    // The reconnect attempts fail too, and are reported (translated) to onError.
    await eventually(() => Promise.resolve(errors.length > 0), 5_000)
    expect(errors.every((error) => error.code === 'REDIS_UNAVAILABLE' && error.canRetry)).toBe(true)

    await proxy?.up()
    await eventually(
      async () => (await store.loadCheckpoints('m', [ref])).get('t:0')?.nextOffset === '5',
      10_000,
    )
  })

  it('fails a call to a server that stopped answering after the socket timeout, then recovers', async () => {
    const store = new RedisLeaseStore(viaProxy as RedisClient, testPrefix())
    await eventually(async () => (await store.lastEvaluation('m')) === null, 10_000)
    proxy?.freeze(true)
    const error = await rejection(within(5_000, store.acquire('m', 'me', 10_000)))
    expect(error.code).toBe('REDIS_UNAVAILABLE')
    expect(error.canRetry).toBe(true)
    proxy?.freeze(false)
    await eventually(async () => (await store.acquire('m', 'me', 10_000)) !== null, 10_000)
  })

  it('gives up connecting after the ready timeout, naming the nodes but not the password', async () => {
    const port = await freePort() // nothing listens there
    const error = await rejection(
      within(
        5_000,
        createRedisClient(
          { url: `redis://user:${SECRET}@127.0.0.1:${port}`, password: SECRET, keyPrefix: 'dw' },
          { readyTimeoutMs: 500 },
        ),
      ),
    )
    expect(error.code).toBe('REDIS_UNAVAILABLE')
    expect(error.canRetry).toBe(true)
    expect(error.message).toContain(`127.0.0.1:${port}`)
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET)
  })

  it('stops at once on a refused password, without printing it', async () => {
    const admin = (await createRedisClient({ url: own?.url ?? '', keyPrefix: 'dw' })) as Redis
    try {
      await admin.config('SET', 'requirepass', 'the-right-one')
      const seen: DriftwatchError[] = []
      const error = await rejection(
        within(
          5_000,
          createRedisClient(
            { url: own?.url ?? '', password: SECRET, keyPrefix: 'dw' },
            { readyTimeoutMs: 4_000, onError: (e) => seen.push(e) },
          ),
        ),
      )
      expect(error.code).toBe('REDIS_ERROR')
      expect(error.canRetry).toBe(false)
      expect(error.message).toMatch(/WRONGPASS|NOAUTH/)
      expect(inspect(error, { depth: 10 })).not.toContain(SECRET)
      expect(inspect(seen, { depth: 10 })).not.toContain(SECRET)

      const ok = await createRedisClient({
        url: own?.url ?? '',
        password: 'the-right-one',
        keyPrefix: 'dw',
      })
      expect(await ok.ping()).toBe('PONG')
      await ok.quit()
    } finally {
      await admin.config('SET', 'requirepass', '')
      admin.disconnect()
    }
  })

  it('parses URLs with credentials, several hosts, IPv6 and a database, and never shows credentials', () => {
    const parsed = parseRedisUrl(
      `rediss://alice:${encodeURIComponent('p@ss:w/rd')}@10.0.0.1:7000,[::1]:7001/2`,
    )
    expect(parsed).toMatchObject({
      tls: true,
      username: 'alice',
      password: 'p@ss:w/rd',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      db: 2,
      display: 'rediss://10.0.0.1:7000,[::1]:7001/2',
    })
    expect(parseRedisUrl('redis://localhost').nodes).toEqual([{ host: 'localhost', port: 6379 }])
    expect(() => parseRedisUrl(`http://x:${SECRET}@h`)).toThrow(/redis\.url/)
    expect(() => parseRedisUrl(`http://x:${SECRET}@h`)).not.toThrow(SECRET)
  })
})
