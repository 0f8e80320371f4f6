import { reject } from '../nips/nip01.js'
import { compileKinds } from './kinds.js'
import type { Policy } from './types.js'

/**
 * KindWhitelist refuses kinds that are not in policies.kind_whitelist.kinds, unless the operator allowed the kind
 * through the management API (NIP-86 allowkind); disallowed kinds are refused by the bans policy.
 */
export const kindWhitelist: Policy = {
  name: 'kind-whitelist',
  nips: [],
  antiSpam: true,
  door: false,
  enabled: cfg => cfg.policies.kind_whitelist.enabled,
  make(cfg, { managed }) {
    const listed = compileKinds(cfg.policies.kind_whitelist.kinds)
    const allowed = (kind: number) => listed(kind) || managed.kindVerdict(kind) === true
    return { event: e => (allowed(e.kind) ? undefined : reject('blocked', `kind ${e.kind} is not accepted here`)) }
  },
  info: cfg => ({ restrictedWrites: true, acceptedKinds: cfg.policies.kind_whitelist.kinds }),
}
