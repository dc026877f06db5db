import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, freePorts } from './free-port.js'
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

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** With `tls`: the TLS port and `rediss://127.0.0.1:<tlsPort>` */
  readonly tlsPort?: number | undefined
  readonly tlsUrl?: string | undefined
  readonly pid: number
  readonly logFile: string
  stop(): Promise<void>
}

export interface StartRedisOptions {
  /** Working directory of the server. Default: a fresh temp dir, removed by stop(). */
  readonly dataDir?: string
  /** Listen on this port instead of a free one: to start a stopped server again where its
   * clients expect it (with the same `dataDir`). */
  readonly port?: number
  /** Turn the AOF on (`appendonly yes`, `appendfsync always`), so that a server killed and
   * started again on the same `dataDir` keeps every write it acknowledged. Default off. */
  readonly appendOnly?: boolean
  /** `requirepass`, on every port. Written to a config file in the working directory (mode
   * 0600) rather than on the command line, where `ps` would show it. */
  readonly password?: string
  /** Adds a TLS listener (`tls-port`) beside the plain port, with this key and certificate (PEM
   * files; the certificate should name 127.0.0.1). Clients are not asked for a certificate. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string }
  readonly log?: (line: string) => void
}

const READY_TIMEOUT_MS = 30_000
const SHUTDOWN_WAIT_MS = 5_000
const STOP_GRACE_MS = 15_000
const LOG_TAIL_LINES = 40

const noop = (): void => undefined

function probeClient(port: number, password?: string): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    connectTimeout: 1_000,
    // One attempt per call: the caller's loop does the retrying, with a deadline.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  })
  // ioredis prints unhandled 'error' events; refused connections are expected here.
  client.on('error', noop)
  return client
}

async function waitUntilReady(
  port: number,
  proc: SupervisedProcess,
  logFile: string,
  password?: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const exit = proc.exitInfo()
    if (exit !== undefined) {
      const tail = tailFile(logFile, LOG_TAIL_LINES)
      const message = `local Redis: redis-server ${describeExit(exit)} before it was ready\n${tail}`
      throw tail.includes('Address already in use')
        ? new PortTakenError(message)
        : new Error(message)
    }
    const client = probeClient(port, password)
    try {
      await client.connect()
      if ((await client.ping()) === 'PONG') return
    } catch {
      // not listening yet
    } finally {
      client.disconnect()
    }
    if (Date.now() > deadline) {
      throw new Error(
        `local Redis: no PONG on port ${port} after ${READY_TIMEOUT_MS / 1000} s (pid ${proc.pid})\n` +
          tailFile(logFile, LOG_TAIL_LINES),
      )
    }
    await waitForExitOrTimeout(proc, 50)
  }
}

async function shutdown(port: number, proc: SupervisedProcess, password?: string): Promise<void> {
  if (proc.exitInfo() === undefined) {
    const client = probeClient(port, password)
    try {
      await client.connect()
      // NOSAVE: nothing here is worth a dump, and a dump would only slow the stop.
      await client.call('SHUTDOWN', 'NOSAVE')
    } catch {
      // The server closes the connection instead of replying; SIGTERM below covers the rest.
    } finally {
      client.disconnect()
    }
    await waitForExitOrTimeout(proc, SHUTDOWN_WAIT_MS)
  }
  await proc.terminate(STOP_GRACE_MS)
}

export function serverArgs(port: number, workDir: string, appendOnly: boolean): string[] {
  const settings = {
    port: String(port),
    bind: '127.0.0.1',
    // No RDB snapshots and, unless asked for, no AOF: test state is throwaway, and fsyncs only
    // cost time.
    save: '',
    appendonly: appendOnly ? 'yes' : 'no',
    appendfsync: appendOnly ? 'always' : 'everysec',
    dir: workDir,
    daemonize: 'no',
    // '' = stdout, which spawnSupervised sends to the log file.
    logfile: '',
  }
  return Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value])
}

/** A config file for the settings that must not appear in `ps`, given before the other args. */
function securityArgs(
  workDir: string,
  options: StartRedisOptions,
  tlsPort: number | undefined,
): string[] {
  if (options.password === undefined && options.tls === undefined) return []
  const quote = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
  const lines: string[] = []
  if (options.password !== undefined) lines.push(`requirepass ${quote(options.password)}`)
  if (options.tls !== undefined && tlsPort !== undefined) {
    lines.push(
      `tls-port ${tlsPort}`,
      `tls-cert-file ${quote(options.tls.certFile)}`,
      `tls-key-file ${quote(options.tls.keyFile)}`,
      `tls-ca-cert-file ${quote(options.tls.caFile)}`,
      'tls-auth-clients no',
    )
  }
  const file = join(workDir, 'security.conf')
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 })
  return [file]
}

async function startOnce(
  options: StartRedisOptions,
  log: (line: string) => void,
): Promise<LocalRedis> {
  const ownsDir = options.dataDir === undefined
  const workDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'driftwatch-redis-'))
  const logFile = join(workDir, 'redis.log')
  let proc: SupervisedProcess | undefined
  try {
    mkdirSync(workDir, { recursive: true })
    let port: number
    let tlsPort: number | undefined
    if (options.tls === undefined) port = options.port ?? (await freePort())
    else if (options.port !== undefined) {
      port = options.port
      tlsPort = await freePort()
    } else {
      const [plain, secure] = await freePorts(2)
      if (plain === undefined || secure === undefined) throw new Error('local Redis: no free ports')
      port = plain
      tlsPort = secure
    }
    const args = [
      ...securityArgs(workDir, options, tlsPort),
      ...serverArgs(port, workDir, options.appendOnly === true),
    ]
    const spawned = performance.now()
    try {
      proc = await spawnSupervised('redis-server', args, {
        outputFile: logFile,
        ownedDir: ownsDir ? workDir : undefined,
      })
    } catch (error) {
      throw isMissingExecutable(error)
        ? new Error(
            'local Redis: `redis-server` not found on PATH; install it with ' +
              '`apt-get install -y redis-server` (Debian/Ubuntu)',
          )
        : error
    }
    await waitUntilReady(port, proc, logFile, options.password)
    log(
      `redis ready on 127.0.0.1:${port} in ${Math.round(performance.now() - spawned)} ms ` +
        `after spawn (pid ${proc.pid})`,
    )
    const running = proc
    let stopping: Promise<void> | undefined
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      tlsPort,
      tlsUrl: tlsPort === undefined ? undefined : `rediss://127.0.0.1:${tlsPort}`,
      pid: running.pid,
      logFile,
      stop: () =>
        (stopping ??= (async () => {
          const stopStarted = performance.now()
          await shutdown(port, running, options.password)
          log(`redis on port ${port} stopped in ${Math.round(performance.now() - stopStarted)} ms`)
        })()),
    }
  } catch (error) {
    if (proc !== undefined) await proc.terminate(STOP_GRACE_MS)
    else if (ownsDir) rmSync(workDir, { recursive: true, force: true })
    throw error
  }
}

/** Starts a throwaway redis-server on 127.0.0.1 with persistence off (unless `appendOnly`). */
export async function startRedis(options: StartRedisOptions = {}): Promise<LocalRedis> {
  const log = options.log ?? noop
  return withPortRetries('redis', () => startOnce(options, log), log)
}
