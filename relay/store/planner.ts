// Turns a compiled filter into one SQL query that an index can drive (strfry's order of preference:
// ids, then a tag, then authors(+kinds), then kinds, then created_at). Pure: returns text and parameters.
import type { CompiledFilter } from '../../nips/nip01-filter.js'
import { NOT_BANNED } from './management.js'

/**
 * SQL selecting (seq, created_at, id, raw) of the filter's matches, newest first. Equal created_at come in index
 * order: the reader orders them by id (NIP-01), as no index key ends in the id (relay/store/db.ts).
 */
export type Plan = { readonly sql: string; readonly params: readonly (string | number)[] }

const marks = (n: number) => Array(n).fill('?').join(',')

/**
 * What a plan selects: the rows in NIP-01 order (REQ), just e.seq unordered (COUNT), or (created_at, id) unordered
 * (a NIP-77 set; a tag join may repeat an event, which the set drops).
 */
export type Selection = 'rows' | 'seq' | 'keys'

/**
 * Plans the filter; `now` hides expired events (NIP-40). `hideBanned` leaves out events whose author or id the
 * operator banned (NIP-86).
 */
export function planFilter(f: CompiledFilter, now: number, select: Selection = 'rows', hideBanned = false): Plan {
  const where: string[] = []
  const params: (string | number)[] = []
  let from = 'events e'
  let order = 'e.created_at DESC'
  let tags = f.tags
  let time = 'e.created_at'
  if (!f.ids && tags.length > 0) {
    // Drive from the tag index; kind and time are denormalised there so the scan stays in the index
    // (kinds are checked on each index entry, not looked up).
    const [name, values] = tags[0]!
    tags = tags.slice(1)
    from = 'tags t JOIN events e ON e.seq = t.seq'
    where.push(`t.name = ? AND t.value IN (${marks(values.size)})`)
    params.push(name, ...values)
    if (f.kinds) {
      where.push(`t.kind IN (${marks(f.kinds.size)})`)
      params.push(...f.kinds)
    }
    time = 't.created_at'
    order = 't.created_at DESC'
  } else if (f.kinds) {
    where.push(`e.kind IN (${marks(f.kinds.size)})`)
    params.push(...f.kinds)
  }
  if (f.ids) {
    where.push(`e.id IN (${marks(f.ids.size)})`)
    params.push(...f.ids)
  }
  if (f.authors) {
    where.push(`e.pubkey IN (${marks(f.authors.size)})`)
    params.push(...f.authors)
  }
  if (f.since !== undefined) {
    where.push(`${time} >= ?`)
    params.push(f.since)
  }
  if (f.until !== undefined) {
    where.push(`${time} <= ?`)
    params.push(f.until)
  }
  for (const [name, values] of tags) {
    where.push(
      `EXISTS (SELECT 1 FROM tags x WHERE x.seq = e.seq AND x.name = ? AND x.value IN (${marks(values.size)}))`,
    )
    params.push(name, ...values)
  }
  where.push('(e.expires_at IS NULL OR e.expires_at > ?)')
  params.push(now)
  if (hideBanned) where.push(NOT_BANNED)
  const body = `FROM ${from} WHERE ${where.join(' AND ')}`
  const sql = {
    rows: `SELECT e.seq AS seq, e.created_at AS created_at, e.id AS id, e.raw AS raw ${body} ORDER BY ${order}`,
    seq: `SELECT e.seq ${body}`,
    keys: `SELECT e.created_at, e.id ${body}`,
  }[select]
  return { sql, params }
}

/** The index a filter's plan is driven by, in planFilter's order of preference (a label for metrics and logs). */
export type PlanPath = 'ids' | 'tag' | 'authors' | 'kinds' | 'scan'

/** Which index planFilter drives this filter's query from. */
export function planPath(f: CompiledFilter): PlanPath {
  if (f.ids) return 'ids'
  if (f.tags.length > 0) return 'tag'
  if (f.authors) return 'authors'
  return f.kinds ? 'kinds' : 'scan'
}

/** True for a filter no index can narrow: it reads the newest events of the whole store. */
export function isScrape(f: CompiledFilter): boolean {
  return !f.ids && !f.authors && !f.kinds && f.tags.length === 0
}

// Past this many streams a single query with a sort is cheaper than opening a cursor per value.
const MAX_STREAMS = 32

const one = <T>(v: T) => new Set([v])

/**
 * For a filter of authors alone, how many distinct kinds of theirs still fit one stream per (author, kind); undefined
 * for any other shape. The author index is keyed by kind, so such a filter is read per kind its authors have (the
 * reader finds them by seeking through the index) instead of sorting all their events.
 */
export function authorKindsBudget(f: CompiledFilter): number | undefined {
  if (!f.authors || f.kinds || f.ids || f.never || f.tags.length > 0) return undefined
  return Math.floor(MAX_STREAMS / f.authors.size) || undefined
}

/**
 * Splits a filter whose driving field has several values into one filter per value (per author and kind
 * pair for authors+kinds), so each is read in index order and the reader can merge them newest first
 * without sorting every match. Filters that need no split come back as they are.
 */
export function splitForOrder(f: CompiledFilter): CompiledFilter[] {
  if (f.ids || f.never) return [f]
  // The author index is keyed (pubkey, kind), so authors pair with each kind; the tag index is keyed by
  // value alone and checks kinds on each entry.
  const pairs = <T>(
    values: ReadonlySet<T>,
    make: (v: T, k: ReadonlySet<number> | undefined) => CompiledFilter,
    byKind: boolean,
  ) => {
    const kinds = byKind && f.kinds && values.size * f.kinds.size <= MAX_STREAMS ? [...f.kinds].map(one) : [f.kinds]
    const all = [...values].flatMap(v => kinds.map(k => make(v, k)))
    return all.length > 1 && all.length <= MAX_STREAMS ? all : [f]
  }
  if (f.tags.length > 0) {
    const [name, values] = f.tags[0]!
    return pairs(values, (v, kinds) => ({ ...f, kinds, tags: [[name, one(v)], ...f.tags.slice(1)] }), false)
  }
  if (f.authors) return pairs(f.authors, (a, kinds) => ({ ...f, authors: one(a), kinds }), true)
  if (f.kinds && f.kinds.size > 1 && f.kinds.size <= MAX_STREAMS)
    return [...f.kinds].map(k => ({ ...f, kinds: one(k) }))
  return [f]
}
