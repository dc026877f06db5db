// ReferenceStore on Redis: each snapshot under its own key, and a pointer to the current one,
// both written in one MULTI (one slot: the model's hash tag). Snapshots are kept after a newer
// one becomes current, so a report can still name what it was compared with.

import { DriftwatchError } from '../../errors.js'
import type { ReferenceSeed, ReferenceStore } from '../../ports/sketch-store.js'
import { checkReferenceId } from '../store-arguments.js'
import { withRedisErrors } from './errors.js'
import { redisKeys, type RedisKeys } from './keys.js'
import { defineScripts, runScript, type RedisClient } from './scripts.js'

export class RedisReferenceStore implements ReferenceStore {
  readonly #client: RedisClient
  readonly #keys: RedisKeys

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client
    this.#keys = redisKeys(keyPrefix)
    defineScripts(client)
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

  async seedFromFile(model: string, snapshotJson: string, id: string): Promise<ReferenceSeed> {
    checkReferenceId(id)
    const reply = await withRedisErrors(
      () => `seed the reference of model ${model} from its file`,
      () =>
        runScript(
          this.#client,
          'seed-reference',
          [
            this.#keys.reference(model),
            this.#keys.referenceSeed(model),
            this.#keys.referenceSnapshot(model, id),
          ],
          [id, snapshotJson],
        ),
    )
    if (!Array.isArray(reply) || typeof reply[1] !== 'string' || (reply[0] !== 0 && reply[0] !== 1))
      throw new DriftwatchError(
        'REDIS_ERROR',
        `redis script seed-reference returned ${JSON.stringify(reply)}`,
      )
    return { applied: reply[0] === 1, currentId: reply[1] }
  }
}
