import { MemoryLeaseStore } from '../../../src/adapters/memory/lease-store.js'
import { MemoryReferenceStore } from '../../../src/adapters/memory/reference-store.js'
import { MemorySketchStore } from '../../../src/adapters/memory/sketch-store.js'
import {
  describeLeaseStoreContract,
  describeReferenceStoreContract,
  describeSketchStoreContract,
} from '../../contract/sketch-store.contract.js'

const close = (): Promise<void> => Promise.resolve()

describeSketchStoreContract('memory', () => {
  const store = new MemorySketchStore()
  return Promise.resolve({
    store,
    bucketTtlMs: (model: string, bucketStart: number) =>
      Promise.resolve(store.bucketTtlMs(model, bucketStart)),
    close,
  })
})

describeLeaseStoreContract('memory', () =>
  Promise.resolve({ store: new MemoryLeaseStore(), close }),
)

describeReferenceStoreContract('memory', () =>
  Promise.resolve({ store: new MemoryReferenceStore(), close }),
)
