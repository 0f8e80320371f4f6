// Interop: @nostr-dev-kit/sync, NDK's NIP-77 client (an independent negentropy implementation), reconciles its cache
// with an agora relay and fetches exactly the events it lacks. It runs on Node 20, but its NEG-OPEN carries an array of
// filters where NIP-77 has one filter, which agora refuses (DESIGN §11): those checks are todo until the relay takes it.
import t from 'tap'
import NDK, { NDKEvent, type NDKCacheAdapter, type NDKSubscription } from '@nostr-dev-kit/ndk'
import { NDKSync } from '@nostr-dev-kit/sync'
import WebSocket from 'ws'
import { compileFilter, matchFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll } from '../helpers/client.js'
import { fastSigner } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

const TODO = { todo: "agora refuses NDK's NEG-OPEN filter array: invalid: filter must be a JSON object" }

// NDK opens its sockets with the global WebSocket, which Node 20 lacks (Node 22 has one): ws stands in.
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

t.test(
  '@nostr-dev-kit/sync needs exactly the events only the relay holds, and has those only its cache holds',
  async t => {
    const { url } = await startTestRelay(t)
    const author = fastSigner()
    const events = Array.from({ length: 60 }, (_, i) =>
      author.sign({ content: `note ${i}`, created_at: 1_780_000_000 + i }),
    )
    const onRelay = events.filter((_, i) => i % 3 !== 0)
    const cacheOnly = events.filter((_, i) => i % 3 === 0)
    const inCache = events.filter((_, i) => i % 3 !== 1)
    const c = await connectFor(t, url)
    await putAll(c, ...onRelay)

    const saved: string[] = []
    const ndk = new NDK({ explicitRelayUrls: [url] })
    const cacheAdapter: NDKCacheAdapter = {
      locking: false,
      query: (sub: NDKSubscription) => {
        const filters = sub.filters.map(f => compileFilter(f, { maxValues: Infinity }) as CompiledFilter)
        return inCache.filter(e => filters.some(f => matchFilter(f, e))).map(e => new NDKEvent(ndk, e))
      },
      setEvent: async e => void saved.push(e.id),
    }
    ndk.cacheAdapter = cacheAdapter
    await ndk.connect(10_000)
    t.ok([...ndk.pool.relays.values()][0]?.connected, 'NDK connects on Node 20')
    const errors: string[] = []
    const r = await new NDKSync(ndk).sync(
      { kinds: [1], authors: [author.pubkey] },
      { relayUrls: [url], onRelayError: (_relay, err) => void errors.push(err.message) },
    )
    const ids = (es: NostrEvent[]) => es.map(e => e.id).sort()
    const needed = onRelay.filter(e => !inCache.includes(e))
    t.same(errors, [], 'the relay takes the session', TODO)
    t.same([...r.need].sort(), ids(needed), 'need: the events only on the relay', TODO)
    t.same([...r.have].sort(), ids(cacheOnly), 'have: the events only in the cache', TODO)
    t.same(r.events.map(e => e.id).sort(), ids(needed), 'it fetched exactly the needed events', TODO)
    t.same(saved.sort(), ids(needed), 'and cached them', TODO)
    // Before the relay's teardown closes it: NDK would otherwise keep reconnecting and the test never end.
    for (const relay of ndk.pool.relays.values()) relay.disconnect()
  },
)
