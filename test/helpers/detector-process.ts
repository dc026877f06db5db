// `driftwatch run` as a child process, for the tests that kill, stop and restart detectors: its
// output goes to a log file, a watchdog kills it if the test process dies first, and a graceful
// stop has a deadline.

import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { binPath } from './cli.js'
import { waitFor } from './redis-counts.js'

export interface Detector {
  readonly child: ChildProcess
  /** The exit code, or -1 when a signal ended the process. */
  readonly exited: Promise<number | null>
  readonly log: string
}

const running = new Set<ChildProcess>()

/** `driftwatch run --config <config> --from-beginning`, stdout and stderr appended to `log`. */
export function startDetector(config: string, log: string): Detector {
  const fd = openSync(log, 'a')
  const child = spawn(process.execPath, [binPath, 'run', '--config', config, '--from-beginning'], {
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  running.add(child)
  const watchdog = startWatchdog(child)
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      watchdog?.kill('SIGKILL')
      running.delete(child)
      resolve(signal === null ? code : -1)
    }),
  )
  return { child, exited, log }
}

/** Waits for the detector's "driftwatch running" log line (its output topics exist by then). */
export async function waitUntilRunning(detector: Detector, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!readFileSync(detector.log, 'utf8').includes('driftwatch running')) {
    if (detector.child.exitCode !== null || detector.child.signalCode !== null)
      throw new Error(`the detector exited while starting; see ${detector.log}`)
    if (Date.now() > deadline) throw new Error(`the detector did not start in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** For afterAll: SIGKILLs every detector still running. */
export function killAllDetectors(): void {
  for (const child of running) child.kill('SIGKILL')
}

/** SIGTERM to each, then their exit codes; throws if one has not exited within `timeoutMs`. */
export async function stopGracefully(
  detectors: readonly Detector[],
  timeoutMs = 60_000,
): Promise<Array<number | null>> {
  for (const d of detectors) d.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const codes = await Promise.race([
    Promise.all(detectors.map((d) => d.exited)),
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs))),
  ])
  clearTimeout(timer)
  if (codes === null) {
    for (const d of detectors) d.child.kill('SIGKILL')
    throw new Error(`a detector did not stop within ${timeoutMs / 1000} s of SIGTERM`)
  }
  return codes
}

/**
 * If the test process dies without reaching afterAll (a worker killed on a timeout, an aborted
 * run), the detectors it spawned would live on, orphaned, and load the machine. A bash watchdog
 * per detector reads a pipe from us until it closes, then SIGKILLs the detector. (`read` is a
 * builtin: killing the watchdog leaves no child behind.)
 */
function startWatchdog(child: ChildProcess): ChildProcess | undefined {
  if (child.pid === undefined) return undefined
  const watchdog = spawn(
    'bash',
    ['-c', `while read -r _; do :; done; kill -KILL ${child.pid} 2>/dev/null`],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  )
  watchdog.unref()
  ;(watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return watchdog
}

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null }

/** A detector serving HTTP on a known port, for tests that watch /readyz and /metrics. */
export interface ServedDetector {
  readonly pid: number
  readonly url: string
  readonly logFile: string
  /** Exit code and signal once it exited, else undefined. */
  exit(): ExitInfo | undefined
  /** SIGTERM, SIGKILL after 20 s; its exit. */
  stop(): Promise<ExitInfo>
}

/** `driftwatch run --config <configPath> --from-beginning`, resolved once /readyz answers 200. */
export async function startServedDetector(
  configPath: string,
  httpPort: number,
  logFile: string,
  /** Node options for the detector process (e.g. diagnostics a memory test needs). */
  nodeOptions: readonly string[] = [],
): Promise<ServedDetector> {
  const out = openSync(logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(
      process.execPath,
      [...nodeOptions, binPath, 'run', '--config', configPath, '--from-beginning'],
      { stdio: ['ignore', out, out] },
    )
  } finally {
    closeSync(out)
  }
  let exitInfo: ExitInfo | undefined
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once('exit', (code, signal) => resolve((exitInfo = { code, signal }))),
  )
  const url = `http://127.0.0.1:${httpPort}`
  await waitFor(
    'the detector to be ready',
    async () => {
      if (exitInfo !== undefined)
        throw new Error(`detector exited ${JSON.stringify(exitInfo)}:\n${logTail(logFile)}`)
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) })
        return res.status === 200 ? true : undefined
      } catch {
        return undefined
      }
    },
    60_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL')
    throw error
  })
  return {
    pid: child.pid as number,
    url,
    logFile,
    exit: () => exitInfo,
    stop: async () => {
      if (exitInfo === undefined) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        await exited
        clearTimeout(timer)
      }
      return exitInfo as ExitInfo
    },
  }
}

/** The last lines of a log file ('' when there is none). */
export function logTail(path: string, lines = 30): string {
  return existsSync(path)
    ? readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
    : ''
}
