import { stat } from 'node:fs/promises'
import { DriftwatchError } from '../../errors.js'

/**
 * A data file could not be read. Messages are for the person who handed us the file: problems
 * inside it lead with `path:line:` (which editors and terminals turn into a link) and say what is
 * wrong in the file's own terms. Never retried: the same bytes fail the same way.
 */
export class FileReadError extends DriftwatchError {
  readonly path: string
  /** CSV/JSONL: 1-based physical line; Parquet: 1-based row index; undefined if not about a row. */
  readonly rowNumber: number | undefined

  constructor(message: string, where: { path: string; rowNumber?: number; cause?: unknown }) {
    super('FILE_READ', message, { canRetry: false, cause: where.cause })
    this.name = 'FileReadError'
    this.path = where.path
    this.rowNumber = where.rowNumber
  }

  /** A problem at a place in the file: `data/cur.csv:17: row has 5 fields, header has 4`. */
  static at(
    path: string,
    rowNumber: number | undefined,
    detail: string,
    cause?: unknown,
  ): FileReadError {
    const prefix = rowNumber === undefined ? path : `${path}:${rowNumber}`
    return new FileReadError(`${prefix}: ${detail}`, {
      path,
      ...(rowNumber === undefined ? {} : { rowNumber }),
      cause,
    })
  }
}

/** Translates a Node fs failure into what the user needs to fix. */
export function fileSystemError(path: string, error: unknown): FileReadError {
  if (error instanceof FileReadError) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT') return new FileReadError(`missing file: ${path}`, { path, cause: error })
  if (code === 'EISDIR') {
    return new FileReadError(`not a file but a directory: ${path}`, { path, cause: error })
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new FileReadError(`no permission to read ${path}`, { path, cause: error })
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new FileReadError(`cannot read ${path}: ${reason}`, { path, cause: error })
}

/** The size of the file at `path`, with fs failures as FileReadError. */
export async function fileSizeBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch (error) {
    throw fileSystemError(path, error)
  }
}
