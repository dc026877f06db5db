// The HTTP face of the service on node:http: Prometheus' /metrics, the orchestrator's probes,
// a read-only JSON API and the on-call pages, and one admin route behind a bearer token. It only
// renders what StatusSource gives and forwards what AdminActions takes; it holds no state.
//
// Routes:
//   GET  /                                              on-call page (self-contained HTML)
//   GET  /models/:model/features/:feature[?version=v]   a feature's reference-vs-current page
//   GET  /favicon.ico                                   204, so the pages load without a 404
//   GET  /metrics                                       Prometheus text format
//   GET  /healthz                                       200 {live} | 503
//   GET  /readyz                                        200 | 503 {ready, checks}
//   GET  /api/models                                    {models: ModelSummary[]}
//   GET  /api/models/:model/status                      ModelStatus | 404
//   GET  /api/models/:model/report                      latest published report | 404
//   GET  /api/models/:model/diagnosis                   {model, versions: VersionDiagnosis[]} | 404
//   GET  /api/models/:model/features/:feature/distribution   FeatureDistribution | 404
//   PUT  /admin/models/:model/reference                 {id}; bearer token; 404 without a token
// GET routes answer HEAD too. Errors are JSON {error: {code, message}} with a DriftwatchError
// code; other errors become 500 INTERNAL and their message goes to the log only.

import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { DriftwatchError, errorMessage, type ErrorCode } from '../../errors.js'
import type { AdminActions, StatusSource, WindowBounds } from '../../ports/status.js'
import { dashboardCsp, renderFeaturePage, renderOnCallPage } from './dashboard.js'

/** What /metrics needs of a prom-client Registry. */
export interface MetricsRegistry {
  readonly contentType: string
  metrics(): Promise<string>
}

export interface HttpServerOptions {
  readonly host: string
  /** 0 picks a free port; `url` tells which. */
  readonly port: number
  /** Admin routes answer 404 without one. */
  readonly adminToken?: string | undefined
  readonly maxBodyBytes: number
  readonly registry: MetricsRegistry
  readonly status: StatusSource
  readonly admin: AdminActions
  readonly logger?: Logger | undefined
}

export interface HttpServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:9464/`. */
  readonly url: string
  /** Stops accepting, lets requests in flight finish (at most `closeGraceMs`), then resolves. */
  close(): Promise<void>
}

const closeGraceMs = 5_000

const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  REFERENCE_INVALID: 400,
  CONFIG_INVALID: 400,
  UNKNOWN_COLUMN: 400,
  UNKNOWN_DRIFT_TEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  KAFKA_UNAVAILABLE: 503,
  REDIS_UNAVAILABLE: 503,
}

const commonHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const

type Method = 'GET' | 'PUT'

interface Route {
  readonly method: Method
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void
}

class HttpError extends DriftwatchError {
  readonly headers: Readonly<Record<string, string>>
  constructor(code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(code, message)
    this.name = 'HttpError'
    this.headers = headers
  }
}

const sha256 = (text: string | Buffer): Buffer => createHash('sha256').update(text).digest()

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const bytes = Buffer.from(body, 'utf8')
  res.writeHead(status, {
    ...commonHeaders,
    ...headers,
    'content-type': contentType,
    'content-length': String(bytes.length),
  })
  res.end(bytes)
}

function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  // Plain JSON.stringify, as `driftwatch check --format json`: ±Infinity bin edges become null.
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers)
}

function windowJson(window: WindowBounds | null): unknown {
  if (window === null) return null
  return {
    start: new Date(window.startMs).toISOString(),
    end: new Date(window.endMs).toISOString(),
    startMs: window.startMs,
    endMs: window.endMs,
  }
}

/**
 * Reads at most `limit` bytes of body. A declared Content-Length over the limit is refused
 * before reading anything; a body that grows past it (chunked) is refused at the first byte
 * over, without keeping more than `limit` bytes.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError('PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`)
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge())

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        chunks.length = 0
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(new HttpError('BAD_REQUEST', `request body could not be read: ${error.message}`))
    }
    const onClose = (): void => {
      cleanup()
      reject(new HttpError('BAD_REQUEST', 'request closed before its body ended'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError('BAD_REQUEST', 'request body is empty; expected JSON')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new HttpError('BAD_REQUEST', 'request body is not valid UTF-8')
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    // V8's message quotes the input, which is not ours to echo back (or to log).
    throw new HttpError('BAD_REQUEST', 'request body is not valid JSON')
  }
}

/** Path segments, percent-decoded one by one (so `%2F` stays inside a model name). */
function segmentsOf(url: string): string[] {
  // Split by hand rather than `new URL(url, base)`, which would read `//host/metrics` as a
  // host and drop `..` segments; the absolute form (`GET http://host/path`) is parsed.
  let target = url
  if (!target.startsWith('/')) {
    try {
      target = new URL(target).pathname
    } catch {
      throw new HttpError('BAD_REQUEST', 'malformed request target')
    }
  }
  const pathname = target.split(/[?#]/, 1)[0] ?? '/'
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname
  if (trimmed === '/') return []
  return trimmed
    .slice(1)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment)
      } catch {
        throw new HttpError('BAD_REQUEST', 'malformed percent-encoding in the path')
      }
    })
}

/** The `version` query parameter of a feature page ('' for a model without versions). */
function versionOf(url: string): string | null {
  const query = url.indexOf('?')
  if (query < 0) return null
  return new URLSearchParams(url.slice(query + 1).split('#', 1)[0]).get('version')
}

export function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { status, admin, registry, logger, maxBodyBytes } = options
  const tokenDigest = options.adminToken === undefined ? null : sha256(options.adminToken)

  // Both sides are hashed first so the comparison takes the same time whatever the presented
  // token's length, and timingSafeEqual gets equal-length inputs.
  function requireToken(req: IncomingMessage): void {
    const challenge = { 'www-authenticate': 'Bearer realm="driftwatch"' }
    const header = req.headers.authorization
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
    const presented = match?.[1]
    if (presented === undefined) {
      throw new HttpError(
        'UNAUTHORIZED',
        'admin routes need an Authorization: Bearer token',
        challenge,
      )
    }
    if (tokenDigest === null || !timingSafeEqual(sha256(presented), tokenDigest)) {
      throw new HttpError('UNAUTHORIZED', 'the bearer token is not valid', challenge)
    }
  }

  const get = (handle: Route['handle']): Route => ({ method: 'GET', handle })

  function match(segments: readonly string[]): Route[] | null {
    const [a, b, c, d, e, f] = segments
    const n = segments.length
    const pageHeaders = {
      'content-security-policy': dashboardCsp,
      'x-frame-options': 'DENY',
    }
    if (n === 0) {
      return [
        get(async (_req, res) => {
          const html = renderOnCallPage(await status.onCall(), Date.now())
          send(res, 200, 'text/html; charset=utf-8', html, pageHeaders)
        }),
      ]
    }
    if (
      n === 4 &&
      a === 'models' &&
      b !== undefined &&
      b !== '' &&
      c === 'features' &&
      d !== undefined &&
      d !== ''
    ) {
      return [
        get(async (req, res) => {
          const version = versionOf(req.url ?? '')
          const distribution = await status.distributions(b, d, version ?? undefined)
          if (distribution === null) {
            throw new HttpError('NOT_FOUND', `no distribution for feature '${d}' of model '${b}'`)
          }
          const models = await status.onCall()
          const model = models.find((m) => m.model === b && (m.version ?? '') === (version ?? ''))
          const html = renderFeaturePage(distribution, model, version === '' ? null : version)
          send(res, 200, 'text/html; charset=utf-8', html, pageHeaders)
        }),
      ]
    }
    if (n === 1 && a === 'favicon.ico') {
      // Browsers ask for it on every page load; nothing, rather than a 404 in the console.
      return [
        get((_req, res) => {
          res.writeHead(204, commonHeaders).end()
        }),
      ]
    }
    if (n === 1 && a === 'metrics') {
      return [
        get(async (_req, res) => {
          send(res, 200, registry.contentType, await registry.metrics())
        }),
      ]
    }
    if (n === 1 && a === 'healthz') {
      return [
        get((_req, res) => {
          const health = status.health()
          sendJson(res, health.live ? 200 : 503, { live: health.live })
        }),
      ]
    }
    if (n === 1 && a === 'readyz') {
      return [
        get(async (_req, res) => {
          const readiness = await status.readiness()
          sendJson(res, readiness.ready ? 200 : 503, readiness)
        }),
      ]
    }
    if (a === 'api' && b === 'models') {
      if (n === 2) {
        return [
          get(async (_req, res) => {
            const models = await status.models()
            sendJson(res, 200, {
              models: models.map((m) => ({ ...m, window: windowJson(m.window) })),
            })
          }),
        ]
      }
      if (n === 4 && c !== undefined && c !== '' && d === 'status') {
        return [
          get(async (_req, res) => {
            const found = await status.modelStatus(c)
            if (found === null) throw new HttpError('NOT_FOUND', `unknown model '${c}'`)
            const { layers } = found
            sendJson(res, 200, {
              ...found,
              window: windowJson(found.window),
              evaluatedAt:
                found.evaluatedAtMs === null ? null : new Date(found.evaluatedAtMs).toISOString(),
              ...(layers === undefined
                ? {}
                : {
                    layers: {
                      ...layers,
                      window: windowJson(layers.window),
                      latencyByVersion: layers.latencyByVersion.map((v) => ({
                        ...v,
                        window: windowJson(v.window),
                      })),
                    },
                  }),
            })
          }),
        ]
      }
      if (n === 4 && c !== undefined && c !== '' && d === 'report') {
        return [
          get(async (_req, res) => {
            const report = await status.report(c)
            if (report === null)
              throw new HttpError('NOT_FOUND', `no published report for model '${c}'`)
            sendJson(res, 200, report)
          }),
        ]
      }
      if (n === 4 && c !== undefined && c !== '' && d === 'diagnosis') {
        return [
          get(async (_req, res) => {
            const found = status.diagnosis === undefined ? null : await status.diagnosis(c)
            if (found === null) throw new HttpError('NOT_FOUND', `unknown model '${c}'`)
            sendJson(res, 200, {
              ...found,
              versions: found.versions.map((v) => ({ ...v, window: windowJson(v.window) })),
            })
          }),
        ]
      }
      if (
        n === 6 &&
        c !== undefined &&
        c !== '' &&
        d === 'features' &&
        e !== undefined &&
        e !== '' &&
        f === 'distribution'
      ) {
        return [
          get(async (_req, res) => {
            const distribution = await status.distributions(c, e)
            if (distribution === null) {
              throw new HttpError('NOT_FOUND', `no distribution for feature '${e}' of model '${c}'`)
            }
            sendJson(res, 200, { ...distribution, window: windowJson(distribution.window) })
          }),
        ]
      }
      return null
    }
    if (
      n === 4 &&
      a === 'admin' &&
      b === 'models' &&
      c !== undefined &&
      c !== '' &&
      d === 'reference'
    ) {
      // Without a token the admin surface does not exist (config: "admin routes are off").
      if (tokenDigest === null) return null
      return [
        {
          method: 'PUT',
          handle: async (req, res) => {
            requireToken(req)
            const snapshot = parseJson(await readBody(req, maxBodyBytes))
            const { id } = await admin.replaceReference(c, snapshot)
            logger?.info({ model: c, referenceId: id }, 'reference replaced through the admin API')
            sendJson(res, 200, { model: c, id })
          },
        },
      ]
    }
    return null
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const routes = match(segmentsOf(req.url ?? '/'))
    if (routes === null) throw new HttpError('NOT_FOUND', 'no such route')
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const route = routes.find((r) => r.method === method)
    if (route === undefined) {
      const allowed = routes
        .flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method]))
        .join(', ')
      throw new HttpError(
        'METHOD_NOT_ALLOWED',
        `method ${req.method ?? '?'} not allowed; allowed: ${allowed}`,
        {
          allow: allowed,
        },
      )
    }
    await route.handle(req, res)
  }

  function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const known = error instanceof DriftwatchError
    const statusCode = known ? (httpStatusOf[error.code] ?? (error.canRetry ? 503 : 500)) : 500
    const code: ErrorCode = known ? error.code : 'INTERNAL'
    // Our own messages are written for users; anything else may carry a foreign library's
    // details (hosts, credentials in URLs), so it goes to the log only.
    const message = known ? error.message : 'internal error; see the service log'
    if (statusCode >= 500) {
      logger?.error(
        { method: req.method, path: req.url, code, err: errorMessage(error) },
        'HTTP request failed',
      )
    }
    if (res.headersSent) {
      res.destroy()
      return
    }
    const headers: Record<string, string> = error instanceof HttpError ? { ...error.headers } : {}
    // The rest of a refused body is not read: close the connection after answering.
    if (code === 'PAYLOAD_TOO_LARGE') headers['connection'] = 'close'
    sendJson(res, statusCode, { error: { code, message } }, headers)
    if (code === 'PAYLOAD_TOO_LARGE') res.once('finish', () => req.socket.destroySoon())
  }

  const server: Server = createServer(
    { requestTimeout: 60_000, headersTimeout: 20_000 },
    (req, res) => {
      const started = performance.now()
      res.once('finish', () => {
        logger?.debug(
          {
            method: req.method,
            path: req.url,
            status: res.statusCode,
            ms: Math.round(performance.now() - started),
          },
          'HTTP request',
        )
      })
      dispatch(req, res).catch((error: unknown) => fail(req, res, error))
    },
  )

  return new Promise((resolve, reject) => {
    const onListenError = (error: Error): void => {
      reject(
        new DriftwatchError(
          'SERVICE_START',
          `HTTP server could not listen on ${options.host}:${options.port}: ${error.message}`,
          {
            cause: error,
          },
        ),
      )
    }
    server.once('error', onListenError)
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', onListenError)
      server.on('error', (error) =>
        logger?.error({ err: errorMessage(error) }, 'HTTP server error'),
      )
      const address = server.address() as AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      const url = `http://${host}:${address.port}/`
      logger?.info({ url, admin: tokenDigest !== null }, 'HTTP server listening')
      resolve({
        url,
        close: () =>
          new Promise<void>((done, failed) => {
            const force = setTimeout(() => server.closeAllConnections(), closeGraceMs)
            force.unref()
            server.close((error) => {
              clearTimeout(force)
              if (error === undefined) done()
              else failed(error)
            })
            server.closeIdleConnections()
          }),
      })
    })
  })
}
