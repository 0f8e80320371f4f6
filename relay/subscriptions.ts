// Owns the live subscription index: each filter is filed under one key (id, author, tag value, kind,
// or the catch-all), so fan-out looks up candidates instead of scanning every subscription.
import type { NostrEvent } from '../nips/nip01.js'
import { matchFilter, type CompiledFilter } from '../nips/nip01-filter.js'
import type { Sub } from './connection.js'

type Entry = { readonly sub: Sub; readonly filter: CompiledFilter }

/** Creates an empty index. */
export function createSubscriptionIndex() {
  const buckets = new Map<string, Set<Entry>>()
  const all = new Set<Entry>()
  const keysOf = new Map<Sub, { entry: Entry; keys: string[] }[]>()

  // strfry picks one field per filter; the most selective one that is present.
  const keysFor = (f: CompiledFilter): string[] | undefined => {
    if (f.ids) return [...f.ids].map(v => `i${v}`)
    if (f.authors) return [...f.authors].map(v => `a${v}`)
    if (f.tags.length > 0) return [...f.tags[0]![1]].map(v => `t${f.tags[0]![0]}${v}`)
    if (f.kinds) return [...f.kinds].map(v => `k${v}`)
    return undefined
  }

  function add(sub: Sub): void {
    const filed: { entry: Entry; keys: string[] }[] = []
    for (const filter of sub.filters) {
      if (filter.never) continue
      const entry = { sub, filter }
      const keys = keysFor(filter)
      if (!keys) all.add(entry)
      for (const k of keys ?? []) {
        let b = buckets.get(k)
        if (!b) buckets.set(k, (b = new Set()))
        b.add(entry)
      }
      filed.push({ entry, keys: keys ?? [] })
    }
    keysOf.set(sub, filed)
  }

  function remove(sub: Sub): void {
    for (const { entry, keys } of keysOf.get(sub) ?? []) {
      all.delete(entry)
      for (const k of keys) {
        const b = buckets.get(k)
        b?.delete(entry)
        if (b?.size === 0) buckets.delete(k)
      }
    }
    keysOf.delete(sub)
  }

  /** The subscriptions the event matches, each once. */
  function match(e: NostrEvent): Set<Sub> {
    const out = new Set<Sub>()
    const test = (entries: Set<Entry> | undefined) => {
      if (entries) for (const { sub, filter } of entries) if (!out.has(sub) && matchFilter(filter, e)) out.add(sub)
    }
    test(buckets.get(`i${e.id}`))
    test(buckets.get(`a${e.pubkey}`))
    for (const t of e.tags) if (t.length > 1 && t[0]!.length === 1) test(buckets.get(`t${t[0]}${t[1]}`))
    test(buckets.get(`k${e.kind}`))
    test(all)
    return out
  }

  return { add, remove, match, size: () => keysOf.size }
}

export type SubscriptionIndex = ReturnType<typeof createSubscriptionIndex>
