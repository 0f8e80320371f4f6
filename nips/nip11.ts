// NIP-11: the relay information document, derived from the effective config (never a hand-kept list).
import type { Config } from '../config/schema.js'

export type InfoInputs = {
  readonly pubkey: string
  readonly supportedNips: readonly number[]
  readonly version: string
  /** True when any write policy needs AUTH (e.g. NIP-70 needs it only for protected events: false). */
  readonly authRequired: boolean
  readonly minPow: number
  readonly restrictedWrites: boolean
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
      min_pow_difficulty: x.minPow,
      auth_required: x.authRequired,
      payment_required: false,
      restricted_writes: x.restrictedWrites,
      created_at_lower_limit: L.created_at_lower_limit,
      created_at_upper_limit: L.created_at_upper_limit,
    },
  }
}
