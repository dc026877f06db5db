// driftwatch check --reference <file|snapshot> --current <file> [--columns a,b] [--config f.yaml]
//                  [--mode calibrated|evidently] [--format text|json|html] [--out path]
//                  [--label-column label] [--task binary|multiclass|regression] [--positive-class c]
//                  [--threads n]
// Exit 0: no dataset drift, no critical data-quality finding, no critical performance drop and no
// failed condition; 1: dataset drift, a critical data-quality finding (a column emptied or
// retyped, missing share up 10 points or more), performance critically below the reference's
// (a label column beside the prediction), or a test-suite condition of the config that failed
// (an unknown one does not fail); 2: error (including a reference or current file with no rows or
// no values, and a current file without the label or prediction column when scoring was asked
// for).

import { writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { defaultLabelColumn, runCheck } from '../app/check.js'
import {
  checkConfigSchema,
  defaultDriftSection,
  type CheckConfig,
  driftSettingsOf,
} from '../config/drift.js'
import { failedConditions } from '../core/layers.js'
import { loadConfigFile } from '../config/load.js'
import { positiveClassKey } from '../config/performance.js'
import { driftModes } from '../core/drift-tests/thresholds.js'
import { defaultOutputColumns } from '../core/model-outputs.js'
import { performanceTasks } from '../core/performance/summary.js'
import { renderHtmlReport } from '../report/html.js'
import { renderTextReport } from '../report/text.js'
import { terminalProgress } from './progress.js'
import { version } from './version.js'

export const reportFormats = ['text', 'json', 'html'] as const

interface CheckFlags {
  reference: string
  current: string
  columns?: string
  config?: string
  mode?: (typeof driftModes)[number]
  format: (typeof reportFormats)[number]
  out?: string
  predictionColumn: string
  latencyColumn: string
  labelColumn?: string
  task?: (typeof performanceTasks)[number]
  positiveClass?: string
  threads: number
}

function threadCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1')
  return n
}

export function registerCheck(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('check')
    .description(
      'compare a current data file with a reference (file or snapshot); exit 1 on dataset drift, a critical data-quality finding, a critical performance drop or a failed condition',
    )
    .requiredOption(
      '-r, --reference <path>',
      'reference data (CSV, JSONL, Parquet) or a snapshot from `reference build`',
    )
    .requiredOption('-c, --current <path>', 'current data (CSV, JSONL, Parquet)')
    .option(
      '--columns <names>',
      'comma-separated columns to compare (default: all reference columns)',
    )
    .option(
      '--config <path>',
      'YAML drift settings: tests, thresholds, kinds, driftShare, conditions, importance',
    )
    .addOption(
      new Option(
        '--mode <mode>',
        "verdicts: 'calibrated' (threshold and noise floor) or 'evidently' (fixed thresholds); overrides the config's drift mode",
      ).choices(driftModes),
    )
    .addOption(
      new Option('-f, --format <format>', 'report format').choices(reportFormats).default('text'),
    )
    .option('-o, --out <path>', 'write the report to this file instead of stdout')
    .option(
      '--prediction-column <name>',
      "the model's prediction: compared apart from the features (predictionDrift)",
      defaultOutputColumns.prediction,
    )
    .option(
      '--latency-column <name>',
      "the model's latency in ms: its P50/P95/P99 against the reference's (latency)",
      defaultOutputColumns.latency,
    )
    .option(
      '--label-column <name>',
      `the ground truth beside the prediction: performance against the reference's, label drift (default: the config's performance.labelColumn, else '${defaultLabelColumn}')`,
    )
    .addOption(
      new Option(
        '--task <task>',
        "how predictions are scored; overrides the config's performance.task (default: read from the labels)",
      ).choices(performanceTasks),
    )
    .option(
      '--positive-class <class>',
      "binary: the positive label; overrides the config's performance.positiveClass (default 1)",
    )
    .option(
      '--threads <n>',
      'threads reading the two files and comparing the columns (1: all on one thread; default: the available parallelism)',
      threadCount,
      availableParallelism(),
    )
    .action(async (flags: CheckFlags) => {
      const loaded: CheckConfig =
        flags.config === undefined
          ? defaultDriftSection()
          : await loadConfigFile(flags.config, checkConfigSchema)
      const { conditions, importance, performance, ...drift } = loaded
      const section = flags.mode === undefined ? drift : { ...drift, mode: flags.mode }
      const { report } = await runCheck({
        reference: flags.reference,
        current: flags.current,
        columns: flags.columns
          ?.split(',')
          .map((c) => c.trim())
          .filter((c) => c.length > 0),
        kindOverrides: section.columns,
        settings: driftSettingsOf(section),
        configPath: flags.config,
        conditions,
        importance,
        outputColumns: { prediction: flags.predictionColumn, latency: flags.latencyColumn },
        performance: {
          ...performance,
          positiveClass:
            flags.positiveClass ??
            (performance === undefined ? undefined : positiveClassKey(performance.positiveClass)),
          ...(flags.labelColumn === undefined ? {} : { labelColumn: flags.labelColumn }),
          ...(flags.task === undefined ? {} : { task: flags.task }),
          required:
            performance !== undefined ||
            flags.labelColumn !== undefined ||
            flags.task !== undefined ||
            flags.positiveClass !== undefined,
        },
        onProgress: terminalProgress(),
        now: () => new Date(),
        threads: flags.threads,
      })
      const text =
        flags.format === 'json'
          ? JSON.stringify(report, null, 2) + '\n'
          : flags.format === 'html'
            ? renderHtmlReport(report, {
                referenceLabel: basename(flags.reference),
                currentLabel: basename(flags.current),
                generatedAt: new Date().toISOString(),
                version,
              })
            : renderTextReport(report)
      if (flags.out === undefined) process.stdout.write(text)
      else await writeFile(flags.out, text)
      setExitCode(
        report.datasetDrift ||
          report.dataQuality?.severity === 'critical' ||
          report.performance?.severity === 'critical' ||
          failedConditions(report).length > 0
          ? 1
          : 0,
      )
    })
}
