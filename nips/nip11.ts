// NIP-11: the relay information document, derived from the effective config (never a hand-kept list).
import type { Config } from '../config/schema.js'
import { mintUrl } from './nip61.js'

/**
 * One entry of the `pow_by_kind` extension: `kinds` is "*", "N" or "LO-HI" as configured, `bits` the NIP-13 work
 * an event of those kinds must commit to in its nonce tag. The first entry that matches a kind wins.
 */
export type PowRule = { readonly kinds: string; readonly bits: number }

/**
 * The `market` extension: the terms an escrow lock (7117) must meet and the market's clocks, so a client picks a
 * locktime and a mint the relay accepts before it locks (a refused lock's proofs stay locked). Times in seconds.
 */
export type MarketInfo = {
  /** A lock's locktime must be at least request received + job_ttl + dispute_window + escrow_margin. */
  readonly job_ttl: number
  readonly dispute_window: number
  readonly escrow_margin: number
  /** Mints a lock may use, normalised as the relay compares them; [] = any mint the provider's 10019 names. */
  readonly mints: readonly string[]
  /** Seconds after its last heartbeat (relay clock) that a provider counts as offline. */
  readonly offline_after: number
  /** Summed reporter standing that flags a provider. */
  readonly flag_threshold: number
  /** Seconds between two computations of standing at least. */
  readonly standing_interval: number
  /** The relay arbitrates escrows (co-signs 2-of-3 Cashu locks). */
  readonly escrow: boolean
}

/**
 * The `rate_limits` extension: the token buckets the relay refuses beyond (`rate-limited:`), per minute. Event
 * rules are "KINDS:N" (KINDS is "*", "N" or "LO-HI"), first match wins.
 */
export type RateLimits = {
  readonly events_per_pubkey: readonly string[]
  readonly events_per_ip: readonly string[]
  readonly reads_per_ip: number
  readonly connections_per_ip: number
}

export type InfoInputs = {
  readonly pubkey: string
  readonly supportedNips: readonly number[]
  readonly version: string
  /** True when every write needs AUTH (NIP-70 alone, which needs it only for protected events, does not count). */
  readonly authRequired?: boolean
  /** The strictest proof of work any kind needs. */
  readonly minPow?: number
  /** The per-kind proof-of-work rules in order, first match wins; empty when none are enforced. */
  readonly powByKind?: readonly PowRule[]
  readonly restrictedWrites?: boolean
  /** The publication fee, when writes of some kinds must be paid for. */
  readonly payment?: Payment
  /** The kinds the whitelist accepts ("N" or "LO-HI"), when it is on. */
  readonly acceptedKinds?: readonly string[]
  readonly rateLimits?: RateLimits
  /** The http(s) URL of this relay's /skill.md, how to use it in markdown (agora's extension). */
  readonly skill?: string
}

/** A publication fee: a zap of at least `msats` to the relay's lightning address unlocks the kinds. */
export type Payment = {
  readonly kinds: readonly number[]
  readonly msats: number
  readonly description: string
  readonly lightningAddress: string
}

/** The NIP-11 document. */
export function buildInfo(cfg: Config, x: InfoInputs): Record<string, unknown> {
  const L = cfg.limits
  return {
    name: cfg.relay.name,
    description: cfg.relay.description,
    pubkey: x.pubkey,
    self: x.pubkey,
    contact: cfg.relay.contact,
    ...(cfg.relay.icon ? { icon: cfg.relay.icon } : {}),
    supported_nips: [...new Set(x.supportedNips)].sort((a, b) => a - b),
    software: 'agora',
    version: x.version,
    limitation: {
      max_message_length: L.max_message_length,
      max_subscriptions: L.max_subscriptions,
      max_filters: L.max_filters,
      max_limit: L.max_limit,
      default_limit: L.default_limit,
      max_subid_length: L.max_subid_length,
      max_event_tags: L.max_event_tags,
      max_content_length: L.max_content_length,
      min_pow_difficulty: x.minPow ?? 0,
      auth_required: x.authRequired ?? false,
      payment_required: x.payment !== undefined,
      restricted_writes: x.restrictedWrites ?? false,
      created_at_lower_limit: L.created_at_lower_limit,
      created_at_upper_limit: L.created_at_upper_limit,
    },
    // Extension beside min_pow_difficulty (only the strictest rule), so a client mines exactly what a kind
    // needs. Allowlisted pubkeys authenticated with NIP-42 are exempt from every rule.
    pow_by_kind: x.powByKind ?? [],
    // Extensions: what else refuses a write, so a client (and the market page) can tell a person before it does.
    // Absent when the policy is off. The operator may allow more kinds through NIP-86 (allowkind).
    ...(x.acceptedKinds ? { accepted_kinds: x.acceptedKinds } : {}),
    ...(x.rateLimits ? { rate_limits: x.rateLimits } : {}),
    // Extension: the same rules as a how-to for agents and people, with an example event per step.
    ...(x.skill ? { skill: x.skill } : {}),
    ...(x.payment
      ? {
          fees: {
            publication: [
              { kinds: x.payment.kinds, amount: x.payment.msats, unit: 'msats', description: x.payment.description },
            ],
          },
          // Extension: where to zap, for a client that pays the gate itself (NIP-57 to the relay's pubkey).
          zap_gate: { lightning_address: x.payment.lightningAddress, min_sats: x.payment.msats / 1000 },
        }
      : {}),
    // A refused lock cannot be redone (its proofs are locked), so a client reads the terms here first.
    ...(cfg.market.enabled ? { market: marketInfo(cfg) } : {}),
  }
}

/** The `market` extension of a config whose market is on (the effective config, so it follows reloads). */
export function marketInfo(cfg: Config): MarketInfo {
  const m = cfg.market
  return {
    job_ttl: m.job_ttl,
    dispute_window: m.dispute_window,
    escrow_margin: m.escrow_margin,
    // The form the lock check compares, dropping what it drops (a list left empty lets any mint through).
    mints: m.mints.flatMap(u => mintUrl(u) ?? []),
    offline_after: m.offline_after,
    flag_threshold: m.flag_threshold,
    standing_interval: m.standing_interval,
    // The escrow arbiter runs whenever the market does.
    escrow: true,
  }
}
