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
 * evaluation only the newest due window is returned: a fresh start does not replay history.
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

export function windowBuckets(end: number, spec: WindowSpec): number[] {
  const buckets: number[] = []
  for (let start = end - spec.size; start < end; start += spec.bucket) buckets.push(start)
  return buckets
}
