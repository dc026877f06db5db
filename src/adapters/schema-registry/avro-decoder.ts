// Input messages in the Confluent wire format (byte 0 = 0x00, bytes 1-4 = the writer schema's id,
// big-endian, then the Avro binary body) or JSON, told apart per message by the first byte (a JSON
// event starts with '{' or whitespace, never 0x00). Each Avro message is decoded with its own
// writer schema, so a schema that evolves mid-stream (a feature added, one removed) needs nothing
// from us: each event carries the features its producer wrote. `features` may be an Avro map or a
// record with one field per feature. The decoded record then goes through the same field checks
// as a JSON event (core/events.ts), with the same reasons. read() first tries the Avro reader
// specialised to the writer schema (core/avro-event-reader.ts), which reads the body straight
// into the ingest's feature slots and declines (null) whatever decode() must decide.
//
// Writer schemas come from the registry once per id (the library caches them without limit; ids
// are few). prepare() fetches what a batch needs before the synchronous decode loop. When the
// registry does not answer, prepare() rejects (the caller pauses the partition and retries with
// back-off) until `deadLetterAfterMs` has passed since the first failure of that id; from then on
// its messages are `schema_unavailable` dead letters, and the registry is asked again at most
// every `reprobeMs`, so a registry that comes back is used again.

import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import type { Type } from 'avsc'
import { AvroEventReader, compileAvroPlan, type AvroPlan } from '../../core/avro-event-reader.js'
import type { EventReader, ReadEvent } from '../../core/event-reader.js'
import {
  decodePredictionEvent,
  decodePredictionRecord,
  type DecodeLimits,
  type DecodeResult,
  type InvalidReason,
} from '../../core/events.js'
import { DriftwatchError, errorMessage } from '../../errors.js'
import type { EventDecoder } from '../../ports/event-decoder.js'
import { oversizedBlock } from './avro-bounds.js'
import { lookupSchema } from './client.js'

export interface AvroDecoderOptions {
  /** How long the registry may fail for one schema id before its messages are dead-lettered. */
  readonly deadLetterAfterMs: number
  /** How long "the registry does not know this id" is believed before asking again. */
  readonly unknownTtlMs?: number
  /** Past the limit, how often the registry is asked again. */
  readonly reprobeMs?: number
  readonly now?: () => number
}

const magicByte = 0
const headerBytes = 5
const forbiddenNames: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

interface Failing {
  readonly since: number
  lastAttempt: number
  error: string
}

export class AvroEventDecoder implements EventDecoder {
  readonly #registry: SchemaRegistry
  readonly #options: Required<AvroDecoderOptions>
  readonly #types = new Map<number, Type | { readonly forbidden: string }>()
  readonly #unknown = new Map<number, { until: number; detail: string }>()
  readonly #failing = new Map<number, Failing>()
  /** Per schema id whose shape the Avro reader knows: its plan (core/avro-event-reader.ts). */
  readonly #plans = new Map<number, AvroPlan>()
  #avroReader: AvroEventReader | null = null

  constructor(registry: SchemaRegistry, options: AvroDecoderOptions) {
    this.#registry = registry
    this.#options = {
      unknownTtlMs: 60_000,
      reprobeMs: 5000,
      now: Date.now,
      ...options,
    }
  }

  async prepare(values: ReadonlyArray<Buffer | null>): Promise<void> {
    const now = this.#options.now()
    const wanted = new Set<number>()
    for (const value of values) {
      const id = schemaIdOf(value)
      if (id === null || this.#types.has(id)) continue
      const unknown = this.#unknown.get(id)
      if (unknown !== undefined && unknown.until > now) continue
      const failing = this.#failing.get(id)
      if (
        failing !== undefined &&
        this.#givenUp(failing, now) &&
        now - failing.lastAttempt < this.#options.reprobeMs
      )
        continue
      wanted.add(id)
    }
    if (wanted.size === 0) return
    const results = await Promise.allSettled(
      [...wanted].map(async (id) => ({ id, lookup: await lookupSchema(this.#registry, id) })),
    )
    const after = this.#options.now()
    let blocking: DriftwatchError | null = null
    for (const [i, result] of results.entries()) {
      const id = [...wanted][i] as number
      if (result.status === 'fulfilled') {
        this.#failing.delete(id)
        const { lookup } = result.value
        if (lookup.status === 'found') {
          this.#unknown.delete(id)
          const forbidden = forbiddenFieldName(lookup.type)
          this.#types.set(id, forbidden === null ? lookup.type : { forbidden })
          const plan = forbidden === null ? compileAvroPlan(lookup.type.schema()) : null
          if (plan !== null) this.#plans.set(id, plan)
        } else {
          this.#unknown.set(id, {
            until: after + this.#options.unknownTtlMs,
            detail: lookup.detail,
          })
        }
        continue
      }
      const error = result.reason as unknown
      if (error instanceof DriftwatchError && !error.canRetry) throw error
      const failing = this.#failing.get(id) ?? { since: after, lastAttempt: after, error: '' }
      failing.lastAttempt = after
      failing.error = errorMessage(error)
      this.#failing.set(id, failing)
      if (!this.#givenUp(failing, after)) {
        blocking ??=
          error instanceof DriftwatchError
            ? error
            : new DriftwatchError('SCHEMA_REGISTRY_UNAVAILABLE', errorMessage(error), {
                canRetry: true,
                cause: error,
              })
      }
    }
    if (blocking !== null) throw blocking
  }

  decode(value: Buffer | null, limits: DecodeLimits): DecodeResult {
    const id = schemaIdOf(value)
    if (id === null || value === null) return decodePredictionEvent(value, limits)
    if (value.length > limits.maxBytes)
      return invalid('too_large', `${value.length} bytes > maxBytes ${limits.maxBytes}`)
    const type = this.#types.get(id)
    if (type === undefined) {
      const failing = this.#failing.get(id)
      if (failing !== undefined)
        return invalid(
          'schema_unavailable',
          `schema id ${id}: registry unreachable for ${Math.round((this.#options.now() - failing.since) / 1000)} s: ${failing.error}`,
        )
      return invalid(
        'unknown_schema',
        this.#unknown.get(id)?.detail ?? `schema id ${id} is unknown`,
      )
    }
    if ('forbidden' in type)
      return invalid('forbidden_key', `schema id ${id} has a field named ${type.forbidden}`)
    const body = value.subarray(headerBytes)
    // Before avsc, which would loop over an absurd block count first (adapters/schema-registry/avro-bounds.ts).
    const oversized = oversizedBlock(type, body)
    if (oversized !== null) return invalid('invalid_avro', `schema id ${id}: ${oversized}`)
    let record: unknown
    try {
      record = type.fromBuffer(body)
    } catch (error: unknown) {
      return invalid('invalid_avro', `schema id ${id}: ${errorMessage(error)}`)
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return invalid('invalid_avro', `schema id ${id}: not a record`)
    // A plain copy: the avsc record class carries methods on its prototype.
    return decodePredictionRecord({ ...(record as Record<string, unknown>) }, limits)
  }

  read(value: Buffer, reader: EventReader, limits: DecodeLimits, join: boolean): ReadEvent | null {
    const id = schemaIdOf(value)
    if (id === null) return reader.read(value, limits, join)
    const plan = this.#plans.get(id)
    if (plan === undefined) return null
    let avro = this.#avroReader
    if (avro === null || avro.slots !== reader)
      this.#avroReader = avro = new AvroEventReader(reader)
    return avro.read(plan, value, headerBytes, limits, join)
  }

  #givenUp(failing: Failing, now: number): boolean {
    return now - failing.since >= this.#options.deadLetterAfterMs
  }
}

/** The schema id of a Confluent-framed message, or null for anything else (JSON). */
export function schemaIdOf(value: Buffer | null): number | null {
  if (value === null || value.length < headerBytes || value[0] !== magicByte) return null
  return value.readInt32BE(1)
}

function forbiddenFieldName(type: Type): string | null {
  const stack: unknown[] = [type.schema()]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) stack.push(...(node as unknown[]))
    else if (typeof node === 'object' && node !== null) {
      const record = node as Record<string, unknown>
      if (typeof record['name'] === 'string' && forbiddenNames.has(record['name']))
        return record['name']
      for (const child of Object.values(record)) if (typeof child === 'object') stack.push(child)
    }
  }
  return null
}

function invalid(reason: InvalidReason, detail: string): DecodeResult {
  return { ok: false, reason, detail: detail.length > 200 ? `${detail.slice(0, 199)}…` : detail }
}
