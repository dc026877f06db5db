// Type and schema violations attributed to their windows: the decoder says where a rejected event
// belongs, the partition state counts it in its event time's bucket under the exactly-once rule,
// the bucket blob carries the counts, and the window's data quality reports them
// (core/data-quality.ts withTypeViolations) with a verdict, a condition metric and the diagnosis.

import { describe, expect, it } from 'vitest'
import { driftSectionSchema, driftSettingsOf } from '../../../../src/config/drift.js'
import { metricValues } from '../../../../src/core/conditions.js'
import {
  withTypeViolations,
  type DataQualitySummary,
  type FeatureDataQuality,
} from '../../../../src/core/data-quality.js'
import { createDefaultRegistry } from '../../../../src/core/drift-tests/registry.js'
import { decodePredictionEvent } from '../../../../src/core/events.js'
import {
  addRow,
  addTypeViolation,
  createDatasetProfile,
  layoutOf,
  mergeDatasets,
} from '../../../../src/core/profile/dataset.js'
import { ReferenceBuilder } from '../../../../src/core/reference.js'
import {
  decodeBucket,
  encodeBucket,
  encodeBucketJSON,
} from '../../../../src/core/stream/bucket-codec.js'
import { evaluateWindow, initialEvaluationState } from '../../../../src/core/stream/evaluation.js'
import {
  applyEvent,
  applyViolation,
  newPartitionState,
  type RoutedEvent,
} from '../../../../src/core/stream/partition-state.js'
import type { WindowSpec } from '../../../../src/core/stream/windows.js'

const M = 60_000
const H = 60 * M
const limits = { maxBytes: 64 * 1024 }
const bytes = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc))
const event = { eventId: 'e1', model: 'fraud', timestamp: 1_800_000_000_000, features: { x: 1 } }

const builder = new ReferenceBuilder([
  { name: 'x', kind: 'numerical', reason: 'test' },
  { name: 'y', kind: 'numerical', reason: 'test' },
])
for (let i = 0; i < 1000; i++) builder.add({ x: i, y: i })
const reference = builder.build()
const layout = layoutOf(reference)

describe('decodePredictionEvent: where a rejected event belongs', () => {
  it('names the feature of a value of the wrong JSON type, with the model, version and time', () => {
    const result = decodePredictionEvent(
      bytes({ ...event, modelVersion: 'v2', features: { x: 1, y: [1, 2] } }),
      limits,
    )
    expect(result).toMatchObject({
      ok: false,
      reason: 'wrong_type',
      violation: { model: 'fraud', modelVersion: 'v2', timestamp: event.timestamp, feature: 'y' },
    })
  })

  it("attributes a bad latency or features that are not an object to the event (feature '')", () => {
    for (const doc of [
      { ...event, latencyMs: -1 },
      { ...event, latencyMs: 'slow' },
      { ...event, features: [1] },
    ]) {
      const result = decodePredictionEvent(bytes(doc), limits)
      expect(result.ok).toBe(false)
      expect(result).toMatchObject({
        violation: { model: 'fraud', modelVersion: null, feature: '' },
      })
    }
  })

  it('attributes nothing when the identity or the time is unreadable', () => {
    for (const value of [
      Buffer.from('not json'),
      bytes({ ...event, model: 7 }),
      bytes({ ...event, timestamp: 'yesterday', features: { x: [1] } }),
    ]) {
      const result = decodePredictionEvent(value, limits)
      expect(result.ok).toBe(false)
      expect(result).not.toHaveProperty('violation')
    }
  })
})

describe('applyViolation: counted once, in its bucket, as no row', () => {
  const spec: WindowSpec = { bucket: M, size: 10 * M, hop: 5 * M, allowedLateness: M }
  const series = 'ref-1|'
  /** A valid event as the ingestor routes it: its features in the layout's cells. */
  const routed = (eventTime: number, features: Record<string, number>): RoutedEvent => {
    const width = layout.columns.length
    const cells = { width, numbers: new Float64Array(width), categories: Array(width).fill(null) }
    layout.columns.forEach((column, c) => {
      cells.numbers[c] = features[column.name] ?? Number.NaN
    })
    return {
      series,
      eventTime,
      cells,
      row: 0,
      features,
      message: null,
      prediction: undefined,
      latencyMs: undefined,
    }
  }

  it('counts in the bucket of its event time, moves the offset, not the watermark or rows', () => {
    const state = newPartitionState(null)
    applyEvent(state, 0n, routed(10 * M + 5, { x: 1, y: 2 }), spec, layout)
    const outcome = applyViolation(
      state,
      1n,
      { series, eventTime: 10 * M + 30_000, feature: 'y' },
      spec,
      layout,
    )
    expect(outcome).toBe('counted')
    expect(state.nextOffset).toBe(2n)
    expect(state.watermark).toBe(10 * M + 5)
    expect(state.added.get(10 * M)).toBe(1)
    const profile = state.buckets.get(10 * M)?.get(series)
    expect(profile?.rows).toBe(1)
    expect([...(profile?.typeViolations ?? [])]).toEqual([['y', 1]])
    // The same offset again (a batch delivered twice): not counted again.
    expect(
      applyViolation(state, 1n, { series, eventTime: 10 * M, feature: 'y' }, spec, layout),
    ).toBe('replayed')
    expect(profile?.typeViolations?.get('y')).toBe(1)
  })

  it('drops one of a closed bucket (its window was reported)', () => {
    const state = newPartitionState(null)
    applyEvent(state, 0n, routed(30 * M, { x: 1 }), spec, layout)
    expect(applyViolation(state, 1n, { series, eventTime: M, feature: '' }, spec, layout)).toBe(
      'late',
    )
    expect(state.buckets.has(M)).toBe(false)
    expect(state.late).toBe(0)
  })

  it('round-trips through the bucket blob and sums when buckets merge', () => {
    const profile = createDatasetProfile(layout)
    addRow(profile, { x: 1, y: 1 })
    addTypeViolation(profile, 'y')
    addTypeViolation(profile, '')
    const decoded = decodeBucket(encodeBucket(new Map([[series, profile]]))).get(series)
    expect([...(decoded?.typeViolations ?? [])]).toEqual([
      ['y', 1],
      ['', 1],
    ])
    const merged = mergeDatasets(createDatasetProfile(layout), decoded ?? profile)
    mergeDatasets(merged, profile)
    expect(merged.typeViolations?.get('y')).toBe(2)
    expect(merged.typeViolations?.get('')).toBe(2)
    // A bucket without violations stores none and reads back none; the JSON form of earlier
    // versions decodes as before.
    const clean = new Map([[series, createDatasetProfile(layout)]])
    expect(decodeBucket(encodeBucket(clean)).get(series)?.typeViolations).toBeUndefined()
    expect(encodeBucketJSON(clean)).not.toContain('typeViolations')
  })
})

describe("the window's data quality", () => {
  interface Judged {
    readonly features: ReadonlyArray<{
      readonly name: string
      readonly nCurrent: number
      readonly metrics: { readonly missingShare: number }
      readonly dataQuality?: FeatureDataQuality
    }>
    readonly dataQuality?: DataQualitySummary
  }
  const features: Judged['features'] = [
    { name: 'x', nCurrent: 900, metrics: { missingShare: 0 } },
    { name: 'y', nCurrent: 900, metrics: { missingShare: 0 } },
  ]
  const report: Judged = { features }

  it('reports the share against the window events, each feature at fault, with a verdict', () => {
    // 900 valid events, 100 violations (80 at y, 20 of the event): 100 / 1000 = 10 % → critical;
    // y: 80 / 1000 = 8 % → warning; x: none.
    const judged = withTypeViolations(
      report,
      new Map([
        ['y', 80],
        ['', 20],
      ]),
      900,
    )
    expect(judged.dataQuality?.typeViolations).toEqual({
      severity: 'critical',
      nEvents: 100,
      share: 0.1,
      features: [{ feature: 'y', nEvents: 80 }],
      reason:
        '100 of 1000 events (10 %) broke a type or the schema and went to the dead-letter topic',
    })
    expect(judged.dataQuality).toMatchObject({ severity: 'critical', incident: true })
    expect(judged.features[0]).toBe(features[0])
    expect(judged.features[1]?.dataQuality).toEqual({
      severity: 'warning',
      findings: [
        {
          check: 'typeViolation',
          severity: 'warning',
          reason:
            "8 % of the window's events had a value of the wrong type here (80 of 1000, dead-lettered)",
          value: 0.08,
        },
      ],
    })
  })

  it('is ok under 5 %, and says so with zero violations', () => {
    // 4 of 100: 4 % → ok.
    expect(withTypeViolations(report, new Map([['x', 4]]), 96).dataQuality).toMatchObject({
      severity: 'ok',
      incident: false,
      typeViolations: { severity: 'ok', nEvents: 4, share: 0.04 },
    })
    expect(withTypeViolations(report, new Map(), 900).dataQuality?.typeViolations).toEqual({
      severity: 'ok',
      nEvents: 0,
      share: 0,
      features: [],
      reason: '0 of 900 events (0 %) broke a type or the schema and went to the dead-letter topic',
    })
  })

  it('is a data-quality incident in the stream report, its diagnosis, and a condition metric', () => {
    const settings = driftSettingsOf(driftSectionSchema.parse({ mode: 'evidently' }))
    const current = createDatasetProfile(layout)
    for (let i = 0; i < 1000; i++) addRow(current, { x: i, y: i })
    addTypeViolation(current, 'y', 150)
    const outcome = evaluateWindow(
      {
        model: 'fraud',
        windowStart: 0,
        windowEnd: H,
        referenceId: 'ref-1',
        reference,
        current: new Map([['', current]]),
        features: ['x', 'y'],
        settings,
        registry: createDefaultRegistry(),
        alertPolicy: { fireAfter: 1, resolveAfter: 1, cooldown: 0 },
        minCriticalFeatures: 1,
        generatedAt: new Date(H).toISOString(),
        statusUrl: '/api/models/fraud/status',
      },
      initialEvaluationState,
    )
    const report = outcome.reports[0]
    expect(report?.nCurrent).toBe(1000)
    expect(report?.dataQuality?.typeViolations).toMatchObject({
      severity: 'critical',
      nEvents: 150,
      share: 150 / 1150,
    })
    expect(report?.diagnosis).toMatchObject({ kind: 'data-quality', topCauses: ['y'] })
    expect(report?.diagnosis?.summary).toContain('type violations: 150 of 1150 events')
    expect(metricValues(report as NonNullable<typeof report>).get('typeViolationShare')).toBe(
      150 / 1150,
    )
    expect(
      outcome.alerts.filter((a) => a.alert.labels['alertname'] === 'DriftwatchDataQualityIncident'),
    ).toHaveLength(1)
  })
})
