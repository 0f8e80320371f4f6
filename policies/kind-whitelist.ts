import { bool, KIND_RANGE, list } from '../config/fields.js'
import { reject } from '../nips/nip01.js'
import { compileKinds } from './kinds.js'
import type { Policy } from './types.js'

// DESIGN §5: the DVM market kinds (§7.1) plus profiles, contacts, deletions and relay lists.
const MARKET_KINDS = ['5000-5999', '6000-6999', '7000', '7117', '7118', '9321', '9735', '1984', '10019', '21117']
const ADDRESSABLE = ['30085', '30333', '30382', '31117', '31118', '31990']

export const schema = {
  enabled: bool(true, 'Accept only the listed kinds.'),
  kinds: list(
    ['0', '3', '5', '10002', ...MARKET_KINDS, ...ADDRESSABLE],
    'Accepted kinds: single kinds ("7000") and ranges ("5000-5999").',
    KIND_RANGE,
    'a kind or a range like "5000-5999"',
  ),
}

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
