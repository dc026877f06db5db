// numpy.quantile's default ('linear'), written out apart from the product's code, for the tests
// that check latency quantiles against the events they sent.

export function linearQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (h - lo)
}
