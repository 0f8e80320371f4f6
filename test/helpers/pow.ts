// NIP-13 proof of work for protocol tests: events mined with nostr-tools, or with a chosen committed target.
import { minePow } from 'nostr-tools/nip13'
import { finalizeEvent, getEventHash, type EventTemplate } from 'nostr-tools/pure'
import type { NostrEvent } from '../../nips/nip01.js'
import { leadingZeroBits } from '../../nips/nip13.js'
import { now, type Signer } from './events.js'

/** An event by `s` with at least `bits` leading zero bits, committing to `bits` (nostr-tools' minePow). */
export function mined(s: Signer, partial: Partial<EventTemplate>, bits: number): NostrEvent {
  const t = { kind: 1, created_at: now(), content: '', ...partial, tags: [...(partial.tags ?? [])] }
  const work = minePow({ ...t, pubkey: s.pubkey }, bits)
  const e = finalizeEvent(
    { kind: work.kind, created_at: work.created_at, tags: work.tags, content: work.content },
    s.sk,
  )
  if (e.id !== work.id) throw new Error('mined: the signed id differs from the mined one')
  return e
}

/**
 * An event by `s` whose id has at least `bits` leading zero bits but whose nonce tag commits to `target`
 * (which may be lower), so tests can show that work beyond the commitment does not count.
 */
export function minedWithTarget(s: Signer, partial: Partial<EventTemplate>, bits: number, target: number): NostrEvent {
  const base = { kind: 1, created_at: now(), content: '', ...partial, pubkey: s.pubkey }
  for (let n = 0; n < 1 << 24; n++) {
    const tags = [...(partial.tags ?? []), ['nonce', String(n), String(target)]]
    if (leadingZeroBits(getEventHash({ ...base, tags })) >= bits)
      return finalizeEvent({ kind: base.kind, created_at: base.created_at, content: base.content, tags }, s.sk)
  }
  throw new Error(`minedWithTarget: no nonce found for ${bits} bits`)
}

/** An event by `s` carrying a nonce tag that commits to `target` but whose id has fewer than `bits` zero bits. */
export function underMined(s: Signer, partial: Partial<EventTemplate>, bits: number, target: number): NostrEvent {
  for (let n = 0; ; n++) {
    const e = s.sign({ ...partial, tags: [...(partial.tags ?? []), ['nonce', String(n), String(target)]] })
    if (leadingZeroBits(e.id) < bits) return e
  }
}

/**
 * What a client does with PoW rules read from NIP-11 `pow_by_kind` or the /skill.md table: the bits of the first rule
 * whose kinds ("*", "N" or "LO-HI") match the kind, else 0.
 */
export function bitsFor(rules: readonly { kinds: string; bits: number }[], kind: number): number {
  const matches = (kinds: string) => {
    if (kinds === '*') return true
    const [lo, hi = lo] = kinds.split('-').map(Number) as [number, number?]
    return kind >= lo && kind <= hi
  }
  return rules.find(r => matches(r.kinds))?.bits ?? 0
}
