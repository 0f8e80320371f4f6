// Token buckets keyed by IP or pubkey, written once for every rate limit (khatru's policies/helpers.go).

/** Buckets of `perMinute` tokens, refilled continuously; idle full buckets are dropped now and then. */
export function makeBuckets(perMinute: number) {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const perMs = perMinute / 60000
  let lastSweep = 0
  return {
    /** Takes a token for `key` at `nowMs`; false when the bucket is empty. */
    take(key: string, nowMs: number): boolean {
      if (nowMs - lastSweep > 60000) {
        lastSweep = nowMs
        for (const [k, b] of buckets) if (b.tokens + (nowMs - b.at) * perMs >= perMinute) buckets.delete(k)
      }
      const b = buckets.get(key) ?? { tokens: perMinute, at: nowMs }
      b.tokens = Math.min(perMinute, b.tokens + (nowMs - b.at) * perMs)
      b.at = nowMs
      buckets.set(key, b)
      if (b.tokens < 1) return false
      b.tokens -= 1
      return true
    },
  }
}
