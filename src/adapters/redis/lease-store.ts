// LeaseStore on Redis: one evaluator per model (invariant 4). The lease is a key holding the
// owner with a PX ttl; the fencing token is a counter beside it that the acquire script
// increments whenever the lease changes hands, and the commit script refuses any other token.

import { DriftwatchError } from '../../errors.js'
import type { LeaseStore } from '../../ports/sketch-store.js'
import { checkLeaseArguments, checkWindowEnd } from '../store-arguments.js'
import { withRedisErrors } from './errors.js'
import { redisKeys, type RedisKeys } from './keys.js'
import { scriptCodeName } from './script-codes.js'
import { defineScripts, runScript, type RedisClient } from './scripts.js'

function unexpected(script: string, reply: unknown): DriftwatchError {
  return new DriftwatchError(
    'REDIS_ERROR',
    `redis script ${script} returned ${JSON.stringify(reply)}`,
  )
}

export class RedisLeaseStore implements LeaseStore {
  readonly #client: RedisClient
  readonly #keys: RedisKeys

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client
    this.#keys = redisKeys(keyPrefix)
    defineScripts(client)
  }

  async acquire(model: string, owner: string, ttlMs: number): Promise<number | null> {
    checkLeaseArguments(owner, ttlMs)
    const reply = await withRedisErrors(
      () => `acquire the lease of model ${model}`,
      () =>
        runScript(
          this.#client,
          'acquire-lease',
          [this.#keys.lease(model), this.#keys.leaseToken(model)],
          [owner, ttlMs],
        ),
    )
    if (typeof reply !== 'number') throw unexpected('acquire-lease', reply)
    if (reply > 0) return reply
    const name = scriptCodeName('acquire-lease', reply)
    if (name !== 'leaseHeld') throw unexpected('acquire-lease', reply)
    return null
  }

  async release(model: string, owner: string): Promise<void> {
    await withRedisErrors(
      () => `release the lease of model ${model}`,
      () => runScript(this.#client, 'release-lease', [this.#keys.lease(model)], [owner]),
    )
  }

  commitEvaluation(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
  ): Promise<'committed' | 'fenced' | 'duplicate'> {
    return this.#commit(model, token, windowEnd, state, 'evaluation')
  }

  commitRevision(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
  ): Promise<'committed' | 'fenced' | 'duplicate'> {
    return this.#commit(model, token, windowEnd, state, 'revision')
  }

  /** One script for both: a revision re-records an evaluated window under the same fencing. */
  async #commit(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
    kind: 'evaluation' | 'revision',
  ): Promise<'committed' | 'fenced' | 'duplicate'> {
    checkWindowEnd(windowEnd)
    // A token that is not a positive integer was never handed out: fenced without asking.
    if (!Number.isSafeInteger(token) || token <= 0) return 'fenced'
    const reply = await withRedisErrors(
      () =>
        kind === 'evaluation'
          ? `commit the evaluation of model ${model}`
          : `commit a revision of model ${model}`,
      () =>
        runScript(
          this.#client,
          'commit-evaluation',
          [this.#keys.leaseToken(model), this.#keys.evaluation(model)],
          kind === 'evaluation'
            ? [String(token), windowEnd, state]
            : [String(token), windowEnd, state, 'revise'],
        ),
    )
    if (reply === 1) return 'committed'
    if (typeof reply !== 'number') throw unexpected('commit-evaluation', reply)
    const name = scriptCodeName('commit-evaluation', reply)
    switch (name) {
      case 'fenced':
        return 'fenced'
      case 'windowRecorded':
        return 'duplicate'
      case 'staleCheckpoint':
      case 'leaseHeld':
      case 'joinEntryChanged':
        throw unexpected('commit-evaluation', reply)
    }
  }

  async lastEvaluation(model: string): Promise<{ windowEnd: number; state: string } | null> {
    const [windowEnd, state] = await withRedisErrors(
      () => `read the last evaluation of model ${model}`,
      () => this.#client.hmget(this.#keys.evaluation(model), 'windowEnd', 'state'),
    )
    if (windowEnd === null || windowEnd === undefined || state === null || state === undefined)
      return null
    const end = Number(windowEnd)
    if (!Number.isSafeInteger(end)) {
      throw new DriftwatchError(
        'REDIS_ERROR',
        `redis: last evaluation of model ${model} has window end '${windowEnd}'`,
      )
    }
    return { windowEnd: end, state }
  }
}
