// Seeded randomness for the corpora and the benchmark's choices, so a seed always gives the same shapes.

export type Rng = {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  pick<T>(xs: readonly T[]): T
  /** Lowercase hex of `bytes` random bytes (not secret: for tag values and padding only). */
  hex(bytes: number): string
}

/** mulberry32: tiny, fast and good enough for workload shapes (not for keys). */
export function rng(seed: number): Rng {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return {
    next,
    int,
    pick: xs => xs[int(xs.length)]!,
    hex: bytes => {
      let s = ''
      for (let i = 0; i < bytes; i++) s += int(256).toString(16).padStart(2, '0')
      return s
    },
  }
}

/** A Zipf sampler over [0, n): rank r is drawn with weight 1/(r+1)^s, so a few ranks get most draws. */
export function zipf(n: number, s: number): (r: Rng) => number {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s)
  return r => {
    const u = r.next() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
