// schemas/*.avsc against what the code really writes and reads. For each topic kind, real JSON
// outputs of our code (a report from evaluateWindow, its alerts and retrain request, a decoded
// event, a dead letter's headers) are compared with the schema field by field, both ways:
//   - a JSON field the schema lacks fails as "missing in schemas/<file>: <path>": add it to the
//     .avsc (as an optional field with a doc: ["null", type], default null);
//   - a schema field no output ever has fails as "in schemas/<file> but never produced: <path>".
// Then each output must encode with avsc and decode back to the same JSON.

import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { deadLetterMessage } from '../../../src/adapters/kafka/sink.js'
import {
  loadSchema,
  topicSchemas,
  type TopicSchemaName,
} from '../../../src/adapters/schema-registry/schemas.js'
import { driftSectionSchema, driftSettingsOf } from '../../../src/config/drift.js'
import { parseConditions } from '../../../src/core/conditions.js'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { decodePredictionEvent } from '../../../src/core/events.js'
import { addRow, createDatasetProfile, layoutOf } from '../../../src/core/profile/dataset.js'
import { defaultDegradation } from '../../../src/core/performance/degradation.js'
import {
  addPair,
  defaultPerformanceSettings,
  emptySummary,
} from '../../../src/core/performance/summary.js'
import {
  addOutputs,
  defaultOutputColumns,
  separateOutputs,
} from '../../../src/core/model-outputs.js'
import { ReferenceBuilder } from '../../../src/core/reference.js'
import {
  evaluateWindow,
  initialEvaluationState,
  type WindowOutcome,
} from '../../../src/core/stream/evaluation.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type AvroSchema = string | AvroSchema[] | { [key: string]: unknown }

/** Real outputs of the code, as they go on the wire (JSON text parsed back). */
function reportOutputs(): WindowOutcome[] {
  const builder = new ReferenceBuilder([
    { name: 'amount', kind: 'numerical', reason: 'test' },
    { name: 'country', kind: 'categorical', reason: 'test' },
    { name: 'empty', kind: 'numerical', reason: 'test' },
    { name: 'flag', kind: 'categorical', reason: 'test' },
    // The model's outputs (core/model-outputs.ts): the reports' predictionDrift and latency.
    { name: 'prediction', kind: 'categorical', reason: 'test' },
    { name: 'latencyMs', kind: 'numerical', reason: 'test' },
  ])
  for (let i = 0; i < 2000; i++)
    builder.add({
      amount: i % 200,
      country: ['us', 'de', 'fr'][i % 3],
      empty: i % 7,
      flag: i % 2 === 0,
      prediction: i % 10 === 0,
      latencyMs: 10 + (i % 20),
    })
  const reference = separateOutputs(builder.build(), defaultOutputColumns)
  /** `latencies`: events with a latency; `slower`: their latency multiplier. */
  const current = (
    shift: number,
    latencies = 2000,
    slower = 1,
  ): ReturnType<typeof createDatasetProfile> => {
    const profile = createDatasetProfile(layoutOf(reference))
    for (let i = 0; i < 2000; i++) {
      addRow(profile, {
        // Drifted windows also lose a fifth of `amount`: a missing-share finding with its value.
        amount: shift > 0 && i % 5 === 0 ? null : (i % 200) + shift,
        country: shift > 0 && i % 4 === 0 ? 'jp' : ['us', 'de', 'fr'][i % 3],
        empty: null,
        flag: shift > 0 ? i % 5 === 0 : i % 2 === 0,
      })
      addOutputs(
        profile,
        shift > 0 ? i % 3 === 0 : i % 10 === 0,
        i < latencies ? (10 + (i % 20)) * slower : undefined,
      )
    }
    // Drifted windows also had events dead-lettered for type violations (the stream counts them).
    if (shift > 0)
      profile.typeViolations = new Map([
        ['amount', 300],
        ['', 10],
      ])
    return profile
  }
  const registry = createDefaultRegistry()
  const outcomes: WindowOutcome[] = []
  // Performance from labelled scores: right 90 % of the time, 60 % while drifted.
  const performanceSettings = { ...defaultPerformanceSettings, task: 'binary' as const }
  const labelled = (agreement: number): Map<string, number> => {
    const summary = emptySummary()
    for (let i = 0; i < 1000; i++) {
      const score = (i % 100) / 100
      const predicted = score >= 0.5 ? 1 : 0
      addPair(
        summary,
        performanceSettings,
        { prediction: score },
        i % 10 < agreement * 10 ? predicted : 1 - predicted,
      )
    }
    return summary
  }
  const regressionSettings = { ...defaultPerformanceSettings, task: 'regression' as const }
  const errors = (size: number): Map<string, number> => {
    const summary = emptySummary()
    for (let i = 0; i < 100; i++)
      addPair(summary, regressionSettings, { prediction: 10 + (i % 2 === 0 ? size : -size) }, 10)
    return summary
  }
  let state = initialEvaluationState
  // Each feature kind and the test choices that fill each metric; stable → drifted → stable, so
  // that alerts fire and resolve.
  for (const test of ['auto', 'psi', 'ks', 'wasserstein', 'jensenshannon', 'chisquare']) {
    const settings = driftSettingsOf(
      driftSectionSchema.parse(test === 'auto' ? {} : { kinds: { numerical: { test } } }),
    )
    for (const [i, shift] of [0, 80, 80, 0, 0].entries()) {
      const end = (i + 1) * 3_600_000
      const outcome = evaluateWindow(
        {
          model: 'fraud',
          windowStart: end - 3_600_000,
          windowEnd: end,
          referenceId: 'ref-1',
          reference,
          // v2 answers 3× slower than v1 (latency critical, rollback advice); the unversioned
          // series has too few latencies to be judged.
          current: new Map([
            ['v1', current(shift)],
            ['v2', current(shift, 2000, 3)],
            ['', current(shift, 50)],
          ]),
          features: ['amount', 'country', 'empty', 'flag'],
          settings,
          registry,
          alertPolicy: { fireAfter: 1, resolveAfter: 1, cooldown: 0 },
          minCriticalFeatures: 1,
          generatedAt: new Date(end).toISOString(),
          statusUrl: 'http://127.0.0.1:9464/api/models/fraud/status',
          // The layers after drift: a failing, a passing and an unknown condition, importance,
          // and a rate for the volume check.
          conditions: parseConditions([
            'rows >= 3000',
            'feature.amount.missingShare <= 0.1',
            'precision >= 0.85',
          ]),
          importance: { amount: 3, country: 1 },
          referenceRate: { perHour: 4000, source: 'config' },
          // v1 has labels, '' none: both shapes of the section; a regression model once.
          performance:
            test === 'chisquare'
              ? {
                  settings: regressionSettings,
                  degradation: { ...defaultDegradation, metric: 'rmse' },
                  baseline: errors(1),
                  current: new Map([['v1', errors(shift > 0 ? 2 : 1)]]),
                }
              : {
                  settings: performanceSettings,
                  degradation: { ...defaultDegradation, metric: 'accuracy' },
                  baseline: labelled(0.9),
                  current: new Map([['v1', labelled(shift > 0 ? 0.6 : 0.9)]]),
                },
        },
        state,
      )
      state = outcome.state
      outcomes.push(outcome)
    }
  }
  return outcomes
}

function wire(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json
}

function outputsOf(name: TopicSchemaName): Json[] {
  const outcomes = reportOutputs()
  switch (name) {
    case 'report':
      return outcomes.flatMap((o) => o.reports.map(wire))
    case 'alert':
      return outcomes.flatMap((o) => o.alerts.map((a) => wire(a.alert)))
    case 'retrain':
      return outcomes.flatMap((o) => o.retrain.map(wire))
    case 'prediction':
    case 'feature': {
      const full = {
        eventId: 'e-1',
        model: 'fraud',
        modelVersion: 'v1',
        timestamp: 1_700_000_000_000,
        features: { amount: 12.5, country: 'us', flag: true, gone: null },
        ...(name === 'prediction' ? { prediction: 1, scores: { yes: 0.9 }, latencyMs: 12 } : {}),
      }
      const decoded = decodePredictionEvent(Buffer.from(JSON.stringify(full)), { maxBytes: 1e6 })
      if (!decoded.ok) throw new Error(decoded.detail)
      return [wire(decoded.event)]
    }
    case 'deadLetter': {
      const value = Buffer.alloc(1_100_000, 0x41)
      return [
        { value: 'not json', truncated: null },
        { value: value.toString('latin1'), truncated: String(value.length) },
      ].map(({ value: v }) => {
        const message = deadLetterMessage({
          value: Buffer.from(v, 'latin1'),
          reason: 'invalid_json',
          detail: 'Unexpected token',
          source: { topic: 'predictions', partition: 2, offset: '41' },
        })
        // Headers driftwatch-<kebab> are the envelope's fields, the value its value.
        const envelope: Record<string, Json> = { value: 'bytes' }
        for (const [header, text] of Object.entries(message.headers))
          envelope[
            header.replace(/^driftwatch-/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
          ] = text
        return envelope
      })
    }
    case 'label':
      // Not read by driftwatch yet: the documented JSON contract (README.md, Events).
      return [{ eventId: 'e-1', model: 'fraud', label: 1, timestamp: 1_700_000_000_000 }]
    case 'rollback':
      // Not published by driftwatch yet: the contract this schema defines.
      return [
        {
          model: 'fraud',
          fromVersion: 'v2',
          toVersion: 'v1',
          reason: 'latency p95 +120 % since v2',
          reportId: 'fraud:v2:3600000',
          windowEnd: '1970-01-01T01:00:00.000Z',
          generatedAt: '1970-01-01T01:00:01.000Z',
        },
      ]
  }
}

/**
 * Field paths (a.b[].c, maps as a.{}) of a schema, through unions and named types. A named
 * record used again by name (a report's `predictionDrift` is a FeatureResult, like each of its
 * `features[]`) is listed once, where it is defined: `aliases` maps the path of each reuse to
 * that definition's path, so outputs at either place are checked against the one definition.
 */
function schemaPaths(
  schema: AvroSchema,
  prefix: string,
  out: Set<string>,
  named = new Map<string, string>(),
  aliases = new Map<string, string>(),
): void {
  if (typeof schema === 'string') {
    const definedAt = named.get(schema)
    if (definedAt !== undefined) aliases.set(prefix, definedAt)
    return
  }
  if (Array.isArray(schema)) {
    for (const branch of schema) schemaPaths(branch, prefix, out, named, aliases)
    return
  }
  const type = schema['type'] as AvroSchema
  if (type === 'record') {
    named.set(schema['name'] as string, prefix)
    for (const field of schema['fields'] as Array<{ name: string; type: AvroSchema }>) {
      const path = prefix === '' ? field.name : `${prefix}.${field.name}`
      out.add(path)
      schemaPaths(field.type, path, out, named, aliases)
    }
  } else if (type === 'array')
    schemaPaths(schema['items'] as AvroSchema, `${prefix}[]`, out, named, aliases)
  else if (type === 'map') {
    out.add(`${prefix}.{}`)
    schemaPaths(schema['values'] as AvroSchema, `${prefix}.{}`, out, named, aliases)
  } else if (typeof type === 'object') schemaPaths(type, prefix, out, named, aliases)
}

/** A JSON path below a reused named type, as the path below its definition (see schemaPaths). */
function unalias(path: string, aliases: ReadonlyMap<string, string>): string {
  for (const [alias, definition] of aliases)
    if (path.startsWith(`${alias}.`)) return unalias(definition + path.slice(alias.length), aliases)
  return path
}

/** Field paths of a JSON value; below a path in `maps` (an Avro map) keys are data, not fields. */
function jsonPaths(value: Json, prefix: string, maps: ReadonlySet<string>, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) jsonPaths(item, `${prefix}[]`, maps, out)
  } else if (value !== null && typeof value === 'object') {
    const isMap = maps.has(prefix)
    for (const [key, child] of Object.entries(value)) {
      const path = isMap ? `${prefix}.{}` : prefix === '' ? key : `${prefix}.${key}`
      if (!isMap) out.add(path)
      jsonPaths(child, path, maps, out)
    }
  }
}

/** Record fields without a doc, anywhere in the schema. */
function undocumented(schema: AvroSchema, prefix: string, out: string[]): void {
  if (Array.isArray(schema)) return schema.forEach((b) => undocumented(b, prefix, out))
  if (typeof schema !== 'object') return
  const type = schema['type'] as AvroSchema
  if (type === 'record') {
    if (typeof schema['doc'] !== 'string' || schema['doc'] === '') out.push(`${prefix}(record)`)
    for (const field of schema['fields'] as Array<{
      name: string
      type: AvroSchema
      doc?: string
    }>) {
      const path = prefix === '' ? field.name : `${prefix}.${field.name}`
      if (typeof field.doc !== 'string' || field.doc.trim() === '') out.push(path)
      undocumented(field.type, path, out)
    }
  } else if (type === 'array') undocumented(schema['items'] as AvroSchema, `${prefix}[]`, out)
  else if (type === 'map') undocumented(schema['values'] as AvroSchema, `${prefix}.{}`, out)
  else if (typeof type === 'object') undocumented(type, prefix, out)
}

function mapPaths(schema: AvroSchema): Set<string> {
  const all = new Set<string>()
  schemaPaths(schema, '', all)
  return new Set([...all].filter((p) => all.has(`${p}.{}`)).concat(all.has('.{}') ? [''] : []))
}

describe.each(Object.keys(topicSchemas) as TopicSchemaName[])('schemas/%s', (name) => {
  const file = `schemas/${topicSchemas[name]}`
  const schema = loadSchema(name)
  const outputs = outputsOf(name)

  it('is a valid Avro schema with a doc on every record and field', () => {
    avro.Type.forSchema(schema as avro.Schema)
    const missing: string[] = []
    undocumented(schema, '', missing)
    expect(missing, `fields without a doc in ${file}`).toEqual([])
  })

  it('has every field the JSON output has, and no field the output never has', () => {
    expect(outputs.length).toBeGreaterThan(0)
    const inSchema = new Set<string>()
    const aliases = new Map<string, string>()
    schemaPaths(schema, '', inSchema, new Map(), aliases)
    const maps = mapPaths(schema)
    const inJson = new Set<string>()
    for (const output of outputs) jsonPaths(output, '', maps, inJson)
    for (const path of [...inJson]) {
      const defined = unalias(path, aliases)
      if (defined !== path) {
        inJson.delete(path)
        inJson.add(defined)
      }
    }
    const missingInSchema = [...inJson].filter((p) => !inSchema.has(p)).sort()
    const neverProduced = [...inSchema]
      .filter((p) => !p.endsWith('.{}') && !p.includes('.{}.') && !inJson.has(p))
      // labelDrift reuses the FeatureResult type, checked in full under features[]; as the one
      // categorical column `label` it never fills the numerical or data-quality parts.
      .filter((p) => !p.startsWith('labelDrift.'))
      .sort()
    expect(missingInSchema.map((p) => `missing in ${file}: ${p}`)).toEqual([])
    expect(neverProduced.map((p) => `in ${file} but never produced: ${p}`)).toEqual([])
  })

  // The dead-letter envelope wraps raw bytes and headers, not one of our JSON outputs: it has no
  // round trip to check.
  const roundTrips = ['report', 'alert', 'retrain', 'prediction', 'feature', 'label', 'rollback']
  if (roundTrips.includes(name))
    it('encodes every output and decodes it back to the same JSON', () => {
      const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false })
      for (const output of outputs) {
        const paths: string[] = []
        const valid = type.isValid(output, { errorHook: (path) => paths.push(path.join('.')) })
        expect(paths.map((p) => `${file}: cannot encode ${p}`)).toEqual([])
        expect(valid).toBe(true)
        const back = wire(type.fromBuffer(type.toBuffer(output)))
        expect(stripNulls(back)).toEqual(stripNulls(output))
      }
    })
})

/** Avro writes absent optional fields as null; JSON leaves them out. */
function stripNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripNulls)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, stripNulls(v)]),
  )
}
