// The negative codes our Lua scripts return, in one table, read by one function (bullmq's
// finished-errors.ts). They are outcomes the domain expects (a stale flush, a lease held by
// someone else), not failures; the stores turn them into the port's words. Each script's header
// lists the codes it returns, and a test checks every negative code in lua/*.lua is listed here.

import { DriftwatchError } from '../../errors.js'

export const scriptCodes = [
  {
    code: -1,
    name: 'staleCheckpoint',
    meaning: 'a stored checkpoint offset is not the one the flush started from',
  },
  { code: -2, name: 'leaseHeld', meaning: 'another owner holds the lease' },
  { code: -3, name: 'fenced', meaning: 'the fencing token is not the current one' },
  { code: -4, name: 'windowRecorded', meaning: 'this window, or a later one, is already recorded' },
  {
    code: -5,
    name: 'joinEntryChanged',
    meaning: 'a waiting prediction or label is not what the label join read',
  },
] as const

export type ScriptCodeName = (typeof scriptCodes)[number]['name']

/** The name of a negative code `script` returned; an unknown code means script and table disagree. */
export function scriptCodeName(script: string, code: number): ScriptCodeName {
  const known = scriptCodes.find((entry) => entry.code === code)
  if (known === undefined) {
    throw new DriftwatchError('REDIS_ERROR', `redis script ${script} returned unknown code ${code}`)
  }
  return known.name
}
