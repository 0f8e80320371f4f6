// Per-connection state. The socket stays in relay/server.ts; handlers see only `send` and `close`.
import type { CompiledFilter } from '../nips/nip01-filter.js'
import type { Observer } from './observe.js'

/**
 * A live subscription: a connection's filters under one subscription id. It is live before its stored
 * events are read; until EOSE, live matches wait in `backlog` (ids and frames) so none is lost or sent twice.
 */
export type Sub = {
  readonly conn: Conn
  readonly id: string
  readonly filters: readonly CompiledFilter[]
  backlog?: { readonly id: string; readonly frame: string }[]
}

/** An open NIP-77 session: its relay-wide key (its set lives on a reader) and its idle timer. */
export type NegSession = { readonly key: number; idle?: NodeJS.Timeout }

export type Conn = {
  readonly id: number
  readonly ip: string
  /** Host header of the upgrade request: the relay URL clients see when none is configured. */
  readonly host: string
  /** NIP-42 challenge sent on connect. */
  readonly challenge: string
  /** Pubkeys proven with AUTH; several per connection (NIP-42). */
  readonly authed: Set<string>
  readonly subs: Map<string, Sub>
  /** Open NIP-77 sessions by subscription id. */
  readonly negs: Map<string, NegSession>
  closed: boolean
  /** Tail of this connection's message chain: messages are handled in arrival order. */
  chain: Promise<void>
  /** Tail of this connection's EVENTs past their signature check: writes are queued in arrival order. */
  ingest: Promise<void>
  /** Tail of this connection's OK replies; a later REQ/COUNT waits for it, so clients read their own writes. */
  replies: Promise<void>
  /** Where what this connection sends and is refused is counted and logged. */
  readonly observer: Observer
  /** Queues a frame; a connection that stops reading is cut off by the server. */
  send(frame: string): void
}
