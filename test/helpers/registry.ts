// A real schema registry for the tests that need one: Apicurio Registry started by the same
// local-services code as Kafka, once per test file that asks (about 6 s), so that the rest of the
// suite does not pay for it. SCHEMA_REGISTRY_URL points the tests at one that is already up.

import { startApicurio, type LocalApicurio } from '../../src/adapters/local-services/apicurio.js'

export interface TestRegistry {
  /** Base URL of the Confluent-compatible API */
  readonly url: string
  /** Stops it (a registry given by SCHEMA_REGISTRY_URL is left alone). */
  stop(): Promise<void>
  /** Starts it again on the same port, empty (in-memory storage); undefined for a given one. */
  restart?: () => Promise<void>
}

export async function startTestRegistry(): Promise<TestRegistry> {
  const given = process.env['SCHEMA_REGISTRY_URL']?.trim()
  if (given !== undefined && given !== '') return { url: given, stop: () => Promise.resolve() }
  const log = (line: string): void => console.log(`[apicurio] ${line}`)
  let current: LocalApicurio = await startApicurio({ log })
  const port = current.port
  return {
    url: current.url,
    stop: () => current.stop(),
    restart: async () => {
      await current.stop()
      current = await startApicurio({ port, log })
    },
  }
}

/** Registers an Avro schema under `subject` (a producer's job); returns its id. */
export async function registerSchema(
  url: string,
  subject: string,
  schema: unknown,
): Promise<number> {
  const response = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  })
  if (!response.ok)
    throw new Error(`register ${subject}: HTTP ${response.status} ${await response.text()}`)
  return ((await response.json()) as { id: number }).id
}

/** The Confluent wire format: 0x00, the schema id (big-endian int32), the Avro body. */
export function frame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.writeInt32BE(id, 1)
  return Buffer.concat([header, body])
}

/** A producer's writer schema with one optional field per feature (features as a record). */
export function producerSchema(
  numerical: readonly string[],
  categorical: readonly string[],
  name = 'FraudPrediction',
): Record<string, unknown> {
  return {
    type: 'record',
    name,
    namespace: 'com.example.fraud',
    fields: [
      { name: 'eventId', type: 'string' },
      { name: 'model', type: 'string' },
      { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
      {
        name: 'features',
        type: {
          type: 'record',
          name: `${name}Features`,
          fields: [
            ...numerical.map((f) => ({ name: f, type: ['null', 'double'], default: null })),
            ...categorical.map((f) => ({ name: f, type: ['null', 'string'], default: null })),
          ],
        },
      },
      { name: 'prediction', type: ['null', 'int'], default: null },
      { name: 'latencyMs', type: ['null', 'int'], default: null },
    ],
  }
}
