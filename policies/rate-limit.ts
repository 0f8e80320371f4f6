import { reject } from '../nips/nip01.js'
import { compileRules } from './kinds.js'
import { makeBuckets } from './token-bucket.js'
import type { Policy } from './types.js'

/** One bucket set per rule, so each kind class has its own budget; returns the rule that refused. */
function makeLimiter(rules: readonly string[]) {
  const compiled = compileRules(rules).map(rule => ({ ...rule, buckets: makeBuckets(rule.value) }))
  return (kind: number, key: string, nowMs: number) => {
    const c = compiled.find(c => c.matches(kind))
    return !c || c.buckets.take(key, nowMs) ? undefined : c
  }
}

/** RateLimit refuses events and reads beyond token buckets per IP and per pubkey (`rate-limited:`). */
export const rateLimit: Policy = {
  name: 'rate-limit',
  nips: [],
  antiSpam: true,
  door: true,
  enabled: cfg => cfg.policies.rate_limit.enabled,
  make(cfg) {
    const r = cfg.policies.rate_limit
    const byPubkey = makeLimiter(r.events_per_pubkey)
    const byIp = makeLimiter(r.events_per_ip)
    const reads = makeBuckets(r.reads_per_ip)
    return {
      connectionsPerIp: r.connections_per_ip,
      // Per IP before any crypto; per author only once the signature proves the author, or anyone could
      // spend a victim's budget with forged events.
      event: (e, ctx) => {
        const hit = byIp(e.kind, ctx.ip, ctx.nowMs)
        return hit && reject('rate-limited', `over ${hit.value} events per minute for kind ${e.kind}; slow down`)
      },
      verified: (e, ctx) => {
        const hit = byPubkey(e.kind, e.pubkey, ctx.nowMs)
        return hit && reject('rate-limited', `over ${hit.value} events per minute for kind ${e.kind}; slow down`)
      },
      read: (_verb, _filters, ctx) =>
        reads.take(ctx.ip, ctx.nowMs)
          ? undefined
          : reject(
              'rate-limited',
              `over ${r.reads_per_ip} reads (REQ, COUNT, NEG-OPEN) per minute from this address; slow down`,
            ),
    }
  },
  info: cfg => {
    const { events_per_pubkey, events_per_ip, reads_per_ip, connections_per_ip } = cfg.policies.rate_limit
    return { rateLimits: { events_per_pubkey, events_per_ip, reads_per_ip, connections_per_ip } }
  },
}
