// The auth allowlist: pubkeys that skip proof of work and the zap gate once proven with NIP-42 AUTH.
import type { Config } from '../config/schema.js'
import type { NostrEvent } from '../nips/nip01.js'
import type { PolicyCtx } from './types.js'

/** True when the event's author is allowlisted and authenticated on this connection. */
export function makeBypass(cfg: Config): (e: NostrEvent, ctx: PolicyCtx) => boolean {
  const allow = new Set(cfg.policies.auth_allowlist)
  return (e, ctx) => allow.has(e.pubkey) && ctx.authed.has(e.pubkey)
}
