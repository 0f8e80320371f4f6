import { reject } from '../nips/nip01.js'
import { provenWork } from '../nips/nip13.js'
import { makeBypass } from './auth-allowlist.js'
import { compileRules, ruleFor } from './kinds.js'
import type { Policy } from './types.js'

/**
 * PowByKind refuses events whose proven work is below their kind's requirement. Work counts only up to the
 * target committed in the nonce tag (NIP-13), so an event needing work must carry `["nonce", n, target]`.
 * Allowlisted pubkeys authenticated with NIP-42 skip it.
 */
export const powByKind: Policy = {
  name: 'pow-by-kind',
  nips: [13],
  antiSpam: true,
  enabled: cfg => cfg.policies.pow.enabled,
  make(cfg) {
    const rules = compileRules(cfg.policies.pow.rules)
    const bypass = makeBypass(cfg)
    return {
      event: (e, ctx) => {
        const need = ruleFor(rules, e.kind)?.value ?? 0
        if (need === 0 || bypass(e, ctx)) return undefined
        const have = provenWork(e)
        if (have >= need) return undefined
        return reject('pow', `kind ${e.kind} needs ${need} bits committed in a nonce tag, event has ${have}`)
      },
    }
  },
  info: cfg => ({
    minPow: Math.max(0, ...compileRules(cfg.policies.pow.rules).map(r => r.value)),
    restrictedWrites: true,
  }),
}
