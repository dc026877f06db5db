// ioredis errors stop here: every store call goes through withRedisErrors, and what leaves is a
// DriftwatchError whose `canRetry` says whether pausing and trying again can help.
//
//   REDIS_UNAVAILABLE, canRetry: true   the connection is down or not answering (refused, reset,
//                                       closed, timed out, not ready yet), or the server says
//                                       "not now" (LOADING, BUSY, TRYAGAIN, CLUSTERDOWN,
//                                       MASTERDOWN, READONLY after a failover, OOM until buckets
//                                       expire). A command that failed this way may or may not have
//                                       run; every write here is safe to repeat or to find stale.
//   REDIS_ERROR, canRetry: false        Redis answered with an error that repeats: a wrong key type,
//                                       refused credentials or ACL, a script bug.
//
// The cause kept is a copy with name, message and code only: ioredis hangs the failed command's
// arguments on its errors, and for the handshake those include the password.

import { DriftwatchError } from '../../errors.js'

const RETRYABLE_REPLIES = [
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'OOM',
  'NOREPLICAS',
]
const CREDENTIAL_REPLIES = ['NOAUTH', 'WRONGPASS', 'NOPERM']

/** Node's codes for a server certificate the client does not trust (tls.connect errors). */
const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

interface ForeignError {
  readonly name?: unknown
  readonly message?: unknown
  readonly code?: unknown
}

function isReplyError(error: ForeignError): boolean {
  // ioredis 6 raises RESP3 simple errors as `SimpleError` named 'ReplyError'.
  return error.name === 'ReplyError' || error.name === 'SimpleError'
}

function firstWord(message: string): string {
  return message.split(' ', 1)[0] ?? ''
}

/** A copy of a foreign error that is safe to log: no command arguments, no password. */
export function safeCause(error: unknown, secret?: string): Error {
  const foreign = (typeof error === 'object' && error !== null ? error : {}) as ForeignError
  const copy = new Error(redact(String(foreign.message ?? error), secret))
  copy.name = typeof foreign.name === 'string' ? foreign.name : 'Error'
  if (typeof foreign.code === 'string') (copy as Error & { code?: string }).code = foreign.code
  return copy
}

export function redact(text: string, secret: string | undefined): string {
  return secret === undefined || secret === '' ? text : text.split(secret).join('***')
}

/** `action` says what we were doing, in the domain's words ("apply flush of model fraud"). */
export function translateRedisError(
  error: unknown,
  action: string,
  secret?: string,
): DriftwatchError {
  if (error instanceof DriftwatchError) return error
  const cause = safeCause(error, secret)
  const foreign = (typeof error === 'object' && error !== null ? error : {}) as ForeignError
  if (isReplyError(foreign)) {
    const word = firstWord(cause.message)
    if (RETRYABLE_REPLIES.includes(word)) {
      return new DriftwatchError('REDIS_UNAVAILABLE', `redis: ${action}: ${cause.message}`, {
        canRetry: true,
        cause,
      })
    }
    const hint = CREDENTIAL_REPLIES.includes(word) ? ' (check the Redis password or ACL user)' : ''
    return new DriftwatchError('REDIS_ERROR', `redis: ${action}: ${cause.message}${hint}`, {
      canRetry: false,
      cause,
    })
  }
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    // Not from the connection: a bug on our side of the call.
    return new DriftwatchError('REDIS_ERROR', `redis: ${action}: ${cause.message}`, {
      canRetry: false,
      cause,
    })
  }
  if (typeof foreign.code === 'string' && TLS_TRUST_CODES.has(foreign.code)) {
    // The certificate will not become trusted by retrying: fail now, and say what to set.
    return new DriftwatchError(
      'REDIS_ERROR',
      `redis: ${action}: TLS: ${cause.message} (set redis.tls.ca to the CA that signed the server's certificate, and use the host name it names)`,
      { canRetry: false, cause },
    )
  }
  // Everything else ioredis raises is about the connection: refused, reset, closed, timed out,
  // offline queue disabled while reconnecting, MaxRetriesPerRequestError, ClusterAllFailedError.
  return new DriftwatchError('REDIS_UNAVAILABLE', `redis: ${action}: ${cause.message}`, {
    canRetry: true,
    cause,
  })
}

export async function withRedisErrors<T>(action: () => string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw translateRedisError(error, action())
  }
}
