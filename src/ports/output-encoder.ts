// How results are serialized onto the output topics: JSON text, or Avro in the Confluent wire
// format (src/adapters/schema-registry/avro-encoder.ts), chosen by `output.format`.

export const outputKinds = ['report', 'alert', 'retrain'] as const
export type OutputKind = (typeof outputKinds)[number]

export interface OutputEncoder {
  /** Throws only for a value that does not fit its schema: a programmer error, not data. */
  encode(kind: OutputKind, value: unknown): Buffer | string
}
