// Polls until a probe answers, for tests against real services (Prometheus, Alertmanager).

/**
 * `probe` every 250 ms until it returns a value (errors count as "not yet"); after `ms`, fails
 * naming `what`, the last error and `diagnose()` (e.g. the service's log tail).
 */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
  diagnose: () => string,
): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error: unknown) {
      last = error
    }
    await new Promise((done) => setTimeout(done, 250))
  }
  throw new Error(
    `timed out after ${ms} ms waiting for ${what} (last error: ${String(last)})\n${diagnose()}`,
  )
}
