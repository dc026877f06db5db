// The log of a one-shot command (`reference capture`, `simulate`): kafkajs' warnings and errors,
// on stderr, since stdout may carry the command's output (a snapshot written to stdout).

import { pino, type Logger } from 'pino'

export function commandLogger(): Logger {
  return pino({ level: 'warn' }, pino.destination(2))
}
