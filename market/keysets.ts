// Mint keysets as the relay's synchronous checks read them: fetched once through the mint client and kept
// (a keyset never changes for its id). A failed fetch is not retried for a minute. Only hosts that
// market/hosts.ts allows are asked: a provider's 10019 could otherwise point the relay at its own network.
import type { Keyset } from '../nips/nip61.js'
import { fetchableHost } from './hosts.js'
import type { MintClient } from './mint-client.js'

export type KeysetCache = {
  /** The keyset, when fetched already. */
  peek(mint: string, id: string): Keyset | undefined
  /** Fetches the keyset into the cache; never rejects (a failure leaves it missing). */
  fetch(mint: string, id: string): Promise<void>
}

const KEPT = 10_000
const FAIL_MS = 60_000

export function cachedKeysets(client: MintClient, o: { allowLoopback: boolean; now?: () => number }): KeysetCache {
  const now = o.now ?? Date.now
  const kept = new Map<string, Keyset>()
  const failedAt = new Map<string, number>()
  const pending = new Map<string, Promise<void>>()
  const key = (mint: string, id: string) => `${mint} ${id}`

  return {
    peek: (mint, id) => kept.get(key(mint, id)),
    fetch(mint, id) {
      const k = key(mint, id)
      if (kept.has(k) || now() - (failedAt.get(k) ?? -Infinity) < FAIL_MS) return Promise.resolve()
      let host: string
      try {
        host = new URL(mint).hostname
      } catch {
        return Promise.resolve()
      }
      if (!fetchableHost(host, o.allowLoopback)) return Promise.resolve()
      const inFlight = pending.get(k)
      if (inFlight) return inFlight
      const request = client.keyset(mint, id).then(
        ks => {
          if (kept.size >= KEPT) kept.delete(kept.keys().next().value!)
          kept.set(k, ks)
        },
        () => void failedAt.set(k, now()),
      )
      const done = request.finally(() => pending.delete(k))
      pending.set(k, done)
      return done
    },
  }
}
