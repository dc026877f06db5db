// Reference snapshot files: JSON written by `driftwatch reference build`, validated on the way in
// so a hand-edited or truncated file fails with the field that is wrong, not deep in the maths.

import { createHash } from 'node:crypto'
import { open, readFile, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { formatPath } from '../../config/load.js'
import {
  decodeReference,
  encodeReference,
  referenceFormat,
  referenceVersion,
  type ReferenceSnapshot,
  type ReferenceSnapshotJSON,
} from '../../core/reference.js'
import { DriftwatchError, errorMessage } from '../../errors.js'

const count = z.number().nonnegative()
const digestSchema = z.strictObject({
  compression: z.number().min(10).max(100_000),
  min: z.number(),
  max: z.number(),
  means: z.array(z.number()),
  weights: z.array(z.number().positive()),
})

const profileSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('numerical'),
      edges: z.array(z.number()),
      decileEdges: z.array(z.number().int().nonnegative()),
      count,
      missing: count,
      nonFinite: count,
      mismatched: count.optional(),
      // mean/m2/scale since moments became overflow-safe; sum/sumSq in older files
      mean: z.number().optional(),
      m2: z.number().nonnegative().optional(),
      scale: z.number().positive().optional(),
      sum: z.number().optional(),
      sumSq: z.number().optional(),
      range: z.tuple([z.number().nullable(), z.number().nullable()]).optional(),
      outOfRange: count.optional(),
      values: z.array(z.number()).optional(),
      min: z.number().nullable(),
      max: z.number().nullable(),
      digest: digestSchema,
      bins: z.array(count),
      atEdge: z.array(count),
      smallValues: z.array(z.tuple([z.number(), count])).nullable(),
    })
    .refine(
      (p) =>
        (p.mean !== undefined && p.m2 !== undefined && p.scale !== undefined) ||
        (p.sum !== undefined && p.sumSq !== undefined),
      {
        message: 'a numerical profile needs mean, m2 and scale (or, stored earlier, sum and sumSq)',
      },
    ),
  z.strictObject({
    kind: z.literal('categorical'),
    vocabulary: z.array(z.string()).nullable(),
    unseenCap: z.number().int().nonnegative(),
    count,
    missing: count,
    counts: z.array(z.tuple([z.string(), count])),
    other: count,
  }),
])

const columnSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(['numerical', 'categorical']),
  kindReason: z.string(),
  profile: profileSchema,
})

export const referenceSnapshotSchema = z.strictObject({
  format: z.literal(referenceFormat),
  version: z.literal(referenceVersion),
  id: z.string().min(1),
  createdAt: z.string(),
  source: z.record(z.string(), z.union([z.string(), z.number()])),
  rows: count,
  exactBreakpoints: z.boolean(),
  columns: z.array(columnSchema),
  prediction: columnSchema.optional(),
  latency: profileSchema.optional(),
})

export function referenceId(body: string): string {
  return `ref-${createHash('sha256').update(body).digest('hex').slice(0, 16)}`
}

export function snapshotToJSON(
  snapshot: Omit<ReferenceSnapshot, 'id'> & { id?: string },
): ReferenceSnapshotJSON {
  return encodeReference(snapshot, referenceId)
}

export async function writeReferenceFile(path: string, json: ReferenceSnapshotJSON): Promise<void> {
  await writeFile(path, JSON.stringify(json) + '\n')
}

/** Parses and validates snapshot JSON from any source (file, Redis, HTTP body). */
export function parseReferenceJSON(raw: unknown, source: string): ReferenceSnapshot {
  const result = referenceSnapshotSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue === undefined ? '' : `${formatPath(issue.path)}: ${issue.message}`
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `${source}: not a valid driftwatch reference snapshot: ${where}`,
    )
  }
  const json = result.data as ReferenceSnapshotJSON
  for (const column of json.columns) checkShapes(column.name, column.profile, source)
  if (json.prediction !== undefined)
    checkShapes(`prediction ${json.prediction.name}`, json.prediction.profile, source)
  if (json.latency !== undefined) checkShapes('latency', json.latency, source)
  return decodeReference(json)
}

function checkShapes(
  name: string,
  profile: ReferenceSnapshotJSON['columns'][number]['profile'],
  source: string,
): void {
  if (profile.kind !== 'numerical') return
  const ok =
    profile.bins.length === profile.edges.length + 1 &&
    profile.atEdge.length === profile.edges.length &&
    profile.decileEdges.every((i) => i < profile.edges.length) &&
    profile.digest.means.length === profile.digest.weights.length
  if (!ok)
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `${source}: column '${name}': bin arrays do not match its breakpoints`,
    )
}

export async function readReferenceFile(path: string): Promise<ReferenceSnapshot> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error: unknown) {
    throw new DriftwatchError(
      'REFERENCE_INVALID',
      `${path}: cannot read reference snapshot: ${errorMessage(error)}`,
      { cause: error },
    )
  }
  return parseReferenceJSON(raw, path)
}

/** Whether a file looks like a snapshot (JSON object with our format tag) rather than data. */
export async function isReferenceSnapshotFile(path: string): Promise<boolean> {
  if (!path.endsWith('.json')) return false
  try {
    const file = await open(path, 'r')
    try {
      const { buffer, bytesRead } = await file.read({ buffer: Buffer.alloc(256), position: 0 })
      const head = buffer.subarray(0, bytesRead).toString('utf8')
      return (
        head.includes(`"format":"${referenceFormat}"`) ||
        head.includes(`"format": "${referenceFormat}"`)
      )
    } finally {
      await file.close()
    }
  } catch {
    return false
  }
}
