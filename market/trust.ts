// Trust declarations (kind 30382 from agents, DESIGN §7.3), pure. Kind 30382 is NIP-85's trusted
// assertion in general; the market counts only the DVM assertions, one per distinct truster, never
// a key's trust in itself (the seed let a provider vouch for itself).
import { reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'

export const TRUST = 30382
const DVM_ASSERTIONS = new Set(['dvm-provider', 'trusted', 'trusted_dvm'])

/**
 * The provider a DVM trust declaration vouches for (its `d`, which `p` must repeat), or undefined. The
 * relay's own 30382 outputs carry no `assertion` tag, so they never read as one.
 */
export function readTrust(e: NostrEvent): { trusted: string } | undefined {
  if (e.kind !== TRUST) return undefined
  const assertion = tagValue(e, 'assertion')
  if (assertion === undefined || !DVM_ASSERTIONS.has(assertion)) return undefined
  const d = tagValue(e, 'd')
  return d !== undefined && d === tagValue(e, 'p') ? { trusted: d } : undefined
}

/** Why a DVM trust declaration is refused (undefined: it counts). */
export const trustRefusal = (e: NostrEvent, trusted: string): Rejection | undefined =>
  trusted === e.pubkey ? reject('restricted', 'a key cannot declare trust in itself') : undefined
