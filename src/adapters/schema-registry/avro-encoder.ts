// Reports, alerts and retrain requests as Avro in the Confluent wire format, with the schemas in
// schemas/ registered once at start under the topic's subject (`<topic>-value`, Confluent's
// TopicNameStrategy), with a compatibility rule on each subject.
//
// Registration is done by hand, not with the library's register(): for a subject that exists
// without a rule of its own, Apicurio answers the rule as NONE where Confluent answers 404, and
// register() then refuses with a compatibility mismatch. Here: register the schema, then set the
// configured rule when the subject has none of its own (404, or NONE that nobody chose: Apicurio's
// default answer); a rule an operator set stays, with a warning when it differs from ours.

import avro from 'avsc'
import type { Type } from 'avsc'
import { DriftwatchError, errorMessage } from '../../errors.js'
import type { OutputEncoder, OutputKind } from '../../ports/output-encoder.js'
import { loadSchema, type TopicSchemaName } from './schemas.js'

export interface RegistrationOptions {
  readonly url: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly requestTimeoutMs: number
  readonly compatibility: string
  readonly warn?: (message: string) => void
}

const schemaOf: Record<OutputKind, TopicSchemaName> = {
  report: 'report',
  alert: 'alert',
  retrain: 'retrain',
}

export interface RegisteredSchema {
  readonly subject: string
  readonly id: number
}

export class AvroOutputEncoder implements OutputEncoder {
  readonly #writers: ReadonlyMap<OutputKind, { readonly type: Type; readonly header: Buffer }>

  private constructor(writers: ReadonlyMap<OutputKind, { type: Type; header: Buffer }>) {
    this.#writers = writers
  }

  /** Registers the output schemas under their topics' subjects; throws if the registry refuses. */
  static async register(
    topics: Readonly<Record<OutputKind, string>>,
    options: RegistrationOptions,
  ): Promise<{ encoder: AvroOutputEncoder; registered: RegisteredSchema[] }> {
    const writers = new Map<OutputKind, { type: Type; header: Buffer }>()
    const registered: RegisteredSchema[] = []
    for (const kind of Object.keys(schemaOf) as OutputKind[]) {
      const schema = loadSchema(schemaOf[kind])
      const subject = `${topics[kind]}-value`
      const id = await registerSubject(subject, schema, options)
      const header = Buffer.alloc(5)
      header.writeInt32BE(id, 1)
      writers.set(kind, {
        type: avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false }),
        header,
      })
      registered.push({ subject, id })
    }
    return { encoder: new AvroOutputEncoder(writers), registered }
  }

  encode(kind: OutputKind, value: unknown): Buffer {
    const writer = this.#writers.get(kind)
    if (writer === undefined) throw new Error(`no Avro schema for ${kind}`)
    // toBuffer fills absent optional fields with their default (null), as the schemas declare.
    return Buffer.concat([writer.header, writer.type.toBuffer(value)])
  }
}

export async function registerSubject(
  subject: string,
  schema: unknown,
  options: RegistrationOptions,
): Promise<number> {
  const base = options.url.replace(/\/+$/, '')
  const path = encodeURIComponent(subject)
  const request = async (method: string, url: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json' }
    if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json'
    if (options.username !== undefined)
      headers['authorization'] =
        `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
    try {
      return await fetch(`${base}${url}`, {
        method,
        headers,
        signal: AbortSignal.timeout(options.requestTimeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (error: unknown) {
      throw new DriftwatchError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `schema registry: ${method} ${url}: ${errorMessage(error)}`,
        { canRetry: true, cause: error },
      )
    }
  }
  const refused = async (what: string, response: Response): Promise<DriftwatchError> =>
    new DriftwatchError(
      response.status >= 500 ? 'SCHEMA_REGISTRY_UNAVAILABLE' : 'SCHEMA_REGISTRY_ERROR',
      `schema registry: ${what} for subject ${subject}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`,
      { canRetry: response.status >= 500 },
    )

  const before = await request('GET', `/config/${path}`)
  let current: string | null = null
  if (before.ok)
    current = ((await before.json()) as { compatibilityLevel?: string }).compatibilityLevel ?? null
  else if (before.status !== 404) throw await refused('reading the compatibility rule', before)

  const registeredResponse = await request('POST', `/subjects/${path}/versions`, {
    schema: JSON.stringify(schema),
  })
  if (!registeredResponse.ok) throw await refused('registering the schema', registeredResponse)
  const { id } = (await registeredResponse.json()) as { id: number }

  const wanted = options.compatibility.toUpperCase()
  if (current === null || (current.toUpperCase() === 'NONE' && wanted !== 'NONE')) {
    const set = await request('PUT', `/config/${path}`, { compatibility: wanted })
    if (!set.ok) throw await refused(`setting compatibility ${wanted}`, set)
  } else if (current.toUpperCase() !== wanted) {
    options.warn?.(
      `subject ${subject} keeps its compatibility rule ${current} (schemaRegistry.compatibility is ${wanted})`,
    )
  }
  return id
}

/**
 * Encodes prediction events with schemas/prediction-event.avsc in the wire format, after
 * registering it under `<topic>-value`: what `driftwatch simulate --format avro` produces.
 */
export async function createPredictionEncoder(
  topic: string,
  options: RegistrationOptions,
): Promise<(event: unknown) => Buffer> {
  const schema = loadSchema('prediction')
  const id = await registerSubject(`${topic}-value`, schema, options)
  const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false })
  const header = Buffer.alloc(5)
  header.writeInt32BE(id, 1)
  return (event) => Buffer.concat([header, type.toBuffer(event)])
}
