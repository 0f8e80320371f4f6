import { reject } from '../nips/nip01.js'
import type { PowRule } from '../nips/nip11.js'
import { provenWork } from '../nips/nip13.js'
import { makeBypass } from './auth-allowlist.js'
import { compileRules, ruleFor, type KindRule } from './kinds.js'
import type { Policy } from './types.js'

/**
 * PowByKind refuses events whose proven work is below their kind's requirement. Work counts only up to the
 * target committed in the nonce tag (NIP-13), so an event needing work must carry `["nonce", n, target]`.
 * Allowlisted pubkeys authenticated with NIP-42 skip it. NIP-11 states the rules as `pow_by_kind`.
 */
export const powByKind: Policy = {
  name: 'pow-by-kind',
  nips: [13],
  antiSpam: true,
  door: true,
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
        // Clients read the requirement back with /needs (\d+) bits/ when NIP-11 does not say it: keep the wording.
        return reject('pow', `kind ${e.kind} needs ${need} bits committed in a nonce tag, event has ${have}`)
      },
    }
  },
  info: cfg => {
    const rules = compileRules(cfg.policies.pow.rules)
    return { minPow: Math.max(0, ...rules.map(r => r.value)), powByKind: advertised(rules), restrictedWrites: true }
  },
}

/**
 * The rules a client must know, in order: those with bits, and those of 0 bits that exempt their kinds from a
 * later rule (first match wins, so leaving them out would make clients mine for nothing).
 */
function advertised(rules: readonly KindRule[]): PowRule[] {
  return rules
    .filter((r, i) => r.value > 0 || rules.slice(i + 1).some(later => later.value > 0))
    .map(r => ({ kinds: r.text.slice(0, r.text.lastIndexOf(':')), bits: r.value }))
}
