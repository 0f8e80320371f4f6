import { ConfigError } from '../config/fields.js'
import { reject } from '../nips/nip01.js'
import { checkZapReceipt, ZapReceipt } from '../nips/nip57.js'
import { makeBypass } from './auth-allowlist.js'
import { compileKinds, expandKinds } from './kinds.js'
import type { Policy } from './types.js'

/**
 * ZapGate refuses the gated kinds from pubkeys that have not zapped the relay at least min_sats. Zap receipts
 * addressed to the relay are checked in full (NIP-57, DESIGN §7.4) and refused when they prove nothing;
 * a valid one is recorded by the writer and unlocks its sender for good.
 */
export const zapGate: Policy = {
  name: 'zap-gate',
  nips: [57],
  antiSpam: true,
  door: true,
  enabled: cfg => cfg.policies.zap_gate.enabled,
  make(cfg, deps) {
    const z = cfg.policies.zap_gate
    if (z.zapper_pubkeys.length === 0)
      throw new ConfigError('policies.zap_gate.zapper_pubkeys: the zap gate needs the LNURL server’s pubkey')
    if (!z.lightning_address)
      throw new ConfigError('policies.zap_gate.lightning_address: the zap gate needs an address')
    const gated = compileKinds(z.kinds)
    const bypass = makeBypass(cfg)
    const minMsats = BigInt(z.min_sats) * 1000n
    const signers = new Set(z.zapper_pubkeys)
    const refusal = reject('blocked', `zap ${z.lightning_address} at least ${z.min_sats} sats to post job requests`)
    return {
      event: (e, ctx) =>
        !gated(e.kind) || bypass(e, ctx) || ctx.views.largestZapMsats(e.pubkey) >= minMsats ? undefined : refusal,
      verified: e => {
        if (e.kind !== ZapReceipt || !e.tags.some(t => t[0] === 'p' && t[1] === deps.relayPubkey)) return undefined
        const proof = checkZapReceipt(e, { signers, verify: deps.verify })
        if ('prefix' in proof) return proof
        // Only a zap that paid the relay unlocks, whatever else the receipt p-tags.
        return proof.recipient === deps.relayPubkey ? { zapUnlock: proof } : undefined
      },
    }
  },
  info: cfg => {
    const z = cfg.policies.zap_gate
    return {
      restrictedWrites: true,
      payment: {
        kinds: expandKinds(z.kinds),
        msats: z.min_sats * 1000,
        description: `zap ${z.lightning_address} at least ${z.min_sats} sats once to post these kinds`,
        lightningAddress: z.lightning_address,
      },
    }
  },
}
