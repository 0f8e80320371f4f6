import t, { type Test } from 'tap'
import { bytesToHex } from '@noble/curves/utils.js'
import type { AddressInfo } from 'node:net'
import { generateSecretKey } from 'nostr-tools/pure'
import { WebSocketServer } from 'ws'
import { ClientError } from '../../client/errors.js'
import { signerFrom } from '../../client/keys.js'
import { RelayClient, type RelayOptions } from '../../client/relay.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { freeLowPort } from '../helpers/ports.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { sleep, waitFor } from '../helpers/wait.js'

// Short waits between reconnects, so a restart is noticed in well under a second.
const FAST = { backoff: { minMs: 50, maxMs: 400 } } as const

/** A RelayClient closed at teardown. */
function client(t: Test, url: string, opts: RelayOptions = {}): RelayClient {
  const c = new RelayClient(url, { ...FAST, ...opts })
  t.teardown(() => c.close())
  return c
}

/** A client-side signer for a fresh key. */
const clientSigner = () => signerFrom(bytesToHex(generateSecretKey()))

/** The waits ("retrying in N ms") a client logged, in order. */
const retryWaits = (lines: readonly string[]) =>
  lines.flatMap(l => {
    const m = /retrying in (\d+) ms/.exec(l)
    return m ? [Number(m[1])] : []
  })

/** Flags of a relay that takes writes only from connections authenticated as their author. */
const AUTH_WRITES = {
  'policies.open': false,
  'policies.pow.enabled': false,
  'policies.kind_whitelist.enabled': false,
  'policies.auth_writes.enabled': true,
} as const

t.test('publish resolves with the relay OK: true when stored, the refusal with its prefix otherwise', async t => {
  const { url } = await startTestRelay(t, {
    'policies.open': false,
    'policies.kind_whitelist.enabled': false,
    'policies.pow.rules': ['1:8'],
  })
  const c = client(t, url)
  const s = signer()
  const refused = await c.publish(s.sign({ content: 'no work' }))
  t.equal(refused.ok, false)
  t.match(refused.message, /^pow: kind 1 needs 8 bits/, 'the refusal keeps its machine prefix')
  const feedback = s.sign({ kind: 7000, content: 'fine' })
  t.same(await c.publish(feedback), { ok: true, message: '' }, 'a kind without a rule is stored')
  t.same(await storedIds(url), [feedback.id])
})

t.test('a duplicate publish counts as ok', async t => {
  const { url } = await startTestRelay(t)
  const c = client(t, url)
  const e = signer().sign({ content: 'twice' })
  t.same(await c.publish(e), { ok: true, message: '' })
  const again = await c.publish(e)
  t.equal(again.ok, true, 'the relay already has it: success for the sender')
  t.match(again.message, /^duplicate:/)
})

t.test('query returns the stored events up to EOSE, and a refused REQ rejects with the reason', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_filter_values': 3 })
  const raw = await connectFor(t, url)
  const s = signer()
  const events = [1, 2, 3].map(i => s.sign({ content: `stored ${i}`, created_at: now() - i }))
  await putAll(raw, ...events, signer().sign({ content: 'someone else' }))
  const c = client(t, url)
  const got = await c.query([{ authors: [s.pubkey] }])
  t.same(got.map(e => e.id).sort(), events.map(e => e.id).sort(), 'exactly the matching stored events')
  const tooMany = ['a', 'b', 'c', 'd'].map(x => x.repeat(64))
  await t.rejects(c.query([{ ids: tooMany }]), { name: 'ClientError', message: /refused the query: \w+(-\w+)*: / })
})

t.test('a subscription gets stored events, EOSE, then live events', async t => {
  const { url } = await startTestRelay(t)
  const raw = await connectFor(t, url)
  const s = signer()
  const stored = s.sign({ content: 'stored' })
  await putAll(raw, stored)
  const c = client(t, url)
  const got: string[] = []
  let eoseAt = -1
  c.subscribe([{ authors: [s.pubkey] }], { onevent: e => got.push(e.id), oneose: () => (eoseAt = got.length) })
  await waitFor(() => eoseAt >= 0, 'EOSE')
  t.same(got, [stored.id], 'the stored event comes before EOSE')
  const live = s.sign({ content: 'live' })
  await putAll(raw, live)
  await waitFor(() => got.length === 2, 'the live event')
  t.same(got, [stored.id, live.id])
})

t.test(
  'after the relay restarts on its port the client reconnects with backoff and gets later events once',
  async t => {
    const dir = tempDir(t)
    const port = await freeLowPort()
    const first = await startTestRelay(t, { 'relay.port': port }, dir)
    const lines: string[] = []
    const c = client(t, first.url, { log: l => lines.push(l) })
    await c.waitOpen()
    const got: NostrEvent[] = []
    let eoses = 0
    c.subscribe([{ kinds: [1] }], { onevent: e => got.push(e), oneose: () => eoses++ })
    const s = signer()
    const before = s.sign({ content: 'before the restart' })
    t.same(await c.publish(before), { ok: true, message: '' })
    await waitFor(() => got.length === 1, 'the event before the restart')

    await first.relay.close()
    await waitFor(() => retryWaits(lines).length >= 3, 'three reconnect attempts', 90_000)
    const waits = retryWaits(lines)
    t.ok(waits[2]! > waits[0]!, `the wait between attempts grows (${waits.join(', ')} ms)`)
    t.notOk(c.isOpen, 'not open while the relay is down')
    const whileDown = s.sign({ content: 'published while the relay is down' })
    const pending = c.publish(whileDown, 60_000)

    const second = await startTestRelay(t, { 'relay.port': port }, dir)
    t.same(await pending, { ok: true, message: '' }, 'the publish made while down is sent once the relay is back')
    const after = s.sign({ content: 'after the restart' })
    await putAll(await connectFor(t, second.url), after)
    await waitFor(() => got.length >= 3, 'the events after the restart', 90_000)
    await sleep(300) // a window in which a repeated delivery would show
    t.same(got.map(e => e.content).sort(), [before, whileDown, after].map(e => e.content).sort(), 'each event once')
    t.equal(eoses, 1, 'EOSE is reported once, not again after the reconnect')
    t.equal(lines.filter(l => l.startsWith('connected to')).length, 2, 'connected, then reconnected once')
  },
)

t.test('waitOpen on an unreachable relay rejects naming the URL and the connection error', async t => {
  const url = `ws://127.0.0.1:${await freeLowPort()}`
  const c = client(t, url)
  await t.rejects(c.waitOpen(2000), new ClientError(`cannot reach ${url}: ECONNREFUSED`))
})

t.test('a malformed relay URL is refused with a ClientError', async t => {
  for (const url of ['http://127.0.0.1:7777', '127.0.0.1:7777', 'ws://bad host', 'ws://127.0.0.1:99999']) {
    t.throws(() => new RelayClient(url), { name: 'ClientError', message: new RegExp(`^relay URL ${url} `) }, url)
  }
})

t.test('close() resolves the publishes still waiting as failed', async t => {
  const c = client(t, `ws://127.0.0.1:${await freeLowPort()}`)
  const pending = c.publish(signer().sign({ content: 'never sent' }))
  c.close()
  t.same(await pending, { ok: false, message: 'error: connection closed' })
})

t.test(
  'NIP-42: a publish with a signer is accepted on an auth-required relay once the client answers AUTH',
  async t => {
    const { url } = await startTestRelay(t, AUTH_WRITES)
    const me = clientSigner()
    const c = client(t, url, { signer: me })
    // Sent as soon as the socket opens, before the challenge is answered: refused, then re-sent after AUTH.
    const early = me.sign({ kind: 1, created_at: now(), tags: [], content: 'early' })
    t.same(await c.publish(early), { ok: true, message: '' }, 'the publish sent before AUTH')
    const later = me.sign({ kind: 1, created_at: now(), tags: [], content: 'later' })
    t.same(await c.publish(later), { ok: true, message: '' }, 'a publish on the authenticated connection')
    t.same((await storedIds(url)).sort(), [early.id, later.id].sort())
  },
)

t.test('NIP-42: without a signer a publish to an auth-required relay resolves refused auth-required:', async t => {
  const { url } = await startTestRelay(t, AUTH_WRITES)
  const c = client(t, url)
  const r = await c.publish(signer().sign({ content: 'anonymous' }))
  t.equal(r.ok, false)
  t.match(r.message, /^auth-required: /)
  t.same(await storedIds(url), [])
})

t.test('NIP-42: a refused AUTH answer ends the publish that waited on it, not a timeout', async t => {
  // The relay expects AUTH events naming its public URL, which the client does not know it by.
  const { url } = await startTestRelay(t, { ...AUTH_WRITES, 'relay.url': 'wss://relay.example.com' })
  const lines: string[] = []
  const me = clientSigner()
  const c = client(t, url, { signer: me, log: l => lines.push(l) })
  await c.waitOpen()
  const e = me.sign({ kind: 1, created_at: now(), tags: [], content: 'refused' })
  const r = await c.publish(e, 60_000)
  t.equal(r.ok, false)
  t.match(r.message, /^auth-required: .*\(our AUTH was refused: invalid: AUTH relay tag must name this relay/)
  t.ok(
    lines.some(l => l.includes('refused our AUTH')),
    'the refusal is logged',
  )
})

t.test('NIP-42: a query closed auth-required ends when the relay refuses the AUTH answer', async t => {
  // agora never closes a REQ auth-required (it hides private events instead), so a few scripted lines play a relay
  // that does: every REQ is closed auth-required with a challenge, and every AUTH is refused.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  await new Promise(resolve => wss.once('listening', resolve))
  wss.on('connection', ws =>
    ws.on('message', data => {
      const [verb, a] = JSON.parse(String(data)) as [string, unknown]
      if (verb === 'REQ') {
        ws.send(JSON.stringify(['CLOSED', a, 'auth-required: reading needs AUTH']))
        ws.send(JSON.stringify(['AUTH', 'challenge']))
      } else if (verb === 'AUTH')
        ws.send(JSON.stringify(['OK', (a as NostrEvent).id, false, 'restricted: not on the list']))
    }),
  )
  const port = (wss.address() as AddressInfo).port
  const c = client(t, `ws://127.0.0.1:${port}`, { signer: clientSigner() })
  await t.rejects(
    c.query([{ kinds: [1] }], 60_000),
    new ClientError(
      `ws://127.0.0.1:${port} refused the query: auth-required: reading needs AUTH ` +
        '(our AUTH was refused: restricted: not on the list)',
    ),
  )
})

t.test('garbage frames are reported, and drop() cuts the connection and comes back after the wait asked', async t => {
  // A scripted relay: each REQ is answered with frames no client can use, then one real event and EOSE.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  await new Promise(resolve => wss.once('listening', resolve))
  const event = signer().sign()
  let connects = 0
  wss.on('connection', ws => {
    connects++
    ws.on('message', data => {
      const [verb, sub] = JSON.parse(String(data)) as [string, string]
      if (verb !== 'REQ') return
      for (const frame of ['not json', '{"an": "object"}', JSON.stringify(['EVENT', sub, { no: 'id' }])]) ws.send(frame)
      ws.send(JSON.stringify(['EVENT', sub, event]))
      ws.send(JSON.stringify(['EOSE', sub]))
    })
  })
  const garbage: string[] = []
  const c = client(t, `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { ongarbage: g => garbage.push(g) })
  t.same(
    (await c.query([{ kinds: [1] }])).map(e => e.id),
    [event.id],
    'the real event is delivered',
  )
  t.same(garbage, ['a frame that is not JSON', 'a frame that is not an array', 'an EVENT without an event'])
  await waitFor(() => c.isOpen, 'the connection')
  const cutAt = Date.now()
  c.drop('misbehaving', 300)
  await waitFor(() => !c.isOpen, 'the cut')
  await waitFor(() => connects === 2 && c.isOpen, 'the reconnect', 10_000)
  t.ok(Date.now() - cutAt >= 300, 'not before the wait asked for')
})
