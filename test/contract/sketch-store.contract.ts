// The contract of ports/sketch-store.ts, as one suite that every implementation runs (bullmq's
// adapter-conformance pattern): Redis on one server, Redis Cluster, and the in-memory stores the
// app's unit tests use, which are trusted only because they pass it too.
//
// Each test gets fresh stores from `make` (the Redis harness gives each a new key prefix) and a
// fresh model name. Expiry cases wait on the real clock for a few hundred ms: the Redis server
// keeps its own time, so a fake clock would only test the memory store.

import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DriftwatchError } from '../../src/errors.js'
import type {
  BucketBlob,
  BucketWrite,
  Checkpoint,
  FlushBatch,
  LeaseStore,
  PartitionFlush,
  PartitionRef,
  ReferenceStore,
  SketchStore,
} from '../../src/ports/sketch-store.js'

export interface Harness<S> {
  readonly store: S
  close(): Promise<void>
}

export interface SketchStoreHarness extends Harness<SketchStore> {
  /** Time left before the bucket expires, ms (Redis' PTTL); null when it does not exist. */
  bucketTtlMs(model: string, bucketStart: number): Promise<number | null>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const HOUR = 3_600_000
const T0 = 1_700_000_040_000 // a bucket start, ms
const T1 = T0 + 60_000

const p0: PartitionRef = { topic: 'predictions', partition: 0 }
const p1: PartitionRef = { topic: 'predictions', partition: 1 }
const other: PartitionRef = { topic: 'other-topic', partition: 0 }

function checkpoint(nextOffset: string, watermark = T0 + 1_000, late = 0): Checkpoint {
  return { nextOffset, watermark, late }
}

function flush(ref: PartitionRef, expected: string | null, next: Checkpoint): PartitionFlush {
  return { ref, expected, next }
}

function bucket(bucketStart: number, ref: PartitionRef, blob: BucketBlob): BucketWrite {
  return { bucketStart, ref, blob }
}

/** A blob as text: Redis hands back the bytes written (buckets are binary), the memory store the
 * value itself; text written is the same text either way. */
function asText(blob: BucketBlob | null): string | null {
  return blob === null || typeof blob === 'string' ? blob : Buffer.from(blob).toString('utf8')
}

function asTexts(
  buckets: Map<number, Map<string, BucketBlob>>,
): Map<number, Map<string, string | null>> {
  return new Map(
    [...buckets].map(([start, blobs]) => [
      start,
      new Map([...blobs].map(([id, blob]) => [id, asText(blob)])),
    ]),
  )
}

function batch(
  model: string,
  partitions: readonly PartitionFlush[],
  buckets: readonly BucketWrite[],
  retentionMs = HOUR,
): FlushBatch {
  return { model, partitions, buckets, retentionMs }
}

function newModel(): string {
  return `model-${randomUUID()}`
}

function useHarness<H extends Harness<unknown>>(make: () => Promise<H>): () => H {
  let harness: H | undefined
  beforeEach(async () => {
    harness = await make()
  })
  afterEach(async () => {
    await harness?.close()
    harness = undefined
  })
  return () => {
    if (harness === undefined) throw new Error('harness used outside a test')
    return harness
  }
}

async function expectInvalid(work: Promise<unknown>): Promise<void> {
  const error: unknown = await work.then(
    () => undefined,
    (rejected: unknown) => rejected,
  )
  expect(error).toBeInstanceOf(DriftwatchError)
  expect((error as DriftwatchError).code).toBe('INVALID_ARGUMENT')
  expect((error as DriftwatchError).canRetry).toBe(false)
}

export function describeSketchStoreContract(
  name: string,
  make: () => Promise<SketchStoreHarness>,
): void {
  describe(`SketchStore contract: ${name}`, () => {
    const harness = useHarness(make)
    const store = (): SketchStore => harness().store

    it('applies a first flush whose partitions expect no checkpoint', async () => {
      const model = newModel()
      const outcome = await store().applyFlush(
        batch(
          model,
          [flush(p0, null, checkpoint('10'))],
          [bucket(T0, p0, 'blob-a'), bucket(T1, p0, 'blob-b')],
        ),
      )
      expect(outcome).toEqual({ status: 'applied' })
      expect(await store().loadCheckpoints(model, [p0, p1])).toEqual(
        new Map([['predictions:0', checkpoint('10')]]),
      )
      expect(asText(await store().loadBucket(model, T0, p0))).toBe('blob-a')
      expect(asText(await store().loadBucket(model, T1, p0))).toBe('blob-b')
      expect(asText(await store().loadBucket(model, T1, p1))).toBeNull()
    })

    it('applies a flush that starts from the stored offset, overwriting the blobs', async () => {
      const model = newModel()
      await store().applyFlush(
        batch(model, [flush(p0, null, checkpoint('10'))], [bucket(T0, p0, 'v1')]),
      )
      const outcome = await store().applyFlush(
        batch(model, [flush(p0, '10', checkpoint('25', T0 + 5_000, 2))], [bucket(T0, p0, 'v2')]),
      )
      expect(outcome).toEqual({ status: 'applied' })
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')).toEqual(
        checkpoint('25', T0 + 5_000, 2),
      )
      expect(asText(await store().loadBucket(model, T0, p0))).toBe('v2')
    })

    it('drops a stale flush and writes nothing: no bucket, no checkpoint, no expiry change', async () => {
      const model = newModel()
      await store().applyFlush(
        batch(model, [flush(p0, null, checkpoint('10'))], [bucket(T0, p0, 'kept')], 60_000),
      )
      const ttlBefore = await harness().bucketTtlMs(model, T0)

      const outcome = await store().applyFlush(
        batch(
          model,
          [flush(p0, '7', checkpoint('30'))],
          [bucket(T0, p0, 'lost'), bucket(T1, p0, 'lost')],
          HOUR,
        ),
      )

      expect(outcome).toEqual({ status: 'stale', partition: 'predictions:0' })
      expect(await store().loadCheckpoints(model, [p0])).toEqual(
        new Map([['predictions:0', checkpoint('10')]]),
      )
      expect(asText(await store().loadBucket(model, T0, p0))).toBe('kept')
      expect(asText(await store().loadBucket(model, T1, p0))).toBeNull()
      expect(await harness().bucketTtlMs(model, T1)).toBeNull()
      const ttlAfter = await harness().bucketTtlMs(model, T0)
      expect(ttlAfter).not.toBeNull()
      expect(ttlAfter).toBeLessThanOrEqual(ttlBefore ?? Number.NaN)
    })

    it('is stale when it expects no checkpoint but one is stored, and the other way round', async () => {
      const model = newModel()
      expect(
        await store().applyFlush(batch(model, [flush(p0, '10', checkpoint('20'))], [])),
      ).toEqual({
        status: 'stale',
        partition: 'predictions:0',
      })
      expect(await store().loadCheckpoints(model, [p0])).toEqual(new Map())
      await store().applyFlush(batch(model, [flush(p0, null, checkpoint('10'))], []))
      expect(
        await store().applyFlush(batch(model, [flush(p0, null, checkpoint('99'))], [])),
      ).toEqual({
        status: 'stale',
        partition: 'predictions:0',
      })
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')?.nextOffset).toBe(
        '10',
      )
    })

    it('writes nothing when one of two partitions in a flush is stale', async () => {
      const model = newModel()
      await store().applyFlush(
        batch(model, [flush(p0, null, checkpoint('10'))], [bucket(T0, p0, 'p0-v1')]),
      )
      await store().applyFlush(
        batch(model, [flush(p1, null, checkpoint('5'))], [bucket(T0, p1, 'p1-v1')]),
      )

      const outcome = await store().applyFlush(
        batch(
          model,
          [flush(p0, '10', checkpoint('20')), flush(p1, '4', checkpoint('15'))],
          [bucket(T0, p0, 'p0-v2'), bucket(T0, p1, 'p1-v2'), bucket(T1, p0, 'p0-new')],
        ),
      )

      expect(outcome).toEqual({ status: 'stale', partition: 'predictions:1' })
      expect(await store().loadCheckpoints(model, [p0, p1])).toEqual(
        new Map([
          ['predictions:0', checkpoint('10')],
          ['predictions:1', checkpoint('5')],
        ]),
      )
      expect(asTexts(await store().readBuckets(model, [T0, T1]))).toEqual(
        new Map([
          [
            T0,
            new Map([
              ['predictions:0', 'p0-v1'],
              ['predictions:1', 'p1-v1'],
            ]),
          ],
          [T1, new Map()],
        ]),
      )
    })

    it('applies a flush of several partitions and buckets at once', async () => {
      const model = newModel()
      const outcome = await store().applyFlush(
        batch(
          model,
          [
            flush(p0, null, checkpoint('3')),
            flush(p1, null, checkpoint('4')),
            flush(other, null, checkpoint('5')),
          ],
          [bucket(T0, p0, 'a'), bucket(T0, p1, 'b'), bucket(T1, p1, 'c'), bucket(T1, other, 'd')],
        ),
      )
      expect(outcome).toEqual({ status: 'applied' })
      expect([...(await store().loadCheckpoints(model, [p0, p1, other])).keys()].sort()).toEqual([
        'other-topic:0',
        'predictions:0',
        'predictions:1',
      ])
    })

    it("reads every partition's blob of each bucket, and an empty map for absent buckets", async () => {
      const model = newModel()
      await store().applyFlush(
        batch(
          model,
          [flush(p0, null, checkpoint('1'))],
          [bucket(T0, p0, 'p0@T0'), bucket(T1, p0, 'p0@T1')],
        ),
      )
      await store().applyFlush(
        batch(model, [flush(p1, null, checkpoint('1'))], [bucket(T0, p1, 'p1@T0')]),
      )
      await store().applyFlush(
        batch(model, [flush(other, null, checkpoint('1'))], [bucket(T0, other, 'other@T0')]),
      )

      const T2 = T1 + 60_000
      const buckets = asTexts(await store().readBuckets(model, [T0, T1, T2]))

      expect(buckets).toEqual(
        new Map([
          [
            T0,
            new Map([
              ['predictions:0', 'p0@T0'],
              ['predictions:1', 'p1@T0'],
              ['other-topic:0', 'other@T0'],
            ]),
          ],
          [T1, new Map([['predictions:0', 'p0@T1']])],
          [T2, new Map()],
        ]),
      )
      expect(asTexts(await store().readBuckets(model, []))).toEqual(new Map())
    })

    it("counts each bucket's rows over flushes and partitions, apart from its blobs; stale flushes add nothing", async () => {
      const model = newModel()
      const rows = (b: BucketWrite, n: number): BucketWrite => ({ ...b, rowsAdded: n })
      await store().applyFlush(
        batch(
          model,
          [flush(p0, null, checkpoint('3'))],
          [rows(bucket(T0, p0, 'a'), 2), rows(bucket(T1, p0, 'b'), 1)],
        ),
      )
      await store().applyFlush(
        batch(model, [flush(p1, null, checkpoint('4'))], [rows(bucket(T0, p1, 'c'), 4)]),
      )
      await store().applyFlush(
        batch(model, [flush(p0, '3', checkpoint('5'))], [rows(bucket(T0, p0, 'a2'), 2)]),
      )
      // stale: expects '3' on p0, which is at '5' now
      expect(
        await store().applyFlush(
          batch(model, [flush(p0, '3', checkpoint('9'))], [rows(bucket(T0, p0, 'x'), 100)]),
        ),
      ).toEqual({ status: 'stale', partition: 'predictions:0' })
      // a write without rowsAdded (a checkpoint-only partition's bucket) adds none
      await store().applyFlush(
        batch(model, [flush(p1, '4', checkpoint('5'))], [bucket(T1, p1, 'd')]),
      )
      const T2 = T1 + 60_000
      expect(await store().bucketRows(model, [T0, T1, T2])).toEqual(
        new Map([
          [T0, 8],
          [T1, 1],
          [T2, 0],
        ]),
      )
      expect(asTexts(await store().readBuckets(model, [T0])).get(T0)).toEqual(
        new Map([
          ['predictions:0', 'a2'],
          ['predictions:1', 'c'],
        ]),
      )
    })

    it('round-trips the earliest event time of a checkpoint', async () => {
      const model = newModel()
      await store().applyFlush(
        batch(model, [flush(p0, null, { ...checkpoint('1'), earliest: T0 + 5 })], []),
      )
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')?.earliest).toBe(
        T0 + 5,
      )
    })

    it('keeps blobs byte for byte (binary-looking text, unicode, 100 KB)', async () => {
      const model = newModel()
      const blobs = ['\u0000\u0001\u00ff', 'données ✓ 🙂', 'x'.repeat(100_000), '']
      const refs = blobs.map((_, i) => ({ topic: 'blobs', partition: i }))
      await store().applyFlush(
        batch(
          model,
          refs.map((ref) => flush(ref, null, checkpoint('1'))),
          refs.map((ref, i) => bucket(T0, ref, blobs[i] ?? '')),
        ),
      )
      for (const [i, ref] of refs.entries())
        expect(asText(await store().loadBucket(model, T0, ref))).toBe(blobs[i])
    })

    it('keeps binary blobs byte for byte (every byte value, 100 KB)', async () => {
      const model = newModel()
      const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256)
      await store().applyFlush(
        batch(model, [flush(p0, null, checkpoint('1'))], [bucket(T0, p0, bytes)]),
      )
      const loaded = await store().loadBucket(model, T0, p0)
      expect(loaded).not.toBeNull()
      expect(Buffer.from(loaded as Uint8Array).equals(Buffer.from(bytes))).toBe(true)
      const read = (await store().readBuckets(model, [T0])).get(T0)?.get('predictions:0')
      expect(Buffer.from(read as Uint8Array).equals(Buffer.from(bytes))).toBe(true)
    })

    it('sets every written bucket to expire after the retention, counted from its last write', async () => {
      const model = newModel()
      const retentionMs = 60_000
      await store().applyFlush(
        batch(
          model,
          [flush(p0, null, checkpoint('1'))],
          [bucket(T0, p0, 'a'), bucket(T1, p0, 'b')],
          retentionMs,
        ),
      )
      for (const start of [T0, T1]) {
        const ttl = await harness().bucketTtlMs(model, start)
        expect(ttl).toBeGreaterThan(0)
        expect(ttl).toBeLessThanOrEqual(retentionMs)
      }
      // A later write to one bucket renews that bucket only.
      await store().applyFlush(
        batch(model, [flush(p0, '1', checkpoint('2'))], [bucket(T1, p0, 'b2')], HOUR),
      )
      expect(await harness().bucketTtlMs(model, T1)).toBeGreaterThan(retentionMs)
      expect(await harness().bucketTtlMs(model, T0)).toBeLessThanOrEqual(retentionMs)
    })

    it('forgets buckets after the retention, and keeps the checkpoints', async () => {
      const model = newModel()
      await store().applyFlush(
        batch(model, [flush(p0, null, checkpoint('1'))], [bucket(T0, p0, 'short-lived')], 150),
      )
      expect(asText(await store().loadBucket(model, T0, p0))).toBe('short-lived')
      await sleep(400)
      expect(asText(await store().loadBucket(model, T0, p0))).toBeNull()
      expect(asTexts(await store().readBuckets(model, [T0]))).toEqual(new Map([[T0, new Map()]]))
      expect(await harness().bucketTtlMs(model, T0)).toBeNull()
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')).toEqual(
        checkpoint('1'),
      )
    })

    it('compares offsets beyond 2^53 exactly', async () => {
      const model = newModel()
      const big = '9223372036854775806'
      const bigger = '9223372036854775807'
      await store().applyFlush(batch(model, [flush(p0, null, checkpoint(big))], []))
      // 9223372036854775806 and …807 are the same double: a numeric compare would call this current.
      expect(
        await store().applyFlush(batch(model, [flush(p0, bigger, checkpoint('1'))], [])),
      ).toEqual({
        status: 'stale',
        partition: 'predictions:0',
      })
      expect(
        await store().applyFlush(batch(model, [flush(p0, big, checkpoint(bigger))], [])),
      ).toEqual({
        status: 'applied',
      })
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')?.nextOffset).toBe(
        bigger,
      )
    })

    it('round-trips the checkpoint of a partition with no event yet (watermark -Infinity)', async () => {
      const model = newModel()
      const empty = checkpoint('42', Number.NEGATIVE_INFINITY, 0)
      await store().applyFlush(batch(model, [flush(p0, null, empty)], []))
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')).toEqual(empty)
      expect(await store().modelWatermark(model)).toBeNull()
    })

    it("gives the smallest watermark over the model's partitions, or null with none", async () => {
      const model = newModel()
      expect(await store().modelWatermark(model)).toBeNull()
      await store().applyFlush(
        batch(
          model,
          [flush(p0, null, checkpoint('1', T0 + 500)), flush(p1, null, checkpoint('1', T0 + 900))],
          [],
        ),
      )
      await store().applyFlush(batch(model, [flush(other, null, checkpoint('1', T0 + 100))], []))
      expect(await store().modelWatermark(model)).toBe(T0 + 100)
      expect(await store().modelWatermark(newModel())).toBeNull()
    })

    it('round-trips when a partition was found read to its end, and leaves idle partitions out on request', async () => {
      const model = newModel()
      const now = T0 + 3_600_000
      const caughtUp = { ...checkpoint('7', T0 + 100), caughtUpAt: now - 1000 }
      await store().applyFlush(
        batch(
          model,
          [flush(p0, null, caughtUp), flush(p1, null, checkpoint('9', T0 + 900_000))],
          [],
        ),
      )
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')).toEqual(caughtUp)
      // p0 is caught up, fresh, and lags p1 by ~15 minutes of event time: idle under a 5-minute policy.
      expect(await store().modelWatermark(model)).toBe(T0 + 100)
      expect(
        await store().modelWatermark(model, { idleAfterMs: 300_000, freshMs: 10_000, now }),
      ).toBe(T0 + 900_000)
      // Its owner stopped saying so (the claim is stale): it holds windows back again.
      expect(
        await store().modelWatermark(model, {
          idleAfterMs: 300_000,
          freshMs: 10_000,
          now: now + 60_000,
        }),
      ).toBe(T0 + 100)
      // A null caughtUpAt reads back as none.
      await store().applyFlush(
        batch(model, [flush(p0, '7', { ...checkpoint('8', T0 + 100), caughtUpAt: null })], []),
      )
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')).toEqual(
        checkpoint('8', T0 + 100),
      )
    })

    it('keeps models apart', async () => {
      const a = newModel()
      const b = newModel()
      await store().applyFlush(
        batch(a, [flush(p0, null, checkpoint('10', T0 + 1))], [bucket(T0, p0, 'of-a')]),
      )
      await store().applyFlush(
        batch(b, [flush(p0, null, checkpoint('99', T0 + 2))], [bucket(T0, p0, 'of-b')]),
      )
      expect((await store().loadCheckpoints(a, [p0])).get('predictions:0')?.nextOffset).toBe('10')
      expect(asText(await store().loadBucket(a, T0, p0))).toBe('of-a')
      expect(asTexts(await store().readBuckets(b, [T0]))).toEqual(
        new Map([[T0, new Map([['predictions:0', 'of-b']])]]),
      )
      expect(await store().modelWatermark(a)).toBe(T0 + 1)
    })

    it('returns only the asked-for checkpoints that exist', async () => {
      const model = newModel()
      await store().applyFlush(
        batch(model, [flush(p0, null, checkpoint('1')), flush(p1, null, checkpoint('2'))], []),
      )
      expect([...(await store().loadCheckpoints(model, [p1, other])).keys()]).toEqual([
        'predictions:1',
      ])
      expect(await store().loadCheckpoints(model, [])).toEqual(new Map())
    })

    it('applies a flush that only moves checkpoints (no bucket touched)', async () => {
      const model = newModel()
      expect(
        await store().applyFlush(
          batch(model, [flush(p0, null, checkpoint('8', Number.NEGATIVE_INFINITY))], []),
        ),
      ).toEqual({
        status: 'applied',
      })
      expect((await store().loadCheckpoints(model, [p0])).get('predictions:0')?.nextOffset).toBe(
        '8',
      )
    })

    it('rejects, writing nothing, a flush that writes a bucket of a partition it does not check', async () => {
      const model = newModel()
      await expectInvalid(
        store().applyFlush(
          batch(
            model,
            [flush(p0, null, checkpoint('1'))],
            [bucket(T0, p0, 'a'), bucket(T0, p1, 'b')],
          ),
        ),
      )
      expect(asTexts(await store().readBuckets(model, [T0]))).toEqual(new Map([[T0, new Map()]]))
      expect(await store().loadCheckpoints(model, [p0])).toEqual(new Map())
    })

    it('rejects malformed flushes: a partition twice, a bucket written twice, an offset not in decimal, a bad retention', async () => {
      const model = newModel()
      await expectInvalid(
        store().applyFlush(
          batch(model, [flush(p0, null, checkpoint('1')), flush(p0, null, checkpoint('2'))], []),
        ),
      )
      await expectInvalid(
        store().applyFlush(
          batch(
            model,
            [flush(p0, null, checkpoint('1'))],
            [bucket(T0, p0, 'a'), bucket(T0, p0, 'b')],
          ),
        ),
      )
      await expectInvalid(
        store().applyFlush(batch(model, [flush(p0, '010', checkpoint('11'))], [])),
      )
      await expectInvalid(store().applyFlush(batch(model, [flush(p0, null, checkpoint('-1'))], [])))
      await expectInvalid(
        store().applyFlush(
          batch(model, [flush(p0, null, checkpoint('1'))], [bucket(T0, p0, 'a')], 0),
        ),
      )
      expect(await store().loadCheckpoints(model, [p0])).toEqual(new Map())
    })
  })
}

export function describeLeaseStoreContract(
  name: string,
  make: () => Promise<Harness<LeaseStore>>,
): void {
  describe(`LeaseStore contract: ${name}`, () => {
    const harness = useHarness(make)
    const leases = (): LeaseStore => harness().store

    it('gives the lease to one owner at a time', async () => {
      const model = newModel()
      const token = await leases().acquire(model, 'a', 5_000)
      expect(token).toBeGreaterThan(0)
      expect(await leases().acquire(model, 'b', 5_000)).toBeNull()
    })

    it('renews for the same owner, keeping the token and extending the ttl', async () => {
      const model = newModel()
      const token = await leases().acquire(model, 'a', 300)
      await sleep(200)
      expect(await leases().acquire(model, 'a', 300)).toBe(token)
      await sleep(200) // 400 ms after the first acquire: alive only because it was renewed
      expect(await leases().acquire(model, 'b', 300)).toBeNull()
    })

    it('hands the lease over after it expires, with a larger token', async () => {
      const model = newModel()
      const first = await leases().acquire(model, 'a', 100)
      await sleep(250)
      const second = await leases().acquire(model, 'b', 5_000)
      expect(second).not.toBeNull()
      expect(second).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY)
      expect(await leases().acquire(model, 'a', 5_000)).toBeNull()
    })

    it('gives a new token to an owner coming back after its lease lapsed', async () => {
      const model = newModel()
      const first = await leases().acquire(model, 'a', 100)
      await sleep(250)
      const again = await leases().acquire(model, 'a', 5_000)
      expect(again).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY)
    })

    it('releases only for the owner; the next owner gets a larger token', async () => {
      const model = newModel()
      const first = await leases().acquire(model, 'a', 5_000)
      await leases().release(model, 'b')
      expect(await leases().acquire(model, 'b', 5_000)).toBeNull()
      await leases().release(model, 'a')
      const second = await leases().acquire(model, 'b', 5_000)
      expect(second).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY)
      await leases().release(newModel(), 'nobody') // releasing what was never taken is fine
    })

    it('keeps the leases of different models apart', async () => {
      const a = newModel()
      const b = newModel()
      expect(await leases().acquire(a, 'x', 5_000)).not.toBeNull()
      expect(await leases().acquire(b, 'y', 5_000)).not.toBeNull()
    })

    it('commits an evaluation with the current token, once per window', async () => {
      const model = newModel()
      expect(await leases().lastEvaluation(model)).toBeNull()
      const token = (await leases().acquire(model, 'a', 5_000)) ?? 0
      expect(await leases().commitEvaluation(model, token, T1, '{"alert":"ok"}')).toBe('committed')
      expect(await leases().lastEvaluation(model)).toEqual({
        windowEnd: T1,
        state: '{"alert":"ok"}',
      })
      expect(await leases().commitEvaluation(model, token, T1, 'again')).toBe('duplicate')
      expect(await leases().commitEvaluation(model, token, T0, 'older')).toBe('duplicate')
      expect(await leases().lastEvaluation(model)).toEqual({
        windowEnd: T1,
        state: '{"alert":"ok"}',
      })
      expect(await leases().commitEvaluation(model, token, T1 + 60_000, 'next')).toBe('committed')
      expect(await leases().lastEvaluation(model)).toEqual({
        windowEnd: T1 + 60_000,
        state: 'next',
      })
    })

    it('fences a commit made with a token from before a takeover', async () => {
      const model = newModel()
      const old = (await leases().acquire(model, 'a', 100)) ?? 0
      expect(await leases().commitEvaluation(model, old, T0, 'by a')).toBe('committed')
      await sleep(250)
      const current = (await leases().acquire(model, 'b', 5_000)) ?? 0
      // Fenced even for a window nobody recorded yet: the check of the token comes first.
      expect(await leases().commitEvaluation(model, old, T1, 'late a')).toBe('fenced')
      expect(await leases().commitEvaluation(model, old, T0, 'late a')).toBe('fenced')
      expect(await leases().lastEvaluation(model)).toEqual({ windowEnd: T0, state: 'by a' })
      expect(await leases().commitEvaluation(model, current, T1, 'by b')).toBe('committed')
    })

    it('commits a revision of the recorded window only, with the current token', async () => {
      const model = newModel()
      const token = (await leases().acquire(model, 'a', 100)) ?? 0
      expect(await leases().commitRevision(model, token, T1, 'nothing recorded')).toBe('duplicate')
      expect(await leases().commitEvaluation(model, token, T1, 'first')).toBe('committed')
      expect(await leases().commitRevision(model, token, T0, 'not the recorded one')).toBe(
        'duplicate',
      )
      expect(await leases().commitRevision(model, token, T1, 'revised')).toBe('committed')
      expect(await leases().lastEvaluation(model)).toEqual({ windowEnd: T1, state: 'revised' })
      await sleep(250)
      expect(await leases().acquire(model, 'b', 5_000)).not.toBeNull()
      expect(await leases().commitRevision(model, token, T1, 'by a, fenced')).toBe('fenced')
      expect(await leases().lastEvaluation(model)).toEqual({ windowEnd: T1, state: 'revised' })
    })

    it('fences a token that was never handed out', async () => {
      const model = newModel()
      expect(await leases().commitEvaluation(model, 1, T0, 'x')).toBe('fenced')
      const token = (await leases().acquire(model, 'a', 5_000)) ?? 0
      expect(await leases().commitEvaluation(model, token + 1, T0, 'x')).toBe('fenced')
      expect(await leases().commitEvaluation(model, 0, T0, 'x')).toBe('fenced')
      expect(await leases().lastEvaluation(model)).toBeNull()
    })

    it('rejects an empty owner and a ttl that is not a positive whole number of ms', async () => {
      await expectInvalid(leases().acquire(newModel(), '', 1_000))
      await expectInvalid(leases().acquire(newModel(), 'a', 0))
      await expectInvalid(leases().acquire(newModel(), 'a', 1.5))
    })
  })
}

export function describeReferenceStoreContract(
  name: string,
  make: () => Promise<Harness<ReferenceStore>>,
): void {
  describe(`ReferenceStore contract: ${name}`, () => {
    const harness = useHarness(make)
    const references = (): ReferenceStore => harness().store

    it('has no current reference before one is put', async () => {
      expect(await references().current(newModel())).toBeNull()
    })

    it('makes the last snapshot put the current one', async () => {
      const model = newModel()
      await references().put(model, '{"id":"r1"}', 'r1')
      expect(await references().current(model)).toBe('{"id":"r1"}')
      await references().put(model, '{"id":"r2"}', 'r2')
      expect(await references().current(model)).toBe('{"id":"r2"}')
      await references().put(model, '{"id":"r1","again":true}', 'r1')
      expect(await references().current(model)).toBe('{"id":"r1","again":true}')
    })

    it('keeps models apart', async () => {
      const a = newModel()
      const b = newModel()
      await references().put(a, 'snapshot of a', 'same-id')
      await references().put(b, 'snapshot of b', 'same-id')
      expect(await references().current(a)).toBe('snapshot of a')
      expect(await references().current(b)).toBe('snapshot of b')
    })

    it('rejects an empty id', async () => {
      await expectInvalid(references().put(newModel(), '{}', ''))
      await expectInvalid(references().seedFromFile(newModel(), '{}', ''))
    })

    it('seeds from the file when nothing is stored, and again when the file changed', async () => {
      const model = newModel()
      expect(await references().seedFromFile(model, 'file v1', 'f1')).toEqual({
        applied: true,
        currentId: 'f1',
      })
      expect(await references().current(model)).toBe('file v1')
      expect(await references().seedFromFile(model, 'file v1', 'f1')).toEqual({
        applied: true,
        currentId: 'f1',
      })
      expect(await references().seedFromFile(model, 'file v2', 'f2')).toEqual({
        applied: true,
        currentId: 'f2',
      })
      expect(await references().current(model)).toBe('file v2')
    })

    it('keeps a reference put through the admin API while the file is unchanged', async () => {
      const model = newModel()
      await references().seedFromFile(model, 'file v1', 'f1')
      await references().put(model, 'admin', 'a1')
      // a restart offers the same file: the operator's choice stands
      expect(await references().seedFromFile(model, 'file v1', 'f1')).toEqual({
        applied: false,
        currentId: 'a1',
      })
      expect(await references().current(model)).toBe('admin')
      // a new file is a new decision and wins
      expect(await references().seedFromFile(model, 'file v2', 'f2')).toEqual({
        applied: true,
        currentId: 'f2',
      })
      expect(await references().current(model)).toBe('file v2')
    })

    it('seeds a file over a reference stored by an older version (no seed recorded)', async () => {
      const model = newModel()
      await references().put(model, 'stored before seeds existed', 'old')
      expect(await references().seedFromFile(model, 'file v1', 'f1')).toEqual({
        applied: true,
        currentId: 'f1',
      })
    })
  })
}
