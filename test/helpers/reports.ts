// A small hand-written DriftReport for adapter tests (HTTP, metrics, Prometheus): one critical
// numerical feature decided by PSI and one healthy categorical feature decided by chi-square.

import type { DriftReport, FeatureResult } from '../../src/core/report.js'

export const amountFeature: FeatureResult = {
  name: 'amount',
  kind: 'numerical',
  test: 'psi',
  statistic: 0.2345,
  pValue: null,
  threshold: 0.1,
  drifted: true,
  severity: 'critical',
  nReference: 1000,
  nCurrent: 800,
  metrics: {
    missingShare: 0.0125,
    referenceMissingShare: 0.01,
    psi: 0.2345,
    ks: 0.31,
    ksPValue: 1e-9,
    wasserstein: 12.5,
    wassersteinNormed: 0.42,
    jensenShannon: 0.18,
  },
  distribution: [
    { label: '(-inf, 10)', upper: 10, lower: -Infinity, reference: 0.5, current: 0.2 },
    { label: '[10, inf)', lower: 10, upper: Infinity, reference: 0.5, current: 0.8 },
  ],
}

export const countryFeature: FeatureResult = {
  name: 'country',
  kind: 'categorical',
  test: 'chisquare',
  statistic: 0.64,
  pValue: 0.64,
  threshold: 0.05,
  drifted: false,
  severity: 'ok',
  nReference: 1000,
  nCurrent: 800,
  metrics: { missingShare: 0, referenceMissingShare: 0, psi: 0.004, jensenShannon: 0.02 },
  distribution: [
    { label: 'DE', reference: 0.6, current: 0.58 },
    { label: 'FR', reference: 0.4, current: 0.42 },
  ],
}

export function sampleReport(
  features: readonly FeatureResult[] = [amountFeature, countryFeature],
): DriftReport {
  const nDrifted = features.filter((f) => f.drifted).length
  const driftShare = features.length === 0 ? 0 : nDrifted / features.length
  return {
    datasetDrift: driftShare >= 0.5,
    driftShare,
    driftShareThreshold: 0.5,
    nDrifted,
    nFeatures: features.length,
    nReference: 1000,
    nCurrent: 800,
    features,
  }
}
