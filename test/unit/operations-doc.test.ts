// docs/operations.md says, for every alert of deploy/prometheus/rules.yml, what it means and what to
// do: a rule added or renamed without its section fails here. Its links stay inside the repository.

import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = resolve(import.meta.dirname, '../..')
const page = resolve(root, 'docs/operations.md')
const text = readFileSync(page, 'utf8')
const rules = parse(readFileSync(resolve(root, 'deploy/prometheus/rules.yml'), 'utf8')) as {
  groups: Array<{ rules: Array<{ alert?: string; labels?: { severity?: string } }> }>
}
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined)

/** A severity set by a template (by the value) reads as the severities it can take. */
function severityHeading(severity: string): string {
  if (!severity.includes('{{')) return severity
  return ['warning', 'critical'].filter((s) => severity.includes(s)).join(' or ')
}

describe('docs/operations.md', () => {
  it.each(alerts.map((r) => [r.alert ?? '', severityHeading(r.labels?.severity ?? '')] as const))(
    'has a section for %s (%s)',
    (alert, severity) => {
      expect(text).toContain(`### ${alert} (${severity})`)
    },
  )

  it('links only to files of the repository that exist', () => {
    const links = [...text.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1] ?? '')
    expect(links.length).toBeGreaterThan(0)
    for (const link of links) {
      expect(link, link).not.toMatch(/^[a-z]+:/)
      expect(existsSync(resolve(dirname(page), link.split('#')[0] ?? '')), link).toBe(true)
    }
  })

  it('is linked from the README', () => {
    expect(readFileSync(resolve(root, 'README.md'), 'utf8')).toContain('(docs/operations.md)')
  })
})
