import t from 'tap'
import { canonicalJson } from '../../nips/nip01.js'
import sdk from '@rust-nostr/nostr-sdk'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { rawClient } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

const { Client, Duration, EventBuilder, EventId, Filter, Keys, NostrSigner, Tag, Timestamp } = sdk

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
