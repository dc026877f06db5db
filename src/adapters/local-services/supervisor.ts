import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface SupervisedProcess {
  readonly pid: number
  /** Settles when the service process exits, for whatever reason. */
  readonly exited: Promise<ExitInfo>
  exitInfo(): ExitInfo | undefined
  /**
   * SIGTERM to the whole process group, SIGKILL after `graceMs`, then removes the owned
   * directory. Safe to call more than once and after the process died by itself.
   */
  terminate(graceMs: number): Promise<void>
}

export interface SpawnSupervisedOptions {
  /** stdout and stderr go to this file: a pipe nobody reads would block a chatty service. */
  readonly outputFile: string
  /** Deleted by terminate(), and also when Node exits or dies without calling it. */
  readonly ownedDir?: string | undefined
  readonly env?: NodeJS.ProcessEnv
}

/**
 * Runs when the Node process that started us is gone, however it died (SIGKILL and
 * crashes included, which no 'exit' handler sees): `cat` returns once the pipe from Node
 * is closed by the kernel. Then it stops the service group the way terminate() would.
 * bash, not sh: dash's `kill` cannot signal a process group. A dead service stays a
 * zombie until init reaps it, and `kill -0` still succeeds on a zombie: hence the /proc
 * check, without which every cleanup would wait out the full 15 s.
 */
const WATCHDOG_SCRIPT = `
alive() { kill -0 -- "-$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }
cat > /dev/null
kill -TERM -- "-$1" 2>/dev/null
for _ in $(seq 1 30); do alive "$1" || break; sleep 0.5; done
kill -KILL -- "-$1" 2>/dev/null
if [ -n "$2" ]; then rm -rf -- "$2"; fi
`

interface LiveEntry {
  readonly ownedDir: string | undefined
}

const live = new Map<number, LiveEntry>()
let exitHookInstalled = false

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // 'exit' listeners must be synchronous, so there is no time for a graceful stop; the
  // services hold only throwaway test data, so SIGKILL loses nothing.
  process.on('exit', () => {
    for (const [pgid, entry] of live) {
      signalGroup(pgid, 'SIGKILL')
      if (entry.ownedDir !== undefined) rmSync(entry.ownedDir, { recursive: true, force: true })
    }
    live.clear()
  })
}

/** Returns a function that ends the watchdog (bash and its `cat`) without it acting. */
function startWatchdog(pgid: number, ownedDir: string | undefined): () => void {
  const watchdog = spawn(
    'bash',
    ['-c', WATCHDOG_SCRIPT, 'driftwatch-watchdog', String(pgid), ownedDir ?? ''],
    // Its own group, so a Ctrl-C aimed at our terminal group cannot kill it before it acts.
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  )
  // The safety net is best effort: without bash, the 'exit' hook still covers clean exits.
  watchdog.on('error', () => undefined)
  watchdog.stdin?.on('error', () => undefined)
  watchdog.unref()
  return () => {
    if (watchdog.pid !== undefined && watchdog.exitCode === null && watchdog.signalCode === null) {
      signalGroup(watchdog.pid, 'SIGKILL')
    }
  }
}

/**
 * Waits for `exited` or `ms`, whichever comes first, and clears the timer either way: a
 * timer left behind would hold Node open for up to the whole grace period. The timer is
 * ref'd on purpose: the children are unref'd, so while we wait on one, it is what keeps
 * Node from exiting with the wait still pending.
 */
function raceExit(exited: Promise<ExitInfo>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    exited.then(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer))
}

/**
 * Spawns a long-running service in its own process group, with its output in a file,
 * and makes sure it does not outlive this Node process.
 */
export async function spawnSupervised(
  command: string,
  args: readonly string[],
  options: SpawnSupervisedOptions,
): Promise<SupervisedProcess> {
  const outputFd = openSync(options.outputFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', outputFd, outputFd],
      env: options.env ?? process.env,
    })
  } finally {
    // The child got its own copy of the descriptor during spawn().
    closeSync(outputFd)
  }

  let exitInfo: ExitInfo | undefined
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal }
      resolve(exitInfo)
    })
  })
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`spawned ${command} but got no pid`)
  // A stop() the caller forgot must not keep Node alive; the exit hook cleans up instead.
  child.unref()

  installExitHook()
  live.set(pid, { ownedDir: options.ownedDir })
  const stopWatchdog = startWatchdog(pid, options.ownedDir)
  // Once the service is gone its pgid may be reused; the watchdog must not signal it.
  void exited.then(stopWatchdog)

  let terminating: Promise<void> | undefined
  const terminate = (graceMs: number): Promise<void> => {
    terminating ??= (async () => {
      stopWatchdog()
      if (exitInfo === undefined) {
        signalGroup(pid, 'SIGTERM')
        await raceExit(exited, graceMs)
      }
      if (exitInfo === undefined) {
        signalGroup(pid, 'SIGKILL')
        await raceExit(exited, 5_000)
      }
      live.delete(pid)
      if (options.ownedDir !== undefined) {
        rmSync(options.ownedDir, { recursive: true, force: true })
      }
    })()
    return terminating
  }

  return { pid, exited, exitInfo: () => exitInfo, terminate }
}

/** Last `maxLines` lines of a log file, for error messages; '' when it does not exist. */
export function tailFile(path: string, maxLines = 40): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return ''
  }
  try {
    const size = statSync(path).size
    const length = Math.min(size, 64 * 1024)
    const buffer = Buffer.alloc(length)
    readSync(fd, buffer, 0, length, size - length)
    return buffer.toString('utf8').trimEnd().split('\n').slice(-maxLines).join('\n')
  } finally {
    closeSync(fd)
  }
}

export function isMissingExecutable(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}

/**
 * Sleeps up to `ms`, waking early when the process exits: readiness loops then fail
 * fast, and stop() does not wait out a grace period for a process that is already gone.
 */
export function waitForExitOrTimeout(proc: SupervisedProcess, ms: number): Promise<void> {
  return raceExit(proc.exited, ms)
}

export function describeExit(info: ExitInfo): string {
  return info.signal !== null ? `killed by ${info.signal}` : `exited with code ${info.code}`
}

/**
 * The checkout's root: the nearest folder above this module holding `scripts/<script>`. Walks up
 * rather than hard-coding '../../..', because the same code runs from src/ and dist/.
 */
export function repoRootHolding(script: string, service: string): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'scripts', script))) return dir
    const parent = dirname(dir)
    if (parent === dir)
      throw new Error(
        `local ${service}: scripts/${script} not found above ${fileURLToPath(import.meta.url)}; run from a driftwatch checkout`,
      )
    dir = parent
  }
}

export interface FetchScriptResult {
  readonly script: string
  readonly code: number | null
  /** The last non-empty line the script printed on stdout (where it says what it fetched). */
  readonly lastLine: string | undefined
  /** What it printed on stderr, each non-empty line also passed to `log`. */
  readonly stderr: readonly string[]
}

/** Runs one of the repository's `scripts/fetch-*.sh` download scripts and collects its output. */
export async function runFetchScript(
  script: string,
  service: string,
  log: (line: string) => void,
): Promise<FetchScriptResult> {
  const path = join(repoRootHolding(script, service), 'scripts', script)
  const child = spawn('bash', [path], { stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: string[] = []
  const stderr: string[] = []
  createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line))
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line.trim() === '') return
    stderr.push(line)
    log(line)
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  const lastLine = stdout
    .filter((line) => line.trim() !== '')
    .at(-1)
    ?.trim()
  return { script: path, code, lastLine, stderr }
}

/** A start failed because another process bound one of its free ports first: worth a new try. */
export class PortTakenError extends Error {}

/** Starts a service, and again (up to `attempts` times in all) while a port was taken under it. */
export async function withPortRetries<T>(
  service: string,
  start: () => Promise<T>,
  log: (line: string) => void,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error
      log(`${service}: a port was taken before it was bound; retrying (${attempt}/${attempts})`)
    }
  }
}
