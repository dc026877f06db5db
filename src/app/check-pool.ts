// The worker threads of `driftwatch check` (`--threads`): the current file is read while the main
// thread reads the reference, and the columns are profiled and tested side by side. Each task is
// plain data in and out (app/check-worker.ts); the temporary files stay in the run's directory,
// which the main thread removes however the run ends (adapters/files/spill.ts).
//
// The workers run the built JavaScript (dist/app/check-worker.js, next to this module once
// built); from the TypeScript sources (vitest) there is no such file, so callers there keep one
// thread, the in-thread path.

import { Worker } from 'node:worker_threads'
import { FileReadError } from '../adapters/files/errors.js'
import type { SpilledTable, TransferredFeature } from './check-columns.js'
import type { DriftSettings } from '../core/drift-tests/thresholds.js'
import type { ColumnLayout } from '../core/profile/dataset.js'
import type { ColumnKind } from '../core/reference.js'
import type { FeatureResult } from '../core/report.js'
import { DriftwatchError, errorCodes, type ErrorCode } from '../errors.js'

interface Task {
  readonly id: number
  /** The run's spill directory: the worker's files go there under its own prefix. */
  readonly dir: string
}

export type PoolRequest =
  | (Task & {
      readonly task: 'spill'
      readonly path: string
      readonly columns: readonly string[]
      /** Columns whose kind is inferred while reading (app/check-columns.ts `spillTable`). */
      readonly observe?: readonly string[]
    })
  | (Task & {
      readonly task: 'reference'
      readonly spilled: SpilledTable
      readonly kind: ColumnKind
      readonly exact: boolean
      readonly categoryCap: number
    })
  | (Task & {
      readonly task: 'compare'
      readonly spilled: SpilledTable
      readonly column: ColumnLayout
      readonly unseenCap: number
      readonly reference: TransferredFeature
      readonly settings: DriftSettings
      readonly nFeatures: number
    })

/** What each task answers. */
export interface PoolResults {
  spill: SpilledTable
  reference: TransferredFeature | null
  compare: { result: FeatureResult; current: TransferredFeature } | null
}

export interface PoolReply {
  readonly id: number
  readonly value?: PoolResults[keyof PoolResults]
  readonly error?: ErrorMessage
  /** Bytes read so far, for a spill task's progress. */
  readonly progress?: number
}

/** An error as a message carries it: what the main thread needs to throw the same one. */
export interface ErrorMessage {
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly path?: string
  readonly rowNumber?: number
}

export function errorToMessage(error: unknown): ErrorMessage {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) }
  const fields = error as Error & { code?: unknown; path?: unknown; rowNumber?: unknown }
  return {
    name: error.name,
    message: error.message,
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.path === 'string' ? { path: fields.path } : {}),
    ...(typeof fields.rowNumber === 'number' ? { rowNumber: fields.rowNumber } : {}),
  }
}

/** The error a worker met, as the main thread throws it: same class family, same message. */
export function errorFromMessage(message: ErrorMessage): Error {
  let error: Error
  if (message.code === 'FILE_READ' && message.path !== undefined) {
    error = new FileReadError(message.message, {
      path: message.path,
      ...(message.rowNumber === undefined ? {} : { rowNumber: message.rowNumber }),
    })
  } else if ((errorCodes as readonly string[]).includes(message.code ?? '')) {
    error = new DriftwatchError(message.code as ErrorCode, message.message)
  } else {
    error = new Error(message.message)
  }
  error.name = message.name
  return error
}

type Request = { [K in PoolRequest['task']]: Omit<Extract<PoolRequest, { task: K }>, 'id' | 'dir'> }

interface Pending {
  readonly request: PoolRequest
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
  readonly onProgress: ((bytesRead: number) => void) | undefined
}

/** Up to `size` worker threads, started on first use, one task at a time each. */
export class CheckPool {
  readonly #idle: Worker[] = []
  readonly #busy = new Map<Worker, Pending>()
  readonly #queue: Pending[] = []
  #started = 0
  #nextId = 0
  #closed = false

  constructor(
    readonly size: number,
    private readonly dir: string,
    private readonly script = new URL('./check-worker.js', import.meta.url),
  ) {}

  run<K extends PoolRequest['task']>(
    request: Request[K] & { task: K },
    onProgress?: (bytesRead: number) => void,
  ): Promise<PoolResults[K]> {
    if (this.#closed) return Promise.reject(new Error('check pool closed'))
    return new Promise<PoolResults[K]>((resolve, reject) => {
      const full = { ...request, id: this.#nextId++, dir: this.dir } as unknown as PoolRequest
      this.#queue.push({
        request: full,
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress,
      })
      this.#dispatch()
    })
  }

  /** Stops every worker; tasks still waiting are rejected. */
  async close(): Promise<void> {
    this.#closed = true
    for (const pending of this.#queue.splice(0)) pending.reject(new Error('check pool closed'))
    const workers = [...this.#idle, ...this.#busy.keys()]
    this.#idle.length = 0
    for (const pending of this.#busy.values()) pending.reject(new Error('check pool closed'))
    this.#busy.clear()
    await Promise.all(workers.map((worker) => worker.terminate()))
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop()
      if (worker === undefined) {
        if (this.#started >= this.size) return
        worker = this.#start()
      }
      const pending = this.#queue.shift() as Pending
      this.#busy.set(worker, pending)
      worker.postMessage(pending.request)
    }
  }

  #start(): Worker {
    this.#started++
    // A small young generation: each thread's short-lived garbage (a batch's cells) is collected
    // sooner, so that two threads reading at once stay near one thread's memory.
    const worker = new Worker(this.script, { resourceLimits: { maxYoungGenerationSizeMb: 8 } })
    worker.on('message', (reply: PoolReply) => {
      const pending = this.#busy.get(worker)
      if (pending === undefined || pending.request.id !== reply.id) return
      if (reply.progress !== undefined) {
        pending.onProgress?.(reply.progress)
        return
      }
      this.#busy.delete(worker)
      this.#idle.push(worker)
      if (reply.error !== undefined) pending.reject(errorFromMessage(reply.error))
      else pending.resolve(reply.value)
      this.#dispatch()
    })
    // A worker that dies (out of memory, a bug) fails its task and leaves the pool smaller.
    const fail = (error: Error): void => {
      const pending = this.#busy.get(worker)
      this.#busy.delete(worker)
      this.#started--
      pending?.reject(error)
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (!this.#closed && this.#busy.has(worker))
        fail(new Error(`a check worker thread exited with code ${code}`))
    })
    return worker
  }
}
