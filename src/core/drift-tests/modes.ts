// The two verdict modes. 'calibrated': a feature drifts only past its threshold and its noise floor
// at the window's sample size (noise-floor.ts), chi-square is the 2 × k contingency test and small
// samples are insufficientData. 'evidently': Evidently's fixed thresholds and tests, exactly.

export const driftModes = ['calibrated', 'evidently'] as const
export type DriftMode = (typeof driftModes)[number]
