// What the operator set through the management API (NIP-86): the main thread's copy of the store's tables,
// loaded at start and changed only after the writer has committed each change, so the hot path reads maps.
import type { Config } from '../../config/schema.js'
import type { NostrEvent } from '../../nips/nip01.js'
import type { ManagedView } from '../../policies/types.js'
import { normaliseIp } from './ip.js'

/** The NIP-11 fields an operator can change at runtime; a set value overrides the config file's. */
export type InfoKey = 'name' | 'description' | 'icon'

/** One change, as the writer records it and the main thread then applies it. */
export type ManagementChange =
  | { readonly op: 'ban-pubkey'; readonly pubkey: string; readonly reason: string }
  | { readonly op: 'unban-pubkey'; readonly pubkey: string }
  | { readonly op: 'ban-event'; readonly id: string; readonly reason: string }
  | { readonly op: 'unban-event'; readonly id: string }
  | { readonly op: 'kind'; readonly kind: number; readonly allowed: boolean }
  | { readonly op: 'block-ip'; readonly ip: string; readonly reason: string }
  | { readonly op: 'unblock-ip'; readonly ip: string }
  /** An empty value removes the override: the config file's value applies again. */
  | { readonly op: 'info'; readonly key: InfoKey; readonly value: string }

/** The operator's lists, each keyed by what it names, with the reason given (or the kind's verdict). */
export type Managed = {
  readonly pubkeys: Map<string, string>
  readonly events: Map<string, string>
  /** true: allowed whatever the kind whitelist says; false: refused whatever it says. */
  readonly kinds: Map<number, boolean>
  readonly ips: Map<string, string>
  readonly info: Map<InfoKey, string>
}

/** Empty lists: a store where nothing was set. */
export const emptyManaged = (): Managed => ({
  pubkeys: new Map(),
  events: new Map(),
  kinds: new Map(),
  ips: new Map(),
  info: new Map(),
})

/** Applies a committed change to the in-memory copy. */
export function applyChange(m: Managed, c: ManagementChange): void {
  if (c.op === 'ban-pubkey') m.pubkeys.set(c.pubkey, c.reason)
  else if (c.op === 'unban-pubkey') m.pubkeys.delete(c.pubkey)
  else if (c.op === 'ban-event') m.events.set(c.id, c.reason)
  else if (c.op === 'unban-event') m.events.delete(c.id)
  else if (c.op === 'kind') m.kinds.set(c.kind, c.allowed)
  else if (c.op === 'block-ip') m.ips.set(c.ip, c.reason)
  else if (c.op === 'unblock-ip') m.ips.delete(c.ip)
  else if (c.value === '') m.info.delete(c.key)
  else m.info.set(c.key, c.value)
}

/** True when the event is hidden from every reader: its author or the event itself is banned. */
export const isHidden = (m: Managed, e: Pick<NostrEvent, 'id' | 'pubkey'>): boolean =>
  m.pubkeys.has(e.pubkey) || m.events.has(e.id)

/** True when connections from this address (as the socket or the proxy header gave it) are refused. */
export const isBlockedIp = (m: Managed, ip: string): boolean => {
  const short = normaliseIp(ip)
  return short !== undefined && m.ips.has(short)
}

/** The live view policies read. */
export const managedView = (m: Managed): ManagedView => ({
  pubkeyBanned: pubkey => m.pubkeys.has(pubkey),
  eventBanned: id => m.events.has(id),
  kindVerdict: kind => m.kinds.get(kind),
})

/** The config with the operator's NIP-11 overrides in place (the API's values win over the file's). */
export function withInfo(m: Managed, cfg: Config): Config {
  if (m.info.size === 0) return cfg
  return { ...cfg, relay: { ...cfg.relay, ...Object.fromEntries(m.info) } }
}
