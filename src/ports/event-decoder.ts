// Turning one input message into a prediction event, when more than JSON is read: Avro framed by
// a schema registry (src/adapters/schema-registry). Decoding itself stays synchronous on the hot
// path; what it needs from the network (writer schemas) is fetched once per batch by prepare().

import type { EventReader, ReadEvent } from '../core/event-reader.js'
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
   * The event read by a reader specialised to its shape, its features left in `reader`'s slots,
   * when that reader can prove decode() gives the same outcome; null where decode() must decide.
   * A JSON event goes to `reader` itself (core/event-reader.ts); an Avro event to the Avro reader
   * of its writer schema (core/avro-event-reader.ts). `join`: keep the event id and scores.
   */
  read(value: Buffer, reader: EventReader, limits: DecodeLimits, join: boolean): ReadEvent | null
}
