import t from 'tap'
import type { Event, Filter } from 'nostr-tools'
import { fetchRelayInformation } from 'nostr-tools/nip11'
import { SimplePool, useWebSocketImplementation as usePoolWebSocket } from 'nostr-tools/pool'
import { finalizeEvent } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { rawClient } from '../helpers/client.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

// Node 20 has no global WebSocket: nostr-tools is given `ws`.
useWebSocketImplementation(WebSocket)
usePoolWebSocket(WebSocket)

type Teardown = { teardown(fn: () => unknown): void }

/** Connects a nostr-tools Relay, closed at teardown. */
async function connect(t: Teardown, url: string): Promise<Relay> {
  const relay = await Relay.connect(url)
  t.teardown(() => relay.close())
  return relay
}

/** Ids the relay serves for `filter`, read with the raw client (independent of nostr-tools). */
async function storedIds(url: string, filter: Record<string, unknown>): Promise<string[]> {
  const c = await rawClient(url)
  try {
    const r = await c.req('check', filter)
    if (r.closed) throw new Error(`query refused: ${JSON.stringify(r.closed)}`)
    return r.events.map(e => e.id)
  } finally {
    c.close()
  }
}

/** The event's JSON fields only (nostr-tools marks verified events with a per-bundle symbol). */
const plain = (e: Event) => JSON.parse(JSON.stringify(e)) as Event

/** Publishes `n` notes by `s` one second apart (oldest first) with the raw client. */
async function seed(url: string, s: Signer, n: number): Promise<Event[]> {
  const c = await rawClient(url)
  const base = now() - 100
  const evs = Array.from({ length: n }, (_, i) => s.sign({ created_at: base + i, content: `note ${i}` }))
  try {
    for (const e of evs) {
      const ok = await c.publish(e)
      if (ok[2] !== true) throw new Error(`seed refused: ${JSON.stringify(ok)}`)
    }
  } finally {
    c.close()
  }
  return evs
}

/** Collects a subscription's events until EOSE (bounded). */
function untilEose(relay: Relay, filter: Filter) {
  const events: Event[] = []
  return new Promise<{ events: Event[]; sub: ReturnType<Relay['subscribe']> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no EOSE within 60 s')), 60_000)
    const sub = relay.subscribe([filter], {
      onevent: e => events.push(e),
      oneose: () => {
        clearTimeout(timer)
        resolve({ events, sub })
      },
      onclose: reason => {
        clearTimeout(timer)
        reject(new Error(`subscription closed: ${reason}`))
      },
    })
  })
}

t.test('Relay.publish resolves and the event is stored', async t => {
  const { url } = await startTestRelay(t)
  const relay = await connect(t, url)
  const e = signer().sign({ content: 'from nostr-tools ✓', tags: [['t', 'interop']] })
  const reason = await relay.publish(e)
  t.equal(reason, '', 'a plain OK true carries no reason')
  t.same(await storedIds(url, { ids: [e.id] }), [e.id])
})

t.test('subscribe delivers the stored events newest first and then calls oneose', async t => {
  const { url } = await startTestRelay(t)
  const s = signer()
  const evs = await seed(url, s, 3)
  const relay = await connect(t, url)
  const { events } = await untilEose(relay, { authors: [s.pubkey] })
  t.same(
    events.map(e => e.id),
    evs.map(e => e.id).reverse(),
  )
  t.same(plain(events[0]!), plain(evs[2]!), 'events arrive exactly as signed')
})

t.test('an event published after EOSE reaches the open subscription', async t => {
  const { url } = await startTestRelay(t)
  const s = signer()
  const relay = await connect(t, url)
  const e = s.sign({ content: 'live' })
  const publisher = await rawClient(url)
  t.teardown(() => publisher.close())
  const live = new Promise<Event>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no live event within 60 s')), 60_000)
    let eosed = false
    relay.subscribe([{ authors: [s.pubkey] }], {
      oneose: () => {
        eosed = true
        void publisher.publish(e)
      },
      onevent: ev => {
        if (!eosed) return reject(new Error(`stored event before EOSE: ${ev.id}`))
        clearTimeout(timer)
        resolve(ev)
      },
    })
  })
  t.same(plain(await live), plain(e))
})

t.test('count returns the number of matching stored events', async t => {
  const { url } = await startTestRelay(t)
  const s = signer()
  await seed(url, s, 4)
  await seed(url, signer(), 2) // another author, not counted
  const relay = await connect(t, url)
  t.equal(await relay.count([{ authors: [s.pubkey] }], {}), 4)
  t.equal(await relay.count([{ authors: [s.pubkey], kinds: [7] }], {}), 0)
})

t.test('SimplePool publishes to the relay and querySync reads it back', async t => {
  const { url } = await startTestRelay(t)
  const pool = new SimplePool()
  t.teardown(() => pool.destroy())
  const s = signer()
  const e = s.sign({ content: 'pooled', tags: [['t', 'pool']] })
  const results = await Promise.allSettled(pool.publish([url], e))
  t.same(results, [{ status: 'fulfilled', value: '' }])
  const found = await pool.querySync([url], { authors: [s.pubkey], '#t': ['pool'] }, { maxWait: 5000 })
  t.same(found.map(plain), [plain(e)])
})

t.test('Relay.auth answers the challenge and lets the author publish a protected event', async t => {
  const { url } = await startTestRelay(t)
  const s = signer()
  const relay = await connect(t, url)
  const protectedNote = (content: string) => s.sign({ content, tags: [['-']] })

  // Before AUTH the protected event is refused (this round trip also proves the challenge has arrived).
  const early = protectedNote('before auth')
  await t.rejects(relay.publish(early), { message: /^auth-required: / })
  t.same(await storedIds(url, { ids: [early.id] }), [], 'the refused event is not stored')

  const reason = await relay.auth(async tpl => finalizeEvent(tpl, s.sk))
  t.equal(reason, '', 'AUTH answered with OK true')
  const later = protectedNote('after auth')
  await relay.publish(later)
  t.same(await storedIds(url, { ids: [later.id] }), [later.id])
})

t.test('a refused publish rejects with the prefixed reason and nothing is stored', async t => {
  const { url } = await startTestRelay(t)
  const relay = await connect(t, url)
  const expired = signer().sign({ content: 'too late', tags: [['expiration', `${now() - 10}`]] })
  await t.rejects(relay.publish(expired), { message: /^invalid: event has expired/ })
  t.same(await storedIds(url, { ids: [expired.id] }), [])
})

t.test('fetchRelayInformation reads the NIP-11 document', async t => {
  const { url, relay, cfg } = await startTestRelay(t)
  const info = await fetchRelayInformation(url)
  t.equal(info.name, cfg.relay.name)
  t.equal(info.pubkey, relay.pubkey)
  t.equal(info.software, 'agora')
  for (const nip of [1, 9, 11, 40, 42, 45, 70]) t.ok(info.supported_nips.includes(nip), `supported_nips has ${nip}`)
  t.equal(info.limitation?.max_subscriptions, cfg.limits.max_subscriptions)
  t.equal(info.limitation?.max_message_length, cfg.limits.max_message_length)
})
