// What the relay's synchronous checks know of mints: keysets and info, fetched once through the mint client
// and kept (a keyset never changes for its id; a mint's info is kept as long: it names the NUTs a lock needs).
// A failed fetch is not retried for a minute. Only hosts that market/hosts.ts allows are asked: a provider's
// 10019 or a customer's lock could otherwise point the relay at its own network.
import type { Keyset } from '../nips/nip61.js'
import { fetchableHost } from './hosts.js'
import type { MintClient, MintInfo } from './mint-client.js'

export type KeysetCache = {
  /** The keyset, when fetched already. */
  peek(mint: string, id: string): Keyset | undefined
  /** Fetches the keyset into the cache; never rejects (a failure leaves it missing). */
  fetch(mint: string, id: string): Promise<void>
  /** The mint's info, when fetched already. */
  peekInfo(mint: string): MintInfo | undefined
  /** Fetches the mint's info into the cache; never rejects. */
  fetchInfo(mint: string): Promise<void>
}

const KEPT = 10_000
const FAIL_MS = 60_000

type Options = { allowLoopback: boolean; now?: () => number }

/** A bounded cache of what `load` fetches from a mint, by key, with the host rule and the failure pause. */
function mintCache<T>(load: (mint: string, key: string) => Promise<T>, o: Options) {
  const now = o.now ?? Date.now
  const kept = new Map<string, T>()
  const failedAt = new Map<string, number>()
  const pending = new Map<string, Promise<void>>()
  const slot = (mint: string, key: string) => `${mint} ${key}`
  return {
    peek: (mint: string, key: string) => kept.get(slot(mint, key)),
    fetch(mint: string, key: string): Promise<void> {
      const k = slot(mint, key)
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
      const request = load(mint, key).then(
        v => {
          if (kept.size >= KEPT) kept.delete(kept.keys().next().value!)
          kept.set(k, v)
        },
        () => void failedAt.set(k, now()),
      )
      const done = request.finally(() => pending.delete(k))
      pending.set(k, done)
      return done
    },
  }
}

export function cachedKeysets(client: Pick<MintClient, 'keyset' | 'info'>, o: Options): KeysetCache {
  const keysets = mintCache((mint, id) => client.keyset(mint, id), o)
  const infos = mintCache(mint => client.info(mint), o)
  return {
    peek: keysets.peek,
    fetch: keysets.fetch,
    peekInfo: mint => infos.peek(mint, 'info'),
    fetchInfo: mint => infos.fetch(mint, 'info'),
  }
}
