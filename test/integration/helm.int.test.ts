// The Helm chart (helm/driftwatch): scripts/ci/check-helm.sh passes (helm lint --strict, helm
// template, kubeconform strict and offline, promtool on the PrometheusRule, values.schema.json
// enforced), and what the chart renders keeps its promises: probes, non-root, read-only root
// filesystem, secrets as DRIFTWATCH_* variables, a config driftwatch accepts, a ServiceMonitor
// that finds the Service and yields job="driftwatch" (what the rules match), the same rules as
// deploy/prometheus/rules.yml and the same dashboard as deploy/grafana/dashboards/.
//
// Needs go (to build helm and kubeconform once per machine into .cache/go-bin), python3 with pip
// (Kubernetes JSON schemas from the kubernetes-validate package, once) and promtool.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/load.js'
import { serviceConfigJsonSchema, serviceConfigSchema } from '../../src/config/service.js'

const root = resolve(import.meta.dirname, '../..')
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8')

interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string> }
  spec?: Record<string, unknown>
  data?: Record<string, string>
}

// Loose views of the parts the assertions read.
interface Container {
  ports: Array<{ name: string; containerPort: number }>
  env: Array<{
    name: string
    value?: string
    valueFrom?: { secretKeyRef: Record<string, unknown> }
  }>
  livenessProbe: { httpGet: { path: string; port: string } }
  readinessProbe: { httpGet: { path: string; port: string } }
  resources: { requests?: Record<string, string>; limits?: Record<string, string> }
  securityContext: Record<string, unknown>
  volumeMounts: Array<{ name: string; mountPath: string }>
}
interface PodSpec {
  securityContext: Record<string, unknown>
  containers: Container[]
  volumes: Array<{ name: string; emptyDir?: unknown; configMap?: { name: string } }>
}

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null)
}

function one(list: readonly Manifest[], kind: string, nameSuffix = ''): Manifest {
  const found = list.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix))
  expect(
    found.map((m) => m.metadata.name),
    kind,
  ).toHaveLength(1)
  return found[0] as Manifest
}

function podSpec(deployment: Manifest): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec
}

describe('helm/driftwatch', () => {
  let out = ''
  let check: { status: number | null; output: string }

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'driftwatch-helm-'))
    const result = spawnSync('bash', [resolve(root, 'scripts/ci/check-helm.sh'), '--out', out], {
      encoding: 'utf8',
      cwd: root,
    })
    check = { status: result.status, output: `${result.stdout}${result.stderr}` }
  }, 1_200_000)

  afterAll(() => {
    if (out !== '') rmSync(out, { recursive: true, force: true })
  })

  it('passes scripts/ci/check-helm.sh (helm lint, helm template, kubeconform, promtool)', () => {
    expect(check.status, check.output).toBe(0)
    expect(check.output).toMatch(/Valid: \d+, Invalid: 0, Errors: 0/)
    expect(check.output).toContain('check-helm: ok')
  })

  it('renders only the core objects by default, and every optional one when enabled', () => {
    const kinds = (file: string): string[] =>
      manifests(join(out, file))
        .map((m) => m.kind)
        .sort()
    expect(kinds('default.yaml')).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
    ])
    expect(kinds('all-on.yaml')).toEqual([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Service',
      'ServiceMonitor',
    ])
  })

  it('runs driftwatch as a non-root, read-only pod with probes on /healthz and /readyz', () => {
    const all = manifests(join(out, 'default.yaml'))
    const pod = podSpec(one(all, 'Deployment'))
    const config = validateConfig(
      parseYaml(one(all, 'ConfigMap').data?.['driftwatch.yaml'] ?? ''),
      serviceConfigSchema,
      'ConfigMap driftwatch.yaml',
    )
    expect(pod.securityContext['runAsNonRoot']).toBe(true)
    expect(Number(pod.securityContext['runAsUser'])).toBeGreaterThan(0)
    const [container] = pod.containers
    if (container === undefined) throw new Error('no container')
    expect(container.securityContext['readOnlyRootFilesystem']).toBe(true)
    expect(container.securityContext['allowPrivilegeEscalation']).toBe(false)
    const tmp = container.volumeMounts.find((m) => m.mountPath === '/tmp')
    expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined()
    expect(container.ports).toEqual([
      { name: 'http', containerPort: config.http.port, protocol: 'TCP' },
    ])
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' })
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' })
    expect(container.resources.requests?.['cpu']).toBeDefined()
    expect(container.resources.limits?.['memory']).toBeDefined()
    // listening on the pod IP, not only loopback
    expect(container.env).toContainEqual({ name: 'DRIFTWATCH_HTTP_HOST', value: '0.0.0.0' })
  })

  it('takes passwords and the admin token from the existing Secret as DRIFTWATCH_* variables', () => {
    const all = manifests(join(out, 'all-on.yaml'))
    const env = podSpec(one(all, 'Deployment')).containers[0]?.env ?? []
    const fromSecret = Object.fromEntries(
      env.filter((e) => e.valueFrom !== undefined).map((e) => [e.name, e.valueFrom?.secretKeyRef]),
    )
    expect(fromSecret).toEqual({
      DRIFTWATCH_ADMIN_TOKEN: { name: 'driftwatch-secrets', key: 'admin-token', optional: true },
      DRIFTWATCH_KAFKA_PASSWORD: {
        name: 'driftwatch-secrets',
        key: 'kafka-password',
        optional: true,
      },
      DRIFTWATCH_REDIS_PASSWORD: {
        name: 'driftwatch-secrets',
        key: 'redis-password',
        optional: true,
      },
    })
    // the env names are the ones driftwatch reads (src/config/env.ts)
    const envSource = read('src/config/env.ts')
    for (const name of Object.keys(fromSecret)) expect(envSource).toContain(`'${name}'`)
    // with the HPA on, the Deployment leaves the replica count to it
    expect(one(all, 'Deployment').spec?.['replicas']).toBeUndefined()
  })

  it('ServiceMonitor selects the Service, scrapes its port and yields job="driftwatch"', () => {
    const all = manifests(join(out, 'all-on.yaml'))
    const service = one(all, 'Service')
    const monitor = one(all, 'ServiceMonitor').spec as {
      jobLabel: string
      selector: { matchLabels: Record<string, string> }
      endpoints: Array<{ port: string; path: string }>
    }
    expect(service.metadata.labels).toMatchObject(monitor.selector.matchLabels)
    const ports = (service.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)
    for (const endpoint of monitor.endpoints) {
      expect(ports).toContain(endpoint.port)
      expect(endpoint.path).toBe('/metrics')
    }
    // The rules match job="driftwatch"; the operator takes the job from this Service label.
    expect(read('deploy/prometheus/rules.yml')).toContain('job="driftwatch"')
    expect(service.metadata.labels?.[monitor.jobLabel]).toBe('driftwatch')
  })

  it('PrometheusRule carries exactly the rules of deploy/prometheus/rules.yml', () => {
    const rule = one(manifests(join(out, 'all-on.yaml')), 'PrometheusRule')
    expect(rule.spec).toEqual(parseYaml(read('deploy/prometheus/rules.yml')))
  })

  it('ships the Grafana dashboard as a ConfigMap Grafana picks up by label', () => {
    const cm = one(manifests(join(out, 'all-on.yaml')), 'ConfigMap', '-dashboard')
    expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1')
    expect(JSON.parse(cm.data?.['driftwatch.json'] ?? '')).toEqual(
      JSON.parse(read('deploy/grafana/dashboards/driftwatch.json')),
    )
  })

  it("values.schema.json's config is driftwatch's config schema (scripts/helm-values-schema.mjs)", () => {
    const values = JSON.parse(read('helm/driftwatch/values.schema.json')) as {
      properties: { config: unknown }
    }
    const { $schema: _ignored, ...expected } = serviceConfigJsonSchema() as Record<string, unknown>
    expect(
      values.properties.config,
      'stale: npm run build && node scripts/helm-values-schema.mjs',
    ).toEqual(expected)
  })
})
