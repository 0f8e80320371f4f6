// The shape every policy shares (STYLE §2.3): a module built from the config once per (re)load,
// returning checks named after the moment they run.
import type { Config } from '../config/schema.js'
import type { NostrEvent, Rejection } from '../nips/nip01.js'
import type { CompiledFilter } from '../nips/nip01-filter.js'
import type { ZapProof } from '../nips/nip57.js'
import type { MarketFacts } from '../market/fold.js'
import type { KeysetCache } from '../market/keysets.js'
import type { CachedLnurlResolver } from '../market/lnurl.js'
import type { NutzapInfo } from '../nips/nip61.js'
import type { Payment, PowRule, RateLimits } from '../nips/nip11.js'

/** Read-only facts from the store that checks may consult. */
export type StoreViews = {
  /** The largest verified zap, in msats, this pubkey has paid the relay (kept for good). */
  largestZapMsats(pubkey: string): bigint
  /** True when the market holds a job with this request id (DESIGN §7.2). */
  knownJob(id: string): boolean
  /** The lightning addresses a pubkey announced (31990 handlers, kind 0), which its zaps are checked through. */
  lightningAddresses(pubkey: string): string[]
  /** A pubkey's NIP-61 nutzap info (its 10019), as the market holds it. */
  wallet(pubkey: string): NutzapInfo | undefined
}

/** What a check may know about the moment and the connection; never the socket itself. */
export type PolicyCtx = {
  /** Relay clock, seconds. */
  readonly now: number
  /** Relay clock, milliseconds (rate limits). */
  readonly nowMs: number
  readonly ip: string
  /** Pubkeys proven on this connection with NIP-42 AUTH. */
  readonly authed: ReadonlySet<string>
  readonly views: StoreViews
}

/** A pure check: a rejection, or undefined to let the event through. */
export type Check = (event: NostrEvent, ctx: PolicyCtx) => Rejection | undefined

/** Facts an admitted event carries to the writer, recorded in the same transaction. */
/** `keep`: store this ephemeral event (a pay-to-decrypt result waiting for its key, DESIGN §7.6). */
/** `seenOn`: the upstream a mirrored event came from (set by the write path, not by a policy). */
export type WriteNote = {
  readonly zapUnlock?: ZapProof
  readonly facts?: MarketFacts
  readonly keep?: true
  readonly seenOn?: string
}

/** A check that runs after the signature is verified; it may attach a note for the writer. */
export type VerifiedCheck = (event: NostrEvent, ctx: PolicyCtx) => Rejection | WriteNote | undefined

/** A check on a REQ, COUNT or NEG-OPEN; the rejection goes out as CLOSED (NEG-ERR for NEG-OPEN). */
export type ReadCheck = (
  verb: 'REQ' | 'COUNT' | 'NEG-OPEN',
  filters: readonly CompiledFilter[],
  ctx: PolicyCtx,
) => Rejection | undefined

/** Whether a stored or live event may be sent to a connection with these authed pubkeys. */
export type Visibility = (event: NostrEvent, authed: ReadonlySet<string>) => boolean

/**
 * Fetches what a later check needs from outside (an LNURL server's key, a mint's keyset) into a cache the
 * synchronous checks read; undefined when there is nothing to fetch. Never rejects.
 */
export type Prepare = (event: NostrEvent, ctx: PolicyCtx) => Promise<void> | undefined

/** The hooks one policy fills; an unfilled hook costs nothing. */
export type Hooks = {
  /** Cheap checks, before the duplicate lookup and signature work. */
  readonly event?: Check
  /** After the signature check, before `verified`; the connection's next event waits for it. */
  readonly prepare?: Prepare
  readonly verified?: VerifiedCheck
  readonly read?: ReadCheck
  readonly visible?: Visibility
  /** Open WebSocket connections allowed per IP. */
  readonly connectionsPerIp?: number
}

/**
 * What the operator set through the management API (NIP-86), read live: a change applies at once, without a
 * reload, and the set of policies need not be rebuilt.
 */
export type ManagedView = {
  readonly pubkeyBanned: (pubkey: string) => boolean
  readonly eventBanned: (id: string) => boolean
  /** true: the kind is allowed whatever the kind whitelist says; false: refused; undefined: the config decides. */
  readonly kindVerdict: (kind: number) => boolean | undefined
}

/** What policies get besides the config. */
export type PolicyDeps = {
  readonly relayPubkey: string
  /** BIP-340 check of an event whose id is already checked. */
  readonly verify: (e: NostrEvent) => boolean
  /** Lightning address -> LNURL server nostrPubkey, cached across reloads (market/lnurl.ts). */
  readonly lnurl: CachedLnurlResolver
  /** Mint keysets for nutzap checks, cached across reloads (market/keysets.ts). */
  readonly keysets: KeysetCache
  readonly managed: ManagedView
}

/** NIP-11 facts a policy contributes when it is active. */
export type InfoPart = {
  readonly minPow?: number
  /** Per-kind proof-of-work rules in configured order (NIP-11 `pow_by_kind`). */
  readonly powByKind?: readonly PowRule[]
  readonly restrictedWrites?: boolean
  readonly authRequired?: boolean
  readonly payment?: Payment
  readonly acceptedKinds?: readonly string[]
  readonly rateLimits?: RateLimits
}

export type Policy = {
  readonly name: string
  /** NIPs this policy implements, for NIP-11 supported_nips while it is active. */
  readonly nips: readonly number[]
  /** Anti-spam policies are switched off by `policies.open` / `--open`. */
  readonly antiSpam: boolean
  /**
   * Judges who may come in through this relay's door (work, payment, pace, authentication), not what an event says:
   * such a policy does not apply to mirrored events, which were published elsewhere (DESIGN §11, mirroring).
   */
  readonly door: boolean
  /** Whether the config switches it on. */
  enabled(cfg: Config): boolean
  make(cfg: Config, deps: PolicyDeps): Hooks
  info?(cfg: Config): InfoPart
}
