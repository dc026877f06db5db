// Turning one input message into a prediction event, when more than JSON is read: Avro framed by
// a schema registry (src/adapters/schema-registry). Decoding itself stays synchronous on the hot
// path; what it needs from the network (writer schemas) is fetched once per batch by prepare().

import type { DecodeLimits, DecodeResult } from '../core/events.js'

export interface EventDecoder {
  /**
   * Makes ready what decode() needs for these values. Rejects with a retryable DriftwatchError
   * (SCHEMA_REGISTRY_UNAVAILABLE) while the registry cannot answer and the configured limit has
   * not passed: the caller must not consume these messages yet. Past the limit it resolves, and
   * decode() reports the affected messages as `schema_unavailable`.
   */
  prepare(values: ReadonlyArray<Buffer | null>): Promise<void>
  /** Never throws: every outcome is a value, as decodePredictionEvent's. */
  decode(value: Buffer | null, limits: DecodeLimits): DecodeResult
  /**
   * True when decode() would read this value as a JSON event (decodePredictionEvent): the
   * caller may then use its faster JSON reader (core/event-reader.ts) first.
   */
  readsAsJson(value: Buffer): boolean
}
