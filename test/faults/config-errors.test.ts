// A malformed driftwatch.yaml must stop `driftwatch run` before it connects to anything, and
// `driftwatch config check` must say the same: exit code 2, nothing on stdout, and one line on
// stderr, `driftwatch: error: <file>: <field>: <problem>`. The configs point at ports nobody
// listens on (Kafka 127.0.0.1:9, Redis 127.0.0.1:9): had `run` tried to connect, it would have
// waited out the Redis connect timeout (10 s) and failed with a Redis message instead of the line
// expected here. (Wall-clock times are printed, not asserted: on a loaded 2-core machine a bare
// `driftwatch --version` takes up to 3 s.)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type CliResult } from '../helpers/cli.js'
import { writeReference } from '../helpers/stream.js'

interface Case {
  readonly name: string
  /** the YAML text; `REF` is replaced by the path of a real reference file */
  readonly yaml: string
  readonly field: string
  readonly problem: RegExp
}

const kafka = 'kafka:\n  brokers: ["127.0.0.1:9"]\n'
const redis = 'redis:\n  url: redis://127.0.0.1:9\n'
const model = 'models:\n  - name: fraud\n    reference:\n      file: REF\n'
const valid = kafka + redis + model

const cases: readonly Case[] = [
  {
    name: 'missing kafka.brokers',
    yaml: 'kafka:\n  groupId: g\n' + redis + model,
    field: 'kafka.brokers',
    problem: /expected array, received undefined/,
  },
  {
    name: 'kafka.brokers as a string',
    yaml: 'kafka:\n  brokers: "127.0.0.1:9092"\n' + redis + model,
    field: 'kafka.brokers',
    problem: /expected array, received string/,
  },
  {
    name: 'http.port of the wrong type',
    yaml: valid + 'http:\n  port: ninety\n',
    field: 'http.port',
    problem: /expected number, received string/,
  },
  {
    name: 'http.port out of range',
    yaml: valid + 'http:\n  port: 70000\n',
    field: 'http.port',
    problem: /65535/,
  },
  {
    name: 'duration "5 minutes"',
    yaml: valid + 'flushInterval: 5 minutes\n',
    field: 'flushInterval',
    problem: /expected a duration like "500ms".*got "5 minutes"/,
  },
  {
    name: 'zero bucket',
    yaml: valid + '    window:\n      bucket: 0s\n',
    field: 'models[0].window.bucket',
    problem: /expected a duration/,
  },
  {
    name: 'window.size not a multiple of the bucket',
    yaml: valid + '    window:\n      bucket: 1m\n      size: 90s\n',
    field: 'models[0].window.size',
    problem: /whole number of buckets/,
  },
  {
    name: 'retention shorter than the window',
    yaml: valid + '    window:\n      size: 1h\n      retention: 30m\n',
    field: 'models[0].window.retention',
    problem: /retention must cover/,
  },
  {
    name: 'alerts.alertmanager.url without a scheme',
    yaml: valid + 'alerts:\n  alertmanager:\n    url: alertmanager:9093\n',
    field: 'alerts.alertmanager.url',
    problem: /expected http\(s\):\/\/host:port/,
  },
  {
    name: 'alerts.alertmanager.resendInterval not a duration',
    yaml:
      valid +
      'alerts:\n  alertmanager:\n    url: http://127.0.0.1:9\n    resendInterval: 1 minute\n',
    field: 'alerts.alertmanager.resendInterval',
    problem: /expected a duration/,
  },
  {
    name: 'unknown key',
    yaml: kafka + '  brokerz: ["x"]\n' + redis + model,
    field: 'kafka',
    problem: /Unrecognized key: "brokerz"/,
  },
  {
    name: 'unknown top-level key',
    yaml: valid + 'flush_interval: 1s\n',
    field: '(root)',
    problem: /Unrecognized key: "flush_interval"/,
  },
  {
    name: 'invalid YAML (unclosed flow sequence)',
    yaml: 'kafka:\n  brokers: ["127.0.0.1:9"\n' + redis + model,
    field: '(syntax)',
    problem: /invalid YAML: .* at line \d+, column \d+$/,
  },
  {
    name: 'invalid YAML (tab indentation)',
    yaml: valid + '\tlogLevel: info\n',
    field: '(syntax)',
    problem: /invalid YAML: Tabs are not allowed as indentation at line \d+, column \d+$/,
  },
  {
    name: 'a YAML list instead of a mapping',
    yaml: '- kafka\n- redis\n',
    field: '(root)',
    problem: /expected a mapping of settings .* got a list/,
  },
  {
    name: 'bad topic name',
    yaml: kafka + '  topics:\n    deadLetter: "dead letters!"\n' + redis + model,
    field: 'kafka.topics.deadLetter',
    problem: /expected a Kafka topic name/,
  },
  {
    name: 'redis.url without a scheme',
    yaml: kafka + 'redis:\n  url: 127.0.0.1:6379\n' + model,
    field: 'redis.url',
    problem: /expected redis:\/\/host:port/,
  },
  {
    name: 'unknown log level',
    yaml: valid + 'logLevel: verbose\n',
    field: 'logLevel',
    problem: /expected one of/,
  },
  {
    name: 'missing models',
    yaml: kafka + redis,
    field: 'models',
    problem: /expected array, received undefined/,
  },
  {
    name: 'empty models',
    yaml: kafka + redis + 'models: []\n',
    field: 'models',
    problem: />=1 items/,
  },
  {
    name: 'model name with a space',
    yaml: kafka + redis + 'models:\n  - name: fraud detector\n',
    field: 'models[0].name',
    problem: /expected a model name/,
  },
  {
    name: 'model configured twice',
    yaml: valid + '  - name: fraud\n',
    field: 'models[1].name',
    problem: /'fraud' is already the name of models\[0\]/,
  },
  {
    name: 'reference file missing',
    yaml:
      kafka +
      redis +
      'models:\n  - name: fraud\n    reference:\n      file: /nonexistent/driftwatch/reference.json\n',
    field: 'models[0].reference.file',
    problem: /cannot read \/nonexistent\/driftwatch\/reference\.json: ENOENT/,
  },
  {
    name: 'unknown drift test',
    yaml: valid + '    drift:\n      test: kolmogorov\n',
    field: 'models[0].drift.test',
    problem: /unknown drift test 'kolmogorov'; available: auto, ks, /,
  },
  {
    name: 'a condition with an unknown metric',
    yaml: valid + '    conditions: ["rows >= 1000", "recal >= 0.9"]\n',
    field: 'models[0].conditions[1]',
    problem: /unknown metric 'recal'; known: rows, /,
  },
  {
    name: 'a condition on a feature the reference lacks',
    yaml: valid + '    conditions: ["feature.f99.missingShare <= 0.01"]\n',
    field: 'models[0].conditions[0]',
    problem: /unknown feature 'f99'; features: f00, /,
  },
  {
    name: 'unknown drift test for one feature',
    yaml: valid + '    drift:\n      features:\n        f01:\n          test: psy\n',
    field: 'models[0].drift.features.f01.test',
    problem: /unknown drift test 'psy'/,
  },
  {
    name: 'kafka.sessionTimeout below what brokers accept',
    yaml: 'kafka:\n  brokers: ["127.0.0.1:9"]\n  sessionTimeout: 2s\n' + redis + model,
    field: 'kafka.sessionTimeout',
    problem: /expected between 6s and 30m/,
  },
  {
    name: 'kafka.heartbeatInterval over a third of the session timeout',
    yaml:
      'kafka:\n  brokers: ["127.0.0.1:9"]\n  sessionTimeout: 10s\n  heartbeatInterval: 4s\n' +
      redis +
      model,
    field: 'kafka.heartbeatInterval',
    problem: /expected at most a third of kafka.sessionTimeout/,
  },
  {
    name: 'watched feature the reference does not have',
    yaml: valid + '    features: [f01, f77]\n',
    field: 'models[0].features',
    problem: /^'f77' not in the reference \(its columns: f00, f01, /,
  },
  {
    name: 'misspelt feature under drift.features (did you mean)',
    yaml: valid + '    drift:\n      features:\n        countyr:\n          test: psi\n',
    field: 'models[0].drift.features.countyr',
    problem: /^unknown feature 'countyr'; did you mean 'country'\? \(reference columns: f00, /,
  },
  {
    name: 'a numerical-only test for a categorical feature',
    yaml: valid + '    drift:\n      features:\n        device:\n          test: ks\n',
    field: 'models[0].drift.features.device.test',
    problem:
      /^ks does not fit feature 'device': ks applies to numerical features only; in the reference, 'device' is categorical with 3 values$/,
  },
  {
    name: 'chisquare for numerical features with many values',
    yaml: valid + '    drift:\n      kinds:\n        numerical:\n          test: chisquare\n',
    field: 'models[0].drift.kinds.numerical.test',
    problem: /^chisquare does not fit features 'f00', .*at most 5 distinct values/,
  },
  {
    name: 'a kind-level test that never fits its kind (no reference needed)',
    yaml:
      kafka +
      redis +
      'models:\n  - name: fraud\n    drift:\n      kinds:\n        categorical:\n          test: wasserstein\n',
    field: 'models[0].drift.kinds.categorical.test',
    problem: /^wasserstein does not apply to categorical features/,
  },
  {
    name: 'kind override for a snapshot reference',
    yaml: valid + '    drift:\n      columns:\n        f01: categorical\n',
    field: 'models[0].drift.columns.f01',
    problem: /^a kind override cannot apply to a reference snapshot/,
  },
  {
    name: 'drift threshold of the wrong type',
    yaml: valid + '    drift:\n      threshold: high\n',
    field: 'models[0].drift.threshold',
    problem: /expected number, received string/,
  },
]

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await work(items[i] as T)
      }
    }),
  )
  return out
}

describe('malformed configs: exit 2 with one line naming the field and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-fault-config-'))
  const results = new Map<
    string,
    { path: string; check: CliResult & { ms: number }; run: CliResult & { ms: number } }
  >()
  let validCheck: CliResult
  let reference: string

  beforeAll(async () => {
    reference = await writeReference(dir, 200, 5)
    const paths = cases.map((c, i) => {
      const path = join(dir, `bad-${String(i).padStart(2, '0')}.yaml`)
      writeFileSync(path, c.yaml.replaceAll('REF', reference))
      return path
    })
    const validPath = join(dir, 'valid.yaml')
    writeFileSync(validPath, valid.replaceAll('REF', reference))
    const timed = async (args: string[]): Promise<CliResult & { ms: number }> => {
      const started = Date.now()
      const result = await runCli(args, { timeoutMs: 30_000 })
      return { ...result, ms: Date.now() - started }
    }
    const jobs = cases.flatMap((c, i) => [
      { c, path: paths[i] as string, kind: 'check' as const },
      { c, path: paths[i] as string, kind: 'run' as const },
    ])
    const outcomes = await pool(jobs, 4, async (job) => ({
      job,
      result: await timed(
        job.kind === 'check' ? ['config', 'check', job.path] : ['run', '--config', job.path],
      ),
    }))
    for (const { job, result } of outcomes) {
      const entry = results.get(job.c.name) ?? { path: job.path, check: result, run: result }
      entry[job.kind] = result
      results.set(job.c.name, entry)
    }
    validCheck = await runCli(['config', 'check', validPath])
    const times = outcomes.map((o) => o.result.ms).sort((a, b) => a - b)
    console.log(
      `[faults] config errors: ${cases.length} kinds × (config check, run); exit in ${times[0]}–${times[times.length - 1]} ms (median ${times[Math.floor(times.length / 2)]} ms, 4 at a time)`,
    )
  }, 120_000)

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('has at least a dozen kinds of mistakes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12)
  })

  it('accepts the valid config the mistakes are made in', () => {
    expect(validCheck.code, validCheck.stderr).toBe(0)
    expect(validCheck.stdout).toMatch(/valid\n$/)
  })

  for (const c of cases) {
    for (const command of ['check', 'run'] as const) {
      it(`${command === 'check' ? 'config check' : 'run'}: ${c.name}`, () => {
        const entry = results.get(c.name)
        expect(entry).toBeDefined()
        const { path } = entry as { path: string }
        const result = (entry as Record<typeof command, CliResult & { ms: number }>)[command]
        expect(result.code, result.stderr).toBe(2)
        expect(result.stdout).toBe('')
        const lines = result.stderr.split('\n').filter((line) => line !== '')
        expect(lines, result.stderr).toHaveLength(1)
        const line = lines[0] as string
        expect(line).toMatch(
          new RegExp(`^driftwatch: error: ${escape(path)}: ${escape(c.field)}: `),
        )
        expect(line.slice(`driftwatch: error: ${path}: ${c.field}: `.length)).toMatch(c.problem)
      })
    }
  }

  it('reports every mistake at once, one line each', async () => {
    const path = join(dir, 'many.yaml')
    writeFileSync(
      path,
      valid.replaceAll('REF', reference) +
        '    drift:\n      features:\n        countyr:\n          test: psi\n        devise:\n          test: ks\n      columns:\n        f02: categorical\n' +
        '  - name: other\n    drift:\n      test: kolmogorov\n',
    )
    for (const args of [
      ['config', 'check', path],
      ['run', '--config', path],
    ]) {
      const result = await runCli(args, { timeoutMs: 30_000 })
      expect(result.code, result.stderr).toBe(2)
      expect(result.stdout).toBe('')
      const fields = result.stderr
        .trim()
        .split('\n')
        .map((line) => {
          expect(line.startsWith(`driftwatch: error: ${path}: `), line).toBe(true)
          return line.slice(`driftwatch: error: ${path}: `.length).split(': ')[0]
        })
      expect(fields).toEqual([
        'models[0].drift.columns.f02',
        'models[0].drift.features.countyr',
        'models[0].drift.features.devise',
        'models[1].drift.test',
      ])
      expect(result.stderr).toContain("did you mean 'country'?")
      expect(result.stderr).toContain("did you mean 'device'?")
    }
  })

  it('reports every schema problem at once', async () => {
    const path = join(dir, 'schema-many.yaml')
    writeFileSync(
      path,
      valid.replaceAll('REF', reference) + 'logLevel: verbose\nhttp:\n  port: ninety\n',
    )
    const result = await runCli(['config', 'check', path])
    expect(result.code).toBe(2)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(
      lines.map((l) => l.slice(`driftwatch: error: ${path}: `.length).split(': ')[0]).sort(),
    ).toEqual(['http.port', 'logLevel'])
  })

  it('names a config file that does not exist', async () => {
    const path = join(dir, 'missing.yaml')
    for (const args of [
      ['config', 'check', path],
      ['run', '--config', path],
    ]) {
      const result = await runCli(args)
      expect(result.code).toBe(2)
      expect(result.stderr.trim()).toMatch(
        new RegExp(`^driftwatch: error: ${escape(path)}: \\(file\\): cannot read config: ENOENT`),
      )
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
    }
  })
})
