import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePorts } from './free-port.js'
import {
  describeExit,
  isMissingExecutable,
  spawnSupervised,
  tailFile,
  type SupervisedProcess,
  waitForExitOrTimeout,
  PortTakenError,
  withPortRetries,
} from './supervisor.js'

export interface LocalRedisCluster {
  /** `redis://127.0.0.1:<p1>,127.0.0.1:<p2>,…`: every master as a seed node */
  readonly url: string
  readonly nodes: readonly {
    readonly host: string
    readonly port: number
    readonly pid: number
    readonly logFile: string
  }[]
  stop(): Promise<void>
}

export interface StartRedisClusterOptions {
  /** Masters, no replicas. Redis Cluster needs at least 3. Default 3. */
  readonly masters?: number
  readonly log?: (line: string) => void
}

const HOST = '127.0.0.1'
const READY_TIMEOUT_MS = 30_000
const CREATE_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 15_000
const LOG_TAIL_LINES = 40

const noop = (): void => undefined

interface Node {
  readonly port: number
  readonly proc: SupervisedProcess
  readonly logFile: string
}

function probeClient(port: number): Redis {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  })
  client.on('error', noop)
  return client
}

/** Runs `command` against one node; undefined while the node does not answer. */
async function ask(port: number, ...command: [string, ...string[]]): Promise<unknown> {
  const client = probeClient(port)
  try {
    await client.connect()
    return await client.call(...command)
  } catch {
    return undefined
  } finally {
    client.disconnect()
  }
}

function failIfExited(node: Node): void {
  const exit = node.proc.exitInfo()
  if (exit === undefined) return
  const tail = tailFile(node.logFile, LOG_TAIL_LINES)
  const message = `local Redis Cluster: node on port ${node.port} ${describeExit(exit)}\n${tail}`
  throw tail.includes('Address already in use') ? new PortTakenError(message) : new Error(message)
}

async function waitFor(
  nodes: readonly Node[],
  what: string,
  check: (node: Node) => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (const node of nodes) {
    for (;;) {
      failIfExited(node)
      if (await check(node)) break
      if (Date.now() > deadline) {
        throw new Error(
          `local Redis Cluster: node on port ${node.port} not ${what} after ${READY_TIMEOUT_MS / 1000} s\n` +
            tailFile(node.logFile, LOG_TAIL_LINES),
        )
      }
      await waitForExitOrTimeout(node.proc, 50)
    }
  }
}

function nodeArgs(port: number, busPort: number, workDir: string): string[] {
  const settings = {
    port: String(port),
    // Set explicitly: the default (port + 10000) may be taken, or above 65535.
    'cluster-port': String(busPort),
    bind: HOST,
    'cluster-enabled': 'yes',
    'cluster-config-file': 'nodes.conf',
    'cluster-node-timeout': '5000',
    save: '',
    appendonly: 'no',
    dir: workDir,
    daemonize: 'no',
    logfile: '',
  }
  return Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value])
}

function redisCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: CREATE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(
          isMissingExecutable(error)
            ? new Error(
                'local Redis Cluster: `redis-cli` not found on PATH; install it with `apt-get install -y redis-tools`',
              )
            : new Error(
                `local Redis Cluster: redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`,
              ),
        )
        return
      }
      resolve(stdout)
    })
  })
}

async function stopNodes(nodes: readonly Node[]): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      if (node.proc.exitInfo() === undefined) {
        // NOSAVE: no dump; the cluster's state is throwaway.
        await ask(node.port, 'SHUTDOWN', 'NOSAVE')
        await waitForExitOrTimeout(node.proc, 5_000)
      }
      await node.proc.terminate(STOP_GRACE_MS)
    }),
  )
}

async function startOnce(masters: number, log: (line: string) => void): Promise<LocalRedisCluster> {
  const started = performance.now()
  const ports = await freePorts(masters * 2)
  const nodes: Node[] = []
  try {
    for (let i = 0; i < masters; i++) {
      const port = ports[i]
      const busPort = ports[masters + i]
      if (port === undefined || busPort === undefined)
        throw new Error('local Redis Cluster: not enough free ports')
      const workDir = mkdtempSync(join(tmpdir(), 'driftwatch-redis-cluster-'))
      const logFile = join(workDir, 'redis.log')
      let proc: SupervisedProcess
      try {
        proc = await spawnSupervised('redis-server', nodeArgs(port, busPort, workDir), {
          outputFile: logFile,
          ownedDir: workDir,
        })
      } catch (error) {
        rmSync(workDir, { recursive: true, force: true })
        throw isMissingExecutable(error)
          ? new Error(
              'local Redis Cluster: `redis-server` not found on PATH; install it with `apt-get install -y redis-server`',
            )
          : error
      }
      nodes.push({ port, proc, logFile })
    }
    await waitFor(nodes, 'answering', async (node) => (await ask(node.port, 'PING')) === 'PONG')
    await redisCli([
      '--cluster',
      'create',
      ...nodes.map((node) => `${HOST}:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    // redis-cli returns once the nodes agree on the config; each node still has to see every
    // slot covered before it serves keys.
    await waitFor(nodes, 'in a healthy cluster', async (node) => {
      const info = await ask(node.port, 'CLUSTER', 'INFO')
      return typeof info === 'string' && info.includes('cluster_state:ok')
    })
    log(
      `redis cluster of ${masters} masters ready on ports ${nodes.map((node) => node.port).join(', ')} ` +
        `in ${Math.round(performance.now() - started)} ms`,
    )
    let stopping: Promise<void> | undefined
    return {
      url: `redis://${nodes.map((node) => `${HOST}:${node.port}`).join(',')}`,
      nodes: nodes.map((node) => ({
        host: HOST,
        port: node.port,
        pid: node.proc.pid,
        logFile: node.logFile,
      })),
      stop: () =>
        (stopping ??= (async () => {
          const stopStarted = performance.now()
          await stopNodes(nodes)
          log(`redis cluster stopped in ${Math.round(performance.now() - stopStarted)} ms`)
        })()),
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.proc.terminate(STOP_GRACE_MS)))
    throw error
  }
}

/**
 * Starts a throwaway Redis Cluster on 127.0.0.1: `masters` redis-server processes with
 * `cluster-enabled yes`, joined by `redis-cli --cluster create … --cluster-replicas 0`, with
 * persistence off. stop() shuts every node down and removes their directories.
 */
export async function startRedisCluster(
  options: StartRedisClusterOptions = {},
): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3
  if (!Number.isInteger(masters) || masters < 3)
    throw new Error('local Redis Cluster: needs at least 3 masters')
  const log = options.log ?? noop
  return withPortRetries('redis cluster', () => startOnce(masters, log), log)
}
