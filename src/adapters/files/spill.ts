// Temporary files for `driftwatch check`'s column values, so that exact KS and Wasserstein do not
// need every column of both files in memory at once (20 columns × 1M rows × 8 bytes × 2 sides is
// 320 MB): the files are read once, each column's cells appended to its own file, then the
// columns are profiled and compared one at a time (app/check-columns.ts).
//
// One directory per run under os.tmpdir(), removed when the run ends, fails, or the process exits
// or is interrupted (SIGINT/SIGTERM). Writes and reads are synchronous: they go to the page cache
// in large blocks, and the callers are synchronous loops over typed arrays.

import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const open = new Set<string>()
const signals = ['SIGINT', 'SIGTERM'] as const

function removeAll(): void {
  for (const dir of open) {
    // A worker thread (app/check-pool.ts) may still be writing a file into it: retried, and never
    // a reason to skip the signal's exit.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
    } catch {
      // left to the system's temp cleaner
    }
  }
  open.clear()
  unhook()
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll()
  // Our listener is gone: the signal's default action (exit with 128 + signal) applies again.
  process.kill(process.pid, signal)
}

// Listening to SIGINT replaces Node's default exit, so the listeners live only while a
// directory exists.
function hook(): void {
  if (open.size > 0) return
  process.on('exit', removeAll)
  for (const signal of signals) process.on(signal, onSignal)
}

function unhook(): void {
  process.off('exit', removeAll)
  for (const signal of signals) process.off(signal, onSignal)
}

/** Names fresh spill files: a run's directory, or a worker thread's share of it. */
export interface SpillFiles {
  file(name: string): string
}

/**
 * Files in an existing spill directory under their own prefix: a worker thread's (app/
 * check-pool.ts) files in the run's directory, which the main thread's `SpillDirectory` removes.
 */
export class SpillFilesIn implements SpillFiles {
  #files = 0

  constructor(
    readonly path: string,
    private readonly prefix: string,
  ) {}

  file(name: string): string {
    return join(
      this.path,
      `${this.prefix}${this.#files++}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    )
  }
}

/** A per-run directory of spill files; `remove()` deletes it (also done at process exit). */
export class SpillDirectory implements SpillFiles {
  readonly path: string
  #files = 0

  constructor(prefix = 'driftwatch-check-') {
    hook()
    this.path = mkdtempSync(join(tmpdir(), prefix))
    open.add(this.path)
  }

  /** A fresh file path inside the directory. */
  file(name: string): string {
    return join(this.path, `${this.#files++}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`)
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true })
    open.delete(this.path)
    if (open.size === 0) unhook()
  }
}

/** Appends typed-array contents to one file through a block buffer. */
export class SpillWriter {
  readonly path: string
  readonly #fd: number
  readonly #buffer: Uint8Array
  #used = 0
  #written = 0

  constructor(path: string, bufferBytes = 1 << 17) {
    this.path = path
    this.#fd = openSync(path, 'w')
    this.#buffer = new Uint8Array(bufferBytes)
  }

  /** Bytes appended so far. */
  get bytes(): number {
    return this.#written + this.#used
  }

  append(values: Float64Array | Int32Array, length = values.length): void {
    const bytes = new Uint8Array(
      values.buffer,
      values.byteOffset,
      length * values.BYTES_PER_ELEMENT,
    )
    if (bytes.length >= this.#buffer.length) {
      this.flush()
      this.#write(bytes)
      return
    }
    if (this.#used + bytes.length > this.#buffer.length) this.flush()
    this.#buffer.set(bytes, this.#used)
    this.#used += bytes.length
  }

  flush(): void {
    if (this.#used === 0) return
    this.#write(this.#buffer.subarray(0, this.#used))
    this.#used = 0
  }

  close(): void {
    this.flush()
    closeSync(this.#fd)
  }

  #write(bytes: Uint8Array): void {
    let done = 0
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done)
    this.#written += bytes.length
  }
}

function readBytes(path: string, into: Uint8Array): void {
  const fd = openSync(path, 'r')
  try {
    let done = 0
    while (done < into.length) {
      const n = readSync(fd, into, done, into.length - done, null)
      if (n === 0)
        throw new Error(`${path}: spill file ended after ${done} of ${into.length} bytes`)
      done += n
    }
  } finally {
    closeSync(fd)
  }
}

function sizeOf(path: string): number {
  const fd = openSync(path, 'r')
  try {
    return fstatSync(fd).size
  } finally {
    closeSync(fd)
  }
}

/** A spill file's contents as doubles (a fresh, aligned array). */
export function readFloat64File(path: string): Float64Array {
  const values = new Float64Array(sizeOf(path) / 8)
  readBytes(path, new Uint8Array(values.buffer))
  return values
}

/** A spill file's contents as 32-bit integers (a fresh, aligned array). */
export function readInt32File(path: string): Int32Array {
  const values = new Int32Array(sizeOf(path) / 4)
  readBytes(path, new Uint8Array(values.buffer))
  return values
}

/** Writes `values` to a new file at `path`. */
export function writeFloat64File(path: string, values: Float64Array): void {
  const writer = new SpillWriter(path, 0)
  writer.append(values)
  writer.close()
}
