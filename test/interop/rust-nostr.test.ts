import t from 'tap'
import { canonicalJson } from '../../nips/nip01.js'
import sdk from '@rust-nostr/nostr-sdk'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { putAll, rawClient } from '../helpers/client.js'
import { fastSigner, now, signer } from '../helpers/events.js'
import { request } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'

const {
  Client,
  Duration,
  EventBuilder,
  EventId,
  Filter,
  Keys,
  Kind,
  NostrSigner,
  PublicKey,
  SyncDirection,
  SyncOptions,
  Tag,
  Timestamp,
} = sdk

// Node 20 has no global WebSocket: nostr-tools is given `ws` (the SDK loads `ws` itself when none is global).
useWebSocketImplementation(WebSocket)

// The SDK's WASM timers (setTimeout through its JS glue) are not all cleared when their futures finish or
// when the client shuts down: 5-60 s timers stay armed and keep Node alive for up to a minute after the
// tests. Unref'd timers still fire while the process is alive, so the SDK behaves the same.
// The glue must be patched before the WASM module is instantiated, since it binds its imports then.
const glue = sdk as unknown as Record<string, unknown>
const setTimeoutGlue = Object.keys(glue).find(k => k.startsWith('__wbg_setTimeout_'))
if (setTimeoutGlue) {
  const original = glue[setTimeoutGlue] as (...a: unknown[]) => unknown
  glue[setTimeoutGlue] = (...a: unknown[]) => {
    const handle = original(...a) as { unref?: () => void } | undefined
    handle?.unref?.()
    return handle
  }
}
await sdk.loadWasmAsync()

type Teardown = { teardown(fn: () => unknown): void }

/** An SDK client with a new key, connected to the relay only, shut down at teardown. */
async function sdkClient(t: Teardown, url: string) {
  const keys = Keys.generate()
  const client = new Client(NostrSigner.keys(keys))
  t.teardown(() => client.shutdown())
  await client.addRelay(url)
  await client.connect()
  await client.waitForConnection(Duration.fromSecs(5))
  return { client, keys }
}

/** The stored events with these ids, read with the raw client. */
async function stored(url: string, ids: string[]) {
  const c = await rawClient(url)
  try {
    const r = await c.req('check', { ids })
    if (r.closed) throw new Error(`query refused: ${JSON.stringify(r.closed)}`)
    return r.events
  } finally {
    c.close()
  }
}

t.test('a text note published with nostr-sdk is stored and served with the same id', async t => {
  const { url } = await startTestRelay(t)
  const { client, keys } = await sdkClient(t, url)
  const note = await client.signEventBuilder(
    EventBuilder.textNote('from rust-nostr: héllo 🌍').tags([Tag.parse(['t', 'interop'])]),
  )
  const out = await client.sendEvent(note)
  t.same(
    out.failed.map(f => [f.url, f.error]),
    [],
    'no relay failed',
  )
  t.equal(out.success.length, 1, 'the relay accepted it')
  const id = out.id.toHex()
  t.equal(id, note.id.toHex())
  const got = await stored(url, [id])
  t.same(got, [JSON.parse(note.asJson())], 'served exactly as signed')
  t.equal(got[0]?.pubkey, keys.publicKey.toHex())
})

t.test('an event published with nostr-tools is fetched by nostr-sdk with the same id', async t => {
  const { url } = await startTestRelay(t)
  const relay = await Relay.connect(url)
  t.teardown(() => relay.close())
  const e = signer().sign({ content: 'from nostr-tools ✓', tags: [['t', 'interop']] })
  await relay.publish(e)
  const { client } = await sdkClient(t, url)
  const events = (await client.fetchEvents(new Filter().id(EventId.parse(e.id)), Duration.fromSecs(5))).toVec()
  t.same(
    events.map(ev => ev.id.toHex()),
    [e.id],
  )
  t.ok(events[0]?.verify(), 'the SDK verifies id and signature')
  t.same(JSON.parse(events[0]!.asJson()), JSON.parse(canonicalJson(e)))
})

t.test('a refused nostr-sdk event is reported failed with the relay prefixed reason and is not stored', async t => {
  const { url } = await startTestRelay(t)
  const { client } = await sdkClient(t, url)
  const expired = await client.signEventBuilder(
    EventBuilder.textNote('too late').tags([Tag.expiration(Timestamp.fromSecs(now() - 10))]),
  )
  const out = await client.sendEvent(expired)
  t.same(out.success, [], 'no relay accepted it')
  t.equal(out.failed.length, 1)
  t.match(out.failed[0]?.error, /^invalid: event has expired/)
  t.same(await stored(url, [expired.id.toHex()]), [])
})

t.test('nostr-sdk authenticates with NIP-42 and publishes its protected event', async t => {
  const { url } = await startTestRelay(t)
  const { client } = await sdkClient(t, url)
  const note = await client.signEventBuilder(EventBuilder.textNote('protected').tags([Tag.protected()]))
  const out = await client.sendEvent(note)
  t.same(
    out.failed.map(f => [f.url, f.error]),
    [],
    'no relay failed',
  )
  t.same(
    (await stored(url, [note.id.toHex()])).map(e => e.id),
    [note.id.toHex()],
  )
})

t.test('with automatic authentication off, the nostr-sdk protected event is refused with auth-required:', async t => {
  const { url } = await startTestRelay(t)
  const { client } = await sdkClient(t, url)
  client.automaticAuthentication(false)
  const note = await client.signEventBuilder(EventBuilder.textNote('protected').tags([Tag.protected()]))
  const out = await client.sendEvent(note)
  t.same(out.success, [], 'no relay accepted it')
  t.match(out.failed[0]?.error, /^auth-required: /)
  t.same(await stored(url, [note.id.toHex()]), [])
})

t.test(
  'market: a nostr-sdk provider delivers a nostr-tools job, a second is refused, and the SDK reads the ledger',
  async t => {
    const { url, relay } = await startTestRelay(t, { 'market.publish_interval': 50 })
    const customer = signer()
    const req = request(customer, { bid: 21_000 })
    const c = await rawClient(url)
    t.teardown(() => c.close())
    t.same(await c.publish(req), ['OK', req.id, true, ''], 'the request')
    const deliver = async (client: InstanceType<typeof Client>) =>
      client.sendEvent(
        await client.signEventBuilder(
          new EventBuilder(new Kind(6100), 'the summary').tags([
            Tag.parse(['e', req.id]),
            Tag.parse(['p', req.pubkey]),
            Tag.parse(['amount', '21000']),
          ]),
        ),
      )
    const first = await sdkClient(t, url)
    const out = await deliver(first.client)
    t.same(
      out.failed.map(f => f.error),
      [],
      'the result is accepted',
    )
    const second = await sdkClient(t, url)
    const late = await deliver(second.client)
    t.match(late.failed[0]?.error, /^restricted: job [0-9a-f]{12} is already delivered/, 'the SDK reports the rule')
    // The relay's ledger entry, read with the SDK's own filter and verified by it.
    const ledger = new Filter().kind(new Kind(31118)).author(PublicKey.parse(relay.pubkey)).identifier(req.id)
    let entry: ReturnType<Awaited<ReturnType<typeof first.client.fetchEvents>>['toVec']>[number] | undefined
    // Outputs are published after a short debounce.
    for (let i = 0; i < 50 && !entry; i++) {
      entry = (await first.client.fetchEvents(ledger, Duration.fromSecs(2))).toVec()[0]
      if (!entry) await new Promise(r => setTimeout(r, 50))
    }
    t.ok(entry?.verify(), 'signed by the relay, verified by the SDK')
    const tags = entry!.tags.toVec().map(x => x.asVec())
    t.same(
      tags.filter(x => ['state', 'provider', 'amount'].includes(x[0]!)),
      [
        ['state', 'delivered'],
        ['provider', first.keys.publicKey.toHex()],
        ['amount', '21000'],
      ],
    )
  },
)

t.test(
  'nostr-sdk syncs from the relay over NIP-77 (rust-nostr’s own negentropy): exactly the matching events',
  async t => {
    const { url } = await startTestRelay(t)
    const c = await rawClient(url)
    t.teardown(() => c.close())
    const author = fastSigner()
    const t0 = now() - 1000
    // More ids than one 60 KB frame holds, over few timestamps: several rounds, bounds inside runs of equal created_at.
    const events = Array.from({ length: 2500 }, (_, i) => author.sign({ created_at: t0 + (i % 200), content: `${i}` }))
    for (let i = 0; i < events.length; i += 500) await putAll(c, ...events.slice(i, i + 500))
    const { client } = await sdkClient(t, url)
    // The SDK's default store keeps no events, so each sync starts from an empty set and must receive every match.
    const sync = async (filter: InstanceType<typeof Filter>) => {
      const out = await client.sync(filter, new SyncOptions().direction(SyncDirection.Down))
      t.equal(out.failed.length, 0, 'no relay failed')
      return out.report.received.map(id => id.toHex()).sort()
    }
    const mine = new Filter().kind(new Kind(1)).author(PublicKey.parse(author.pubkey))
    t.same(await sync(mine), events.map(e => e.id).sort(), 'all 2,500')
    const late = events.filter(e => e.created_at >= t0 + 150)
    t.same(
      await sync(mine.since(Timestamp.fromSecs(t0 + 150))),
      late.map(e => e.id).sort(),
      'since: only the later ones',
    )
  },
)
