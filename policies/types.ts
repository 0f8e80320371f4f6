// The shape every write policy shares (STYLE §2.3).
import type { Config } from '../config/schema.js'
import type { NostrEvent, Rejection } from '../nips/nip01.js'

/** What a check may know about the moment and the connection; never the socket itself. */
export type PolicyCtx = {
  /** Relay clock, seconds. */
  readonly now: number
  readonly ip: string
  /** Pubkeys proven on this connection with NIP-42 AUTH. */
  readonly authed: ReadonlySet<string>
}

/** A pure check: a rejection, or undefined to let the event through. */
export type Check = (event: NostrEvent, ctx: PolicyCtx) => Rejection | undefined

/** A write policy module: built from the config once per (re)load. */
export type Policy = {
  readonly name: string
  /** NIPs this policy implements, for NIP-11 supported_nips. */
  readonly nips: readonly number[]
  /** Anti-spam policies are switched off by `policies.open` / `--open`. */
  readonly antiSpam: boolean
  make(cfg: Config): Check
}
