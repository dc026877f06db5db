// ReferenceStore in memory, for unit tests of the app layer (same contract suite as Redis').

import type { ReferenceSeed, ReferenceStore } from '../../ports/sketch-store.js'
import { checkReferenceId } from '../store-arguments.js'
import { settle } from './settle.js'

export class MemoryReferenceStore implements ReferenceStore {
  readonly #snapshots = new Map<string, Map<string, string>>()
  readonly #current = new Map<string, string>()
  readonly #seeded = new Map<string, string>()

  put(model: string, snapshotJson: string, id: string): Promise<void> {
    return settle(() => {
      checkReferenceId(id)
      this.#putNow(model, snapshotJson, id)
    })
  }

  #putNow(model: string, snapshotJson: string, id: string): void {
    let snapshots = this.#snapshots.get(model)
    if (snapshots === undefined) {
      snapshots = new Map()
      this.#snapshots.set(model, snapshots)
    }
    snapshots.set(id, snapshotJson)
    this.#current.set(model, id)
  }

  current(model: string): Promise<string | null> {
    const id = this.#current.get(model)
    return Promise.resolve(id === undefined ? null : (this.#snapshots.get(model)?.get(id) ?? null))
  }

  seedFromFile(model: string, snapshotJson: string, id: string): Promise<ReferenceSeed> {
    return settle(() => {
      checkReferenceId(id)
      const current = this.#current.get(model)
      if (current !== undefined && current !== id && this.#seeded.get(model) === id)
        return { applied: false, currentId: current }
      this.#seeded.set(model, id)
      this.#putNow(model, snapshotJson, id)
      return { applied: true, currentId: id }
    })
  }
}
