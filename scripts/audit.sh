#!/usr/bin/env bash
# npm audit of the production dependency tree (what `npm install driftwatch` brings in), failing
# on any high or critical advisory. For CI and for test/faults/security.test.ts.
#
# Exit codes, so that "could not check" is never mistaken for "checked and clean":
#   0  the audit ran: no high or critical advisory (lower ones are listed)
#   1  the audit ran: high or critical advisories (listed)
#   3  the audit did NOT run: the registry's advisory endpoint failed or is unreachable
#      (seen on our build machines: POST /-/npm/v1/security/advisories/bulk answers 405 there)
# Anything else: npm or node is missing or broke in some other way.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

out="$(mktemp)"
err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT

# npm exits 1 both for findings and for an endpoint error: the JSON tells them apart.
npm audit --omit=dev --json > "$out" 2> "$err"
npm_status=$?

node - "$out" "$err" "$npm_status" << 'EOF'
const { readFileSync } = require('node:fs')
const [outFile, errFile, npmStatus] = process.argv.slice(2)
const text = readFileSync(outFile, 'utf8')
const stderr = readFileSync(errFile, 'utf8').trim()
let report
try {
  report = JSON.parse(text)
} catch {
  console.log(`audit: NOT RUN: npm audit printed no JSON (exit ${npmStatus})`)
  if (stderr !== '') console.log(stderr.split('\n').slice(-5).join('\n'))
  process.exit(3)
}
const counts = report?.metadata?.vulnerabilities
if (counts === undefined || typeof counts !== 'object') {
  // {"message": "405 Method Not Allowed - POST …/advisories/bulk", "statusCode": 405, …}
  const why = report?.message ?? report?.error?.summary ?? stderr.split('\n').at(-1) ?? 'unknown'
  console.log(`audit: NOT RUN: the advisory endpoint failed: ${why}`)
  process.exit(3)
}
const deps = report?.metadata?.dependencies
const total = typeof deps === 'object' ? (deps.prod ?? deps.total) : '?'
const summary = ['critical', 'high', 'moderate', 'low', 'info'].map((s) => `${s} ${counts[s] ?? 0}`).join(', ')
console.log(`audit: ${total} production dependencies checked: ${summary}`)
for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
  const via = (v.via ?? []).map((x) => (typeof x === 'string' ? x : `${x.title ?? ''} ${x.url ?? ''}`.trim())).join('; ')
  console.log(`  ${v.severity}: ${name} ${v.range ?? ''} ${via}`)
}
process.exit((counts.high ?? 0) + (counts.critical ?? 0) > 0 ? 1 : 0)
EOF
