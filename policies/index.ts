// The only place that sets the order of policies: cheapest first (DESIGN §5). A policy is one row here.
import type { Config } from '../config/schema.js'
import type { Rejection } from '../nips/nip01.js'
import { authWrites } from './auth-writes.js'
import { bans } from './bans.js'
import { createdAtWindow } from './created-at-window.js'
import { eventSize } from './event-size.js'
import { kindWhitelist } from './kind-whitelist.js'
import { marketAdmission } from './market-admission.js'
import { powByKind } from './pow-by-kind.js'
import { privateReads } from './private-reads.js'
import { protectedEvents } from './protected-events.js'
import { rateLimit } from './rate-limit.js'
import type {
  Check,
  Hooks,
  InfoPart,
  Policy,
  PolicyDeps,
  Prepare,
  ReadCheck,
  VerifiedCheck,
  Visibility,
  WriteNote,
} from './types.js'
import { zapGate } from './zap-gate.js'

export const policies: readonly Policy[] = [
  // The operator's word comes first: a banned pubkey hears so, whatever else is wrong with its event.
  bans,
  eventSize,
  createdAtWindow,
  kindWhitelist,
  rateLimit,
  authWrites,
  protectedEvents,
  powByKind,
  zapGate,
  marketAdmission,
  privateReads,
]

/** The hooks an event passes on its way to the writer, composed in the order of `policies`. */
export type WriteHooks = {
  readonly event: Check
  readonly prepare: Prepare
  readonly verified: VerifiedCheck
}

/** The active policies of one config, composed per hook. */
export type PolicySet = WriteHooks & {
  /** What a mirrored event passes: every write hook but the door policies' (DESIGN §11, mirroring). */
  readonly mirror: WriteHooks
  readonly read: ReadCheck
  /** Undefined when no policy hides events, so readers skip the check entirely. */
  readonly visible: Visibility | undefined
  /** Cap on open connections per IP, when a policy sets one. */
  readonly connectionsPerIp: number | undefined
  /** NIPs of the active policies. */
  readonly nips: readonly number[]
  readonly info: InfoPart
}

/** True when the policy runs under this config: enabled, and not an anti-spam one while the relay is open. */
export const isActive = (p: Policy, cfg: Config) => p.enabled(cfg) && !(cfg.policies.open && p.antiSpam)

function firstOf<A extends unknown[], R>(fns: ((...a: A) => R | undefined)[]): (...a: A) => R | undefined {
  return (...a) => {
    for (const f of fns) {
      const r = f(...a)
      if (r) return r
    }
    return undefined
  }
}

/** The write hooks of these policies, each kind composed in order. */
function writeHooks(hooks: readonly Hooks[]): WriteHooks {
  const verified = hooks.flatMap(h => (h.verified ? [h.verified] : []))
  const prepare = hooks.flatMap(h => (h.prepare ? [h.prepare] : []))
  return {
    event: firstOf(hooks.flatMap(h => (h.event ? [h.event] : []))),
    prepare: (e, ctx) => {
      const fetching = prepare.flatMap(p => p(e, ctx) ?? [])
      return fetching.length === 0 ? undefined : Promise.all(fetching).then(() => undefined)
    },
    // A rejection stops; notes from several checks are merged for the writer.
    verified: (e, ctx) => {
      let note: WriteNote | undefined
      for (const check of verified) {
        const r = check(e, ctx)
        if (r && 'prefix' in r) return r as Rejection
        if (r) note = { ...note, ...r }
      }
      return note
    },
  }
}

/** Builds the hooks of every active policy; throws ConfigError when a policy's settings do not fit together. */
export function buildPolicies(cfg: Config, deps: PolicyDeps): PolicySet {
  const active = policies.filter(p => isActive(p, cfg))
  // Built once and shared: a mirrored event meets the same checks (and their state) as a local one, less the door.
  const hooks = active.map(p => p.make(cfg, deps))
  const visible = hooks.flatMap(h => (h.visible ? [h.visible] : []))
  return {
    ...writeHooks(hooks),
    mirror: writeHooks(hooks.filter((_, i) => !active[i]!.door)),
    read: firstOf(hooks.flatMap(h => (h.read ? [h.read] : []))),
    visible: visible.length === 0 ? undefined : (e, authed) => visible.every(v => v(e, authed)),
    connectionsPerIp: hooks.find(h => h.connectionsPerIp)?.connectionsPerIp,
    nips: active.flatMap(p => p.nips),
    info: policyInfo(cfg),
  }
}

/** `{ [key]: value }` from the first part that states it, else nothing (so an open relay's info stays empty). */
function pick<K extends 'acceptedKinds' | 'rateLimits'>(parts: readonly InfoPart[], key: K): Pick<InfoPart, K> {
  const part = parts.find(p => p[key] !== undefined)
  return (part ? { [key]: part[key] } : {}) as Pick<InfoPart, K>
}

/** What the active policies of one config state about themselves (NIP-11, /skill.md); builds no checks. */
export function policyInfo(cfg: Config): InfoPart {
  const parts = policies.filter(p => isActive(p, cfg)).map(p => p.info?.(cfg) ?? {})
  return {
    minPow: Math.max(0, ...parts.map(p => p.minPow ?? 0)),
    powByKind: parts.flatMap(p => p.powByKind ?? []),
    restrictedWrites: parts.some(p => p.restrictedWrites),
    authRequired: parts.some(p => p.authRequired),
    ...(parts.find(p => p.payment) ?? {}),
    ...pick(parts, 'acceptedKinds'),
    ...pick(parts, 'rateLimits'),
  }
}
