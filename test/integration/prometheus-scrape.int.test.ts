// A real Prometheus scrapes a real driftwatch HTTP server: our /metrics passes
// `promtool check metrics`, parses in Prometheus, carries the values we set, and the alerting
// rules in deploy/prometheus/rules.yml load and evaluate against it. Then the whole detector
// (Kafka and Redis from test/global-setup.ts) runs a drift scenario while Prometheus scrapes it,
// and every panel query of the Grafana dashboard (deploy/grafana/dashboards/driftwatch.json)
// returns data.
//
// Needs Debian's `prometheus` and `promtool` on PATH (scripts/ci/install-prometheus.sh);
// installs nothing itself and fails with that hint when they are missing.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { startHttpServer, type HttpServer } from '../../src/adapters/http/server.js'
import { startApp, type App } from '../../src/app/service.js'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import {
  describeExit,
  spawnSupervised,
  tailFile,
  waitForExitOrTimeout,
  type SupervisedProcess,
} from '../../src/adapters/local-services/supervisor.js'
import { createMetrics } from '../../src/adapters/metrics/metrics.js'
import type { StatusSource } from '../../src/ports/status.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import { sampleReport } from '../helpers/reports.js'
import {
  createTopics,
  produceAll,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'
import { until } from '../helpers/until.js'

const rulesFile = resolve(import.meta.dirname, '../../deploy/prometheus/rules.yml')
const installHint =
  'install it with scripts/ci/install-prometheus.sh (Debian: apt-get install -y prometheus)'

/**
 * Problems `promtool check metrics` may report that we accept, each with its reason. Empty:
 * the three prom-client defaults it flagged (`nodejs_active_{handles,requests,resources}_total`,
 * gauges with a counter's suffix) are removed in createMetrics instead.
 */
const acceptedLintProblems: readonly RegExp[] = []

function requireTool(name: string): string {
  const result = spawnSync(name, ['--version'], { encoding: 'utf8' })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`this test needs \`${name}\` on PATH; ${installHint}`)
  }
  return `${result.stdout}${result.stderr}`.split('\n')[0] ?? ''
}

const statusStub: StatusSource = {
  health: () => ({ live: true }),
  readiness: () => Promise.resolve({ ready: true, checks: {} }),
  models: () => Promise.resolve([]),
  modelStatus: () => Promise.resolve(null),
  report: () => Promise.resolve(null),
  distributions: () => Promise.resolve(null),
  onCall: () => Promise.resolve([]),
}

interface PrometheusVector {
  status: string
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }
}

describe('Prometheus scrapes driftwatch', () => {
  const metrics = createMetrics()
  let server: HttpServer
  let version = ''

  beforeAll(async () => {
    version = requireTool('prometheus')
    requireTool('promtool')
    metrics.recordReport('fraud', 'v3', sampleReport(), Date.UTC(2025, 0, 1, 12))
    metrics.reference('fraud', 'v3', 'ref-1')
    metrics.eventsConsumed('fraud', 'predictions', 1000)
    metrics.invalidEvent('json', 'predictions')
    metrics.lateEvents('fraud', 2)
    metrics.flush('applied', 0.004)
    metrics.evaluation('fraud', 0.12)
    metrics.alert('fraud', 'firing')
    metrics.lag('predictions', 0, 12)
    metrics.up('kafka', true)
    metrics.up('redis', true)
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      registry: metrics.registry,
      status: statusStub,
      admin: { replaceReference: () => Promise.reject(new Error('not in this test')) },
    })
  })

  afterAll(async () => {
    await server?.close()
  })

  it('passes promtool check metrics', async () => {
    const text = await (await fetch(new URL('/metrics', server.url))).text()
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    const problems = `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => !acceptedLintProblems.some((accepted) => accepted.test(line)))
    expect(problems).toEqual([])
    if (acceptedLintProblems.length === 0) expect(result.status).toBe(0)
  })

  it('is scraped by a real Prometheus, which also loads and evaluates our alerting rules', async () => {
    const { prometheus, url } = await startPrometheus(new URL(server.url).host)
    const log = (): string =>
      `${version}; prometheus log tail:\n${tailFile(prometheus.logFile, 30)}`
    try {
      const query = async (promql: string): Promise<PrometheusVector['data']['result']> => {
        const response = await fetch(`${url}api/v1/query?query=${encodeURIComponent(promql)}`)
        const body = (await response.json()) as PrometheusVector
        if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`)
        return body.data.result
      }

      const psi = await until(
        'driftwatch_feature_psi in Prometheus',
        30_000,
        async () => {
          const result = await query('driftwatch_feature_psi')
          return result.find((s) => s.metric['feature'] === 'amount')
        },
        log,
      )
      expect(psi.metric).toMatchObject({
        job: 'driftwatch',
        model: 'fraud',
        version: 'v3',
        feature: 'amount',
      })
      expect(Number(psi.value[1])).toBe(0.2345)

      const severity = await query('driftwatch_feature_severity{feature="amount"}')
      expect(severity.map((s) => s.value[1])).toEqual(['2'])
      const info = await query('driftwatch_reference_info')
      expect(info.map((s) => s.metric['reference_id'])).toEqual(['ref-1'])
      const up = await query('up{job="driftwatch"}')
      expect(up.map((s) => s.value[1])).toEqual(['1'])

      // severity 2 puts the critical-drift alert in pending (its `for` is 5 minutes)
      const alert = await until(
        'DriftwatchFeatureDriftCritical pending',
        30_000,
        async () => {
          const response = await fetch(`${url}api/v1/alerts`)
          const body = (await response.json()) as {
            data: { alerts: Array<{ labels: Record<string, string>; state: string }> }
          }
          return body.data.alerts.find(
            (a) => a.labels['alertname'] === 'DriftwatchFeatureDriftCritical',
          )
        },
        log,
      )
      expect(alert).toMatchObject({
        state: 'pending',
        labels: { model: 'fraud', feature: 'amount', severity: 'critical' },
      })

      const rules = (await (await fetch(`${url}api/v1/rules`)).json()) as {
        data: {
          groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }>
        }
      }
      const all = rules.data.groups.flatMap((g) => g.rules)
      // every alert of the shipped file, as the file names them
      const shipped = (
        parseYaml(readFileSync(rulesFile, 'utf8')) as {
          groups: Array<{ rules: Array<{ alert?: string }> }>
        }
      ).groups.flatMap((g) => g.rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])))
      expect(shipped.length).toBeGreaterThanOrEqual(13)
      expect(all.map((r) => r.name).sort()).toEqual([...shipped].sort())
      expect(all.filter((r) => r.health === 'err')).toEqual([])
    } finally {
      await prometheus.proc.terminate(10_000)
      expect(prometheus.proc.exitInfo()).toBeDefined()
    }
  })
})

interface RunningPrometheus {
  readonly proc: SupervisedProcess
  readonly logFile: string
}

/** Starts Prometheus on a free port, retrying when another process takes the port first. */
async function startPrometheus(
  target: string,
): Promise<{ prometheus: RunningPrometheus; url: string }> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'driftwatch-prometheus-'))
    const config = join(dir, 'prometheus.yml')
    const logFile = join(dir, 'prometheus.log')
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(rulesFile)}`,
        'scrape_configs:',
        '  - job_name: driftwatch',
        '    static_configs:',
        `      - targets: [${JSON.stringify(target)}]`,
        '',
      ].join('\n'),
    )
    const port = await freePort()
    const proc = await spawnSupervised(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { outputFile: logFile, ownedDir: dir },
    )
    const prometheus = { proc, logFile }
    const url = `http://127.0.0.1:${port}/`
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && proc.exitInfo() === undefined) {
      const ready = await fetch(`${url}-/ready`).then(
        (r) => r.ok,
        () => false,
      )
      if (ready) return { prometheus, url }
      await waitForExitOrTimeout(proc, 200)
    }
    const tail = tailFile(logFile, 30)
    const exit = proc.exitInfo()
    await proc.terminate(5_000)
    if (exit !== undefined && /address already in use/.test(tail) && attempt < 3) continue
    throw new Error(
      `prometheus did not become ready (${exit === undefined ? 'timed out' : describeExit(exit)}):\n${tail}`,
    )
  }
}

// ---------------------------------------------------------------------------------------------
// The Grafana dashboard against the real detector during a drift scenario
// ---------------------------------------------------------------------------------------------

const dashboardFile = resolve(
  import.meta.dirname,
  '../../deploy/grafana/dashboards/driftwatch.json',
)

interface DashboardPanel {
  readonly type: string
  readonly title: string
  readonly targets?: ReadonlyArray<{ readonly refId: string; readonly expr: string }>
}
interface Dashboard {
  readonly panels: readonly DashboardPanel[]
  readonly templating: {
    readonly list: ReadonlyArray<{
      readonly name: string
      readonly type: string
      definition?: string
    }>
  }
}

const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard

/** What Grafana substitutes before a query reaches Prometheus, for this scenario. */
const templateValues: Record<string, string> = {
  model: 'fraud',
  feature: 'f01',
  // Grafana's max(4 × scrape interval, step); wide enough here that a rate() over the scenario's
  // events still has both ends in range when the last panel is queried.
  __rate_interval: '5m',
  __interval: '15s',
}

function substitute(expr: string): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? ''
    const value = templateValues[name]
    if (value === undefined) throw new Error(`no test value for template variable ${whole}`)
    return value
  })
}

const panelQueries = dashboard.panels
  .filter((p) => p.type !== 'row')
  .flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title.replace(/\$(\w+)/g, (_, n: string) => templateValues[n] ?? n),
      refId: t.refId,
      expr: t.expr,
    })),
  )

const drifting = ['f01', 'f05', 'f12']
// Two hours back on a 10 s boundary: each 10 s window holds 10,000 events at 1 ms apart.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000

describe('the Grafana dashboard during a drift scenario', () => {
  let app: App | undefined
  let prometheus: RunningPrometheus | undefined
  let promUrl = ''
  let dir = ''

  const instantQuery = async (promql: string): Promise<PrometheusVector['data']['result']> => {
    const response = await fetch(`${promUrl}api/v1/query?query=${encodeURIComponent(promql)}`)
    const body = (await response.json()) as PrometheusVector
    if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`)
    return body.data.result
  }
  const log = (): string =>
    prometheus === undefined ? '' : `prometheus log tail:\n${tailFile(prometheus.logFile, 30)}`

  beforeAll(async () => {
    requireTool('prometheus')
    dir = mkdtempSync(join(tmpdir(), 'driftwatch-dashboard-'))
    const names = streamNames()
    const kafka = testKafka()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    const referenceFile = await writeReference(dir, 20_000, 1007)
    app = await startApp(streamConfig(names, referenceFile), {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })
    // Prometheus scrapes from the start, so counters and histograms move while it watches.
    const started = await startPrometheus(new URL(app.httpUrl).host)
    prometheus = started.prometheus
    promUrl = started.url

    const producer = kafka.producer()
    await producer.connect()
    try {
      // 2 stable windows, then 4 with f01, f05 and f12 shifted by 1.5 sd: the alert fires after
      // 2 drifted windows and the latest window is critical for the three.
      await produceAll(
        producer,
        names.input,
        predictionEvents(20_000, T0, 1, { model: 'fraud', seed: 7, idPrefix: 'stable' }),
      )
      await produceAll(
        producer,
        names.input,
        predictionEvents(40_000, T0 + 20_000, 1, {
          model: 'fraud',
          seed: 8,
          drifted: drifting,
          idPrefix: 'drifted',
        }),
      )
      // Events that cannot be used: the dead-letter topic and the invalid counter.
      await producer.send({
        topic: names.input,
        messages: [{ value: 'not json' }, { value: '{"eventId":"x","model":"unknown"}' }],
      })
      await until(
        'f01 critical in Prometheus',
        180_000,
        async () => {
          const result = await instantQuery(
            'driftwatch_feature_severity{model="fraud",feature="f01"} == 2',
          )
          return result.length > 0 ? true : undefined
        },
        log,
      )
      // Events for windows long evaluated: counted as late.
      await produceAll(
        producer,
        names.input,
        predictionEvents(30, T0 + 5, 1, { model: 'fraud', seed: 9, idPrefix: 'late' }),
      )
      await until(
        'late events in Prometheus',
        60_000,
        async () =>
          (await instantQuery('driftwatch_events_late_total')).length > 0 ? true : undefined,
        log,
      )
    } finally {
      await producer.disconnect()
    }
  }, 400_000)

  afterAll(async () => {
    await prometheus?.proc.terminate(10_000)
    await app?.stop()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  it('has panels with queries, one template variable per label it filters on', () => {
    expect(panelQueries.length).toBeGreaterThanOrEqual(20)
    // only metrics /metrics exports (docs/metrics.md is generated from the registry)
    const documented = readFileSync(resolve(import.meta.dirname, '../../docs/metrics.md'), 'utf8')
    for (const { panel, expr } of panelQueries) {
      for (const [name] of expr.matchAll(/\bdriftwatch_[a-z_]+/g)) {
        const metric = name.replace(/_(bucket|sum|count)$/, '')
        expect(documented, `${panel}: ${name}`).toContain(`\`${metric}\``)
      }
    }
    const variables = dashboard.templating.list.map((v) => v.name)
    expect(variables).toEqual(expect.arrayContaining(['datasource', 'model', 'feature']))
    // every variable a query uses is one the dashboard defines (or a Grafana built-in)
    for (const { panel, expr } of panelQueries) {
      for (const [, braced, bare] of expr.matchAll(/\$\{(\w+)\}|\$(\w+)/g)) {
        const name = braced ?? bare ?? ''
        expect(variables.includes(name) || name.startsWith('__'), `${panel}: $${name}`).toBe(true)
      }
    }
  })

  it.each(panelQueries)('panel $panel ($refId) returns data', async ({ panel, expr }) => {
    const promql = substitute(expr)
    // A few scrapes may be needed after the scenario for rate() to have two samples.
    const result = await until(
      `panel "${panel}": ${promql}`,
      30_000,
      async () => {
        const r = await instantQuery(promql)
        return r.some((s) => Number.isFinite(Number(s.value[1]))) ? r : undefined
      },
      log,
    ).catch((error: unknown) => {
      throw new Error(`panel "${panel}" returned no data for ${promql}\n${String(error)}`)
    })
    expect(result.length, `panel "${panel}"`).toBeGreaterThan(0)
  })

  it('its template variables list the scenario model and features', async () => {
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.definition ?? '')
      expect(match, variable.name).not.toBeNull()
      const [, selector = '', label = ''] = match ?? []
      const url = `${promUrl}api/v1/label/${label}/values?match[]=${encodeURIComponent(substitute(selector))}`
      const body = (await (await fetch(url)).json()) as { data: string[] }
      const expected = variable.name === 'model' ? ['fraud'] : drifting
      expect(body.data, variable.name).toEqual(expect.arrayContaining(expected))
    }
  })

  it('shows the drift: the three shifted features critical, the others not, the alert pending', async () => {
    const critical = await instantQuery(
      'max by (feature) (driftwatch_feature_severity{model="fraud"}) == 2',
    )
    expect(critical.map((s) => s.metric['feature']).sort()).toEqual(drifting)
    const alerts = await instantQuery('ALERTS{alertname="DriftwatchFeatureDriftCritical"}')
    expect(alerts.map((s) => s.metric['feature']).sort()).toEqual(drifting)
  })
})
