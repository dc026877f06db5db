// A worker thread of `driftwatch check`'s pool (app/check-pool.ts): reads a file into temporary
// files, or profiles one column (and tests it against the reference's), and answers with plain
// data. The statistics are the in-thread path's: the same functions of app/check-columns.ts on
// the same cells, one column at a time.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parentPort, threadId } from 'node:worker_threads'
import { SpillFilesIn } from '../adapters/files/spill.js'
import { openTable } from '../adapters/files/table-source.js'
import { createDefaultRegistry } from '../core/drift-tests/registry.js'
import { NoiseFloors } from '../core/drift-tests/noise-floor.js'
import { evaluateFeature } from '../core/evaluate.js'
import {
  currentFeatureFromSpill,
  featureForTransfer,
  featureFromTransfer,
  referenceFeatureFromSpill,
  SortedColumnCache,
  spillTable,
} from './check-columns.js'
import { errorToMessage, type PoolReply, type PoolRequest, type PoolResults } from './check-pool.js'

// Each task leaves a column's arrays behind (tens of megabytes at a million rows). This thread's
// heap would hold them until its next collection, on top of the main thread's heap, where one
// thread reuses one heap's room; collecting after each task keeps the peak memory near the
// in-thread path's. (`gc` is V8's, exposed to this thread only.)
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

const registry = createDefaultRegistry()
// Floors are deterministic per feature, test and size (core/drift-tests/noise-floor.ts): a cache
// per thread gives the values one shared cache would.
const floors = new NoiseFloors()

async function handle(
  request: PoolRequest,
  files: SpillFilesIn,
): Promise<PoolResults[keyof PoolResults]> {
  switch (request.task) {
    case 'spill': {
      const table = openTable(request.path)
      let last = 0
      return await spillTable(table, request.columns, files, {
        ...(request.observe === undefined ? {} : { observe: request.observe }),
        onProgress: (bytesRead) => {
          // A message per megabyte at most: progress is for a person watching.
          if (bytesRead - last < 1 << 20) return
          last = bytesRead
          parentPort?.postMessage({ id: request.id, progress: bytesRead })
        },
      })
    }
    case 'reference': {
      const feature = referenceFeatureFromSpill(
        request.spilled,
        request.kind,
        request.exact,
        request.categoryCap,
      )
      return feature === undefined
        ? null
        : featureForTransfer(feature, files, `reference-${request.kind.name}`)
    }
    case 'compare': {
      const { column } = request
      const feature = currentFeatureFromSpill(request.spilled, column, request.unseenCap)
      if (feature === undefined) return null
      const cache = new SortedColumnCache()
      const transferred = featureForTransfer(feature, files, `current-${column.name}`)
      // The loaded cells and the unsorted values are garbage now: gone before the tests read the
      // two sorted columns back.
      collectGarbage()
      const current = featureFromTransfer(
        { feature: { ...transferred.feature }, sortedPath: transferred.sortedPath },
        cache,
      )
      const reference = featureFromTransfer(request.reference, cache)
      const result = evaluateFeature(
        column.name,
        reference,
        current,
        { settings: request.settings, registry, floors },
        request.nFeatures,
      )
      return { result, current: transferred }
    }
  }
}

const port = parentPort
if (port === null) throw new Error('check-worker.js runs as a worker thread only')
// One namer per run directory, so that this thread's files never share a name.
const namers = new Map<string, SpillFilesIn>()
port.on('message', (request: PoolRequest) => {
  let files = namers.get(request.dir)
  if (files === undefined) {
    files = new SpillFilesIn(request.dir, `w${threadId}-`)
    namers.set(request.dir, files)
  }
  handle(request, files).then(
    (value) => {
      collectGarbage()
      port.postMessage({ id: request.id, value } satisfies PoolReply)
    },
    (error: unknown) => port.postMessage({ id: request.id, error: errorToMessage(error) }),
  )
})
