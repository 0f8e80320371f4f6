// NIP-09: what a kind-5 deletion request asks to delete.
import { isAddressableKind, isHex64, isReplaceableKind, type NostrEvent } from './nip01.js'

/** An `a` target: every version of (kind, pubkey, d) up to the deletion's created_at. */
export type AddressTarget = { readonly kind: number; readonly pubkey: string; readonly d: string }

/** The event ids named by `e` tags of a deletion request. */
export function deletedIds(deletion: Pick<NostrEvent, 'tags'>): string[] {
  return deletion.tags.filter(t => t[0] === 'e' && isHex64(t[1])).map(t => t[1]!)
}

/**
 * The addresses named by `a` tags (`kind:pubkey:d`) that the deletion's author may delete: only their own,
 * and only replaceable or addressable kinds.
 */
export function deletedAddresses(deletion: Pick<NostrEvent, 'tags' | 'pubkey'>): AddressTarget[] {
  const out: AddressTarget[] = []
  for (const t of deletion.tags) {
    if (t[0] !== 'a' || !t[1]) continue
    const [k, pubkey, ...rest] = t[1].split(':')
    if (k === undefined || !/^\d{1,5}$/.test(k) || pubkey !== deletion.pubkey) continue
    const kind = Number(k)
    if (!isReplaceableKind(kind) && !isAddressableKind(kind)) continue
    out.push({ kind, pubkey, d: isReplaceableKind(kind) ? '' : rest.join(':') })
  }
  return out
}
