import { reject } from '../nips/nip01.js'
import { compileKinds } from './kinds.js'
import type { Policy } from './types.js'

/**
 * PrivateReads hides events of private kinds from every connection that has not authenticated as their
 * author or as a pubkey they p-tag, in stored results and live delivery alike. COUNT and NEG-OPEN (NIP-77) cannot
 * filter by party, so one that could match a private kind is refused.
 */
export const privateReads: Policy = {
  name: 'private-reads',
  nips: [42],
  antiSpam: false,
  door: false,
  enabled: cfg => cfg.policies.private_reads.enabled,
  make(cfg) {
    const isPrivate = compileKinds(cfg.policies.private_reads.kinds)
    const refusal = (verb: string) =>
      reject('restricted', `${verb} is not available for private kinds; name only public kinds`)
    return {
      read: (verb, filters) =>
        verb !== 'REQ' && filters.some(f => !f.kinds || [...f.kinds].some(isPrivate)) ? refusal(verb) : undefined,
      visible: (e, authed) =>
        !isPrivate(e.kind) || authed.has(e.pubkey) || e.tags.some(t => t[0] === 'p' && authed.has(t[1]!)),
    }
  },
}
