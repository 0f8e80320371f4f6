// NIP-01 without hashing: kind classes, tags, replacement addresses and the order of events. Pure, and free of
// Node built-ins, so the market page (web/) bundles it.
import type { NostrEvent } from 'nostr-tools'

/** NIP-01 kind classes. */
export function isReplaceableKind(kind: number): boolean {
  return kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)
}
export function isEphemeralKind(kind: number): boolean {
  return kind >= 20000 && kind < 30000
}
export function isAddressableKind(kind: number): boolean {
  return kind >= 30000 && kind < 40000
}

/** First value of the first `d` tag; missing d means "" (NIP-01). */
export function dTag(event: Pick<NostrEvent, 'tags'>): string {
  for (const t of event.tags) if (t[0] === 'd') return t[1] ?? ''
  return ''
}

/** The first value of the event's first `name` tag. */
export const tagValue = (e: Pick<NostrEvent, 'tags'>, name: string): string | undefined =>
  e.tags.find(t => t[0] === name)?.[1]

/** The replacement key of a replaceable ('' ) or addressable (d tag) event, undefined for other kinds. */
export function addressOf(event: Pick<NostrEvent, 'kind' | 'tags'>): string | undefined {
  if (isReplaceableKind(event.kind)) return ''
  if (isAddressableKind(event.kind)) return dTag(event)
  return undefined
}

/** NIP-01 order: created_at descending, then lowest id first. */
export function compareNewestFirst(
  a: { created_at: number; id: string },
  b: { created_at: number; id: string },
): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** NIP-01 replacement: true when `a` should be kept over `b` (newer, or same second and lower id). */
export function wins(a: { created_at: number; id: string }, b: { created_at: number; id: string }): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && a.id < b.id)
}
