// A map kept to a fixed size in insertion order: the market's caches of what it saw lately.

/** Sets a key, moving it to the newest place, and drops the oldest entry when the map holds `limit`. */
export function remember<K, V>(m: Map<K, V>, key: K, value: V, limit: number): void {
  m.delete(key)
  if (m.size >= limit) m.delete(m.keys().next().value!)
  m.set(key, value)
}
