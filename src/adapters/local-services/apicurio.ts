// Apicurio Registry 3.x, a Confluent-compatible schema registry, run from its Maven Central
// archive with the JDK, for the Avro tests and the demo (no Docker here). In-memory storage: a
// registry started again is empty. Clients use `<url>` = http://127.0.0.1:<port>/apis/ccompat/v7.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePorts } from './free-port.js'
import {
  describeExit,
  isMissingExecutable,
  runFetchScript,
  spawnSupervised,
  tailFile,
  type SupervisedProcess,
  waitForExitOrTimeout,
  PortTakenError,
  withPortRetries,
} from './supervisor.js'

export interface LocalApicurio {
  /** Base URL of the Confluent-compatible API, `http://127.0.0.1:<port>/apis/ccompat/v7` */
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly logFile: string
  stop(): Promise<void>
}

export interface StartApicurioOptions {
  /** Listen on this port instead of a free one (to start a stopped registry where clients expect it). */
  readonly port?: number
  readonly log?: (line: string) => void
}

const READY_TIMEOUT_MS = 120_000
const STOP_GRACE_MS = 10_000
// Small heap, C1 only and the serial collector, as for the test broker (kafka.ts): a test
// registry never gets hot, and the machine is shared with the test run.
const JVM_FLAGS = [
  '-Xms64m',
  '-Xmx384m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
]

const noop = (): void => undefined

/** Downloads and unpacks the registry once (scripts/fetch-apicurio.sh); returns the jar to run. */
export async function ensureApicurio(
  options: { log?: (line: string) => void } = {},
): Promise<string> {
  const {
    script,
    code,
    lastLine: dir,
    stderr,
  } = await runFetchScript('fetch-apicurio.sh', 'Apicurio', options.log ?? noop)
  if (code !== 0 || dir === undefined)
    throw new Error(
      `local Apicurio: ${script} exited with ${code}\n${stderr.slice(-20).join('\n')}`,
    )
  const jar = readFileSync(join(dir, '.complete'), 'utf8').trim().split('\n').at(-1) ?? ''
  const path = join(dir, jar)
  if (jar === '' || !existsSync(path))
    throw new Error(`local Apicurio: no jar named in ${dir}/.complete`)
  return path
}

function javaExecutable(): string {
  const javaHome = process.env['JAVA_HOME']
  return javaHome !== undefined && javaHome !== '' ? join(javaHome, 'bin', 'java') : 'java'
}

async function waitUntilReady(url: string, proc: SupervisedProcess, output: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const exit = proc.exitInfo()
    if (exit !== undefined) {
      const tail = tailFile(output, 40)
      const message = `local Apicurio: ${describeExit(exit)} before it was ready\n${tail}`
      throw /Address already in use|Port already bound/i.test(tail)
        ? new PortTakenError(message)
        : new Error(message)
    }
    try {
      const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) })
      if (response.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `local Apicurio: not ready after ${READY_TIMEOUT_MS / 1000} s\n${tailFile(output, 40)}`,
      )
    await waitForExitOrTimeout(proc, 250)
  }
}

async function startOnce(
  jar: string,
  options: StartApicurioOptions,
  log: (line: string) => void,
): Promise<LocalApicurio> {
  const workDir = mkdtempSync(join(tmpdir(), 'driftwatch-apicurio-'))
  const output = join(workDir, 'registry.log')
  let proc: SupervisedProcess | undefined
  try {
    // The management interface (health, metrics) defaults to 9000: two registries would clash.
    const [httpPort, managementPort] = await freePorts(2)
    const port = options.port ?? httpPort
    if (port === undefined || managementPort === undefined)
      throw new Error('local Apicurio: no free ports')
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`
    const started = performance.now()
    try {
      proc = await spawnSupervised(
        javaExecutable(),
        [
          ...JVM_FLAGS,
          `-XX:ErrorFile=${join(workDir, 'hs_err_pid%p.log')}`,
          '-Dquarkus.http.host=127.0.0.1',
          `-Dquarkus.http.port=${port}`,
          `-Dquarkus.management.port=${managementPort}`,
          '-Dquarkus.management.host=127.0.0.1',
          // One line per request otherwise.
          '-Dquarkus.http.access-log.enabled=false',
          '-jar',
          jar,
        ],
        { outputFile: output, ownedDir: workDir, env: { ...process.env, HOME: workDir } },
      )
    } catch (error) {
      throw isMissingExecutable(error)
        ? new Error('local Apicurio: `java` not found; install a JDK 17+ or set JAVA_HOME')
        : error
    }
    await waitUntilReady(url, proc, output)
    log(
      `apicurio ready on ${url} in ${Math.round(performance.now() - started)} ms after spawn (pid ${proc.pid})`,
    )
    const running = proc
    let stopping: Promise<void> | undefined
    return {
      url,
      port,
      pid: running.pid,
      logFile: output,
      stop: () => (stopping ??= running.terminate(STOP_GRACE_MS)),
    }
  } catch (error) {
    if (proc !== undefined) await proc.terminate(STOP_GRACE_MS)
    else rmSync(workDir, { recursive: true, force: true })
    throw error
  }
}

/** Starts Apicurio Registry on 127.0.0.1 (about 6 s and 200 MB here). */
export async function startApicurio(options: StartApicurioOptions = {}): Promise<LocalApicurio> {
  const log = options.log ?? noop
  const jar = await ensureApicurio({ log })
  // A port the caller chose cannot be swapped for another: no retry then.
  return withPortRetries(
    'apicurio',
    () => startOnce(jar, options, log),
    log,
    options.port === undefined ? 3 : 1,
  )
}
