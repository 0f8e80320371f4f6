import { bool, int, list } from '../config/fields.js'
import { reject } from '../nips/nip01.js'
import { compileRules, KIND_RULE } from './kinds.js'
import { makeBuckets } from './token-bucket.js'
import type { Policy } from './types.js'

const RULE_DOC = 'a rule like "5000-5999:30" (kinds or "*", then events per minute)'

export const schema = {
  enabled: bool(true, 'Rate-limit events, reads and connections.'),
  events_per_pubkey: list(
    ['5000-5999:30', '*:300'],
    'Events per minute per author, by kind, first match wins.',
    KIND_RULE,
    RULE_DOC,
  ),
  events_per_ip: list(['*:600'], 'Events per minute per IP, by kind, first match wins.', KIND_RULE, RULE_DOC),
  reads_per_ip: int(600, 'REQ and COUNT messages per minute per IP.', 1, 1_000_000),
  connections_per_ip: int(100, 'Open WebSocket connections per IP.', 1, 1_000_000),
}

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
          : reject('rate-limited', `over ${r.reads_per_ip} REQ/COUNT per minute from this address; slow down`),
    }
  },
}
