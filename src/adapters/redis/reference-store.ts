// ReferenceStore on Redis: each snapshot under its own key, and a pointer to the current one,
// both written in one MULTI (one slot: the model's hash tag). Snapshots are kept after a newer
// one becomes current, so a report can still name what it was compared with.

import type { ReferenceStore } from '../../ports/sketch-store.js'
import { withRedisErrors } from './errors.js'
import { redisKeys, type RedisKeys } from './keys.js'
import type { RedisClient } from './scripts.js'

export class RedisReferenceStore implements ReferenceStore {
  readonly #client: RedisClient
  readonly #keys: RedisKeys

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client
    this.#keys = redisKeys(keyPrefix)
  }

  async put(model: string, snapshotJson: string, id: string): Promise<void> {
    const snapshotKey = this.#keys.referenceSnapshot(model, id)
    const currentKey = this.#keys.reference(model)
    await withRedisErrors(
      () => `store reference ${id} of model ${model}`,
      async () => {
        const results = await this.#client
          .multi()
          .set(snapshotKey, snapshotJson)
          .set(currentKey, id)
          .exec()
        for (const [error] of results ?? []) if (error !== null) throw error
      },
    )
  }

  async current(model: string): Promise<string | null> {
    const currentKey = this.#keys.reference(model)
    return withRedisErrors(
      () => `read the current reference of model ${model}`,
      async () => {
        const id = await this.#client.get(currentKey)
        if (id === null) return null
        // Two reads, not one script: the snapshot's key is only known after the first. Snapshots
        // are never deleted, so a put in between at worst hands back the previous current one.
        return this.#client.get(this.#keys.referenceSnapshot(model, id))
      },
    )
  }
}
