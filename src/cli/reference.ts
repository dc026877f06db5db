// driftwatch reference build --input <file> [--out ref.json] [--columns a,b] [--config f.yaml]

import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { snapshotToJSON } from '../adapters/files/reference-file.js'
import { buildReferenceFromFile } from '../app/check.js'
import { driftSectionSchema } from '../config/drift.js'
import { loadConfigFile } from '../config/load.js'
import type { FeatureKind } from '../core/report.js'
import { terminalProgress } from './progress.js'

interface BuildFlags {
  input: string
  out?: string
  columns?: string
  config?: string
  kind?: string[]
}

export function registerReference(program: Command): void {
  const reference = program.command('reference').description('reference snapshots')
  reference
    .command('build')
    .description('profile a training/reference data file into a versioned snapshot')
    .requiredOption('-i, --input <path>', 'reference data (CSV, JSONL, Parquet)')
    .option('-o, --out <path>', 'snapshot file to write (default: stdout)')
    .option('--columns <names>', 'comma-separated columns to keep (default: all)')
    .option('--config <path>', 'YAML drift settings; its `columns:` section overrides column kinds')
    .option('--kind <column=kind...>', 'override a column kind: numerical or categorical (repeatable)')
    .action(async (flags: BuildFlags) => {
      const section = flags.config === undefined ? undefined : await loadConfigFile(flags.config, driftSectionSchema)
      const kindOverrides: Record<string, FeatureKind> = { ...(section?.columns ?? {}), ...parseKinds(flags.kind ?? []) }
      const snapshot = await buildReferenceFromFile(flags.input, {
        columns: flags.columns?.split(',').map((c) => c.trim()).filter((c) => c.length > 0),
        kindOverrides,
        onProgress: terminalProgress(),
        now: () => new Date(),
      })
      const { id: _unset, ...rest } = snapshot
      const json = snapshotToJSON(rest)
      const text = JSON.stringify(json) + '\n'
      if (flags.out === undefined) process.stdout.write(text)
      else {
        await writeFile(flags.out, text)
        process.stderr.write(`wrote reference ${json.id} (${json.rows} rows, ${json.columns.length} columns) to ${flags.out}\n`)
      }
    })
}

function parseKinds(pairs: readonly string[]): Record<string, FeatureKind> {
  const out: Record<string, FeatureKind> = {}
  for (const pair of pairs) {
    const [column, kind] = pair.split('=')
    if (column === undefined || (kind !== 'numerical' && kind !== 'categorical')) {
      throw new Error(`--kind ${pair}: expected column=numerical or column=categorical`)
    }
    out[column] = kind
  }
  return out
}
