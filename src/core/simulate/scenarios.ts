// Realistic prediction events for `driftwatch simulate`, the demo and the tests: a seeded
// generator with known drift, so a detector can be checked against ground truth.
//
// The default model has 20 numerical features (f00..f19: normal, lognormal, uniform, bimodal
// and Poisson counts) and 3 categorical ones (country, device, plan), a score from a fixed
// logistic function of the features, and a latency. Scenarios change the features from a
// switch point on (an event index or an event time):
//   stable         nothing changes;
//   sudden-shift   the drift features move by +shiftSd standard deviations at once;
//   gradual-shift  the same, reached linearly over `driftRamp`;
//   new-category   a categorical drift feature takes an unseen value `newCategoryShare` of the time;
//   missing-spike  the drift features are null `missingShare` of the time;
//   quality-incident  for `driftRamp` (default 5,000 events, or 5 minutes) from the switch point,
//                  the drift features break as a failing upstream job breaks them: each value is
//                  null or garbage (a -999999 sentinel for numbers, '??' for categories), half and
//                  half; then they are fine again. A data-quality incident, not drift;
//   gradual-drift  the drift features' means move slowly and steadily by `shiftSd` over
//                  `driftRamp` (default 200,000 events, or 7 days): each window differs little
//                  from the one before, and the trend only shows over many of them.
//   concept-drift  the features do not change, the labels do: the ground truth of
//                  `conceptFlipShare` of the events is the opposite of what the score says.
//
// Every event has a ground-truth label (`lastLabel` after `next`): positive with the probability
// the score gives (a calibrated model), drawn from a stream of its own, so labels never change
// the features or scores of a seed.
//   prior-shift    the features do not change; the model's score moves by `priorShift` on the
//                  logit scale, so its predicted classes shift (a prior / prediction shift);
//   latency-regression  a new model version (`nextModelVersion`) takes over, with every latency
//                  multiplied by `latencyFactor` (P50, P95 and P99 alike: P99 ×3 by default).
//
// Randomness comes from three independent seeded streams: one draws the base feature values,
// one the scenario's effects, one the latency. So for one seed every scenario sees the same base
// values: before the switch a drifting run equals the stable run, after it only the drift
// features differ (and the score, which reads them), and `referenceRows(n, seed)` are exactly
// the features of the first n stable events of that seed. Use another seed for a reference that
// is an independent sample.

import { ConfigError, UnknownColumnError } from '../../errors.js'
import type { FeatureValue, PredictionEvent } from '../events.js'
import { createRandom, deriveSeed, type Random } from './random.js'

export const scenarioNames = [
  'stable',
  'sudden-shift',
  'gradual-shift',
  'new-category',
  'missing-spike',
  'quality-incident',
  'gradual-drift',
  'concept-drift',
  'prior-shift',
  'latency-regression',
] as const
export type ScenarioName = (typeof scenarioNames)[number]

export type Distribution =
  | { readonly kind: 'normal'; readonly mean: number; readonly sd: number }
  | { readonly kind: 'lognormal'; readonly mu: number; readonly sigma: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | {
      readonly kind: 'bimodal'
      /** share of the first mode */
      readonly weight: number
      readonly first: { readonly mean: number; readonly sd: number }
      readonly second: { readonly mean: number; readonly sd: number }
    }
  /** integer counts */
  | { readonly kind: 'poisson'; readonly lambda: number }

export interface NumericalFeatureSpec {
  readonly kind: 'numerical'
  readonly name: string
  readonly distribution: Distribution
  /** share of events where the feature is null even when stable */
  readonly missingShare?: number
}

export interface CategoricalFeatureSpec {
  readonly kind: 'categorical'
  readonly name: string
  readonly values: readonly string[]
  readonly weights: readonly number[]
  /** the value the new-category scenario introduces; absent from `values` */
  readonly unseenValue: string
  readonly missingShare?: number
}

export type FeatureSpec = NumericalFeatureSpec | CategoricalFeatureSpec

const normal = (mean: number, sd: number): Distribution => ({ kind: 'normal', mean, sd })
const lognormal = (mu: number, sigma: number): Distribution => ({ kind: 'lognormal', mu, sigma })
const uniform = (min: number, max: number): Distribution => ({ kind: 'uniform', min, max })
const poisson = (lambda: number): Distribution => ({ kind: 'poisson', lambda })
const bimodal = (weight: number, m1: number, s1: number, m2: number, s2: number): Distribution => ({
  kind: 'bimodal',
  weight,
  first: { mean: m1, sd: s1 },
  second: { mean: m2, sd: s2 },
})
const numerical = (
  name: string,
  distribution: Distribution,
  missingShare = 0,
): NumericalFeatureSpec => ({
  kind: 'numerical',
  name,
  distribution,
  missingShare,
})

// Poisson lambdas are squares (sd 2, 4, 6), so a 1.5 sd shift is a whole number of counts.
export const defaultFeatures: readonly FeatureSpec[] = [
  numerical('f00', normal(50, 10)),
  numerical('f01', normal(0, 1)),
  numerical('f02', lognormal(3.5, 0.6)),
  numerical('f03', uniform(0, 1)),
  numerical('f04', poisson(4)),
  numerical('f05', normal(100, 15)),
  numerical('f06', bimodal(0.6, -2, 0.7, 2, 0.7)),
  numerical('f07', lognormal(0, 0.8)),
  numerical('f08', uniform(-5, 5)),
  numerical('f09', poisson(16)),
  numerical('f10', normal(-3, 2)),
  numerical('f11', bimodal(0.5, 10, 1, 20, 2)),
  numerical('f12', normal(0.5, 0.1)),
  numerical('f13', lognormal(1, 0.3), 0.02),
  numerical('f14', poisson(36)),
  numerical('f15', uniform(10, 20)),
  numerical('f16', normal(5, 0.5)),
  numerical('f17', bimodal(0.7, 0, 1, 5, 1.5)),
  numerical('f18', lognormal(2, 0.4), 0.005),
  numerical('f19', normal(0, 3)),
  {
    kind: 'categorical',
    name: 'country',
    values: ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'JP', 'CA'],
    weights: [0.32, 0.12, 0.11, 0.1, 0.1, 0.09, 0.08, 0.08],
    unseenValue: 'NG',
  },
  {
    kind: 'categorical',
    name: 'device',
    values: ['mobile', 'desktop', 'tablet'],
    weights: [0.58, 0.34, 0.08],
    unseenValue: 'smart-tv',
  },
  {
    kind: 'categorical',
    name: 'plan',
    values: ['free', 'basic', 'pro', 'enterprise'],
    weights: [0.52, 0.26, 0.16, 0.06],
    unseenValue: 'student',
  },
]

export const defaultDriftFeatures: Readonly<Record<ScenarioName, readonly string[]>> = {
  stable: [],
  'sudden-shift': ['f01', 'f05', 'f12'],
  'gradual-shift': ['f01', 'f05', 'f12'],
  'new-category': ['country'],
  'missing-spike': ['f01', 'f05', 'f12'],
  'quality-incident': ['f02', 'f07', 'device'],
  'gradual-drift': ['f01', 'f05', 'f12'],
  'concept-drift': [],
  'prior-shift': [],
  'latency-regression': [],
}

/** The quality-incident scenario's garbage: a sentinel far outside any feature's range. */
export const garbageNumber = -999_999
export const garbageCategory = '??'

/** concept-drift: share of the labels that go against the score once the concept has changed. */
export const defaultConceptFlipShare = 0.3

/** prior-shift: the score's logit moves by this much (positives go from ~12 % to ~34 %). */
export const defaultPriorShift = 1.5
/** latency-regression: the new version's latencies are this many times the old one's. */
export const defaultLatencyFactor = 3

export const defaultShiftSd = 1.5
export const defaultNewCategoryShare = 0.2
export const defaultMissingShare = 0.3
/** Numbers are rounded to this many decimals, as a model server logging floats might. */
export const valueDecimals = 4
const valueScale = 10 ** valueDecimals

/** Mean and standard deviation of a distribution (exact, not sampled). */
export function moments(d: Distribution): { mean: number; sd: number } {
  switch (d.kind) {
    case 'normal':
      return { mean: d.mean, sd: d.sd }
    case 'lognormal': {
      const s2 = d.sigma * d.sigma
      return {
        mean: Math.exp(d.mu + s2 / 2),
        sd: Math.sqrt((Math.exp(s2) - 1) * Math.exp(2 * d.mu + s2)),
      }
    }
    case 'uniform':
      return { mean: (d.min + d.max) / 2, sd: (d.max - d.min) / Math.sqrt(12) }
    case 'bimodal': {
      const w = d.weight
      const mean = w * d.first.mean + (1 - w) * d.second.mean
      const second =
        w * (d.first.sd ** 2 + d.first.mean ** 2) +
        (1 - w) * (d.second.sd ** 2 + d.second.mean ** 2)
      return { mean, sd: Math.sqrt(second - mean * mean) }
    }
    case 'poisson':
      return { mean: d.lambda, sd: Math.sqrt(d.lambda) }
  }
}

/** The shift a sudden or fully ramped gradual drift adds to a numerical feature. */
export function shiftOf(spec: NumericalFeatureSpec, shiftSd: number): number {
  const amount = shiftSd * moments(spec.distribution).sd
  return spec.distribution.kind === 'poisson' ? Math.round(amount) : amount
}

/** Where drift begins: the first event index, or the first event time (ms), at which it applies. */
export type DriftPoint = { readonly index: number } | { readonly timeMs: number }
/** How long a gradual shift takes to reach its full size. */
export type DriftSpan = { readonly events: number } | { readonly ms: number }

export interface EventGeneratorOptions {
  readonly model: string
  readonly modelVersion?: string | null
  readonly seed: number
  readonly scenario: ScenarioName
  /** default: defaultDriftFeatures[scenario] */
  readonly driftFeatures?: readonly string[]
  /** default: { index: 0 }, drift from the first event */
  readonly driftStartsAt?: DriftPoint
  /**
   * gradual-shift: the ramp (default 10,000 events, or 10 minutes when driftStartsAt is a time);
   * gradual-drift: the ramp (default 200,000 events, or 7 days); quality-incident: how long the
   * incident lasts (default 5,000 events, or 5 minutes).
   */
  readonly driftRamp?: DriftSpan
  readonly shiftSd?: number
  readonly newCategoryShare?: number
  readonly missingShare?: number
  /** prior-shift: added to the score's logit once the drift applies */
  readonly priorShift?: number
  /** latency-regression: the new version's latency multiplier */
  readonly latencyFactor?: number
  /**
   * latency-regression: the version that takes over; default the model version with its last
   * number incremented (v1 → v2), or `${version}-next`. The old version is `modelVersion`, 'v1'
   * when none is given.
   */
  readonly nextModelVersion?: string
  readonly features?: readonly FeatureSpec[]
  /** eventIds are `${idPrefix}-${index}`; default `sim-${seed}`. Give runs distinct prefixes. */
  readonly idPrefix?: string
  /** concept-drift only; default defaultConceptFlipShare */
  readonly conceptFlipShare?: number
}

export interface EventGenerator {
  /** The next event, stamped with `timestampMs` (which also drives time-based drift). */
  next(timestampMs: number): PredictionEvent
  /** events generated so far */
  readonly count: number
  /** The ground truth of the event `next` returned last: 1 (positive) or 0; null before any. */
  readonly lastLabel: 0 | 1 | null
}

// Stream salts: fixed forever, or a seed stops giving the same events.
const baseSalt = 0
const effectSalt = 1
const latencySalt = 2
const labelSalt = 3

export function createEventGenerator(options: EventGeneratorOptions): EventGenerator {
  const specs = options.features ?? defaultFeatures
  const plan = planDrift(options, specs)
  const base = createRandom(deriveSeed(options.seed, baseSalt))
  const effects = createRandom(deriveSeed(options.seed, effectSalt))
  const latency = createRandom(deriveSeed(options.seed, latencySalt))
  const labels = createRandom(deriveSeed(options.seed, labelSalt))
  const flipShare =
    options.scenario === 'concept-drift'
      ? share('conceptFlipShare', options.conceptFlipShare ?? defaultConceptFlipShare)
      : 0
  let lastLabel: 0 | 1 | null = null
  const scorer = createScorer(specs)
  const idPrefix = options.idPrefix ?? `sim-${options.seed}`
  const release =
    plan.kind === 'release'
      ? plan
      : options.nextModelVersion === undefined
        ? null
        : releasePlan(options)
  const modelVersion = release?.from ?? options.modelVersion ?? null
  const start = options.driftStartsAt ?? { index: 0 }
  let index = 0
  // Set when the drift first applies, so a ramp in either unit can count from there.
  let startedIndex: number | null = null
  let startedMs: number | null = null

  return {
    get count() {
      return index
    },
    get lastLabel() {
      return lastLabel
    },
    next(timestampMs) {
      const features = sampleFeatures(base, specs)
      const active = 'index' in start ? index >= start.index : timestampMs >= start.timeMs
      if (active && plan.kind !== 'none') {
        startedIndex ??= index
        startedMs ??= timestampMs
        if (plan.kind === 'garbage') {
          // The incident lasts its span, then the upstream is fixed.
          const within =
            'events' in plan.span
              ? index - startedIndex < plan.span.events
              : timestampMs - startedMs < plan.span.ms
          if (within) breakValues(plan.targets, features, effects)
        } else
          applyDrift(
            plan,
            features,
            effects,
            rampProgress(plan, index - startedIndex, timestampMs - startedMs),
          )
      }
      const on = active && plan.kind !== 'none'
      const p = scorer(features, on && plan.kind === 'prior' ? plan.shift : 0)
      const released = active && release !== null
      const slower = released ? release.factor : 1
      // Both draws every event, so the label stream does not depend on the scenario.
      const truth = labels.chance(p)
      const flip = labels.chance(flipShare)
      const conceptChanged =
        options.scenario === 'concept-drift' &&
        ('index' in start ? index >= start.index : timestampMs >= start.timeMs)
      lastLabel = (conceptChanged && flip ? !truth : truth) ? 1 : 0
      const event: PredictionEvent = {
        eventId: `${idPrefix}-${index}`,
        model: options.model,
        modelVersion: released ? release.to : modelVersion,
        timestamp: timestampMs,
        features,
        prediction: p >= 0.5 ? 1 : 0,
        scores: { positive: roundValue(p), negative: roundValue(1 - p) },
        latencyMs: Math.round(sampleLatency(latency) * slower * 100) / 100,
      }
      index++
      return event
    },
  }
}

/**
 * Rows of the stable distribution, feature name → value, for building the reference snapshot
 * that matches the generator. With the generator's seed these are its first n stable events'
 * features; with another seed, an independent sample.
 */
export function* referenceRows(
  n: number,
  seed: number,
  features: readonly FeatureSpec[] = defaultFeatures,
  /**
   * Also the model's outputs, as the stable generator of this seed makes them: `prediction` and
   * `latencyMs` columns (core/model-outputs.ts), for a reference that holds the prediction and
   * latency distributions.
   */
  options: { readonly outputs?: boolean } = {},
): Generator<Record<string, FeatureValue>> {
  const base = createRandom(deriveSeed(seed, baseSalt))
  const latency = createRandom(deriveSeed(seed, latencySalt))
  const scorer = createScorer(features)
  for (let i = 0; i < n; i++) {
    const row = sampleFeatures(base, features)
    if (options.outputs === true) {
      row['prediction'] = scorer(row, 0) >= 0.5 ? 1 : 0
      row['latencyMs'] = Math.round(sampleLatency(latency) * 100) / 100
    }
    yield row
  }
}

// ---------------------------------------------------------------------------------------------

type DriftPlan =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'shift'
      readonly targets: ReadonlyArray<{ name: string; shift: number; integer: boolean }>
      readonly ramp: DriftSpan | null
    }
  | {
      readonly kind: 'new-category'
      readonly targets: ReadonlyArray<{ name: string; value: string }>
      readonly share: number
    }
  | { readonly kind: 'missing'; readonly names: readonly string[]; readonly share: number }
  | {
      readonly kind: 'garbage'
      readonly targets: ReadonlyArray<{ name: string; numerical: boolean }>
      readonly span: DriftSpan
    }
  | { readonly kind: 'prior'; readonly shift: number }
  | {
      readonly kind: 'release'
      readonly from: string
      readonly to: string
      readonly factor: number
    }

/**
 * A new model version taking over at the drift point with every latency × `latencyFactor`: the
 * latency-regression scenario, or, when `nextModelVersion` is given, a release beside any other
 * scenario (the demo's: a release that also shifts features, with its latency regression).
 */
function releasePlan(options: EventGeneratorOptions): Extract<DriftPlan, { kind: 'release' }> {
  const factor = options.latencyFactor ?? defaultLatencyFactor
  if (!(Number.isFinite(factor) && factor > 0))
    throw new ConfigError('latencyFactor', `expected a positive number, got ${factor}`)
  const from = options.modelVersion ?? 'v1'
  const to = options.nextModelVersion ?? nextVersionOf(from)
  if (to === from)
    throw new ConfigError('nextModelVersion', `the new version must differ from ${from}`)
  return { kind: 'release', from, to, factor }
}

function planDrift(options: EventGeneratorOptions, specs: readonly FeatureSpec[]): DriftPlan {
  const scenario = options.scenario
  if (scenario === 'stable' || scenario === 'concept-drift') return { kind: 'none' }
  if (scenario === 'prior-shift') {
    const shift = options.priorShift ?? defaultPriorShift
    if (!Number.isFinite(shift))
      throw new ConfigError('priorShift', `expected a finite number, got ${shift}`)
    return { kind: 'prior', shift }
  }
  if (scenario === 'latency-regression') return releasePlan(options)
  const names = options.driftFeatures ?? defaultDriftFeatures[scenario]
  const available = specs.map((s) => s.name)
  const chosen = names.map((name) => {
    const spec = specs.find((s) => s.name === name)
    if (spec === undefined)
      throw new UnknownColumnError(name, available, `the ${scenario} scenario's drift features`)
    return spec
  })
  switch (scenario) {
    case 'sudden-shift':
    case 'gradual-shift':
    case 'gradual-drift': {
      const shiftSd = options.shiftSd ?? defaultShiftSd
      const targets = chosen.map((spec) => {
        if (spec.kind !== 'numerical') {
          throw new ConfigError(
            'driftFeatures',
            `${scenario} shifts numerical features; '${spec.name}' is categorical`,
          )
        }
        return {
          name: spec.name,
          shift: shiftOf(spec, shiftSd),
          integer: spec.distribution.kind === 'poisson',
        }
      })
      const start = options.driftStartsAt ?? { index: 0 }
      const ramp =
        scenario === 'sudden-shift'
          ? null
          : scenario === 'gradual-drift'
            ? (options.driftRamp ??
              ('index' in start ? { events: 200_000 } : { ms: 7 * 86_400_000 }))
            : (options.driftRamp ?? ('index' in start ? { events: 10_000 } : { ms: 600_000 }))
      if (ramp !== null && ('events' in ramp ? ramp.events : ramp.ms) <= 0) {
        throw new ConfigError('driftRamp', 'a gradual shift needs a positive ramp length')
      }
      return { kind: 'shift', targets, ramp }
    }
    case 'new-category': {
      const targets = chosen.map((spec) => {
        if (spec.kind !== 'categorical') {
          throw new ConfigError(
            'driftFeatures',
            `new-category adds a category to categorical features; '${spec.name}' is numerical`,
          )
        }
        return { name: spec.name, value: spec.unseenValue }
      })
      return {
        kind: 'new-category',
        targets,
        share: share('newCategoryShare', options.newCategoryShare ?? defaultNewCategoryShare),
      }
    }
    case 'missing-spike':
      return {
        kind: 'missing',
        names: chosen.map((s) => s.name),
        share: share('missingShare', options.missingShare ?? defaultMissingShare),
      }
    case 'quality-incident': {
      const start = options.driftStartsAt ?? { index: 0 }
      const span = options.driftRamp ?? ('index' in start ? { events: 5000 } : { ms: 300_000 })
      if (('events' in span ? span.events : span.ms) <= 0)
        throw new ConfigError('driftRamp', 'a quality incident needs a positive length')
      return {
        kind: 'garbage',
        targets: chosen.map((spec) => ({ name: spec.name, numerical: spec.kind === 'numerical' })),
        span,
      }
    }
  }
}

/** v1 → v2, model-7 → model-8; a version without a trailing number gets `-next`. */
export function nextVersionOf(version: string): string {
  const match = /^(.*?)(\d+)$/.exec(version)
  if (match === null) return `${version}-next`
  return `${match[1] ?? ''}${Number(match[2]) + 1}`
}

function share(path: string, value: number): number {
  if (!(value >= 0 && value <= 1))
    throw new ConfigError(path, `expected a share between 0 and 1, got ${value}`)
  return value
}

/** 1 for a sudden shift; for a gradual one, the ramp's completed fraction. */
function rampProgress(plan: DriftPlan, eventsSinceStart: number, msSinceStart: number): number {
  if (plan.kind !== 'shift' || plan.ramp === null) return 1
  const fraction =
    'events' in plan.ramp ? eventsSinceStart / plan.ramp.events : msSinceStart / plan.ramp.ms
  return Math.min(1, Math.max(0, fraction))
}

function applyDrift(
  plan: DriftPlan,
  features: Record<string, FeatureValue>,
  effects: Random,
  progress: number,
): void {
  switch (plan.kind) {
    case 'none':
    case 'prior':
    case 'release':
      return
    case 'shift':
      for (const { name, shift, integer } of plan.targets) {
        const value = features[name]
        if (typeof value !== 'number') continue // missing stays missing
        features[name] = integer
          ? value + Math.round(shift * progress)
          : roundValue(value + shift * progress)
      }
      return
    case 'new-category':
      for (const { name, value } of plan.targets) {
        // Drawn for every event, so the effect stream does not depend on the base values.
        if (effects.chance(plan.share) && features[name] !== null) features[name] = value
      }
      return
    case 'missing':
      for (const name of plan.names) {
        if (effects.chance(plan.share)) features[name] = null
      }
      return
    case 'garbage':
      return
  }
}

/** quality-incident: every value of the targets is null or garbage, half and half. */
function breakValues(
  targets: ReadonlyArray<{ name: string; numerical: boolean }>,
  features: Record<string, FeatureValue>,
  effects: Random,
): void {
  for (const { name, numerical } of targets) {
    features[name] = effects.chance(0.5) ? null : numerical ? garbageNumber : garbageCategory
  }
}

function sampleFeatures(
  random: Random,
  specs: readonly FeatureSpec[],
): Record<string, FeatureValue> {
  const features: Record<string, FeatureValue> = {}
  for (const spec of specs) {
    // Every feature draws its value even when it will be missing, so one feature's missing
    // share never changes the values of the others.
    const missing = (spec.missingShare ?? 0) > 0 && random.chance(spec.missingShare ?? 0)
    const value =
      spec.kind === 'numerical'
        ? sampleNumber(random, spec.distribution)
        : sampleCategory(random, spec)
    features[spec.name] = missing ? null : value
  }
  return features
}

function sampleNumber(random: Random, d: Distribution): number {
  switch (d.kind) {
    case 'normal':
      return roundValue(d.mean + d.sd * random.normal())
    case 'lognormal':
      return roundValue(Math.exp(d.mu + d.sigma * random.normal()))
    case 'uniform':
      return roundValue(random.uniform(d.min, d.max))
    case 'bimodal': {
      const mode = random.chance(d.weight) ? d.first : d.second
      return roundValue(mode.mean + mode.sd * random.normal())
    }
    case 'poisson':
      return random.poisson(d.lambda)
  }
}

function sampleCategory(random: Random, spec: CategoricalFeatureSpec): string {
  return spec.values[random.weighted(spec.weights)] ?? spec.values[0] ?? spec.unseenValue
}

/** ~12 ms median, lognormal, with a 1 % slow tail at 4×. */
function sampleLatency(random: Random): number {
  const slow = random.chance(0.01) ? 4 : 1
  return Math.round(slow * 1200 * Math.exp(0.35 * random.normal())) / 100
}

// Fixed weights by position: the score depends mostly on the first numerical features, a little
// on the rest and on the categories, and an unseen category raises it (as unfamiliar inputs do
// to a fraud model). Standardised values are clipped, so outliers cannot saturate it alone.
const numericalWeights = [0.8, 0.6, -0.5, 0.4, 0.35, 0.3, -0.25, 0.2]
const intercept = -1.8

function createScorer(
  specs: readonly FeatureSpec[],
): (features: Readonly<Record<string, FeatureValue>>, logitShift: number) => number {
  const terms: Array<(features: Readonly<Record<string, FeatureValue>>) => number> = []
  let position = 0
  for (const spec of specs) {
    if (spec.kind === 'numerical') {
      const weight = numericalWeights[position] ?? (position % 2 === 0 ? 0.05 : -0.05)
      const { mean, sd } = moments(spec.distribution)
      position++
      terms.push((f) => {
        const v = f[spec.name]
        return typeof v === 'number' ? weight * Math.min(5, Math.max(-5, (v - mean) / sd)) : 0
      })
    } else {
      const index = new Map(spec.values.map((value, i) => [value, i]))
      terms.push((f) => {
        const v = f[spec.name]
        if (typeof v !== 'string') return 0
        const i = index.get(v)
        return i === undefined ? 0.6 : 0.1 * i
      })
    }
  }
  return (features, logitShift) => {
    let logit = intercept + logitShift
    for (const term of terms) logit += term(features)
    return 1 / (1 + Math.exp(-logit))
  }
}

function roundValue(x: number): number {
  return Math.round(x * valueScale) / valueScale
}
