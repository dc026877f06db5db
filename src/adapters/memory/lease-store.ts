// LeaseStore in memory, for unit tests of the app layer; same semantics as the Redis store (and
// the same contract suite): the token increases whenever the lease changes hands, including when
// an owner comes back after its lease lapsed, and commits are fenced by the current token.

import type { LeaseStore } from '../../ports/sketch-store.js'
import { checkLeaseArguments, checkWindowEnd } from '../store-arguments.js'
import { settle } from './settle.js'
import type { MemoryStoreOptions } from './sketch-store.js'

interface Lease {
  readonly owner: string
  expiresAt: number
}

export class MemoryLeaseStore implements LeaseStore {
  readonly #leases = new Map<string, Lease>()
  readonly #tokens = new Map<string, number>()
  readonly #evaluations = new Map<string, { windowEnd: number; state: string }>()
  readonly #now: () => number

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  #lease(model: string): Lease | undefined {
    const lease = this.#leases.get(model)
    if (lease !== undefined && lease.expiresAt <= this.#now()) {
      this.#leases.delete(model)
      return undefined
    }
    return lease
  }

  acquire(model: string, owner: string, ttlMs: number): Promise<number | null> {
    return settle(() => {
      checkLeaseArguments(owner, ttlMs)
      const lease = this.#lease(model)
      const token = this.#tokens.get(model)
      if (lease !== undefined && lease.owner !== owner) return null
      if (lease !== undefined && token !== undefined) {
        lease.expiresAt = this.#now() + ttlMs
        return token
      }
      const next = (token ?? 0) + 1
      this.#tokens.set(model, next)
      this.#leases.set(model, { owner, expiresAt: this.#now() + ttlMs })
      return next
    })
  }

  release(model: string, owner: string): Promise<void> {
    if (this.#lease(model)?.owner === owner) this.#leases.delete(model)
    return Promise.resolve()
  }

  commitEvaluation(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
  ): Promise<'committed' | 'fenced' | 'duplicate'> {
    return settle(() => {
      checkWindowEnd(windowEnd)
      if (this.#tokens.get(model) !== token) return 'fenced'
      const last = this.#evaluations.get(model)
      if (last !== undefined && last.windowEnd >= windowEnd) return 'duplicate'
      this.#evaluations.set(model, { windowEnd, state })
      return 'committed'
    })
  }

  commitRevision(
    model: string,
    token: number,
    windowEnd: number,
    state: string,
  ): Promise<'committed' | 'fenced' | 'duplicate'> {
    return settle(() => {
      checkWindowEnd(windowEnd)
      if (this.#tokens.get(model) !== token) return 'fenced'
      const last = this.#evaluations.get(model)
      if (last === undefined || last.windowEnd !== windowEnd) return 'duplicate'
      this.#evaluations.set(model, { windowEnd, state })
      return 'committed'
    })
  }

  lastEvaluation(model: string): Promise<{ windowEnd: number; state: string } | null> {
    const last = this.#evaluations.get(model)
    return Promise.resolve(last === undefined ? null : { ...last })
  }
}
