// NIP-70: protected events carry a `["-"]` tag and may only be published by their authenticated author.
import type { NostrEvent } from './nip01.js'

/** True when the event is marked protected. */
export function isProtected(e: Pick<NostrEvent, 'tags'>): boolean {
  return e.tags.some(t => t.length === 1 && t[0] === '-')
}
