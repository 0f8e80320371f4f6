import t, { type Test } from 'tap'
import { rawClient, type Frame, type RawClient } from '../helpers/client.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { sleep } from '../helpers/wait.js'

/** Opens a client and consumes the challenge the relay sends on connect. */
async function connect(url: string): Promise<{ c: RawClient; challenge: string }> {
  const c = await rawClient(url)
  const m = await c.expect(m => m[0] === 'AUTH')
  return { c, challenge: m[1] as string }
}

/** A kind-22242 event answering `challenge` for `relay`, with overrides. */
const authEvent = (s: Signer, challenge: string, relay: string, over: { kind?: number; created_at?: number } = {}) =>
  s.sign({
    kind: 22242,
    tags: [
      ['relay', relay],
      ['challenge', challenge],
    ],
    ...over,
  })

/** Sends AUTH and returns the OK frame for it. */
async function auth(c: RawClient, e: { id: string }): Promise<Frame> {
  c.send(['AUTH', e])
  return c.ok(e.id)
}

/** Asserts that a protected event by `s` still gets auth-required on `c`, i.e. `s` is not authenticated there. */
async function notAuthenticated(t: Test, c: RawClient, s: Signer): Promise<void> {
  const probe = s.sign({ tags: [['-']], content: 'probe' })
  const ok = await c.publish(probe)
  t.equal(ok[2], false, 'a protected event by that key is still refused')
  t.match(ok[3], /^auth-required: /, 'the connection is not authenticated as that key')
}

t.test('the relay sends an AUTH challenge on connect', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const m = await c.expect(() => true)
  t.equal(m[0], 'AUTH', 'the first frame is AUTH')
  t.type(m[1], 'string')
  t.ok((m[1] as string).length >= 16, 'the challenge is not trivially short')
  const other = await connect(url)
  t.not(other.challenge, m[1], 'each connection gets its own challenge')
})

t.test('an AUTH event with the right challenge and relay URL gets OK true', async t => {
  const { url } = await startTestRelay(t)
  const { c, challenge } = await connect(url)
  const s = signer()
  const e = authEvent(s, challenge, url)
  const ok = await auth(c, e)
  t.equal(ok[2], true)
  t.same(await storedIds(url), [], 'the AUTH event is not stored')
})

t.test('refused AUTH events get OK false invalid: and authenticate nobody', async t => {
  const { url } = await startTestRelay(t)
  const elsewhere = (await connect(url)).challenge
  const cases: [string, (s: Signer, challenge: string) => { id: string }][] = [
    ['wrong challenge', s => authEvent(s, 'f'.repeat(32), url)],
    ['challenge of another connection', s => authEvent(s, elsewhere, url)],
    ['wrong relay URL', (s, ch) => authEvent(s, ch, 'ws://127.0.0.1:1')],
    ['missing relay tag', (s, ch) => s.sign({ kind: 22242, tags: [['challenge', ch]] })],
    ['stale created_at', (s, ch) => authEvent(s, ch, url, { created_at: now() - 3600 })],
    ['created_at in the future', (s, ch) => authEvent(s, ch, url, { created_at: now() + 3600 })],
    [
      'bad signature',
      (s, ch) => ({ ...authEvent(s, ch, url), sig: authEvent(s, ch, url, { created_at: now() - 1 }).sig }),
    ],
    ['wrong kind', (s, ch) => authEvent(s, ch, url, { kind: 1 })],
  ]
  for (const [name, make] of cases) {
    const { c, challenge } = await connect(url)
    const s = signer()
    const ok = await auth(c, make(s, challenge))
    t.equal(ok[2], false, name)
    t.match(ok[3], /^invalid: /, name)
    await notAuthenticated(t, c, s)
    c.close()
  }
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('several pubkeys can authenticate on one connection', async t => {
  const { url } = await startTestRelay(t)
  const { c, challenge } = await connect(url)
  const a = signer()
  const b = signer()
  t.equal((await auth(c, authEvent(a, challenge, url)))[2], true)
  t.equal((await auth(c, authEvent(b, challenge, url)))[2], true)
  const fromA = a.sign({ tags: [['-']], content: 'a' })
  const fromB = b.sign({ tags: [['-']], content: 'b' })
  t.equal((await c.publish(fromA))[2], true, 'protected event of the first key accepted')
  t.equal((await c.publish(fromB))[2], true, 'protected event of the second key accepted')
  t.same((await storedIds(url)).sort(), [fromA.id, fromB.id].sort())
})

t.test('kind 22242 sent as EVENT is refused invalid: and neither stored nor broadcast', async t => {
  const { url } = await startTestRelay(t)
  const watcher = await rawClient(url)
  await watcher.req('w', { kinds: [22242] }, {})
  const { c, challenge } = await connect(url)
  const e = authEvent(signer(), challenge, url)
  const ok = await c.publish(e)
  t.equal(ok[2], false)
  t.match(ok[3], /^invalid: /)
  await sleep(200)
  t.same(
    watcher.pending().filter(m => m[0] === 'EVENT'),
    [],
    'not broadcast',
  )
  t.same(await storedIds(url), [], 'not stored')
})

t.test('a protected event from an unauthenticated connection gets auth-required: and a fresh AUTH frame', async t => {
  const { url } = await startTestRelay(t)
  const { c, challenge } = await connect(url)
  const s = signer()
  const e = s.sign({ tags: [['-']] })
  c.send(['EVENT', e])
  const ok = await c.ok(e.id)
  t.equal(ok[2], false)
  t.match(ok[3], /^auth-required: /)
  const frames = c.pending()
  t.same(frames[0], ['AUTH', challenge], 'the refusal is followed by the AUTH challenge')
  t.same(await storedIds(url), [], 'not stored')
})

t.test('a protected event is accepted after AUTH as its author', async t => {
  const { url } = await startTestRelay(t)
  const { c, challenge } = await connect(url)
  const s = signer()
  const e = s.sign({ tags: [['-']] })
  t.match((await c.publish(e))[3], /^auth-required: /, 'refused before AUTH')
  await c.expect(m => m[0] === 'AUTH')
  t.equal((await auth(c, authEvent(s, challenge, url)))[2], true)
  const ok = await c.publish(e)
  t.equal(ok[2], true, 'accepted after AUTH')
  t.same(await storedIds(url), [e.id])
})

t.test('a protected event from a connection authenticated as another pubkey is refused restricted:', async t => {
  const { url } = await startTestRelay(t)
  const { c, challenge } = await connect(url)
  const author = signer()
  const other = signer()
  t.equal((await auth(c, authEvent(other, challenge, url)))[2], true)
  const e = author.sign({ tags: [['-']] })
  const ok = await c.publish(e)
  t.equal(ok[2], false)
  t.match(ok[3], /^restricted: /)
  t.same(await storedIds(url), [], 'not stored')
})

t.test('with relay.url configured, AUTH naming that URL is accepted', async t => {
  const { url } = await startTestRelay(t, { 'relay.url': 'wss://relay.example.com' })
  const { c, challenge } = await connect(url)
  const ok = await auth(c, authEvent(signer(), challenge, 'wss://relay.example.com'))
  t.equal(ok[2], true)
})

t.test('with relay.url configured, AUTH naming the loopback URL is refused invalid:', async t => {
  const { url } = await startTestRelay(t, { 'relay.url': 'wss://relay.example.com' })
  const { c, challenge } = await connect(url)
  const s = signer()
  const ok = await auth(c, authEvent(s, challenge, url))
  t.equal(ok[2], false)
  t.match(ok[3], /^invalid: /)
  await notAuthenticated(t, c, s)
  t.same(await storedIds(url), [], 'nothing stored')
})
