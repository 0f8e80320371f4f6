// Signed test events with defaults filled in (nostr-tools' buildEvent pattern).
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from 'nostr-tools/pure'
import { bulkSigner } from '../../bench/bulk-sign.js'
import type { NostrEvent } from '../../nips/nip01.js'

export const now = () => Math.floor(Date.now() / 1000)

export type Signer = {
  readonly sk: Uint8Array
  readonly pubkey: string
  sign(partial?: Partial<EventTemplate>): NostrEvent
}

/** What signs events: a key's pubkey and its signing function. */
export type Author = Pick<Signer, 'pubkey' | 'sign'>

/**
 * A throwaway key that signs fast, for tests that need thousands of keys or events: bench/bulk-sign.ts derives each
 * nonce from the last, which reveals the key to anyone holding two signatures, so never for anything real.
 */
export function fastSigner(): Author {
  const bulk = bulkSigner()
  return {
    pubkey: bulk.pubkey,
    sign: (p = {}) => bulk.signAll([{ kind: 1, created_at: now(), tags: [], content: '', ...p }])[0]!,
  }
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
