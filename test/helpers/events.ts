// Signed test events with defaults filled in (nostr-tools' buildEvent pattern).
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from 'nostr-tools/pure'
import type { NostrEvent } from '../../nips/nip01.js'

export const now = () => Math.floor(Date.now() / 1000)

export type Signer = {
  readonly sk: Uint8Array
  readonly pubkey: string
  sign(partial?: Partial<EventTemplate>): NostrEvent
}

/** A new key and a function that signs templates with defaults (kind 1, now, no tags, empty content). */
export function signer(): Signer {
  const sk = generateSecretKey()
  return {
    sk,
    pubkey: getPublicKey(sk),
    sign: (p = {}) => finalizeEvent({ kind: 1, created_at: now(), tags: [], content: '', ...p }, sk),
  }
}
