// Quantiles of a sorted sample, computed the way numpy's default method ('linear', type 7 of
// Hyndman & Fan) computes them, down to the float operations: the reference's breakpoints
// decide which bin a tied value falls in, so a last-bit difference would move whole ties.
//
// numpy 2.x (lib/_function_base_impl.py, _quantile with method 'linear'):
//   virtual index  h = (n - 1)*q;  h >= n - 1 takes the maximum
//   lo = floor(h), gamma = h - lo
//   _lerp(a, b, t) = a + (b - a)*t, replaced by b - (b - a)*(1 - t) where t >= 0.5

export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const h = (n - 1) * q
  if (h >= n - 1) return sorted[n - 1] as number
  if (h < 0) return sorted[0] as number
  const lo = Math.floor(h)
  const gamma = h - lo
  const a = sorted[lo] as number
  const b = sorted[lo + 1] as number
  return lerp(a, b, gamma)
}

function lerp(a: number, b: number, t: number): number {
  const diff = b - a
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}
