// The README's first command, `npm run demo`, is `driftwatch demo`: run it fast (event time 20×
// the wall clock) against the suite's Kafka and Redis and check that the drift it stages is found.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { binPath, runCli } from '../helpers/cli.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'

describe('driftwatch demo', () => {
  it('reports the staged drift in f01, f05 and f12 and fires their alerts', async () => {
    const result = await runCli(
      [
        'demo',
        '--rate',
        '2000',
        '--speed',
        '20',
        '--drift-after',
        '90s',
        '--duration',
        '240s',
        '--port',
        '0',
      ],
      {
        env: { KAFKA_BROKERS: kafkaBrokers(), REDIS_URL: redisUrl() },
        timeoutMs: 150_000,
      },
    )
    expect(result.stderr).not.toMatch(/^driftwatch: error/m)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('detector running')
    const firing = [
      ...result.stdout.matchAll(/^FIRING\s+DriftwatchFeatureDrift (\S+) severity=critical/gm),
    ].map((m) => m[1])
    expect(firing.sort()).toEqual(['f01', 'f05', 'f12'])
    expect(result.stdout).toMatch(/^report .*critical: f01, f05, f12$/m)
    // The release beside the drift: v2 brings the shift and a latency regression, and the demo
    // shows the advice to roll back to v1 and the window's diagnosis.
    expect(result.stdout).toMatch(/^report \S+ v2: /m)
    expect(result.stdout).toMatch(
      /^FIRING\s+DriftwatchRollbackAdvice .*roll fraud back from v2 to v1/m,
    )
    expect(result.stdout).toMatch(/^ {2}diagnosis: covariate-shift — /m)
  }, 180_000)
})

describe('driftwatch demo piped into a reader that dies first (`npm run demo | tee log`, Ctrl-C)', () => {
  it('stops cleanly on SIGINT: no EPIPE crash, its temp folder removed', async () => {
    const child = spawn(
      process.execPath,
      [binPath, 'demo', '--rate', '500', '--speed', '20', '--port', '0'],
      {
        env: { ...process.env, KAFKA_BROKERS: kafkaBrokers(), REDIS_URL: redisUrl() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    )
    const logFile = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line in time:\n${stdout}`)), 90_000)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /logs in (\S+driftwatch\.log)/.exec(stdout)
        if (match?.[1] !== undefined) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
    })
    expect(existsSync(dirname(logFile))).toBe(true)
    // tee dies first: our read end closes, then the demo gets Ctrl-C's SIGINT
    child.stdout.destroy()
    child.kill('SIGINT')
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const exit = await exited.finally(() => clearTimeout(timer))
    expect(stderr).not.toMatch(/EPIPE|Unhandled|^driftwatch: error/m)
    expect(exit).toEqual({ code: 0, signal: null })
    expect(existsSync(dirname(logFile))).toBe(false)
  }, 150_000)
})
