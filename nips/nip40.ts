// NIP-40: expiration timestamps.
import type { NostrEvent } from './nip01.js'

/** The event's `expiration` timestamp, or undefined when it has none (or an unreadable one). */
export function expiresAt(e: Pick<NostrEvent, 'tags'>): number | undefined {
  for (const t of e.tags) {
    if (t[0] !== 'expiration' || t[1] === undefined) continue
    const n = Number(t[1])
    return /^\d+$/.test(t[1]) && Number.isSafeInteger(n) ? n : undefined
  }
  return undefined
}

/** True when the event has expired at `now` (seconds). */
export function isExpired(e: Pick<NostrEvent, 'tags'>, now: number): boolean {
  const at = expiresAt(e)
  return at !== undefined && at <= now
}
