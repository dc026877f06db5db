// What the drift section's schema cannot see, checked once the reference is known (or without
// it, as far as it goes), and reported all at once: one problem per field, each naming it.
//
//   - a feature under `features:` the reference does not have (with the closest name, by edit
//     distance: a typo must not silently leave the real feature on the defaults);
//   - a test that does not fit the kind of a feature it would be applied to, which would make
//     that feature n/a forever. Fit, by test:
//       ks, wasserstein             numerical features only;
//       chisquare                   categorical features, and numerical ones with at most 5
//                                   distinct values (Evidently's rule; the reference decides);
//       z                           features with at most 2 values;
//       psi, jensenshannon, kl_div, hellinger, auto   any feature.
//     A misfit is reported at the level that chose the test (`features.x.test`, `kinds.K.test`
//     or the global `test`), listing the features it would hit;
//   - kind overrides under `columns:` when the reference is a snapshot: its kinds were fixed when
//     it was built, so the override cannot apply (pass the config to `reference build` instead).
// Pure: settings and the reference profile in, problems out.

import { autoTestName } from '../core/drift-tests/auto.js'
import type { DriftTestRegistry } from '../core/drift-tests/registry.js'
import { resolveChoice, type DriftSettings } from '../core/drift-tests/thresholds.js'
import type { DatasetProfile } from '../core/profile/dataset.js'
import type { FeatureProfile } from '../core/profile/index.js'
import { predictionName } from '../core/prediction-drift.js'
import { smallValueLimit } from '../core/profile/numerical.js'
import { featureKinds, type FeatureKind } from '../core/report.js'
import { ConfigError } from '../errors.js'

export interface ConfigProblem {
  /** The field, as written in the file (`features.agee`, `models[0].drift.kinds.categorical.test`). */
  readonly path: string
  readonly message: string
}

export interface DriftCheckInput {
  readonly settings: DriftSettings
  readonly kindOverrides?: Readonly<Record<string, FeatureKind>> | undefined
  readonly registry: DriftTestRegistry
  /** Prefix of every field path: '' for `check --config`, `models[0].drift.` for the service. */
  readonly prefix: string
  /**
   * The reference and the features that will be compared (all its columns when absent); without
   * a reference only the checks that need none run.
   */
  readonly reference?: DatasetProfile | undefined
  readonly features?: readonly string[] | undefined
  /** The reference is a snapshot (kinds fixed): `columns:` overrides cannot apply. */
  readonly referenceIsSnapshot: boolean
}

export function driftConfigProblems(input: DriftCheckInput): ConfigProblem[] {
  const { settings, registry, prefix, reference } = input
  const problems: ConfigProblem[] = []

  if (input.referenceIsSnapshot) {
    for (const name of Object.keys(input.kindOverrides ?? {})) {
      problems.push({
        path: `${prefix}columns.${name}`,
        message:
          'a kind override cannot apply to a reference snapshot (its kinds were fixed when it was built); give this config to `driftwatch reference build` instead',
      })
    }
  }

  // Tests set for a kind that no feature of that kind can take, known without the reference.
  for (const kind of featureKinds) {
    const test = settings.byKind?.[kind]?.test
    if (test === undefined || test === autoTestName || !registry.has(test)) continue
    if (!registry.get(test).featureKinds.includes(kind)) {
      problems.push({
        path: `${prefix}kinds.${kind}.test`,
        message: `${test} does not apply to ${kind} features (${fitOf(test)})`,
      })
    }
  }

  if (reference === undefined) return problems
  const columns = [...reference.features.keys()]

  for (const name of Object.keys(settings.byFeature ?? {})) {
    if (reference.features.has(name)) continue
    // The model's prediction takes its settings under this name (core/prediction-drift.ts).
    if (name === predictionName && reference.prediction !== undefined) continue
    const suggestion = closest(name, columns)
    problems.push({
      path: `${prefix}features.${name}`,
      message: `unknown feature '${name}'${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`} (reference columns: ${columns.join(', ')})`,
    })
  }

  // Misfits, grouped by the field that chose the test.
  const misfits = new Map<string, { test: string; kind: FeatureKind; features: string[] }>()
  for (const name of input.features ?? columns) {
    const profile = reference.features.get(name)
    if (profile === undefined) continue
    const choice = resolveChoice(name, profile.kind, settings)
    if (choice.test === autoTestName || !registry.has(choice.test)) continue
    if (fits(choice.test, profile, registry)) continue
    const field = choosingField(name, profile.kind, settings)
    // a kind-level test that never fits its kind was reported above, without the reference
    if (
      field === `kinds.${profile.kind}.test` &&
      !registry.get(choice.test).featureKinds.includes(profile.kind)
    )
      continue
    const path = `${prefix}${field}`
    const entry = misfits.get(path) ?? { test: choice.test, kind: profile.kind, features: [] }
    entry.features.push(name)
    misfits.set(path, entry)
  }
  for (const [path, { test, features }] of misfits) {
    const shown = features.slice(0, 8).map((f) => `'${f}'`)
    const more = features.length > shown.length ? ` and ${features.length - shown.length} more` : ''
    problems.push({
      path,
      message: `${test} does not fit ${features.length === 1 ? 'feature' : 'features'} ${shown.join(', ')}${more}: ${fitOf(test)}; ${describeFeatures(features, reference)}`,
    })
  }
  return problems
}

/** One error carrying every problem; the CLI prints one line per problem. */
export function configProblemsError(
  problems: readonly ConfigProblem[],
  source: string,
): ConfigError {
  const [first, ...rest] = problems
  if (first === undefined) throw new Error('configProblemsError needs at least one problem')
  const lines = [first.message, ...rest.map((p) => `${source}: ${p.path}: ${p.message}`)]
  return new ConfigError(first.path, lines.join('\n'), { source })
}

function fits(test: string, profile: FeatureProfile, registry: DriftTestRegistry): boolean {
  if (!registry.get(test).featureKinds.includes(profile.kind)) return false
  if (test === 'chisquare' && profile.kind === 'numerical') return profile.smallValues !== null
  if (test === 'z') {
    const distinct = distinctValues(profile)
    return distinct !== null && distinct <= 2
  }
  return true
}

function distinctValues(profile: FeatureProfile): number | null {
  if (profile.kind === 'numerical') return profile.smallValues?.size ?? null
  return [...profile.counts.values()].filter((n) => n > 0).length + (profile.other > 0 ? 1 : 0)
}

function fitOf(test: string): string {
  switch (test) {
    case 'ks':
    case 'wasserstein':
      return `${test} applies to numerical features only`
    case 'chisquare':
      return `chisquare applies to categorical features and numerical ones with at most ${smallValueLimit} distinct values`
    case 'z':
      return 'z applies to features with at most 2 values'
    default:
      return `${test} applies to any feature`
  }
}

function describeFeatures(features: readonly string[], reference: DatasetProfile): string {
  const parts = features.slice(0, 8).map((name) => {
    const profile = reference.features.get(name)
    if (profile === undefined) return name
    const distinct = distinctValues(profile)
    return `'${name}' is ${profile.kind}${distinct === null ? ` with more than ${smallValueLimit} distinct values` : ` with ${distinct} values`}`
  })
  return `in the reference, ${parts.join(', ')}`
}

function choosingField(feature: string, kind: FeatureKind, settings: DriftSettings): string {
  if (settings.byFeature?.[feature]?.test !== undefined) return `features.${feature}.test`
  if (settings.byKind?.[kind]?.test !== undefined) return `kinds.${kind}.test`
  return 'test'
}

/** The candidate nearest to `name` by edit distance, if near enough to be a typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  const lower = name.toLowerCase()
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  const tolerated = Math.max(2, Math.floor(name.length / 3))
  return bestDistance <= tolerated ? best : undefined
}

/** Levenshtein distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      row.push(Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, substitute))
    }
    previous = row
  }
  return previous[b.length] as number
}
