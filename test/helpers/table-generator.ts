// Deterministic wide tables for file-reader tests and throughput measurements.
//
// The shape mimics a typical model-feature table (23 columns: an id, mostly floats, a few ints,
// categoricals, a boolean and a sparse column) so rows/s numbers transfer to the 1M x 23 benchmark.
// Files are written in batches so generating a large file never holds it in memory.

import { open } from 'node:fs/promises'

export type GeneratedCell = number | string | boolean | null

export const generatedColumns = [
  'id',
  ...Array.from({ length: 14 }, (_, i) => `f${i + 1}`),
  'i1',
  'i2',
  'i3',
  'c1',
  'c2',
  'c3',
  'flag',
  'sparse',
] as const

/** mulberry32: tiny, fast, and identical across platforms, unlike Math.random. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function* generateRows(count: number, seed = 42): Generator<GeneratedCell[]> {
  const random = prng(seed)
  for (let row = 0; row < count; row++) {
    const cells: GeneratedCell[] = [row + 1]
    for (let f = 0; f < 14; f++) {
      // Sum of uniforms: roughly normal, and full-precision decimals like pandas writes.
      cells.push((random() + random() + random() - 1.5) * (f + 1) * 10)
    }
    cells.push(Math.floor(random() * 5), Math.floor(random() * 1000), Math.floor(random() * 1e9))
    cells.push(`cat_${Math.floor(random() * 12)}`, `region_${Math.floor(random() * 50)}`)
    cells.push(random() < 0.5 ? 'alpha' : 'beta')
    cells.push(random() < 0.3)
    cells.push(random() < 0.05 ? null : Math.round(random() * 1e4) / 100)
    yield cells
  }
}

function csvCell(value: GeneratedCell): string {
  if (value === null) return ''
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  return String(value)
}

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const handle = await open(path, 'w')
  try {
    let batch: string[] = []
    let size = 0
    for (const line of lines) {
      batch.push(line)
      size += line.length
      if (size >= 1 << 20) {
        await handle.write(batch.join(''))
        batch = []
        size = 0
      }
    }
    if (batch.length > 0) await handle.write(batch.join(''))
  } finally {
    await handle.close()
  }
}

export async function writeGeneratedCsv(
  path: string,
  rows: number,
  options: { seed?: number; delimiter?: string } = {},
): Promise<void> {
  const delimiter = options.delimiter ?? ','
  function* lines(): Generator<string> {
    yield generatedColumns.join(delimiter) + '\n'
    for (const cells of generateRows(rows, options.seed)) {
      yield cells.map(csvCell).join(delimiter) + '\n'
    }
  }
  await writeLines(path, lines())
}

export async function writeGeneratedJsonl(
  path: string,
  rows: number,
  options: { seed?: number } = {},
): Promise<void> {
  function* lines(): Generator<string> {
    for (const cells of generateRows(rows, options.seed)) {
      const record: Record<string, GeneratedCell> = {}
      cells.forEach((cell, i) => (record[generatedColumns[i] ?? `col${i}`] = cell))
      yield JSON.stringify(record) + '\n'
    }
  }
  await writeLines(path, lines())
}
