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

// Completeness from fresh offsets (the rule the evaluator uses when it can see the input's end
// offsets). The "read to its end" claim above was made by the partition's owner when it last got a
// batch, and renewed from that batch's stale end offset on every later flush: a partition whose new
// events had not been fetched yet kept saying it had nothing left to read, was taken as idle, and
// windows closed without its events. Here the evaluator itself compares each partition's stored
// position with its end offset fetched at the start of the same tick, so "nothing left to read" is
// a fact about now, not a memory.

export interface PartitionReading {
  readonly id: string
  /**
   * Newest event time of the model on the partition: -Infinity when it was read but carried no
   * event of the model; null when it has never been read for the model (no checkpoint).
   */
  readonly watermark: number | null
  /** Its end offset, fetched fresh, is past the position the model has read it to. */
  readonly unread: boolean
}

export interface Completeness {
  /** Event time complete up to here; null when nothing can be said yet. */
  readonly watermark: number | null
  /** Partitions never read for the model that hold events: nothing is evaluated until they are. */
  readonly waitingFor: readonly string[]
  /** Partitions left out as idle: read to their fresh end and far behind. */
  readonly idle: readonly string[]
}

/**
 * The model's watermark over partitions judged from fresh end offsets:
 *   - a partition never read for the model that holds events holds everything back (a backlog
 *     nobody has started on has no watermark yet);
 *   - a partition with unread events counts with its watermark, however far behind: never idle;
 *   - a partition read to its end whose newest event lags the model's newest by more than
 *     `idleAfterMs` is idle, left out (its later events, if any, are late and counted as such);
 *   - a partition that never carried the model does not count.
 */
export function completeWatermarkOf(
  partitions: readonly PartitionReading[],
  idleAfterMs: number,
): Completeness {
  const waitingFor = partitions.filter((p) => p.unread && p.watermark === null).map((p) => p.id)
  if (waitingFor.length > 0) return { watermark: null, waitingFor, idle: [] }
  let newest = Number.NEGATIVE_INFINITY
  for (const p of partitions) {
    if (p.watermark !== null && p.watermark > newest) newest = p.watermark
  }
  if (!Number.isFinite(newest)) return { watermark: null, waitingFor, idle: [] }
  const idle: string[] = []
  let slowest = newest
  for (const p of partitions) {
    if (p.watermark === null || !Number.isFinite(p.watermark)) continue
    if (!p.unread && p.watermark < newest - idleAfterMs) {
      idle.push(p.id)
      continue
    }
    if (p.watermark < slowest) slowest = p.watermark
  }
  return { watermark: slowest, waitingFor, idle }
}
