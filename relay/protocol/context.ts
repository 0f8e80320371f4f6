// What protocol handlers are given: narrow views of the relay's parts, never the sockets or databases.
import type { Config } from '../../config/schema.js'
import type { NostrEvent } from '../../nips/nip01.js'
import type { PolicySet } from '../../policies/index.js'
import type { PolicyCtx } from '../../policies/types.js'
import type { Conn } from '../connection.js'
import type { Identity } from '../identity.js'
import type { Log } from '../log.js'
import type { Observer } from '../observe.js'
import type { Queries } from '../reader-pool.js'
import type { SubscriptionIndex } from '../subscriptions.js'
import type { AsyncVerifier } from '../verify-pool.js'
import type { RelayWriter } from '../writer-thread.js'

/** The effective config and the policies built from it, swapped whole on reload. */
export type Snapshot = { readonly cfg: Config; readonly policies: PolicySet }

export type RelayCtx = {
  snapshot(): Snapshot
  /** Stored-event queries and counts, off the event loop. */
  readonly queries: Queries
  readonly writer: RelayWriter
  readonly verifier: AsyncVerifier
  readonly subs: SubscriptionIndex
  readonly identity: Identity
  /** Relay clock in seconds. */
  now(): number
  /** What policies may know about this moment and this connection. */
  policyCtx(conn: Conn): PolicyCtx
  /** Relay URLs (normalised) that AUTH events may name for this connection. */
  relayUrls(conn: Conn): string[]
  /** Delivers an accepted event to matching live subscriptions. */
  fanout(event: NostrEvent, raw: string): void
  readonly log: Log
  /** Counts and logs what the relay answers (relay/observe.ts). */
  readonly observer: Observer
}

/** A verb handler; messages of one connection are handed over one at a time, in order. */
export type Handler = (rc: RelayCtx, conn: Conn, msg: readonly unknown[]) => void | Promise<void>
