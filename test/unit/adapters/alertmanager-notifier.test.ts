// What driftwatch posts to Alertmanager's /api/v2/alerts for one alert event: the postable fields
// only, without labels whose value is empty (Alertmanager identifies an alert by its label set,
// and Prometheus leaves empty labels out too). The POST itself runs against a real Alertmanager
// in test/integration/alertmanager.int.test.ts.

import { describe, expect, it } from 'vitest'
import { postableAlert } from '../../../src/adapters/alertmanager/notifier.js'
import type { AlertEvent } from '../../../src/core/stream/alerts.js'

const event: AlertEvent = {
  status: 'firing',
  labels: {
    alertname: 'DriftwatchFeatureDrift',
    model: 'fraud',
    model_version: '',
    feature: 'amount',
    severity: 'critical',
  },
  annotations: { summary: 'amount drifted: psi 0.4 (threshold 0.2)', report_id: 'fraud::1' },
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: '2026-01-01T00:04:00.000Z',
  generatorURL: '/api/models/fraud/status',
  fingerprint: '0123456789abcdef',
}

describe('postableAlert', () => {
  it('keeps the postable fields and drops empty label values', () => {
    expect(postableAlert(event)).toEqual({
      labels: {
        alertname: 'DriftwatchFeatureDrift',
        model: 'fraud',
        feature: 'amount',
        severity: 'critical',
      },
      annotations: event.annotations,
      startsAt: event.startsAt,
      endsAt: event.endsAt,
      generatorURL: event.generatorURL,
    })
  })

  it('keeps a model version when there is one', () => {
    const versioned = { ...event, labels: { ...event.labels, model_version: 'v3' } }
    expect(postableAlert(versioned).labels['model_version']).toBe('v3')
  })
})
