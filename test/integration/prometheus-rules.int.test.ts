// deploy/prometheus/rules.yml is valid and its alerts fire when, and only when, rules.test.yml
// says, checked by the promtool of Debian's prometheus package (scripts/ci/install-prometheus.sh).

import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const dir = resolve(import.meta.dirname, '../../deploy/prometheus')

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' })
  if (result.error !== undefined) {
    throw new Error(
      `this test needs \`promtool\` on PATH (${result.error.message}); install it with ` +
        'scripts/ci/install-prometheus.sh (Debian: apt-get install -y prometheus)',
    )
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('deploy/prometheus/rules.yml', () => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', 'rules.yml')
    expect(output).toContain('SUCCESS: 13 rules found')
    expect(output).not.toMatch(/WARNING|FAILED/)
    expect(status, output).toBe(0)
  })

  it('passes its promtool unit tests (rules.test.yml)', () => {
    const { status, output } = promtool('test', 'rules', 'rules.test.yml')
    expect(status, output).toBe(0)
    expect(output).toContain('SUCCESS')
  })

  it("passes the slow rules' promtool unit tests (rules.gradual.test.yml, evaluated hourly)", () => {
    const { status, output } = promtool('test', 'rules', 'rules.gradual.test.yml')
    expect(status, output).toBe(0)
    expect(output).toContain('SUCCESS')
  })
})
