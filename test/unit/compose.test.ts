// docker-compose.yml without a Docker engine: the file is valid under the Compose
// Specification's own JSON schema (vendored in test/fixtures/compose-spec/), and its settings
// agree with the code that runs the same services for the tests and the demo
// (src/adapters/local-services), with driftwatch's config schema and with the CLI it calls.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Command } from 'commander'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { serverProperties } from '../../src/adapters/local-services/kafka.js'
import { serverArgs } from '../../src/adapters/local-services/redis.js'
import { registerReference } from '../../src/cli/reference.js'
import { registerRun } from '../../src/cli/run.js'
import { registerSimulate } from '../../src/cli/simulate.js'
import { validateConfig } from '../../src/config/load.js'
import { serviceConfigSchema } from '../../src/config/service.js'

const root = resolve(import.meta.dirname, '../..')
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8')

interface Service {
  image?: string
  build?: unknown
  command?: string[] | string
  entrypoint?: string[] | string
  environment?: Record<string, string | number | null>
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test?: string[]; disable?: boolean }
}
interface ComposeFile {
  services: Record<string, Service>
  volumes?: Record<string, unknown>
}

const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as ComposeFile
const service = (name: string): Service => {
  const found = compose.services[name]
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`)
  return found
}

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification JSON schema (compose-go v2.16.2)', () => {
    const schema = JSON.parse(read('test/fixtures/compose-spec/compose-spec.json')) as object
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    const validate = ajv.compile(schema)
    // The raw document, anchors and merge keys resolved as Compose does, `x-` keys included.
    const valid = validate(compose)
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([])
    expect(valid).toBe(true)
  })

  it('the schema check rejects what Compose rejects', () => {
    const schema = JSON.parse(read('test/fixtures/compose-spec/compose-spec.json')) as object
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    const validate = ajv.compile(schema)
    const broken = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>
    }
    ;(broken.services['driftwatch'] as Record<string, unknown>)['depends_on'] = {
      kafka: { condition: 'service_ready' },
    }
    expect(validate(broken)).toBe(false)
    const unknownKey = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>
    }
    ;(unknownKey.services['kafka'] as Record<string, unknown>)['restart_policy'] = 'always'
    expect(validate(unknownKey)).toBe(false)
  })

  it('runs the Kafka version of scripts/kafka/pom.xml', () => {
    const pomVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(
      read('scripts/kafka/pom.xml'),
    )?.[1]
    expect(pomVersion).toMatch(/^\d+\.\d+\.\d+$/)
    for (const name of ['kafka', 'topics']) {
      expect(service(name).image, name).toBe(`apache/kafka:${pomVersion}`)
    }
  })

  it('configures the broker as local-services does (KRaft single node)', () => {
    const env = service('kafka').environment ?? {}
    // The apache/kafka image turns KAFKA_FOO_BAR into foo.bar (`__` into `_`, `___` into `-`).
    const props = new Map<string, string>()
    for (const [key, value] of Object.entries(env)) {
      if (!key.startsWith('KAFKA_') || key === 'KAFKA_HEAP_OPTS') continue
      const name = key
        .slice('KAFKA_'.length)
        .toLowerCase()
        .replace(/___/g, '-')
        .replace(/__/g, '\u0000')
        .replace(/_/g, '.')
        .replace(/\u0000/g, '_')
      props.set(name, String(value))
    }
    const local = new Map(
      serverProperties(9092, 9093, '/var/lib/kafka/data')
        .trim()
        .split('\n')
        .map((line) => {
          const at = line.indexOf('=')
          return [line.slice(0, at), line.slice(at + 1).replace(/\\(.)/g, '$1')] as const
        }),
    )
    // Host names differ (compose's service name vs loopback) and compose adds a HOST listener
    // for clients outside the compose network; everything else must be the same.
    const networked = new Set([
      'listeners',
      'advertised.listeners',
      'controller.quorum.voters',
      'listener.security.protocol.map',
    ])
    for (const [key, value] of local) {
      if (networked.has(key)) continue
      expect(props.get(key), key).toBe(value)
    }
    expect(props.get('controller.quorum.voters')).toBe(
      local.get('controller.quorum.voters')?.replace('127.0.0.1', 'kafka'),
    )
    const listeners = (props.get('listeners') ?? '').split(',')
    expect(listeners).toContain('PLAINTEXT://:9092')
    expect(listeners).toContain('CONTROLLER://:9093')
    expect((props.get('advertised.listeners') ?? '').split(',')).toContain('PLAINTEXT://kafka:9092')
    const map = (props.get('listener.security.protocol.map') ?? '').split(',')
    for (const entry of (local.get('listener.security.protocol.map') ?? '').split(',')) {
      expect(map, 'listener.security.protocol.map').toContain(entry)
    }
    // Every listener has a protocol, every advertised listener is a listener.
    const names = listeners.map((l) => l.split('://')[0])
    for (const name of names) expect(map.map((e) => e.split(':')[0])).toContain(name)
    const cluster = String(env['CLUSTER_ID'])
    expect(Buffer.from(cluster, 'base64url')).toHaveLength(16)
  })

  it('runs Redis with the flags of local-services (no RDB snapshots, no AOF)', () => {
    const args = serverArgs(6379, '/data', false)
    const flag = (list: readonly string[], name: string): string | undefined => {
      const at = list.indexOf(`--${name}`)
      return at < 0 ? undefined : list[at + 1]
    }
    const command = service('redis').command
    expect(Array.isArray(command)).toBe(true)
    const composeArgs = command as string[]
    expect(composeArgs[0]).toBe('redis-server')
    for (const name of ['save', 'appendonly']) {
      expect(flag(composeArgs, name), name).toBe(flag(args, name))
    }
  })

  it("driftwatch's mounted config is valid and points at the compose services and ports", () => {
    const mount = (service('driftwatch').volumes ?? []).find((v) =>
      v.endsWith(':/etc/driftwatch/driftwatch.yaml:ro'),
    )
    expect(mount).toBeDefined()
    const file = (mount as string).split(':')[0] as string
    const config = validateConfig(parseYaml(read(file)), serviceConfigSchema, file)

    expect(config.kafka.brokers).toEqual(['kafka:9092'])
    const redisUrl = new URL(config.redis.url)
    expect(redisUrl.hostname).toBe('redis')
    // redis-server's own default port unless the compose command moves it
    const redisPort = flag(service('redis').command as string[], 'port') ?? '6379'
    expect(redisUrl.port || '6379').toBe(redisPort)
    expect(config.http.host).toBe('0.0.0.0')
    expect(service('driftwatch').ports).toContain(`${config.http.port}:${config.http.port}`)
    expect(JSON.stringify(service('driftwatch').healthcheck?.test)).toContain(
      `127.0.0.1:${config.http.port}/readyz`,
    )
    // The reference the `reference` service writes is the one the config reads, on the same volume.
    const referenceFile = config.models[0]?.reference?.file ?? ''
    expect(JSON.stringify(service('reference').command)).toContain(`--out ${referenceFile}`)
    const volumeOf = (s: Service): string | undefined =>
      s.volumes?.find((v) => v.includes(':/var/lib/driftwatch/reference'))?.split(':')[0]
    expect(volumeOf(service('reference'))).toBe(volumeOf(service('driftwatch')))

    // The input topic the `topics` service creates is the one driftwatch reads and the simulator writes.
    const topicsArgs = service('topics').entrypoint as string[]
    const created = topicsArgs[topicsArgs.indexOf('--topic') + 1]
    expect(config.kafka.topics.predictions).toEqual([created])
    const sim = service('simulator').command as string[]
    expect(sim[sim.indexOf('--topic') + 1]).toBe(created)
    expect(sim[sim.indexOf('--brokers') + 1]).toBe(config.kafka.brokers.join(','))
    expect(config.models.map((m) => m.name)).toContain(sim[sim.indexOf('--model') + 1])

    // Prometheus scrapes driftwatch under the job name the rules match.
    const prometheus = parseYaml(read('deploy/compose/prometheus.yml')) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>
    }
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'driftwatch')
    expect(job?.static_configs[0]?.targets).toEqual([`driftwatch:${config.http.port}`])
    expect(read('deploy/prometheus/rules.yml')).toContain('job="driftwatch"')
    expect(service('prometheus').volumes).toContain(
      './deploy/prometheus/rules.yml:/etc/prometheus/rules.yml:ro',
    )
  })

  it('calls only flags the CLI has (simulate, reference build, run)', () => {
    const program = new Command('driftwatch')
    registerSimulate(program)
    registerReference(program)
    registerRun(program)
    const flagsOf = (path: readonly string[]): Set<string> => {
      let command: Command | undefined = program
      for (const name of path) command = command?.commands.find((c) => c.name() === name)
      if (command === undefined) throw new Error(`no command ${path.join(' ')}`)
      return new Set(command.options.flatMap((o) => [o.long, o.short]).filter(Boolean) as string[])
    }
    const used = (args: readonly string[]): string[] => args.filter((a) => a.startsWith('-'))

    const sim = service('simulator').command as string[]
    expect(sim[0]).toBe('simulate')
    const simulateFlags = flagsOf(['simulate'])
    for (const f of used(sim)) expect(simulateFlags, `simulate ${f}`).toContain(f)

    const run = service('driftwatch').command as string[]
    expect(run[0]).toBe('run')
    for (const f of used(run)) expect(flagsOf(['run']), `run ${f}`).toContain(f)

    const script = (service('reference').command as string[]).join(' ')
    for (const [, sub, args] of script.matchAll(
      /driftwatch (simulate|reference build)([^&;|}]*)/g,
    )) {
      const flags = flagsOf((sub as string).split(' '))
      for (const f of (args as string).split(/\s+/).filter((a) => a.startsWith('-')))
        expect(flags, `${sub} ${f}`).toContain(f)
    }
  })

  it('has a health check on every long-running service and waits on them', () => {
    const oneShot = new Set(['topics', 'reference', 'simulator'])
    for (const [name, s] of Object.entries(compose.services)) {
      if (oneShot.has(name)) continue
      expect(s.healthcheck?.test, `${name} healthcheck`).toBeDefined()
      expect(s.healthcheck?.disable, name).not.toBe(true)
    }
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        const expected = oneShot.has(dependency)
          ? 'service_completed_successfully'
          : 'service_healthy'
        expect(condition, `${name} → ${dependency}`).toBe(expected)
      }
    }
  })
})

describe('deploy/alertmanager/alertmanager.yml', () => {
  interface Route {
    receiver?: string
    matchers?: string[]
    routes?: Route[]
  }
  const config = parseYaml(read('deploy/alertmanager/alertmanager.yml')) as {
    route: Route
    receivers: Array<{ name: string }>
    inhibit_rules?: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>
  }
  const rules = parseYaml(read('deploy/prometheus/rules.yml')) as {
    groups: Array<{ rules: Array<{ alert: string; labels: Record<string, string> }> }>
  }
  const alerts = rules.groups.flatMap((g) => g.rules)

  it('routes to receivers it defines, by labels our rules set', () => {
    const receivers = new Set(config.receivers.map((r) => r.name))
    const severities = new Set(alerts.map((a) => a.labels['severity']))
    const walk = (route: Route): void => {
      if (route.receiver !== undefined) expect(receivers, route.receiver).toContain(route.receiver)
      for (const matcher of route.matchers ?? []) {
        const [, label, value] = /^(\w+)="([^"]*)"$/.exec(matcher) ?? []
        expect(label, matcher).toBe('severity')
        expect(severities, matcher).toContain(value)
      }
      for (const child of route.routes ?? []) walk(child)
    }
    expect(config.route.receiver).toBeDefined()
    walk(config.route)
  })

  it('inhibits only alerts that exist, on labels they carry', () => {
    const names = new Set(alerts.map((a) => a.alert))
    for (const rule of config.inhibit_rules ?? []) {
      for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
        const [, value] = /^alertname="([^"]*)"$/.exec(matcher) ?? []
        expect(names, matcher).toContain(value)
      }
      // `model` is a label of the metrics both alerts come from
      for (const label of rule.equal) expect(label).toBe('model')
    }
  })

  it('is where compose mounts it, and Prometheus sends alerts to it', () => {
    expect(service('alertmanager').volumes).toContain(
      './deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro',
    )
    const prometheus = parseYaml(read('deploy/compose/prometheus.yml')) as {
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> }
    }
    expect(prometheus.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual([
      'alertmanager:9093',
    ])
    expect(service('alertmanager').ports).toContain('9093:9093')
  })
})

function flag(list: readonly string[], name: string): string | undefined {
  const at = list.indexOf(`--${name}`)
  return at < 0 ? undefined : list[at + 1]
}
