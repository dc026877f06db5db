// docker-compose.yml's driftwatch part without Docker: the commands and the config that compose
// runs, run here with bin/driftwatch.js against the real Kafka and Redis of test/global-setup.ts.
// The `reference` service's script writes the reference the mounted config reads; `driftwatch run`
// with deploy/compose/driftwatch.yaml becomes ready (the compose health check: /readyz); the
// simulator's command feeds it events it counts. Only what cannot be the same outside a compose
// network changes: host names (via the DRIFTWATCH_* overrides the image honours too), the
// reference directory (a temp dir, not /var/lib), and, so the shared test broker and Redis see no
// collisions, the topic, group and key prefix. Needs `npm run build` (bin/driftwatch.js runs dist/).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/adapters/local-services/free-port.js'
import { binPath } from '../helpers/cli.js'
import { waitFor } from '../helpers/redis-counts.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'
import { createTopics, streamNames, testKafka } from '../helpers/stream.js'

const root = resolve(import.meta.dirname, '../..')

interface Service {
  command?: string[]
  entrypoint?: string[]
  volumes?: string[]
}
const compose = parseYaml(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> }
const service = (name: string): Service => compose.services[name] as Service

const inContainerReferenceDir = '/var/lib/driftwatch/reference'

describe('the compose stack, without Docker', () => {
  const names = streamNames()
  let dir = ''
  let detector: ChildProcess | undefined
  let log = ''
  let url = ''

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftwatch-compose-'))
    log = join(dir, 'driftwatch.log')
  })

  afterAll(async () => {
    if (detector !== undefined && detector.exitCode === null) {
      detector.kill('SIGTERM')
      await new Promise((done) => detector?.once('exit', done))
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  it("the reference service's script writes the snapshot the config reads", () => {
    const [shell, flag] = service('reference').entrypoint ?? []
    const script = (service('reference').command ?? [])
      .join(' ')
      .replaceAll(inContainerReferenceDir, join(dir, 'reference'))
      .replaceAll('/tmp/rows.csv', join(dir, 'rows.csv'))
      .replace(/\bdriftwatch /g, `${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} `)
    rmSync(join(dir, 'reference'), { recursive: true, force: true })
    spawnSync('mkdir', ['-p', join(dir, 'reference')])
    const result = spawnSync(shell as string, [flag as string, script], { encoding: 'utf8' })
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0)
    // a snapshot driftwatch can load: the next test's /readyz needs it
    expect(JSON.parse(readFileSync(join(dir, 'reference', 'fraud.json'), 'utf8'))).toBeTypeOf(
      'object',
    )
    // Run again: the file exists, so the script leaves it alone (a restart keeps the reference).
    const before = readFileSync(join(dir, 'reference', 'fraud.json'), 'utf8')
    expect(spawnSync(shell as string, [flag as string, script]).status).toBe(0)
    expect(readFileSync(join(dir, 'reference', 'fraud.json'), 'utf8')).toBe(before)
  }, 120_000)

  it('driftwatch runs with the compose config and becomes ready (/readyz)', async () => {
    const config = parseYaml(
      readFileSync(resolve(root, 'deploy/compose/driftwatch.yaml'), 'utf8'),
    ) as {
      kafka: { groupId: string; topics: Record<string, unknown> }
      redis: { keyPrefix?: string }
      models: Array<{ reference: { file: string } }>
    }
    config.kafka.groupId = names.groupId
    config.kafka.topics = {
      predictions: [names.input],
      deadLetter: names.deadLetter,
      reports: names.reports,
      alerts: names.alerts,
      retrain: names.retrain,
    }
    config.redis.keyPrefix = names.keyPrefix
    for (const model of config.models) {
      model.reference.file = model.reference.file.replace(
        inContainerReferenceDir,
        join(dir, 'reference'),
      )
    }
    const configFile = join(dir, 'driftwatch.yaml')
    writeFileSync(configFile, stringify(config))

    // the `topics` service: the input topic with its partition count
    const topicsArgs = service('topics').entrypoint ?? []
    const partitions = Number(topicsArgs[topicsArgs.indexOf('--partitions') + 1])
    await createTopics(testKafka(), [{ topic: names.input, numPartitions: partitions }])

    // compose's command, with the path where compose mounts the config replaced by this copy
    const command = [...(service('driftwatch').command ?? [])]
    const at = command.indexOf('--config') + 1
    expect(command[at]).toBe('/etc/driftwatch/driftwatch.yaml')
    command[at] = configFile
    const port = await freePort()
    const fd = openSync(log, 'a')
    detector = spawn(process.execPath, [binPath, ...command], {
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        DRIFTWATCH_KAFKA_BROKERS: kafkaBrokers(),
        DRIFTWATCH_REDIS_URL: redisUrl(),
        DRIFTWATCH_HTTP_HOST: '127.0.0.1',
        DRIFTWATCH_HTTP_PORT: String(port),
      },
    })
    closeSync(fd)
    url = `http://127.0.0.1:${port}`
    await waitFor(
      '/readyz 200',
      async () => {
        if (detector?.exitCode !== null) throw new Error(readFileSync(log, 'utf8'))
        const response = await fetch(`${url}/readyz`).catch(() => undefined)
        return response?.ok === true ? true : undefined
      },
      90_000,
    )
  }, 120_000)

  it("the simulator's command feeds it events it counts", async () => {
    expect(url).not.toBe('')
    const args = [...(service('simulator').command ?? [])]
    args[args.indexOf('--brokers') + 1] = kafkaBrokers()
    args[args.indexOf('--topic') + 1] = names.input
    // as fast as Kafka takes them, and a bounded run, instead of 200/s until stopped
    args[args.indexOf('--rate') + 1] = '0'
    const count = 5000
    const result = spawnSync(process.execPath, [binPath, ...args, '--count', String(count)], {
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(result.status, result.stderr).toBe(0)
    const consumed = await waitFor(
      `${count} events consumed`,
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text()
        const line = text
          .split('\n')
          .find((l) => l.startsWith('driftwatch_events_consumed_total{') && l.includes('"fraud"'))
        const n = Number(line?.split(' ').at(-1))
        return n >= count ? n : undefined
      },
      90_000,
    )
    expect(consumed).toBe(count)
    const invalid = (await (await fetch(`${url}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('driftwatch_events_invalid_total{'))
    expect(invalid).toEqual([])
  }, 240_000)
})
