// Alerts reach a real Alertmanager, both ways driftwatch offers, during a drift scenario of the
// whole detector (Kafka and Redis from test/global-setup.ts):
// - through Prometheus: a real Prometheus scrapes the detector, evaluates
//   deploy/prometheus/rules.yml and sends DriftwatchFeatureDriftCritical to Alertmanager, whose
//   receiver is a webhook served by this test: it gets the firing notification with the model
//   and feature labels, then the resolved one once the stream is stable again;
// - directly (alerts.alertmanager): the detector's own DriftwatchFeatureDrift alerts, re-sent
//   while firing (they outlive the validity of any single announcement) and resolved explicitly
//   (ended before that validity runs out), seen in Alertmanager's /api/v2/alerts and the webhook.
// Also: `amtool check-config` accepts deploy/alertmanager/alertmanager.yml.
//
// The shipped rules keep their thresholds; only the feature-drift rule's `for: 5m` is shortened,
// in a copy this test writes, so that the alert fires within the test.
//
// Needs Debian's `prometheus` (scripts/ci/install-prometheus.sh) and `prometheus-alertmanager`
// with `amtool` (scripts/ci/install-alertmanager.sh) on PATH; fails with that hint without them.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import {
  describeExit,
  spawnSupervised,
  tailFile,
  waitForExitOrTimeout,
  type SupervisedProcess,
} from '../../src/adapters/local-services/supervisor.js'
import { startApp, type App } from '../../src/app/service.js'
import { serviceConfigSchema } from '../../src/config/service.js'
import { predictionEvents } from '../helpers/prediction-events.js'
import {
  createTopics,
  produceAll,
  streamConfigInput,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'
import { until } from '../helpers/until.js'

const repo = resolve(import.meta.dirname, '../..')
const shippedRules = join(repo, 'deploy/prometheus/rules.yml')
const shippedAlertmanagerConfig = join(repo, 'deploy/alertmanager/alertmanager.yml')
const installHint =
  'install them with scripts/ci/install-prometheus.sh and scripts/ci/install-alertmanager.sh ' +
  '(Debian: apt-get install -y prometheus prometheus-alertmanager)'

/** The detector's own re-send interval here: an announcement is valid for 4 of them (8 s). */
const resendMs = 2000

function requireTool(name: string): void {
  const result = spawnSync(name, ['--version'], { encoding: 'utf8' })
  if (result.error !== undefined || result.status !== 0)
    throw new Error(`this test needs \`${name}\` on PATH; ${installHint}`)
}

interface Daemon {
  readonly proc: SupervisedProcess
  readonly logFile: string
  readonly url: string
}

/** Starts `command` on a free port (the argument list gets it) and waits for `${url}-/ready`. */
async function startDaemon(
  name: string,
  dir: string,
  args: (port: number) => string[],
): Promise<Daemon> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const logFile = join(dir, `${name}-${attempt}.log`)
    const proc = await spawnSupervised(name, args(port), { outputFile: logFile, ownedDir: dir })
    const url = `http://127.0.0.1:${port}/`
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && proc.exitInfo() === undefined) {
      const ready = await fetch(`${url}-/ready`).then(
        (r) => r.ok,
        () => false,
      )
      if (ready) return { proc, logFile, url }
      await waitForExitOrTimeout(proc, 200)
    }
    const tail = tailFile(logFile, 30)
    const exit = proc.exitInfo()
    await proc.terminate(5_000)
    if (exit !== undefined && /address already in use/.test(tail) && attempt < 3) continue
    throw new Error(
      `${name} did not become ready (${exit === undefined ? 'timed out' : describeExit(exit)}):\n${tail}`,
    )
  }
}

interface WebhookAlert {
  readonly status: 'firing' | 'resolved'
  readonly labels: Record<string, string>
  readonly startsAt: string
  readonly endsAt: string
}
interface WebhookNotification {
  readonly receiver: string
  readonly status: 'firing' | 'resolved'
  readonly alerts: readonly WebhookAlert[]
}

/** Alertmanager's webhook receiver: every notification it POSTs, in order. */
async function startWebhook(): Promise<{
  server: Server
  url: string
  got: WebhookNotification[]
}> {
  const got: WebhookNotification[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      try {
        got.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookNotification)
      } catch {
        // a body that is not JSON is kept out of `got`; the test then misses a notification
      }
      response.writeHead(200).end()
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('webhook has no port')
  return { server, url: `http://127.0.0.1:${address.port}/alerts`, got }
}

interface GettableAlert {
  readonly labels: Record<string, string>
  readonly startsAt: string
  readonly endsAt: string
  readonly updatedAt: string
  readonly status: { readonly state: string }
}

describe('amtool check-config', () => {
  it('accepts deploy/alertmanager/alertmanager.yml', () => {
    requireTool('amtool')
    const result = spawnSync('amtool', ['check-config', shippedAlertmanagerConfig], {
      encoding: 'utf8',
    })
    const output = `${result.stdout}${result.stderr}`
    expect(output).toContain('SUCCESS')
    expect(output).toMatch(/2 receivers/)
    expect(result.status, output).toBe(0)
  })
})

const drifting = ['f01', 'f05', 'f12']
// Two hours back on a 10 s boundary: each 10 s window holds 10,000 events at 1 ms apart.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 10_000) * 10_000
const featureOf = (a: { labels: Record<string, string> }): string => a.labels['feature'] ?? ''

describe('drift alerts reach Alertmanager: through Prometheus and directly', () => {
  let dir = ''
  let webhook: Awaited<ReturnType<typeof startWebhook>> | undefined
  let alertmanager: Daemon | undefined
  let prometheus: Daemon | undefined
  let app: App | undefined
  const log = (): string =>
    [
      alertmanager === undefined ? '' : `alertmanager log:\n${tailFile(alertmanager.logFile, 20)}`,
      prometheus === undefined ? '' : `prometheus log:\n${tailFile(prometheus.logFile, 20)}`,
      `webhook got ${JSON.stringify(webhook?.got.map((n) => n.alerts.map((a) => [a.status, a.labels['alertname'], a.labels['feature']])))}`,
    ].join('\n')

  const activeDirect = async (): Promise<GettableAlert[]> => {
    const response = await fetch(
      `${alertmanager?.url}api/v2/alerts?filter=${encodeURIComponent('alertname="DriftwatchFeatureDrift"')}`,
    )
    if (!response.ok) throw new Error(`GET /api/v2/alerts: HTTP ${response.status}`)
    return ((await response.json()) as GettableAlert[]).filter((a) => a.status.state === 'active')
  }
  const notified = (alertname: string, status: 'firing' | 'resolved'): WebhookAlert[] =>
    (webhook?.got ?? []).flatMap((n) =>
      n.alerts.filter((a) => a.labels['alertname'] === alertname && a.status === status),
    )

  /** What the test saw of the direct alerts while they fired, for the resolve checks. */
  const seen = { firstEndsAt: 0, lastEndsAt: 0, stillActive: [] as GettableAlert[] }
  let producer: ReturnType<ReturnType<typeof testKafka>['producer']> | undefined
  let input = ''

  beforeAll(async () => {
    requireTool('prometheus')
    requireTool('prometheus-alertmanager')
    dir = mkdtempSync(join(tmpdir(), 'driftwatch-alertmanager-'))
    webhook = await startWebhook()

    // Alertmanager: one webhook receiver, notifications grouped per alert and feature, and
    // group intervals of a second so that the test does not wait for them.
    const amConfig = join(dir, 'alertmanager.yml')
    writeFileSync(
      amConfig,
      stringify({
        route: {
          receiver: 'test',
          group_by: ['alertname', 'model', 'feature'],
          group_wait: '1s',
          group_interval: '1s',
          repeat_interval: '1h',
        },
        receivers: [{ name: 'test', webhook_configs: [{ url: webhook.url, send_resolved: true }] }],
      }),
    )
    const checked = spawnSync('amtool', ['check-config', amConfig], { encoding: 'utf8' })
    if (checked.status !== 0) throw new Error(`test config: ${checked.stdout}${checked.stderr}`)
    alertmanager = await startDaemon('prometheus-alertmanager', dir, (port) => [
      `--config.file=${amConfig}`,
      `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // no cluster (gossip) listener: one instance, and no second port to collide on
      '--cluster.listen-address=',
      '--log.level=warn',
    ])

    // The detector, announcing its own alerts to that Alertmanager every 2 s.
    const names = streamNames()
    input = names.input
    const kafka = testKafka()
    await createTopics(kafka, [{ topic: names.input, numPartitions: 3 }])
    const referenceFile = await writeReference(dir, 20_000, 1007)
    const config = serviceConfigSchema.parse({
      ...streamConfigInput(names, referenceFile, { logLevel: 'warn' }),
      alerts: { alertmanager: { url: alertmanager.url, resendInterval: `${resendMs}ms` } },
    })
    app = await startApp(config, {
      secrets: {},
      fromBeginning: true,
      logger: pino({ level: 'warn' }),
    })

    // Prometheus: our rules, the feature-drift rule's `for` shortened, alerts to Alertmanager.
    const rules = parse(readFileSync(shippedRules, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; for?: string }> }>
    }
    const critical = rules.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'DriftwatchFeatureDriftCritical')
    if (critical === undefined) throw new Error('rules.yml lost DriftwatchFeatureDriftCritical')
    critical.for = '2s'
    const rulesFile = join(dir, 'rules.yml')
    writeFileSync(rulesFile, stringify(rules))
    const promConfig = join(dir, 'prometheus.yml')
    writeFileSync(
      promConfig,
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [rulesFile],
        alerting: {
          alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanager.url).host] }] }],
        },
        scrape_configs: [
          { job_name: 'driftwatch', static_configs: [{ targets: [new URL(app.httpUrl).host] }] },
        ],
      }),
    )
    prometheus = await startDaemon('prometheus', dir, (port) => [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ])

    // 2 stable windows, then 4 with f01, f05 and f12 shifted by 1.5 sd.
    producer = kafka.producer()
    await producer.connect()
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
  }, 300_000)

  afterAll(async () => {
    await producer?.disconnect()
    await prometheus?.proc.terminate(10_000)
    await app?.stop()
    await alertmanager?.proc.terminate(10_000)
    await new Promise((done) => webhook?.server.close(done) ?? done(undefined))
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  it('Prometheus → Alertmanager → webhook: DriftwatchFeatureDriftCritical fires for each drifted feature', async () => {
    const firing = await until(
      'the webhook to get DriftwatchFeatureDriftCritical firing for f01, f05 and f12',
      240_000,
      async () => {
        const alerts = notified('DriftwatchFeatureDriftCritical', 'firing')
        const features = new Set(alerts.map(featureOf))
        return drifting.every((f) => features.has(f)) ? alerts : undefined
      },
      log,
    )
    expect([...new Set(firing.map(featureOf))].sort()).toEqual(drifting)
    for (const alert of firing) {
      expect(alert.labels).toMatchObject({
        alertname: 'DriftwatchFeatureDriftCritical',
        model: 'fraud',
        severity: 'critical',
        job: 'driftwatch',
      })
    }
    expect(webhook?.got.every((n) => n.receiver === 'test')).toBe(true)
  }, 300_000)

  it('directly: the detector announces DriftwatchFeatureDrift for each drifted feature, and re-sends it while it fires', async () => {
    const first = await until(
      'the detector’s DriftwatchFeatureDrift alerts active in Alertmanager',
      120_000,
      async () => {
        const active = await activeDirect()
        return drifting.every((f) => active.some((a) => featureOf(a) === f)) ? active : undefined
      },
      log,
    )
    expect(first.map(featureOf).sort()).toEqual(drifting)
    for (const alert of first) {
      expect(alert.labels).toEqual({
        alertname: 'DriftwatchFeatureDrift',
        model: 'fraud',
        feature: featureOf(alert),
        severity: 'critical',
      })
      // startsAt is the event time of the window it fired in: two hours back
      expect(Date.parse(alert.startsAt)).toBeGreaterThan(T0 + 20_000)
      expect(Date.parse(alert.startsAt)).toBeLessThan(T0 + 60_001)
    }
    // Each announcement is valid for 4 resend intervals (8 s). Once the first one's validity has
    // run out, the alerts are still active, valid until later: they were announced again.
    seen.firstEndsAt = Math.max(...first.map((a) => Date.parse(a.endsAt)))
    expect(seen.firstEndsAt - Date.now()).toBeLessThanOrEqual(4 * resendMs + 1000)
    await new Promise((done) => setTimeout(done, Math.max(0, seen.firstEndsAt - Date.now()) + 1500))
    const later = await activeDirect()
    expect(later.map(featureOf).sort()).toEqual(drifting)
    for (const alert of later) expect(Date.parse(alert.endsAt)).toBeGreaterThan(seen.firstEndsAt)
    seen.stillActive = later
  }, 200_000)

  it('once the stream is stable again: Prometheus resolves its alert, and the detector resolves its own explicitly', async () => {
    // 4 stable windows: severity back to 0 (Prometheus), 2 clean windows resolve (detector).
    await produceAll(
      producer as NonNullable<typeof producer>,
      input,
      predictionEvents(40_000, T0 + 60_000, 1, { model: 'fraud', seed: 9, idPrefix: 'stable2' }),
    )
    const resolvedAt = await until(
      'the detector’s alerts to leave Alertmanager’s active list',
      180_000,
      async () => {
        const active = await activeDirect()
        // Keep the latest validity seen until they go.
        for (const a of active) seen.lastEndsAt = Math.max(seen.lastEndsAt, Date.parse(a.endsAt))
        return active.length === 0 ? Date.now() : undefined
      },
      log,
    )
    // Explicitly resolved: gone before the last announcement's validity ran out...
    expect(resolvedAt).toBeLessThan(seen.lastEndsAt)
    // ...and notified as resolved, ended before that validity (a lapse would end at it exactly).
    const resolved = await until(
      'the webhook to get DriftwatchFeatureDrift resolved for f01, f05 and f12',
      30_000,
      async () => {
        const alerts = notified('DriftwatchFeatureDrift', 'resolved')
        return drifting.every((f) => alerts.some((a) => featureOf(a) === f)) ? alerts : undefined
      },
      log,
    )
    for (const alert of resolved) expect(Date.parse(alert.endsAt)).toBeLessThan(seen.lastEndsAt)
    expect(notified('DriftwatchFeatureDrift', 'firing').map(featureOf).sort()).toEqual(
      expect.arrayContaining(drifting),
    )

    const prometheusResolved = await until(
      'the webhook to get DriftwatchFeatureDriftCritical resolved for f01, f05 and f12',
      120_000,
      async () => {
        const alerts = notified('DriftwatchFeatureDriftCritical', 'resolved')
        return drifting.every((f) => alerts.some((a) => featureOf(a) === f)) ? alerts : undefined
      },
      log,
    )
    for (const alert of prometheusResolved)
      expect(alert.labels).toMatchObject({ model: 'fraud', severity: 'critical' })
  }, 300_000)
})
