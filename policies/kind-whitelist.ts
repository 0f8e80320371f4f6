import { reject } from '../nips/nip01.js'
import { compileKinds } from './kinds.js'
import type { Policy } from './types.js'

/** KindWhitelist refuses kinds that are not in policies.kind_whitelist.kinds. */
export const kindWhitelist: Policy = {
  name: 'kind-whitelist',
  nips: [],
  antiSpam: true,
  enabled: cfg => cfg.policies.kind_whitelist.enabled,
  make(cfg) {
    const allowed = compileKinds(cfg.policies.kind_whitelist.kinds)
    return { event: e => (allowed(e.kind) ? undefined : reject('blocked', `kind ${e.kind} is not accepted here`)) }
  },
  info: () => ({ restrictedWrites: true }),
}
