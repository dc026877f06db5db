// How far a model's event time is complete: up to its slowest partition, the smallest over the
// input partitions that have carried the model of the newest event time seen there. A window is
// evaluated once that passes its end plus the allowed lateness.
//
// A partition whose events for the model stop would hold every later window back for ever. So a
// partition is *idle*, and left out, when all three hold:
//   - its owner has read it to its end, and said so recently (`caughtUpAt` within `freshMs`: an
//     owner that died, or a partition between owners, stops saying it, and holds windows back);
//   - its newest event of the model lags the model's newest, over all partitions, by more than
//     `idleAfterMs` of event time;
// Events of the model that reach an idle partition later, older than the windows evaluated
// meanwhile, are late (counted in driftwatch_events_late_total, not added): the usual price of
// idleness in event-time systems (Flink's `withIdleness`).

export interface PartitionProgress {
  /** Newest event time of the model on the partition (-Infinity before its first event). */
  readonly watermark: number
  /** Wall-clock ms when its owner last found it read to its end; null when it was not. */
  readonly caughtUpAt: number | null
}

export interface IdlePolicy {
  /** Event-time lag behind the model's newest event after which a caught-up partition is idle. */
  readonly idleAfterMs: number
  /** How recent `caughtUpAt` must be (wall clock) to be believed. */
  readonly freshMs: number
  readonly now: number
}

/** The model's watermark, or null before any partition has seen an event of it. */
export function modelWatermarkOf(
  partitions: Iterable<PartitionProgress>,
  idle?: IdlePolicy,
): number | null {
  const seen: PartitionProgress[] = []
  let newest = Number.NEGATIVE_INFINITY
  for (const p of partitions) {
    if (!Number.isFinite(p.watermark)) continue
    seen.push(p)
    if (p.watermark > newest) newest = p.watermark
  }
  if (seen.length === 0) return null
  let slowest: number | null = null
  for (const p of seen) {
    if (idle !== undefined && isIdle(p, newest, idle)) continue
    if (slowest === null || p.watermark < slowest) slowest = p.watermark
  }
  // The newest partition is never idle (it lags nothing), so slowest is set.
  return slowest
}

function isIdle(p: PartitionProgress, newest: number, idle: IdlePolicy): boolean {
  return (
    p.caughtUpAt !== null &&
    idle.now - p.caughtUpAt <= idle.freshMs &&
    p.watermark < newest - idle.idleAfterMs
  )
}
