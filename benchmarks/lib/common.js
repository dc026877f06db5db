// Helpers shared by the benchmarks: seeded randomness, medians, the machine and commit a result
// belongs to, and child processes measured for wall time, CPU time and peak RSS.
//
// Peak RSS comes from GNU time (`/usr/bin/time -v`: the kernel's ru_maxrss of the child, exact)
// when it is installed, else from polling /proc/<pid>/status VmHWM (the kernel's own high-water
// mark, read every 50 ms and once more just before the process exits... as far as polling can
// tell). Install it with `apt-get install -y time`.

import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const cacheRoot = join(repoRoot, '.cache', 'bench')
/**
 * The build under test: dist/, or another build's dist directory in DW_BENCH_DIST (a copy of the
 * tree with a change reverted, compiled with tsc) to compare before and after in one session.
 */
export const distDir = process.env.DW_BENCH_DIST
  ? resolve(process.env.DW_BENCH_DIST)
  : join(repoRoot, 'dist')

/** Node arguments that run the driftwatch CLI of a build (default `distDir`): bin/driftwatch.js for dist/. */
export function cliArgsAt(dist, ...args) {
  return resolve(dist) === join(repoRoot, 'dist')
    ? ['bin/driftwatch.js', ...args]
    : [join(repoRoot, 'benchmarks', 'lib', 'driftwatch-at.js'), resolve(dist), ...args]
}

export function cliArgs(...args) {
  return cliArgsAt(distDir, ...args)
}

export function cacheDir(name) {
  const dir = join(cacheRoot, name)
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Imports a compiled module from dist/, with the same advice as tdigest.bench.js when absent. */
export async function importDist(path) {
  try {
    return await import(pathToFileURL(join(distDir, path)).href)
  } catch (cause) {
    throw new Error('dist/ is missing or stale: run `npm run build` first', { cause })
  }
}

export function isMain(meta) {
  return process.argv[1] !== undefined && meta.url === pathToFileURL(process.argv[1]).href
}

// ---- randomness ------------------------------------------------------------------------------

export function mulberry32(seed) {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function standardNormal(rng) {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
}

// ---- statistics and formatting ----------------------------------------------------------------

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export const mib = (bytes) => bytes / 2 ** 20

/** "12.3 / 12.9 / 13.4" for a list of runs, in run order. */
export function listOf(xs, digits = 1) {
  return xs.map((x) => x.toFixed(digits)).join(' / ')
}

export function metOrNot(met) {
  return met ? 'MET' : 'NOT MET'
}

export function table(lines) {
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => String(l[c]).length)))
  const out = lines.map((l) =>
    l
      .map((cell, c) =>
        c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]),
      )
      .join('  '),
  )
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  return out.join('\n')
}

// ---- machine and commit ----------------------------------------------------------------------

export function machineInfo() {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    if (line !== undefined) cpuModel = line.slice(line.indexOf(':') + 1).trim()
  } catch {
    // not Linux: os.cpus() it is
  }
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim()
    } catch {
      return ''
    }
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    ramGiB: totalmem() / 2 ** 30,
    node: process.version,
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    date: new Date().toISOString(),
    loadAverage: loadavg()[0],
  }
}

export function describeMachine(m) {
  return (
    `${m.nproc} cores (${m.cpuModel}), ${m.ramGiB.toFixed(1)} GiB RAM, node ${m.node}, ` +
    `commit ${m.commit}${m.dirty ? ' + uncommitted changes' : ''}, load average ${m.loadAverage.toFixed(2)}`
  )
}

// ---- process memory --------------------------------------------------------------------------

/** VmRSS and VmHWM of a live process, in bytes; null once it is gone. */
export function procMemory(pid) {
  let text
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return null
  }
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    return m === null ? Number.NaN : Number(m[1]) * 1024
  }
  return { rss: field('VmRSS'), hwm: field('VmHWM') }
}

const gnuTime = ['/usr/bin/time'].find((p) => {
  if (!existsSync(p)) return false
  try {
    execFileSync(p, ['-v', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})

export const peakRssMethod =
  gnuTime === undefined ? 'polled /proc/<pid>/status VmHWM' : '/usr/bin/time -v (ru_maxrss)'

/**
 * Runs a command to its end and measures it. Resolves with wall ms (spawn to exit, measured
 * here), user+system CPU ms and peak RSS bytes (from GNU time when present), exit code, stdout
 * and stderr. Rejects only if the command could not be started.
 */
export function measureProcess(command, args, options = {}) {
  const report = join(
    tmpdir(),
    `dw-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`,
  )
  const [file, argv] =
    gnuTime === undefined ? [command, args] : [gnuTime, ['-v', '-o', report, command, ...args]]
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(file, argv, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
    })
    const stdout = []
    const stderr = []
    child.stdout.on('data', (b) => stdout.push(b))
    child.stderr.on('data', (b) => stderr.push(b))
    let polledHwm = 0
    const poll =
      gnuTime === undefined
        ? setInterval(() => {
            const m = procMemory(child.pid)
            if (m !== null && m.hwm > polledHwm) polledHwm = m.hwm
          }, 50)
        : undefined
    child.on('error', (error) => {
      if (poll !== undefined) clearInterval(poll)
      reject(error)
    })
    child.on('close', (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6
      if (poll !== undefined) clearInterval(poll)
      let peakRss = polledHwm
      let cpuMs = Number.NaN
      if (gnuTime !== undefined) {
        const text = existsSync(report) ? readFileSync(report, 'utf8') : ''
        rmSync(report, { force: true })
        const num = (label) => {
          const m = new RegExp(`${label}: ([\\d.]+)`).exec(text)
          return m === null ? Number.NaN : Number(m[1])
        }
        peakRss = num('Maximum resident set size \\(kbytes\\)') * 1024
        cpuMs = (num('User time \\(seconds\\)') + num('System time \\(seconds\\)')) * 1000
        // GNU time reports the command's own exit status on its line; keep ours from `code`.
      }
      resolve({
        wallMs,
        cpuMs,
        peakRss,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      })
    })
  })
}
