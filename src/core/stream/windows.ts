// Event-time buckets and sliding windows.
//
// An event belongs to the bucket [floor(t / bucket) · bucket, + bucket). A window is the `size`
// of buckets ending at a multiple of `hop`. The watermark is the largest event time seen; a bucket
// closes once the watermark reaches its end plus the allowed lateness, and an event that arrives
// for a closed bucket is late: counted, not added (a window's numbers must not change after it
// was reported). A window is due for evaluation when its last bucket has closed.

export interface WindowSpec {
  readonly bucket: number
  readonly size: number
  readonly hop: number
  readonly allowedLateness: number
}

export function bucketStart(eventTime: number, spec: Pick<WindowSpec, 'bucket'>): number {
  return Math.floor(eventTime / spec.bucket) * spec.bucket
}

/** Whether an event for `bucket` arrives after that bucket closed, given the watermark so far. */
export function isLate(bucket: number, watermark: number, spec: WindowSpec): boolean {
  return watermark >= bucket + spec.bucket + spec.allowedLateness
}

/** Whether a bucket is closed at this watermark (and can leave memory). */
export function isClosed(bucket: number, watermark: number, spec: WindowSpec): boolean {
  return isLate(bucket, watermark, spec)
}

/**
 * Ends of the windows due at this watermark and not yet evaluated, oldest first. With no previous
 * evaluation only the newest due window is returned: a fresh start does not replay history
 * (`dueWindows` below says which it skips, and can start from a backlog's first window instead).
 */
export function dueWindowEnds(
  lastEvaluatedEnd: number | null,
  watermark: number,
  spec: WindowSpec,
): number[] {
  const newest = Math.floor((watermark - spec.allowedLateness) / spec.hop) * spec.hop
  if (lastEvaluatedEnd === null) return [newest]
  const ends: number[] = []
  for (let end = lastEvaluatedEnd + spec.hop; end <= newest; end += spec.hop) ends.push(end)
  return ends
}

export const skipReasons = ['before_first_evaluation', 'starts_before_from'] as const
/**
 * before_first_evaluation: a detector starting without `--from-beginning`/`--from` judges the
 * newest due window first and not the older ones it holds events of; starts_before_from: with
 * `--from T`, a window that starts before T would miss the events before T.
 */
export type SkipReason = (typeof skipReasons)[number]

export interface DueWindows {
  readonly ends: readonly number[]
  /** Windows that will never be evaluated, and why. */
  readonly skipped: { readonly count: number; readonly reason: SkipReason } | null
}

export interface BacklogStart {
  /** Event time of the earliest event counted for the model (over its partitions), if known. */
  readonly earliestEvent: number | null
  /** `--from T`: only windows that start at or after T are complete. */
  readonly from: number | null
  /** Whether the run reads a backlog (`--from-beginning` or `--from`): then it starts at its start. */
  readonly replay: boolean
}

/**
 * The windows due at `watermark`, oldest first, never one ending after `now` (the wall clock: a
 * window that has not ended yet cannot be complete, whatever a partition's clock says).
 * With a previous evaluation: every window after it. Without one: a replay starts at the first
 * window that holds an event (or, with `from`, the first that starts at or after it); otherwise
 * only the newest due window is judged, and the older ones holding events are reported skipped.
 */
export function dueWindows(
  lastEvaluatedEnd: number | null,
  watermark: number,
  now: number,
  spec: WindowSpec,
  start: BacklogStart,
): DueWindows {
  const byWatermark = Math.floor((watermark - spec.allowedLateness) / spec.hop) * spec.hop
  const newest = Math.min(byWatermark, Math.floor(now / spec.hop) * spec.hop)
  const range = (first: number): number[] => {
    const ends: number[] = []
    for (let end = first; end <= newest; end += spec.hop) ends.push(end)
    return ends
  }
  if (lastEvaluatedEnd !== null) return { ends: range(lastEvaluatedEnd + spec.hop), skipped: null }
  // The first window holding the earliest event ends at the next hop boundary after it.
  const firstWithEvents =
    start.earliestEvent === null
      ? null
      : Math.floor(start.earliestEvent / spec.hop) * spec.hop + spec.hop
  if (start.replay) {
    const fromEnd =
      start.from === null ? null : Math.ceil((start.from + spec.size) / spec.hop) * spec.hop
    const first = Math.max(firstWithEvents ?? newest, fromEnd ?? Number.NEGATIVE_INFINITY)
    const skippedCount =
      fromEnd === null || firstWithEvents === null || fromEnd <= firstWithEvents
        ? 0
        : Math.min(fromEnd, newest + spec.hop) / spec.hop - firstWithEvents / spec.hop
    return {
      ends: range(first),
      skipped: skippedCount > 0 ? { count: skippedCount, reason: 'starts_before_from' } : null,
    }
  }
  const olderWithEvents =
    firstWithEvents === null || firstWithEvents >= newest
      ? 0
      : (newest - firstWithEvents) / spec.hop
  return {
    ends: [newest],
    skipped:
      olderWithEvents > 0 ? { count: olderWithEvents, reason: 'before_first_evaluation' } : null,
  }
}

export function windowBuckets(end: number, spec: WindowSpec): number[] {
  const buckets: number[] = []
  for (let start = end - spec.size; start < end; start += spec.bucket) buckets.push(start)
  return buckets
}
