// NIP-11: the relay information document, derived from the effective config (never a hand-kept list).
import type { Config } from '../config/schema.js'

export type InfoInputs = {
  readonly pubkey: string
  readonly supportedNips: readonly number[]
  readonly version: string
  /** True when every write needs AUTH (NIP-70 alone, which needs it only for protected events, does not count). */
  readonly authRequired?: boolean
  /** The strictest proof of work any kind needs. */
  readonly minPow?: number
  readonly restrictedWrites?: boolean
  /** The publication fee, when writes of some kinds must be paid for. */
  readonly payment?: { readonly kinds: readonly number[]; readonly msats: number; readonly description: string }
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
    ...(x.payment
      ? {
          fees: {
            publication: [
              { kinds: x.payment.kinds, amount: x.payment.msats, unit: 'msats', description: x.payment.description },
            ],
          },
        }
      : {}),
  }
}
