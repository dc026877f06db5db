// The `driftwatch` command. Each subcommand lives in its own file; this one wires them into
// commander and turns errors into exit code 2 with a one-line message per problem.

import { Command, CommanderError } from 'commander'
import { DriftwatchError, errorMessage } from '../errors.js'
import { registerCheck } from './check.js'
import { registerReference } from './reference.js'
import { registerRun } from './run.js'
import { registerSimulate } from './simulate.js'
import { registerDemo } from './demo.js'
import { version } from './version.js'

export const exitCodes = { ok: 0, drift: 1, error: 2 } as const

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = exitCodes.ok
  const program = new Command('driftwatch')
    .description(
      'Drift detection for production ML models: streaming on Kafka + Redis, or on files',
    )
    .version(version)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
  const setExitCode = (code: number): void => {
    exitCode = code
  }
  registerCheck(program, setExitCode)
  registerReference(program)
  registerRun(program)
  registerSimulate(program)
  registerDemo(program)
  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.error
    }
    // Several problems (e.g. every mistake of a config file) come one per line, each prefixed.
    for (const line of describe(error).split('\n'))
      process.stderr.write(`driftwatch: error: ${line}\n`)
    return exitCodes.error
  }
  return exitCode
}

function describe(error: unknown): string {
  if (error instanceof DriftwatchError) return error.message
  if (error instanceof Error && 'code' in error && error.code === 'ENOENT')
    return errorMessage(error)
  return errorMessage(error)
}
