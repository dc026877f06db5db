// Every Redis key driftwatch uses, and nothing else builds one (bullmq's queue-keys.ts).
//
//   <prefix>:{<model>}:checkpoints          hash  partition id ('topic:partition') → checkpoint JSON
//   <prefix>:{<model>}:bucket:<startMs>     hash  partition id → encoded profiles (binary,
//                                                 bucket-binary.ts), '*' → the partitions merged
//                                                 once none can write the bucket again
//                                                 (compact-bucket-2.lua), '#rows' → row counter;
//                                                 PEXPIRE retention
//   <prefix>:{<model>}:lease                string  evaluator owner id; PX ttl
//   <prefix>:{<model>}:lease:token          string  fencing counter, INCR on every change of owner
//   <prefix>:{<model>}:evaluation           hash  windowEnd, state (last committed evaluation)
//   <prefix>:{<model>}:reference            string  id of the current reference snapshot
//   <prefix>:{<model>}:reference:<id>       string  reference snapshot JSON
//   <prefix>:{<model>}:reference-seed       string  id last seeded from the model's reference file
//   <prefix>:{<model>}:pending              hash  eventId → prediction waiting for its label (JSON)
//   <prefix>:{<model>}:pending:index        zset  eventId by wall-clock ms it started waiting
//   <prefix>:{<model>}:early-labels         hash  eventId → label waiting for its prediction (JSON)
//   <prefix>:{<model>}:early-labels:index   zset  eventId by wall-clock ms it started waiting
//   <prefix>:{<model>}:label-checkpoints    hash  labels partition id → next offset to read
//   <prefix>:{<model>}:perf:<startMs>       hash  '<version>␞<summary field>' → count or sum; PEXPIRE retention
//
// The model sits in a `{hash tag}`: Redis Cluster hashes only the text between the first `{` and
// the next `}`, so every key of one model lives in one slot and a Lua script may touch any set of
// them atomically (invariant 1: the buckets and the offsets they cover are written together).
// The prefix comes from config (`redis.keyPrefix`) and is applied here, not through ioredis'
// `keyPrefix` option: see client.ts.

import { ConfigError, DriftwatchError } from '../../errors.js'
import { checkReferenceId } from '../store-arguments.js'

export interface RedisKeys {
  readonly prefix: string
  checkpoints(model: string): string
  bucket(model: string, bucketStart: number): string
  lease(model: string): string
  leaseToken(model: string): string
  evaluation(model: string): string
  reference(model: string): string
  referenceSnapshot(model: string, id: string): string
  referenceSeed(model: string): string
  pending(model: string): string
  pendingIndex(model: string): string
  earlyLabels(model: string): string
  earlyLabelsIndex(model: string): string
  labelCheckpoints(model: string): string
  performance(model: string, bucketStart: number): string
  /** One key of every kind for `model` (the cluster test checks they share a slot). */
  allKinds(model: string): string[]
}

// Braces would move or split the hash tag; ':' separates the parts of a key.
const SAFE_PREFIX = /^[A-Za-z0-9._-]+$/
const UNSAFE_IN_MODEL = /[{}]/

export function redisKeys(prefix: string): RedisKeys {
  if (!SAFE_PREFIX.test(prefix)) {
    throw new ConfigError(
      'redis.keyPrefix',
      `'${prefix}' is not a key prefix (letters, digits, . _ -)`,
    )
  }
  const base = (model: string): string => {
    if (model === '' || UNSAFE_IN_MODEL.test(model)) {
      // A '{' or '}' in the name would change which part of the key Redis Cluster hashes.
      throw new DriftwatchError(
        'INVALID_ARGUMENT',
        `model name '${model}' cannot be used in a Redis key`,
      )
    }
    return `${prefix}:{${model}}`
  }
  const keys: RedisKeys = {
    prefix,
    checkpoints: (model) => `${base(model)}:checkpoints`,
    bucket: (model, bucketStart) => {
      if (!Number.isSafeInteger(bucketStart)) {
        throw new DriftwatchError(
          'INVALID_ARGUMENT',
          `bucket start must be an integer of ms, got ${bucketStart}`,
        )
      }
      return `${base(model)}:bucket:${bucketStart}`
    },
    lease: (model) => `${base(model)}:lease`,
    leaseToken: (model) => `${base(model)}:lease:token`,
    evaluation: (model) => `${base(model)}:evaluation`,
    reference: (model) => `${base(model)}:reference`,
    referenceSnapshot: (model, id) => {
      checkReferenceId(id)
      return `${base(model)}:reference:${id}`
    },
    referenceSeed: (model) => `${base(model)}:reference-seed`,
    pending: (model) => `${base(model)}:pending`,
    pendingIndex: (model) => `${base(model)}:pending:index`,
    earlyLabels: (model) => `${base(model)}:early-labels`,
    earlyLabelsIndex: (model) => `${base(model)}:early-labels:index`,
    labelCheckpoints: (model) => `${base(model)}:label-checkpoints`,
    performance: (model, bucketStart) => {
      if (!Number.isSafeInteger(bucketStart)) {
        throw new DriftwatchError(
          'INVALID_ARGUMENT',
          `bucket start must be an integer of ms, got ${bucketStart}`,
        )
      }
      return `${base(model)}:perf:${bucketStart}`
    },
    allKinds: (model) => [
      keys.checkpoints(model),
      keys.bucket(model, 0),
      keys.lease(model),
      keys.leaseToken(model),
      keys.evaluation(model),
      keys.reference(model),
      keys.referenceSnapshot(model, 'id'),
      keys.referenceSeed(model),
      keys.pending(model),
      keys.pendingIndex(model),
      keys.earlyLabels(model),
      keys.earlyLabelsIndex(model),
      keys.labelCheckpoints(model),
      keys.performance(model, 0),
    ],
  }
  return keys
}
