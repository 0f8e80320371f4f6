// NIP-13: proof of work. The work counts only up to the target the author committed to in the nonce tag.
import type { NostrEvent } from './nip01.js'

/** Leading zero bits of a hex id. */
export function leadingZeroBits(hex: string): number {
  let bits = 0
  for (const ch of hex) {
    const nibble = parseInt(ch, 16)
    if (nibble === 0) {
      bits += 4
      continue
    }
    return bits + Math.clz32(nibble) - 28
  }
  return bits
}

/** The target committed in `["nonce", n, target]`, or undefined without a readable one. */
export function committedTarget(e: Pick<NostrEvent, 'tags'>): number | undefined {
  const t = e.tags.find(t => t[0] === 'nonce')?.[2]
  return t !== undefined && /^\d{1,3}$/.test(t) ? Number(t) : undefined
}

/**
 * The proof of work an event can claim: its leading zero bits, but no more than its committed target,
 * so a lucky hash mined for a lower target does not pass a higher requirement. 0 without a nonce tag.
 */
export function provenWork(e: Pick<NostrEvent, 'id' | 'tags'>): number {
  const target = committedTarget(e)
  return target === undefined ? 0 : Math.min(target, leadingZeroBits(e.id))
}
