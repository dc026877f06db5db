/*
 * Two-sample Kolmogorov–Smirnov p-value, reproducing
 * scipy.stats.ks_2samp(x, y, alternative='two-sided', method='auto') from (D, n1, n2).
 *
 *   D = sup_t |F1(t) - F2(t)|, the ECDFs taken right-continuous (searchsorted side='right').
 *
 * method 'exact' when max(n1, n2) <= 10000 (scipy's MAX_AUTO_N):
 *   g = gcd(n1, n2), L = lcm = (n1/g) n2, h = round_half_even(D L), D := h / L.
 *   h = 0 -> p = 1.
 *   n1 == n2 = n (Hodges; _compute_prob_outside_square), with Horner nesting to avoid the
 *     alternating-sum cancellation:
 *       P(D >= h/n) = 2 sum_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n)
 *                   = 2 A_1 (1 - A_2 (1 - A_3 (...))),  A_k = prod_{j<h} (n-kh-j)/(n+kh+j+1)
 *   n1 != n2 (Hodges' inside method with Viehmann's recursion for 1 - p, pythran
 *     _compute_outer_prob_inside_method): one column of the lattice at a time,
 *       U(i, j) = (i U(i-1, j) + j U(i, j-1)) / (i + j)   inside the band |n x - m y| < h g,
 *     cells outside the band are 1; p = U(m, n).
 *   If p is not in [0, 1] scipy abandons 'exact' and uses 'asymp' with the rounded D.
 * method 'asymp' (max(n1, n2) > 10000, or the fallback above):
 *   p = kstwo.sf(D, round_half_even(n1 n2 / (n1 + n2)))  — the one-sample two-sided
 *   Kolmogorov distribution, Simard & L'Ecuyer (2011) as in scipy/stats/_ksstats.py:
 *     n x <= 1/2 (kstwo support)                      -> 1
 *     n x <= 1    Ruben–Gambino: cdf = n!/n^n (2nx - 1)^n
 *     n x >= n-1  Ruben–Gambino: sf = 2 (1-x)^n
 *     x >= 1/2    exact: sf = 2 smirnov(n, x)
 *     n <= 140:  n x^2 <= 0.754693 Durbin matrix (Marsaglia–Tsang–Wang), <= 4 Pomeranz,
 *                else 2 smirnov(n, x)
 *     n > 140:   n x^2 >= 370 -> 0, >= 2.2 -> 2 smirnov(n, x);
 *                else 1 - cdf with cdf from Durbin (n <= 1e5 and n x^1.5 <= 1.4) or Pelz–Good.
 *   smirnov(n, x) = P(D+_n >= x) = x sum_{v=0}^{floor(n(1-x))} C(n,v) (x+v/n)^(v-1) (1-x-v/n)^(n-v)
 *     (Birnbaum–Tingey; xsf cephes/kolmogorov.h). scipy sums it in double-double; here the terms
 *     are formed in log space from an exactly split n x = floor + alpha, which keeps ~1e-11.
 *
 * Reference: scipy 1.17 scipy/stats/_stats_py.py (ks_2samp, _attempt_exact_2kssamp,
 * _compute_prob_outside_square), scipy/stats/_stats_pythran.py
 * (_compute_outer_prob_inside_method), scipy/stats/_ksstats.py (kolmogn and helpers),
 * scipy/stats/_continuous_distns.py (kstwo support), xsf include/xsf/cephes/kolmogorov.h.
 */

export type KsMethod = 'exact' | 'asymp'

export interface Ks2SampPValue {
  readonly pValue: number
  readonly method: KsMethod
}

const MAX_AUTO_N = 10000
const DBL_EPSILON = 2.220446049250313e-16
const MINLOG = -7.451332191019412076235245305675398106812e2
const E128 = 128
const EP128 = 2 ** 128
const EM128 = 2 ** -128
const SQRT2PI = Math.sqrt(2 * Math.PI)
const LOG_2PI = Math.log(2 * Math.PI)
const MIN_LOG = -708
const SQRT3 = Math.sqrt(3)
const PI_SQUARED = Math.PI ** 2
const PI_FOUR = Math.PI ** 4
const PI_SIX = Math.PI ** 6
// B_{2j}/(2j)/(2j-1) for j = 8..1 (Stirling series, as in _ksstats.py).
const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
  8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
  -2.7777777777777777778e-3, 8.3333333333333333333e-2,
]

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p
}

// numpy.round: ties go to the even neighbour. scipy rounds D*lcm and n1 n2/(n1+n2) this way.
function roundHalfEven(x: number): number {
  const f = Math.floor(x)
  const diff = x - f
  if (diff > 0.5) return f + 1
  if (diff < 0.5) return f
  return f % 2 === 0 ? f : f + 1
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

// x * 2^e without overflowing the power of two itself.
function ldexp(x: number, e: number): number {
  while (e > 1023) {
    x *= 2 ** 1023
    e -= 1023
  }
  while (e < -1022) {
    x *= 2 ** -1022
    e += 1022
  }
  return x * 2 ** e
}

// ---------------------------------------------------------------------------------------------
// Exact two-sample distribution

/** P(D_{n,n} >= h/n), scipy _compute_prob_outside_square. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0
  let k = Math.floor(n / h)
  while (k >= 0) {
    let p1 = 1
    const kh = k * h
    for (let j = 0; j < h; j++) p1 = ((n - kh - j) * p1) / (n + kh + j + 1)
    P = p1 * (1 - P)
    k -= 1
  }
  return 2 * P
}

/**
 * P(D_{m,n} >= h / lcm), scipy _compute_outer_prob_inside_method.
 *
 * scipy keeps a sliding window of one lattice column. Here the column is stored at absolute row
 * index j instead (cells above the band stay 1 because the band edges only move up), which lets
 * four consecutive columns be swept together as a wavefront: column i+c handles row s-c at step
 * s, reading the value column i+c-1 wrote one step earlier. Each cell is still the same
 * (A i + val j) / (i + j) in the same order, so the result is bit-identical to scipy's, but four
 * independent division chains run in parallel instead of one (the recurrence is latency-bound).
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0)
  const n = Math.min(m0, n0)
  const mg = m / g
  const ng = n / g
  const B = new Float64Array(n + 1).fill(1)
  B.fill(0, 0, Math.min(Math.ceil(h / mg), n + 1))
  const lo = [0, 0, 0, 0]
  const hi = [0, 0, 0, 0]
  const val = [0, 0, 0, 0]
  for (let i = 1; i <= m; i += 4) {
    const K = Math.min(4, m - i + 1)
    for (let c = 0; c < K; c++) {
      const ic = i + c
      const minj = Math.min(Math.max(Math.floor((ng * ic - h) / mg) + 1, 0), n)
      const maxj = Math.min(Math.ceil((ng * ic + h) / mg), n + 1)
      // scipy returns as soon as a column's band is empty; later columns are irrelevant then.
      if (maxj <= minj) return 1
      lo[c] = minj
      hi[c] = maxj
      val[c] = minj === 0 ? 0 : 1
    }
    const sEnd = (hi[K - 1] as number) + K - 1
    let s = lo[0] as number
    if (K === 4) {
      // Steady state: every column has a cell at this step, no bounds checks needed.
      const s0 = Math.max(
        lo[0] as number,
        (lo[1] as number) + 1,
        (lo[2] as number) + 2,
        (lo[3] as number) + 3,
      )
      const s1 = Math.min(
        hi[0] as number,
        (hi[1] as number) + 1,
        (hi[2] as number) + 2,
        (hi[3] as number) + 3,
      )
      if (s0 < s1) {
        s = sweepGuarded(B, i, K, lo, hi, val, s, s0)
        let v0 = val[0] as number
        let v1 = val[1] as number
        let v2 = val[2] as number
        let v3 = val[3] as number
        const i0 = i
        const i1 = i + 1
        const i2 = i + 2
        const i3 = i + 3
        for (; s < s1; s++) {
          v0 = ((B[s] as number) * i0 + v0 * s) / (i0 + s)
          B[s] = v0
          const j1 = s - 1
          v1 = ((B[j1] as number) * i1 + v1 * j1) / (i1 + j1)
          B[j1] = v1
          const j2 = s - 2
          v2 = ((B[j2] as number) * i2 + v2 * j2) / (i2 + j2)
          B[j2] = v2
          const j3 = s - 3
          v3 = ((B[j3] as number) * i3 + v3 * j3) / (i3 + j3)
          B[j3] = v3
        }
        val[0] = v0
        val[1] = v1
        val[2] = v2
        val[3] = v3
      }
    }
    sweepGuarded(B, i, K, lo, hi, val, s, sEnd)
  }
  return B[n] as number
}

// Wavefront steps [s, sEnd) with per-column band checks (ramp-up, ramp-down, short blocks).
function sweepGuarded(
  B: Float64Array,
  i: number,
  K: number,
  lo: number[],
  hi: number[],
  val: number[],
  s: number,
  sEnd: number,
): number {
  for (; s < sEnd; s++) {
    for (let c = 0; c < K; c++) {
      const j = s - c
      if (j < (lo[c] as number) || j >= (hi[c] as number)) continue
      const ic = i + c
      const v = ((B[j] as number) * ic + (val[c] as number) * j) / (ic + j)
      val[c] = v
      B[j] = v
    }
  }
  return s
}

// ---------------------------------------------------------------------------------------------
// One-sample two-sided Kolmogorov distribution (scipy _ksstats.py)

function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n
  let poly = 0
  const y = rn / n
  for (const c of STIRLING_COEFFS) poly = poly * y + c
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly
}

// Row-major m x m product.
function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m)
  for (let i = 0; i < m; i++) {
    const ci = i * m
    for (let k = 0; k < m; k++) {
      const aik = a[ci + k] as number
      if (aik === 0) continue
      const bk = k * m
      for (let j = 0; j < m; j++) c[ci + j] = (c[ci + j] as number) + aik * (b[bk + j] as number)
    }
  }
  return c
}

/** CDF P(D_n <= d) by Durbin's matrix, Marsaglia–Tsang–Wang form (_kolmogn_DMTW). */
function kolmognDMTW(n: number, d: number): number {
  if (d >= 1) return 1
  const nd = n * d
  if (nd <= 0.5) return 0
  const k = Math.ceil(nd)
  const h = k - nd
  const m = 2 * k - 1

  const v = new Float64Array(m)
  const w = new Float64Array(m)
  let fac = 1
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac
    fac /= j
    v[j - 1] = (1 - Math.pow(h, j)) * fac
  }
  const tt = Math.pow(Math.max(2 * h - 1, 0), m) - 2 * Math.pow(h, m)
  v[m - 1] = (1 + tt) * fac

  let H: Float64Array = new Float64Array(m * m)
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)] as number
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number

  let Hpwr: Float64Array = new Float64Array(m * m)
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1
  let nn = n
  let expnt = 0
  let Hexpnt = 0
  const kk = (k - 1) * m + (k - 1)
  while (nn > 0) {
    if (nn % 2 === 1) {
      Hpwr = matmul(Hpwr, H, m)
      expnt += Hexpnt
    }
    // The final squaring is never used; skipping it avoids a pointless O(m^3) product.
    if (nn > 1) {
      H = matmul(H, H, m)
      Hexpnt *= 2
      if (Math.abs(H[kk] as number) > EP128) {
        for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) / EP128
        Hexpnt += E128
      }
    }
    nn = Math.floor(nn / 2)
  }
  let p = Hpwr[kk] as number
  // Multiply by n!/n^n one factor at a time, rescaling so it never underflows.
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n
    if (Math.abs(p) < EM128) {
      p *= EP128
      expnt -= E128
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt)
  return clip01(p)
}

function pomeranzJ1J2(
  i: number,
  n: number,
  ll: number,
  ceilf: number,
  roundf: number,
): [number, number] {
  let j1: number
  let j2: number
  if (i === 0) {
    j1 = -ll - ceilf - 1
    j2 = ll + ceilf - 1
  } else {
    const ip1div2 = Math.floor((i + 1) / 2)
    const ip1mod2 = (i + 1) % 2
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1
        j2 = n + ll + ceilf - 1
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1
        j2 = ip1div2 + ll - 1 + ceilf - 1
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1
      j2 = ip1div2 + ll + roundf - 1
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)]
}

// Python slice bounds [start:stop] on a sequence of length len.
function pySliceBounds(start: number, stop: number, len: number): [number, number] {
  const norm = (x: number): number => (x < 0 ? Math.max(x + len, 0) : Math.min(x, len))
  const s = norm(start)
  const e = norm(stop)
  return [s, Math.max(e, s)]
}

/** CDF P(D_n <= x) by Pomeranz's recursion (_kolmogn_Pomeranz). */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x
  const ll = Math.floor(t)
  const f = t - ll
  const g = Math.min(f, 1 - f)
  const ceilf = f > 0 ? 1 : 0
  const roundf = f > 0.5 ? 1 : 0
  const npwrs = 2 * (ll + 1)
  const gpower = new Float64Array(npwrs)
  const twogpower = new Float64Array(npwrs)
  const onem2gpower = new Float64Array(npwrs)
  gpower[0] = 1
  twogpower[0] = 1
  onem2gpower[0] = 1
  let expnt = 0
  const gOverN = g / n
  const twoGOverN = (2 * g) / n
  const oneMinusTwoGOverN = (1 - 2 * g) / n
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = ((gpower[m - 1] as number) * gOverN) / m
    twogpower[m] = ((twogpower[m - 1] as number) * twoGOverN) / m
    onem2gpower[m] = ((onem2gpower[m - 1] as number) * oneMinusTwoGOverN) / m
  }

  let V0 = new Float64Array(npwrs)
  let V1 = new Float64Array(npwrs)
  V1[0] = 1
  let V0s = 0
  let V1s = 0
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf)
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1
    const tmp = V0
    V0 = V1
    V1 = tmp
    const tmps = V0s
    V0s = V1s
    V1s = tmps
    V1.fill(0)
    ;[j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf)
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 === 1 ? twogpower : onem2gpower
    const ln2 = j2 - k1 + 1
    if (ln2 > 0) {
      const [as, ae] = pySliceBounds(k1 - V0s, k1 - V0s + ln2, npwrs)
      const [, be] = pySliceBounds(0, ln2, npwrs)
      const la = ae - as
      const lb = be
      // Only the slice [convStart, convStart + convLen) of the full convolution is kept.
      const convFull = la + lb - 1
      const convStart = j1 - k1
      const convLen = j2 - j1 + 1
      const [cs, ce] = pySliceBounds(convStart, convStart + convLen, convFull)
      const [vs, ve] = pySliceBounds(0, convLen, npwrs)
      if (ce - cs !== ve - vs) throw new Error('kolmognPomeranz: inconsistent row window')
      for (let q = cs; q < ce; q++) {
        let s = 0
        const lo = Math.max(0, q - lb + 1)
        const hi = Math.min(q, la - 1)
        for (let r = lo; r <= hi; r++) s += (V0[as + r] as number) * (pwrs[q - r] as number)
        V1[vs + (q - cs)] = s
      }
      let mx = -Infinity
      for (let q = 0; q < npwrs; q++) if ((V1[q] as number) > mx) mx = V1[q] as number
      if (mx > 0 && mx < EM128) {
        for (let q = 0; q < npwrs; q++) V1[q] = (V1[q] as number) * EP128
        expnt -= E128
      }
      V1s = V0s + j1 - k1
    }
  }
  let idx = n - V1s
  if (idx < 0) idx += npwrs
  let ans = V1[idx] as number
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128
      expnt += E128
    }
    ans *= m
  }
  if (expnt !== 0) ans = ldexp(ans, expnt)
  return clip01(ans)
}

/** Pelz–Good approximation to the CDF P(D_n <= x) (_kolmogn_PelzGood). */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const z = Math.sqrt(n) * x
  const zsquared = z * z
  const zthree = z ** 3
  const zfour = z ** 4
  const zsix = z ** 6
  const qlog = -PI_SQUARED / 8 / zsquared
  if (qlog < MIN_LOG) return 0
  let q = Math.exp(qlog)

  const k1a = -zsquared
  const k1b = PI_SQUARED / 4
  const k2a = 6 * zsix + 2 * zfour
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4
  const k3a = -30 * zsix - 90 * z ** 8

  let K0 = 0
  let K1 = 0
  let K2 = 0
  let K3 = 0
  // Horner in q^8 over the odd integers m = 2k - 1.
  const maxk = Math.ceil((16 * z) / Math.PI)
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1
    const msquared = m ** 2
    const mfour = m ** 4
    const msix = m ** 6
    const qpower = Math.pow(q, 8 * k)
    K0 = K0 * qpower + 1
    K1 = K1 * qpower + (k1a + k1b * msquared)
    K2 = K2 * qpower + (k2a + k2b * msquared + k2c * mfour)
    K3 = K3 * qpower + (k3a + k3b * msquared + k3c * mfour + k3d * msix)
  }
  K0 = (K0 * q * SQRT2PI) / z
  K1 = (K1 * q * SQRT2PI) / (6 * zfour)
  K2 = (K2 * q * SQRT2PI) / (72 * z ** 7)
  K3 = (K3 * q * SQRT2PI) / (6480 * z ** 10)

  q = Math.exp(-PI_SQUARED / 2 / zsquared)
  const sqrt3z = SQRT3 * z
  let k2extra = 0
  let k3extra = 0
  for (let k = maxk; k > 0; k--) {
    const ksquared = k * k
    const qp = Math.pow(q, ksquared)
    const kspi = Math.PI * k
    k2extra += ksquared * qp
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qp
  }
  K2 += k2extra * ((PI_SQUARED * SQRT2PI) / (-36 * zthree))
  K3 += k3extra * ((PI_SQUARED * SQRT2PI) / (216 * zsix))
  K1 /= Math.pow(n, 0.5)
  K2 /= n
  K3 /= Math.pow(n, 1.5)
  return 0 + K0 + K1 + K2 + K3
}

// ---------------------------------------------------------------------------------------------
// One-sided Smirnov survival function P(D+_n >= x) (xsf cephes smirnov)

// Dekker's exact product: a*b = hi + lo.
function twoProd(a: number, b: number): [number, number] {
  const hi = a * b
  const SPLIT = 134217729 // 2^27 + 1
  const ca = SPLIT * a
  const ahi = ca - (ca - a)
  const alo = a - ahi
  const cb = SPLIT * b
  const bhi = cb - (cb - b)
  const blo = b - bhi
  const lo = ahi * bhi - hi + ahi * blo + alo * bhi + alo * blo
  return [hi, lo]
}

// floor(n x) and its fractional part, from the exact product: lattice decisions (which terms
// are in the sum) must not flip on a rounding error of n*x.
function modNX(n: number, x: number): { nxfl: number; alpha: number } {
  const [hi, lo] = twoProd(n, x)
  let fh = Math.floor(hi)
  let fl = 0
  if (fh === hi) fl = Math.floor(lo)
  let alpha = hi - fh + (lo - fl)
  fh += fl
  if (alpha >= 1) {
    fh += 1
    alpha = 0
  }
  return { nxfl: fh, alpha }
}

/** sf of the one-sided statistic, = scipy.special.smirnov(n, x). */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN
  if (n === 1) return 1 - x
  if (x === 0) return 1
  if (x === 1) return 0
  const { nxfl, alpha } = modNX(n, x)
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1)
  let n1mxceil = n - nxfl
  // With n x an integer the boundary term is zero in both sums; drop it.
  if (alpha === 0) {
    n1mxfl -= 1
    n1mxceil += 1
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const t = Math.exp((n - 1) * Math.log1p(x))
    return 1 - x * t
  }
  if (-2 * n * x * x < MINLOG) return 0
  if (nxfl >= n - 1) return Math.exp(n * Math.log1p(-x))
  if (n > 1000000) {
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n
    if (logp < -Math.LN2) return Math.exp(logp)
    return 1 + Math.expm1(logp)
  }
  const nUpperTerms = n - n1mxceil + 1
  // The upper (alternating) sum is only used when it has very few terms, as scipy does.
  const useUpper =
    (nUpperTerms <= 1 && x < 0.5) || (n >= 10 && nUpperTerms <= 3 && x <= 0.5 / Math.sqrt(n))

  let start = 0
  let step = 1
  let nTerms = n1mxfl + 1
  let sum: number
  if (useUpper) {
    start = n
    step = -1
    nTerms = n - n1mxceil + 1
    sum = Math.exp((n - 1) * Math.log1p(x))
  } else {
    sum = Math.exp(n * Math.log1p(-x)) / x
  }
  // Binomial C(n, v) kept as mantissa * 2^exponent: it leaves the double range (both ways, as it
  // rises to C(n, n/2) and falls again) while each whole term is still representable.
  let cman = n
  let cexp = 0
  const vmid = Math.floor(n / 2)
  for (let j = 1; j < nTerms; j++) {
    const v = start + j * step
    // 1 - x - v/n and x + v/n from the exact split of n x, so they carry full relative precision
    // even where they are tiny.
    const t2x = (n - nxfl - v - alpha) / n
    const t1x = (v + nxfl + alpha) / n
    // t2x is negative only in the upper sum, where (1-x-v/n)^(n-v) alternates in sign.
    const logT2 = t2x <= 0.5 ? Math.log(Math.abs(t2x)) : Math.log1p(-t1x)
    const sign = t2x < 0 && (n - v) % 2 === 1 ? -1 : 1
    const logAbs = Math.log(cman) + cexp * Math.LN2 + (v - 1) * Math.log(t1x) + (n - v) * logT2
    const aj = t2x === 0 ? 0 : sign * Math.exp(logAbs)
    if (Number.isFinite(aj) && aj !== 0) sum += aj
    if (aj !== 0) {
      if (4 * (nTerms - j) * Math.abs(aj) < DBL_EPSILON * sum && j !== nTerms - 1) break
    } else if (j > vmid) {
      break
    }
    const rat = (n - j) / (j + 1)
    cman *= rat
    if (cman > 2 ** 512) {
      cman /= 2 ** 512
      cexp += 512
    } else if (cman < 2 ** -512) {
      cman *= 2 ** 512
      cexp -= 512
    }
  }
  const prob = x * sum
  return clip01(useUpper ? 1 - prob : prob)
}

/** Survival function of D_n, = scipy.stats.kstwo.sf(x, n) (n a positive integer). */
export function kstwoSf(x: number, n: number): number {
  if (!(n >= 1) || n !== Math.round(n) || Number.isNaN(x)) return NaN
  // rv_continuous.sf: at or below the support's lower end (1/(2n)) the sf is 1, at 1 and above 0.
  if (x <= 0.5 / n) return 1
  if (x >= 1) return 0
  return kolmognSf(n, x)
}

function kolmognSf(n: number, x: number): number {
  if (x >= 1) return 0
  if (x <= 0) return 1
  const t = n * x
  if (t <= 1) {
    if (t <= 0.5) return 1
    let prob: number
    if (n <= 140) {
      prob = 1
      const base = 2 * t - 1
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * base
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1))
    }
    return clip01(1 - prob)
  }
  if (t >= n - 1) return clip01(2 * Math.pow(1 - x, n))
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x))

  const nxsquared = t * x
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip01(1 - kolmognDMTW(n, x))
    if (nxsquared <= 4) return clip01(1 - kolmognPomeranz(n, x))
    return clip01(2 * smirnovSf(n, x))
  }
  if (nxsquared >= 370) return 0
  if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, x))
  let cdf: number
  if (nxsquared >= 18) cdf = 1
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmognDMTW(n, x)
  else cdf = kolmognPelzGood(n, x)
  return clip01(1 - cdf)
}

// ---------------------------------------------------------------------------------------------
// Public API

function assertSampleSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${n}`)
  }
}

/**
 * Two-sided two-sample KS p-value for statistic d and sample sizes n1, n2, as
 * scipy.stats.ks_2samp(..., alternative='two-sided', method='auto') computes it.
 * `method` is the one scipy ended up using (an exact attempt that fails falls back to 'asymp').
 */
export function ks2SampPValue(d: number, n1: number, n2: number): Ks2SampPValue {
  assertSampleSize('n1', n1)
  assertSampleSize('n2', n2)
  if (d < 0 || d > 1) throw new RangeError(`KS statistic must lie in [0, 1], got ${d}`)
  let method: KsMethod = Math.max(n1, n2) <= MAX_AUTO_N ? 'exact' : 'asymp'
  if (Number.isNaN(d)) return { pValue: NaN, method }

  if (method === 'exact') {
    const g = gcd(n1, n2)
    const lcm = (n1 / g) * n2
    const h = roundHalfEven(d * lcm)
    // scipy continues (also into the fallback) with D snapped to the lattice.
    d = h / lcm
    if (h === 0) return { pValue: 1, method }
    const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h)
    if (prob >= 0 && prob <= 1) return { pValue: prob, method }
    method = 'asymp'
  }

  const m = Math.max(n1, n2)
  const n = Math.min(n1, n2)
  const en = (m * n) / (m + n)
  return { pValue: clip01(kstwoSf(d, roundHalfEven(en))), method }
}

/**
 * Two-sample KS statistic D of two ascending-sorted samples, exactly as scipy.stats.ks_2samp
 * computes it (ECDF differences i/n1 - j/n2 evaluated at every pooled point). NaN if either
 * sample contains NaN.
 */
export function kolmogorovSmirnovStatistic(sorted1: Float64Array, sorted2: Float64Array): number {
  const n1 = sorted1.length
  const n2 = sorted2.length
  if (n1 === 0 || n2 === 0) throw new RangeError('KS statistic needs two non-empty samples')
  for (let i = 0; i < n1; i++) if (Number.isNaN(sorted1[i])) return NaN
  for (let j = 0; j < n2; j++) if (Number.isNaN(sorted2[j])) return NaN
  let i = 0
  let j = 0
  let maxS = -Infinity
  let minDiff = Infinity
  while (i < n1 || j < n2) {
    const a = i < n1 ? (sorted1[i] as number) : Infinity
    const b = j < n2 ? (sorted2[j] as number) : Infinity
    const v = a <= b ? a : b
    while (i < n1 && (sorted1[i] as number) <= v) i++
    while (j < n2 && (sorted2[j] as number) <= v) j++
    const diff = i / n1 - j / n2
    if (diff > maxS) maxS = diff
    if (diff < minDiff) minDiff = diff
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1)
  return minS > maxS ? minS : maxS
}
