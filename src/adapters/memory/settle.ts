/**
 * Runs a synchronous store operation as a promise, so a thrown argument error arrives as a
 * rejection, as it does from the Redis stores, rather than as a throw at the call site.
 */
export function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work())
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)))
  }
}
