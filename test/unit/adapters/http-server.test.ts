import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startHttpServer, type HttpServer } from '../../../src/adapters/http/server.js'
import { createMetrics } from '../../../src/adapters/metrics/metrics.js'
import { DriftwatchError } from '../../../src/errors.js'
import {
  summarizeReport,
  type AdminActions,
  type FeatureDistribution,
  type ModelDiagnosis,
  type ModelStatus,
  type ModelSummary,
  type OnCallModel,
  type Readiness,
  type StatusSource,
} from '../../../src/ports/status.js'
import { LiveStatus } from '../../../src/app/status.js'
import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import type { ReferenceSnapshot } from '../../../src/core/reference.js'
import { HOSTILE_FEATURE, T0, WINDOW_MS, onCallState } from '../../helpers/on-call.js'
import { sampleReport } from '../../helpers/reports.js'

const token = 'correct-horse-battery-staple-0123'
const maxBodyBytes = 1024
const window = { startMs: Date.UTC(2025, 0, 1, 11), endMs: Date.UTC(2025, 0, 1, 12) }
const report = sampleReport()

// A fake app: two models, fraud (evaluated) and churn (not yet); 'boom' fails like a broken store.
class FakeStatus implements StatusSource {
  live = true
  readiness_: Readiness = {
    ready: true,
    checks: { kafka: { ok: true }, redis: { ok: true }, 'reference:fraud': { ok: true } },
  }
  asked: string[] = []

  health(): { live: boolean } {
    return { live: this.live }
  }
  readiness(): Promise<Readiness> {
    return Promise.resolve(this.readiness_)
  }
  models(): Promise<readonly ModelSummary[]> {
    return Promise.resolve([
      { model: 'fraud', version: 'v3', referenceId: 'ref-1', window, ...summarizeReport(report) },
      {
        model: 'churn',
        version: null,
        referenceId: null,
        window: null,
        datasetDrift: null,
        driftShare: null,
        severity: null,
        features: [],
      },
    ])
  }
  modelStatus(model: string): Promise<ModelStatus | null> {
    this.asked.push(model)
    if (model === 'boom') return Promise.reject(new Error('redis://:hunter2@10.0.0.1 refused'))
    if (model === 'busy')
      return Promise.reject(
        new DriftwatchError('REDIS_UNAVAILABLE', 'redis is not answering', { canRetry: true }),
      )
    if (model !== 'fraud' && model !== 'a/b') return Promise.resolve(null)
    return Promise.resolve({
      model,
      version: 'v3',
      referenceId: 'ref-1',
      window,
      evaluatedAtMs: window.endMs + 1000,
      report,
    })
  }
  report(model: string): Promise<Readonly<Record<string, unknown>> | null> {
    return Promise.resolve(
      model === 'fraud'
        ? { model, window: { end: '2025-01-01T12:00:00.000Z' }, drift: report }
        : null,
    )
  }
  distributions(model: string, feature: string): Promise<FeatureDistribution | null> {
    const found = model === 'fraud' ? report.features.find((f) => f.name === feature) : undefined
    if (found === undefined) return Promise.resolve(null)
    return Promise.resolve({
      model,
      feature,
      kind: found.kind,
      referenceId: 'ref-1',
      window,
      bins: found.distribution,
    })
  }
  diagnosis(model: string): Promise<ModelDiagnosis | null> {
    if (model !== 'fraud') return Promise.resolve(null)
    return Promise.resolve({
      model,
      versions: [
        {
          version: 'v3',
          reportId: 'fraud:v3:1',
          window,
          diagnosis: {
            kind: 'covariate-shift',
            summary: 'Covariate shift',
            action: 'Retrain',
            topCauses: ['amount'],
            alsoSeen: [],
          },
          impact: null,
          dataQuality: null,
          conditions: [],
        },
      ],
    })
  }
  onCall(): Promise<readonly OnCallModel[]> {
    return onCallStatus.onCall()
  }
}

// The on-call data comes from the real LiveStatus over an evaluation state with history.
const onCallLeases = new MemoryLeaseStore()
const onCallStatus = new LiveStatus({
  leases: onCallLeases,
  runtimes: new Map([['fraud', { snapshot: { id: 'ref-1' } as ReferenceSnapshot }]]),
  redisUp: () => Promise.resolve(true),
  kafkaUp: () => Promise.resolve(true),
  storeHealthy: () => true,
  deadLettersHealthy: () => true,
})
beforeAll(async () => {
  const leaseToken = await onCallLeases.acquire('fraud', 'test', 60_000)
  await onCallLeases.commitEvaluation(
    'fraud',
    leaseToken ?? 0,
    T0 + 30 * WINDOW_MS,
    JSON.stringify(onCallState('fraud')),
  )
})

class FakeAdmin implements AdminActions {
  calls: Array<{ model: string; snapshot: unknown }> = []
  replaceReference(model: string, snapshot: unknown): Promise<{ id: string }> {
    this.calls.push({ model, snapshot })
    if (model !== 'fraud')
      return Promise.reject(new DriftwatchError('NOT_FOUND', `unknown model '${model}'`))
    if (typeof snapshot !== 'object' || snapshot === null || !('format' in snapshot)) {
      return Promise.reject(
        new DriftwatchError('REFERENCE_INVALID', 'not a reference snapshot: no format field'),
      )
    }
    return Promise.resolve({ id: 'ref-2' })
  }
}

const metrics = createMetrics({ defaultMetrics: false })
metrics.recordReport('fraud', 'v3', report, window.endMs)
const status = new FakeStatus()
const admin = new FakeAdmin()
let server: HttpServer
let noTokenServer: HttpServer

beforeAll(async () => {
  const common = {
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes,
    registry: metrics.registry,
    status,
    admin,
  }
  server = await startHttpServer({ ...common, adminToken: token })
  noTokenServer = await startHttpServer({ ...common, adminToken: undefined })
})
afterAll(async () => {
  await server.close()
  await noTokenServer.close()
})
beforeEach(() => {
  status.live = true
  status.readiness_ = { ready: true, checks: { kafka: { ok: true }, redis: { ok: true } } }
  status.asked = []
  admin.calls = []
})

const get = (path: string, init?: RequestInit): Promise<Response> =>
  fetch(new URL(path, server.url), init)

async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
  const body = (await response.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe(code)
  expect(typeof body.error.message).toBe('string')
  return body.error.message
}

describe('read routes', () => {
  it('GET /metrics answers the registry in its content type', async () => {
    const response = await get('/metrics')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(metrics.registry.contentType)
    const text = await response.text()
    expect(text).toContain(
      'driftwatch_feature_psi{model="fraud",version="v3",feature="amount"} 0.2345',
    )
  })

  it('HEAD /metrics answers headers only', async () => {
    const response = await get('/metrics', { method: 'HEAD' })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })

  it('GET /healthz is 200 when live, 503 when not', async () => {
    let response = await get('/healthz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ live: true })
    status.live = false
    response = await get('/healthz')
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ live: false })
  })

  it('GET /readyz is 200 or 503 with the checks', async () => {
    let response = await get('/readyz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      ready: true,
      checks: { kafka: { ok: true }, redis: { ok: true } },
    })
    status.readiness_ = {
      ready: false,
      checks: {
        kafka: { ok: true },
        redis: { ok: false, detail: 'connection refused' },
        'reference:fraud': { ok: false, detail: 'no reference' },
      },
    }
    response = await get('/readyz')
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual(status.readiness_)
  })

  it('GET /api/models lists the models with their verdicts', async () => {
    const response = await get('/api/models')
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = (await response.json()) as { models: Array<Record<string, unknown>> }
    expect(body.models).toHaveLength(2)
    expect(body.models[0]).toMatchObject({
      model: 'fraud',
      version: 'v3',
      referenceId: 'ref-1',
      severity: 'critical',
      datasetDrift: true,
      driftShare: 0.5,
      window: {
        start: '2025-01-01T11:00:00.000Z',
        end: '2025-01-01T12:00:00.000Z',
        startMs: window.startMs,
        endMs: window.endMs,
      },
      features: [
        {
          name: 'amount',
          kind: 'numerical',
          test: 'psi',
          statistic: 0.2345,
          severity: 'critical',
          drifted: true,
          missingShare: 0.0125,
        },
        { name: 'country', kind: 'categorical', test: 'chisquare', severity: 'ok', drifted: false },
      ],
    })
    expect(body.models[1]).toMatchObject({
      model: 'churn',
      window: null,
      severity: null,
      features: [],
    })
  })

  it('GET /api/models/:model/status answers the latest report, 404 for an unknown model', async () => {
    const response = await get('/api/models/fraud/status')
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      model: 'fraud',
      referenceId: 'ref-1',
      evaluatedAt: '2025-01-01T12:00:01.000Z',
      window: { end: '2025-01-01T12:00:00.000Z' },
      report: { driftShare: 0.5, nFeatures: 2 },
    })
    const message = await expectError(await get('/api/models/nope/status'), 404, 'NOT_FOUND')
    expect(message).toContain('nope')
  })

  it('decodes path segments one by one', async () => {
    const response = await get('/api/models/a%2Fb/status')
    expect(response.status).toBe(200)
    expect(status.asked).toEqual(['a/b'])
    await expectError(await get('/api/models/%E0%A4%A/status'), 400, 'BAD_REQUEST')
  })

  it('GET /api/models/:model/report answers the published report, 404 when none', async () => {
    const response = await get('/api/models/fraud/report')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ model: 'fraud', drift: { nDrifted: 1 } })
    await expectError(await get('/api/models/churn/report'), 404, 'NOT_FOUND')
  })

  it('GET /api/models/:model/diagnosis answers the latest diagnosis per version, 404 for an unknown model', async () => {
    const response = await get('/api/models/fraud/diagnosis')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      model: 'fraud',
      versions: [
        {
          version: 'v3',
          window: { start: '2025-01-01T11:00:00.000Z', end: '2025-01-01T12:00:00.000Z' },
          diagnosis: { kind: 'covariate-shift', topCauses: ['amount'] },
        },
      ],
    })
    await expectError(await get('/api/models/churn/diagnosis'), 404, 'NOT_FOUND')
  })

  it('GET /api/models/:model/features/:feature/distribution answers the bins', async () => {
    const response = await get('/api/models/fraud/features/amount/distribution')
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      model: 'fraud',
      feature: 'amount',
      kind: 'numerical',
      referenceId: 'ref-1',
    })
    // JSON has no Infinity: the open outer edges come out as null, as in `driftwatch check`
    expect(body['bins']).toEqual([
      { label: '(-inf, 10)', upper: 10, lower: null, reference: 0.5, current: 0.2 },
      { label: '[10, inf)', lower: 10, upper: null, reference: 0.5, current: 0.8 },
    ])
    await expectError(await get('/api/models/fraud/features/nope/distribution'), 404, 'NOT_FOUND')
    await expectError(await get('/api/models/nope/features/amount/distribution'), 404, 'NOT_FOUND')
  })

  it('GET / serves the self-contained on-call page under a strict CSP', async () => {
    const response = await get('/')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/)
    expect(csp).toContain("connect-src 'self'")
    const html = await response.text()
    expect(html.match(/<script>/g)).toHaveLength(1)
    expect(html).not.toMatch(/\ssrc=/i)
    // its only links are the features' pages, relative to /
    for (const [, href] of html.matchAll(/\shref="([^"]*)"/g))
      expect(href).toMatch(/^models\/fraud\/features\/[^/"]+\?version=v3$/)
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/)
    expect(html).not.toContain('innerHTML')
    // a feature name is text, never markup
    expect(html).not.toContain(HOSTILE_FEATURE)
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;')
    expect(html).toContain(
      `href="models/fraud/features/${encodeURIComponent(HOSTILE_FEATURE)}?version=v3"`,
    )
    for (const severity of ['sev-ok', 'sev-warning', 'sev-critical'])
      expect(html).toContain(severity)
  })

  it('GET /models/:model/features/:feature draws both distributions of the latest window', async () => {
    const response = await get('/models/fraud/features/amount?version=v3')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await response.text()
    expect(html).toContain(
      '<h1>amount: fraud v3 <span class="sev sev-critical">critical</span></h1>',
    )
    expect(html.match(/<rect class="r"/g)).toHaveLength(2)
    expect(html.match(/<rect class="c"/g)).toHaveLength(2)
    expect(html).toContain('href="../../../"')
    expect(html).not.toContain('<script>')
    await expectError(await get('/models/fraud/features/nope'), 404, 'NOT_FOUND')
    await expectError(await get('/models/nope/features/amount'), 404, 'NOT_FOUND')
  })
})

describe('favicon', () => {
  it('GET /favicon.ico is an empty 204, so the dashboard logs no 404', async () => {
    const response = await get('/favicon.ico')
    expect(response.status).toBe(204)
    expect(await response.text()).toBe('')
  })
})

describe('errors', () => {
  it('404 for unknown routes', async () => {
    for (const path of [
      '/nope',
      '/api',
      '/api/models/fraud',
      '/api/models/fraud/whatever',
      '/api/models//status',
      '/metrics/x',
    ]) {
      await expectError(await get(path), 404, 'NOT_FOUND')
    }
  })

  it('405 with Allow for a wrong method', async () => {
    let response = await get('/metrics', { method: 'POST', body: 'x' })
    expect(response.headers.get('allow')).toBe('GET, HEAD')
    await expectError(response, 405, 'METHOD_NOT_ALLOWED')
    await expectError(await get('/api/models', { method: 'DELETE' }), 405, 'METHOD_NOT_ALLOWED')
    await expectError(await get('/', { method: 'PUT', body: '{}' }), 405, 'METHOD_NOT_ALLOWED')
    response = await get('/admin/models/fraud/reference', {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(response.headers.get('allow')).toBe('PUT')
    await expectError(response, 405, 'METHOD_NOT_ALLOWED')
  })

  it('500 INTERNAL hides a foreign error message; our retryable errors are 503 with theirs', async () => {
    const message = await expectError(await get('/api/models/boom/status'), 500, 'INTERNAL')
    expect(message).not.toContain('hunter2')
    expect(message).not.toContain('redis://')
    expect(await expectError(await get('/api/models/busy/status'), 503, 'REDIS_UNAVAILABLE')).toBe(
      'redis is not answering',
    )
  })
})

describe('PUT /admin/models/:model/reference', () => {
  const path = '/admin/models/fraud/reference'
  const snapshot = { format: 'driftwatch.reference', version: 1, id: 'ref-2', columns: [] }
  const put = (
    body: string | Uint8Array,
    headers: Record<string, string> = { authorization: `Bearer ${token}` },
    model = 'fraud',
  ): Promise<Response> =>
    get(`/admin/models/${model}/reference`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    })

  it('replaces the reference with the right token', async () => {
    const response = await put(JSON.stringify(snapshot))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ model: 'fraud', id: 'ref-2' })
    expect(admin.calls).toEqual([{ model: 'fraud', snapshot }])
    // the scheme is case-insensitive (RFC 9110)
    expect((await put(JSON.stringify(snapshot), { authorization: `bearer ${token}` })).status).toBe(
      200,
    )
  })

  it('401 without a token, with a wrong one of any length, or another scheme', async () => {
    const wrong = [
      {},
      { authorization: `Bearer ${token.slice(0, -1)}X` }, // same length
      { authorization: `Bearer ${token.slice(0, 5)}` }, // shorter
      { authorization: `Bearer ${token}${token}` }, // longer
      { authorization: `Bearer ${token}-and-more` }, // the right token as a prefix
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` },
      { authorization: token },
    ]
    for (const headers of wrong) {
      const response = await put(JSON.stringify(snapshot), headers)
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="driftwatch"')
      const message = await expectError(response, 401, 'UNAUTHORIZED')
      expect(message).not.toContain(token.slice(0, 5))
    }
    expect(admin.calls).toEqual([])
  })

  it('404 when no admin token is configured, whatever the request', async () => {
    for (const method of ['PUT', 'GET']) {
      const response = await fetch(new URL(path, noTokenServer.url), {
        method,
        headers: { authorization: `Bearer ${token}` },
        ...(method === 'PUT' ? { body: JSON.stringify(snapshot) } : {}),
      })
      await expectError(response, 404, 'NOT_FOUND')
    }
    expect(admin.calls).toEqual([])
  })

  it('400 for a body that is not JSON, empty, or not UTF-8; the body is not echoed', async () => {
    const message = await expectError(await put('{"format": secret-value'), 400, 'BAD_REQUEST')
    expect(message).not.toContain('secret-value')
    await expectError(await put(''), 400, 'BAD_REQUEST')
    await expectError(await put(new Uint8Array([0x22, 0xff, 0xfe, 0x22])), 400, 'BAD_REQUEST')
    expect(admin.calls).toEqual([])
  })

  it('400 REFERENCE_INVALID and 404 NOT_FOUND come from the admin actions', async () => {
    const message = await expectError(
      await put(JSON.stringify({ id: 'x' })),
      400,
      'REFERENCE_INVALID',
    )
    expect(message).toBe('not a reference snapshot: no format field')
    await expectError(await put(JSON.stringify(snapshot), undefined, 'nope'), 404, 'NOT_FOUND')
  })

  it('413 for a body over maxBodyBytes, declared or streamed, and the server keeps serving', async () => {
    const exactly = JSON.stringify({ ...snapshot, pad: 'x'.repeat(maxBodyBytes) }).slice(
      0,
      maxBodyBytes,
    )
    expect(Buffer.byteLength(exactly)).toBe(maxBodyBytes)
    // at the limit: read whole (and rejected only as bad JSON)
    await expectError(await put(exactly), 400, 'BAD_REQUEST')

    // one byte over, with Content-Length: refused before reading
    await expectError(await put('x'.repeat(maxBodyBytes + 1)), 413, 'PAYLOAD_TOO_LARGE')
    // 8 MiB declared
    await expectError(await put('x'.repeat(8 * 1_048_576)), 413, 'PAYLOAD_TOO_LARGE')

    // chunked with no Content-Length: refused once the limit is passed
    const chunk = new TextEncoder().encode('x'.repeat(512))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4 * 1_048_576) controller.close()
        else {
          sent += chunk.length
          controller.enqueue(chunk)
        }
      },
    })
    const response = await get(path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: stream,
      duplex: 'half',
    })
    await expectError(response, 413, 'PAYLOAD_TOO_LARGE')
    expect(admin.calls).toEqual([])
    expect((await get('/healthz')).status).toBe(200)
  })
})

describe('lifecycle', () => {
  it('listens on a free port and closes', async () => {
    const extra = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes,
      registry: metrics.registry,
      status,
      admin,
    })
    expect(extra.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect((await fetch(new URL('/healthz', extra.url))).status).toBe(200)
    await extra.close()
    await expect(fetch(new URL('/healthz', extra.url))).rejects.toThrow()
  })

  it('fails with SERVICE_START on a taken port', async () => {
    const port = Number(new URL(server.url).port)
    await expect(
      startHttpServer({
        host: '127.0.0.1',
        port,
        maxBodyBytes,
        registry: metrics.registry,
        status,
        admin,
      }),
    ).rejects.toMatchObject({ code: 'SERVICE_START' })
  })
})
