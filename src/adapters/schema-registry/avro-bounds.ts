// A walk over an Avro body, as its writer schema reads it, that checks only one thing before avsc
// decodes it: every map and array block claims no more items than there are bytes left. avsc
// trusts a block's count and loops that many times before it notices the end of the buffer, so a
// 12-byte message claiming 2^40 map entries keeps the ingest thread busy for minutes (one bad
// event must cost a dead letter, not the stream). Everything else (types, unions, strings, the
// trailing bytes) is left to avsc, which reports it.
//
// Written by hand: avsc has no bound on block counts, and no other Avro library here reads the
// body without decoding it.

import type { Type } from 'avsc'

/** Null when the body's blocks fit in it; else what is wrong, for the dead letter's detail. */
export function oversizedBlock(type: Type, body: Uint8Array): string | null {
  const cursor = { body, pos: 0 }
  try {
    walk(type, cursor)
    return null
  } catch (error: unknown) {
    if (error instanceof BlockError) return error.message
    // A recursive schema nested deeper than the stack: avsc would overflow too.
    if (error instanceof RangeError) return 'nested too deeply'
    throw error
  }
}

class BlockError extends Error {}

interface Cursor {
  readonly body: Uint8Array
  pos: number
}

/** Where the body ends first: stop walking (avsc reports the truncation itself). */
class Truncated extends Error {}

function walk(type: Type, cursor: Cursor): void {
  try {
    walkType(type, cursor)
  } catch (error: unknown) {
    if (!(error instanceof Truncated)) throw error
  }
}

function walkType(type: Type, cursor: Cursor): void {
  const t = type as unknown as AvscType
  switch (t.typeName) {
    case 'null':
      return
    case 'boolean':
      return skip(cursor, 1)
    case 'int':
    case 'long':
    case 'enum':
      readLong(cursor)
      return
    case 'float':
      return skip(cursor, 4)
    case 'double':
      return skip(cursor, 8)
    case 'fixed':
      return skip(cursor, t.size ?? 0)
    case 'bytes':
    case 'string':
      return skip(cursor, readLong(cursor))
    case 'record':
    case 'error':
      for (const field of t.fields ?? []) walkType(field.type, cursor)
      return
    case 'array':
      return walkBlocks(cursor, () => walkType(t.itemsType as Type, cursor))
    case 'map':
      return walkBlocks(cursor, () => {
        skip(cursor, readLong(cursor))
        walkType(t.valuesType as Type, cursor)
      })
    default: {
      if (t.typeName.startsWith('union')) {
        const branch = t.types?.[readLong(cursor)]
        // An index out of range: avsc reports it.
        if (branch === undefined) throw new Truncated()
        return walkType(branch, cursor)
      }
      // A logical type reads as its underlying type.
      if (t.underlyingType !== undefined) return walkType(t.underlyingType, cursor)
      throw new Truncated()
    }
  }
}

interface AvscType {
  readonly typeName: string
  readonly size?: number
  readonly fields?: ReadonlyArray<{ readonly type: Type }>
  readonly itemsType?: Type
  readonly valuesType?: Type
  readonly types?: readonly Type[]
  readonly underlyingType?: Type
}

function walkBlocks(cursor: Cursor, item: () => void): void {
  for (;;) {
    let count = readLong(cursor)
    if (count === 0) return
    if (count < 0) {
      count = -count
      readLong(cursor) // the block's size in bytes
    }
    const left = cursor.body.length - cursor.pos
    // Every item takes at least one byte, except items of type null (or empty records), which
    // a prediction event never has: a larger count cannot be read from this body.
    if (count > left)
      throw new BlockError(`a block of ${count} items with ${left} bytes left in the message`)
    for (; count > 0; count--) item()
  }
}

function skip(cursor: Cursor, bytes: number): void {
  if (bytes < 0 || cursor.pos + bytes > cursor.body.length) throw new Truncated()
  cursor.pos += bytes
}

/** A zig-zag varint, as a double (exact to 2^53; larger counts are absurd anyway). */
function readLong(cursor: Cursor): number {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (cursor.pos >= cursor.body.length) throw new Truncated()
    const byte = cursor.body[cursor.pos++] as number
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2
    scale *= 128
  }
  throw new Truncated()
}
