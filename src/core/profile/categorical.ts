// A mergeable summary of one categorical (or boolean) feature: counts per category.
//
// Memory is capped. A reference keeps its `categoryCap` most frequent categories (ties broken by
// name) and folds the rest into `other`. A profile compared with that reference counts every
// reference category exactly, admits up to `unseenCap` categories the reference never had, and
// folds further unseen ones into `other`. Merging is exact (hence associative) while the union of
// unseen categories fits the cap; past it, the rarest unseen categories are folded into `other`
// deterministically. Totals are always exact.

export const otherCategory = '__other__'
export const defaultCategoryCap = 1000
export const defaultUnseenCap = 100
/** Distinct categories a reference may hold while it is built, before its final top-K cut. */
export const referenceBuildCap = 100_000
/**
 * `driftwatch check` on a raw reference file keeps this many categories by name on each side:
 * nothing there is encoded into Redis buckets, so high-cardinality columns (IDs) stay exact
 * (new means new, distances exact) up to the reference's build cap. Snapshots and the stream keep
 * the caps above.
 */
export const fileCheckCategoryCap = referenceBuildCap

export interface CategoricalProfile {
  readonly kind: 'categorical'
  /** Reference categories (null while this profile IS a reference being built). */
  readonly vocabulary: ReadonlySet<string> | null
  readonly unseenCap: number
  count: number
  missing: number
  readonly counts: Map<string, number>
  /** Values folded away by a cap. */
  other: number
}

export function createCategoricalProfile(
  vocabulary: ReadonlySet<string> | null,
  unseenCap = defaultUnseenCap,
): CategoricalProfile {
  const counts = new Map<string, number>()
  if (vocabulary !== null) for (const category of vocabulary) counts.set(category, 0)
  return { kind: 'categorical', vocabulary, unseenCap, count: 0, missing: 0, counts, other: 0 }
}

export function addCategory(profile: CategoricalProfile, value: string | null | undefined): void {
  if (value === null || value === undefined) {
    profile.missing++
    return
  }
  profile.count++
  const seen = profile.counts.get(value)
  if (seen !== undefined) profile.counts.set(value, seen + 1)
  else if (hasRoomFor(profile)) profile.counts.set(value, 1)
  else profile.other++
}

/** How a cell value is named as a category: booleans as 'true'/'false', numbers as JS prints them. */
export function categoryOf(value: string | number | boolean): string {
  return typeof value === 'string' ? value : String(value)
}

function hasRoomFor(profile: CategoricalProfile): boolean {
  if (profile.vocabulary === null) return profile.counts.size < referenceBuildCap
  return profile.counts.size - profile.vocabulary.size < profile.unseenCap
}

export function mergeCategorical(
  into: CategoricalProfile,
  other: CategoricalProfile,
): CategoricalProfile {
  if (!sameVocabulary(into.vocabulary, other.vocabulary)) {
    throw new RangeError('cannot merge categorical profiles bound to different references')
  }
  into.count += other.count
  into.missing += other.missing
  into.other += other.other
  for (const [category, n] of other.counts)
    into.counts.set(category, (into.counts.get(category) ?? 0) + n)
  if (into.vocabulary !== null) foldUnseenOverCap(into)
  return into
}

function foldUnseenOverCap(profile: CategoricalProfile): void {
  const vocabulary = profile.vocabulary
  if (vocabulary === null) return
  const unseen = [...profile.counts].filter(([category]) => !vocabulary.has(category))
  if (unseen.length <= profile.unseenCap) return
  unseen.sort(byCountDescThenName)
  for (const [category, n] of unseen.slice(profile.unseenCap)) {
    profile.counts.delete(category)
    profile.other += n
  }
}

function byCountDescThenName(a: readonly [string, number], b: readonly [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
}

function sameVocabulary(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === b) return true
  if (a === null || b === null || a.size !== b.size) return false
  for (const category of a) if (!b.has(category)) return false
  return true
}

/**
 * Turns a profile built without a vocabulary into a reference: keeps the `cap` most frequent
 * categories and folds the rest into `other`.
 */
export function finalizeReferenceCategorical(
  profile: CategoricalProfile,
  cap = defaultCategoryCap,
): CategoricalProfile {
  const kept = [...profile.counts].sort(byCountDescThenName)
  const folded = kept.slice(cap).reduce((sum, [, n]) => sum + n, 0)
  const counts = new Map(kept.slice(0, cap))
  return {
    kind: 'categorical',
    vocabulary: new Set(counts.keys()),
    unseenCap: profile.unseenCap,
    count: profile.count,
    missing: profile.missing,
    counts,
    other: profile.other + folded,
  }
}

export function cloneCategorical(profile: CategoricalProfile): CategoricalProfile {
  return { ...profile, counts: new Map(profile.counts) }
}

export function categoricalRows(profile: CategoricalProfile): number {
  return profile.count + profile.missing
}
