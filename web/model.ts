// The market page's model: the providers table built from the events the relay publishes (31990 handler info,
// 30333 heartbeats, and the relay-signed 30382 assertions), and its sorting and filters. Pure: events in, rows out.
import { ASSERTION, HANDLER, HEARTBEAT, tagOf, tagsOf } from '../client/market.js'
import type { NostrEvent } from '../nips/nip01.js'

/** One provider as the table shows it. Texts are the provider's own words: the page only ever sets them as text. */
export type ProviderRow = {
  readonly pubkey: string
  readonly name: string
  readonly about: string
  /** An http(s) picture URL, or undefined. */
  readonly picture: string | undefined
  /** Kinds served, from its handlers, its heartbeat and the relay's assertion. */
  readonly kinds: readonly number[]
  /** Sats per job by kind, from its newest heartbeat. */
  readonly price: ReadonlyMap<number, number>
  /** Online by the relay's clock (the assertion's `online`), else by a heartbeat saying so. */
  readonly online: boolean
  /** The relay's NIP-85 rank, 0-100 (higher is better; 0 when flagged), undefined before it published one. */
  readonly rank: number | undefined
  readonly score: number
  readonly standing: number
  readonly jobsDelivered: number
  readonly jobsPaid: number
  readonly flagged: boolean
  /** The assertion's `input` tags: what the rank is made of, as counted and as raw. */
  readonly inputs: readonly { readonly name: string; readonly counted: string; readonly raw: string }[]
}

/** The newest event per replaceable address (kind, author, d) of what a subscription has delivered. */
export class Latest {
  private readonly byAddress = new Map<string, NostrEvent>()

  /** Keeps `e` if it is newer than what its address holds (NIP-01: at equal created_at the lowest id); true if kept. */
  add(e: NostrEvent): boolean {
    const key = `${e.kind}:${e.pubkey}:${tagOf(e, 'd') ?? ''}`
    const cur = this.byAddress.get(key)
    if (cur && (cur.created_at > e.created_at || (cur.created_at === e.created_at && cur.id <= e.id))) return false
    this.byAddress.set(key, e)
    return true
  }

  events(): IterableIterator<NostrEvent> {
    return this.byAddress.values()
  }
}

const num = (v: string | undefined) => {
  const n = Number(v)
  return Number.isFinite(n) ? n : 0
}

/** The handler's content JSON (NIP-89 metadata); anything else reads as empty. */
function handlerContent(e: NostrEvent): { name?: unknown; about?: unknown; picture?: unknown } {
  try {
    const c: unknown = JSON.parse(e.content)
    return typeof c === 'object' && c !== null ? c : {}
  } catch {
    return {}
  }
}

const text = (v: unknown) => (typeof v === 'string' ? v : '')
const httpUrl = (v: unknown) => (typeof v === 'string' && /^https?:\/\//i.test(v) ? v : undefined)

/** "5100:20,5200:50" into sats by kind; malformed entries are skipped. */
export function parsePrice(tag: string | undefined): Map<number, number> {
  const out = new Map<number, number>()
  for (const part of (tag ?? '').split(',')) {
    const m = /^(\d+):(\d+)$/.exec(part.trim())
    if (m) out.set(Number(m[1]), Number(m[2]))
  }
  return out
}

/** Every provider the events speak of: a handler, a heartbeat or the relay's assertion about it. */
export function providerRows(events: Iterable<NostrEvent>, relayPubkey: string): ProviderRow[] {
  // A provider may announce several handlers (one address each); its kinds are all of theirs, its name the newest's.
  const handlers = new Map<string, NostrEvent[]>()
  const handler = new Map<string, NostrEvent>()
  const heartbeat = new Map<string, NostrEvent>()
  const assertion = new Map<string, NostrEvent>()
  const newest = (m: Map<string, NostrEvent>, key: string, e: NostrEvent) => {
    const cur = m.get(key)
    if (!cur || cur.created_at < e.created_at) m.set(key, e)
  }
  for (const e of events) {
    if (e.kind === HANDLER) {
      newest(handler, e.pubkey, e)
      handlers.set(e.pubkey, [...(handlers.get(e.pubkey) ?? []), e])
    } else if (e.kind === HEARTBEAT) newest(heartbeat, e.pubkey, e)
    // Only the relay's own assertions rank providers; anyone else's 30382 is a trust declaration.
    else if (e.kind === ASSERTION && e.pubkey === relayPubkey) {
      const subject = tagOf(e, 'd')
      if (subject) newest(assertion, subject, e)
    }
  }
  const keys = new Set([...handler.keys(), ...heartbeat.keys(), ...assertion.keys()])
  return [...keys].map(pubkey => {
    const h = handler.get(pubkey)
    const b = heartbeat.get(pubkey)
    const a = assertion.get(pubkey)
    const meta = h ? handlerContent(h) : {}
    const kindTags = [
      ...(handlers.get(pubkey) ?? []).flatMap(x => tagsOf(x, 'k')),
      ...(b ? tagsOf(b, 'k') : []),
      ...(a ? tagsOf(a, 'k') : []),
    ]
    const kinds = new Set(kindTags.map(t => Number(t[1])))
    const at = (name: string) => (a ? tagOf(a, name) : undefined)
    return {
      pubkey,
      name: text(meta.name),
      about: text(meta.about),
      picture: httpUrl(meta.picture),
      kinds: [...kinds].filter(k => Number.isInteger(k)).sort((x, y) => x - y),
      price: parsePrice(b && tagOf(b, 'price')),
      online: a ? at('online') === '1' : b !== undefined && tagOf(b, 'status') === 'online',
      rank: a ? num(at('rank')) : undefined,
      score: num(at('score')),
      standing: num(at('standing')),
      jobsDelivered: num(at('jobs_delivered')),
      jobsPaid: num(at('jobs_paid')),
      flagged: at('flagged') === '1',
      inputs: (a ? tagsOf(a, 'input') : []).map(t => ({ name: t[1] ?? '', counted: t[2] ?? '', raw: t[3] ?? '' })),
    }
  })
}

export type SortKey = 'name' | 'rank' | 'standing' | 'jobsDelivered' | 'jobsPaid' | 'online' | 'price'
export type Sort = { readonly key: SortKey; readonly descending: boolean }

/** The lowest price a provider asks for any kind, for sorting (Infinity when it names none). */
const lowestPrice = (r: ProviderRow) => Math.min(...r.price.values(), Infinity)

const value = (r: ProviderRow, key: SortKey): number | string => {
  if (key === 'name') return (r.name || r.pubkey).toLowerCase()
  // Unranked providers sort below rank 0.
  if (key === 'rank') return r.rank ?? -1
  if (key === 'online') return r.online ? 1 : 0
  if (key === 'price') return lowestPrice(r)
  return r[key]
}

/** Rows sorted by `sort`, ties by pubkey so the order is stable across renders. */
export function sortRows(rows: readonly ProviderRow[], sort: Sort): ProviderRow[] {
  const dir = sort.descending ? -1 : 1
  return [...rows].sort((a, b) => {
    const x = value(a, sort.key)
    const y = value(b, sort.key)
    if (x !== y) return (x < y ? -1 : 1) * dir
    return a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : 0
  })
}

export type RowFilter = { readonly kind?: number; readonly onlineOnly?: boolean }

export function filterRows(rows: readonly ProviderRow[], f: RowFilter): ProviderRow[] {
  return rows.filter(r => (f.kind === undefined || r.kinds.includes(f.kind)) && (!f.onlineOnly || r.online))
}
