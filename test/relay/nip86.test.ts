// The management API (NIP-86) against a real relay: NIP-98-signed POSTs to its URL, real WebSocket clients, real
// SQLite files. Each change must apply at once and survive a restart.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import t from 'tap'
import WebSocket from 'ws'
import { connectFor, putAll, queryIds, rawClient } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { call, httpUrl, manage } from '../helpers/manage.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const admin = signer()
const ADMINS = { 'relay.admins': [admin.pubkey] }

const nip11 = async (url: string) =>
  (await (await fetch(httpUrl(url), { headers: { Accept: 'application/nostr+json' } })).json()) as Record<
    string,
    unknown
  >

/** Ids stored in the data dir's database, read past the relay (proves a ban hides rather than deletes). */
function storeHolds(dataDir: string, ids: string[]): string[] {
  const db = new Database(join(dataDir, 'agora.sqlite'), { readonly: true })
  try {
    const get = db.prepare('SELECT 1 FROM events WHERE id = ?').pluck()
    return ids.filter(id => get.get(id) !== undefined)
  } finally {
    db.close()
  }
}

/** The COUNT a relay answers for a filter. */
async function countOf(url: string, filter: object): Promise<unknown> {
  const c = await rawClient(url)
  try {
    c.send(['COUNT', 'n', filter])
    const m = await c.expect(m => m[1] === 'n')
    return m[0] === 'COUNT' ? (m[2] as { count: number }).count : m
  } finally {
    c.close()
  }
}

/** Resolves with the HTTP status a WebSocket upgrade got, or 101 when it opened (then closes it). */
const upgradeStatus = (url: string) =>
  new Promise<{ status: number; body: string }>(resolve => {
    const ws = new WebSocket(url)
    ws.on('open', () => {
      ws.close()
      resolve({ status: 101, body: '' })
    })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.on('error', () => undefined)
  })

t.test('supported_nips lists 86 only when relay.admins is set', async t => {
  const off = await startTestRelay(t)
  const on = await startTestRelay(t, ADMINS)
  t.notOk((await nip11(off.url)).supported_nips!.toString().split(',').includes('86'), 'no admins: no 86')
  t.ok((await nip11(on.url)).supported_nips!.toString().split(',').includes('86'), 'admins: 86')
})

t.test('without relay.admins the API answers 404 and changes nothing', async t => {
  const { url } = await startTestRelay(t)
  const r = await manage(url, admin.sk, 'banpubkey', [signer().pubkey])
  t.equal(r.status, 404)
  t.match(r.error, /^restricted: relay management \(NIP-86\) is off/)
})

t.test('a request without Authorization is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { authorization: '' })
  t.equal(r.status, 401)
  t.equal(r.result, null)
  t.match(r.error, /^auth-required: send an Authorization header \(NIP-98\)/)
})

t.test('a token that is not base64 of an event is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { authorization: 'Nostr bm90IGpzb24=' })
  t.equal(r.status, 401)
  t.match(r.error, /^invalid: the Authorization token is not base64 of a JSON event/)
})

t.test('a valid token from a pubkey that is not an admin is refused with 403', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const stranger = signer()
  const r = await manage(url, stranger.sk, 'banpubkey', [admin.pubkey, 'coup'])
  t.equal(r.status, 403)
  t.equal(r.error, `restricted: ${stranger.pubkey} is not an admin of this relay`)
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [], 'nothing was banned')
})

t.test('a token whose payload hash is not the body’s is refused with 401 and changes nothing', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const victim = signer().pubkey
  const r = await manage(url, admin.sk, 'banpubkey', [victim], {
    signedBody: { method: 'listbannedpubkeys', params: [] },
  })
  t.equal(r.status, 401)
  t.match(r.error, /^invalid: the Authorization event's payload tag must be the sha256 hex of the request body/)
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [])
})

t.test('a token without a payload tag is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], {
    edit: e => ({ ...e, tags: e.tags.filter(tag => tag[0] !== 'payload') }),
  })
  t.equal(r.status, 401)
  t.match(r.error, /payload tag must be the sha256 hex/)
})

t.test('a token for another URL is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { u: 'https://other.example.com' })
  t.equal(r.status, 401)
  t.match(r.error, /^invalid: the Authorization event's u tag must be this relay's URL/)
})

t.test('the u tag may name the relay as ws:// or with a trailing slash', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  t.equal((await manage(url, admin.sk, 'supportedmethods', [], { u: url })).status, 200, 'ws:// URL')
  t.equal((await manage(url, admin.sk, 'supportedmethods', [], { u: httpUrl(url) + '/' })).status, 200, 'slash')
})

t.test('with relay.url set, the token must name that URL', async t => {
  const { url } = await startTestRelay(t, { ...ADMINS, 'relay.url': 'wss://relay.example.com' })
  const local = await manage(url, admin.sk, 'supportedmethods')
  t.equal(local.status, 401)
  t.match(local.error, /u tag must be this relay's URL \(relay\.example\.com\)/)
  const named = await manage(url, admin.sk, 'supportedmethods', [], { u: 'https://relay.example.com' })
  t.equal(named.status, 200)
})

t.test('a token for another HTTP method is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { method: 'get' })
  t.equal(r.status, 401)
  t.match(r.error, /method tag must be POST/)
})

t.test('a stale token is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { edit: e => ({ ...e, created_at: now() - 600 }) })
  t.equal(r.status, 401)
  t.match(r.error, /created_at must be within 60 seconds of now/)
})

t.test('a token of another kind is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { edit: e => ({ ...e, kind: 22242 }) })
  t.equal(r.status, 401)
  t.match(r.error, /must be kind 27235/)
})

t.test('a token whose signature does not verify is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const body = { method: 'supportedmethods', params: [] }
  const { getToken } = await import('nostr-tools/nip98')
  const { finalizeEvent } = await import('nostr-tools/pure')
  const token = await getToken(
    httpUrl(url),
    'post',
    e => {
      const signed = finalizeEvent(e, admin.sk)
      return { ...signed, sig: (signed.sig[0] === 'a' ? 'b' : 'a') + signed.sig.slice(1) }
    },
    true,
    body,
  )
  const r = await manage(url, admin.sk, 'supportedmethods', [], { authorization: token })
  t.equal(r.status, 401)
  t.equal(r.error, 'invalid: the Authorization event signature does not verify')
})

t.test('a token is accepted once: a replay is refused with 401', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const { getToken } = await import('nostr-tools/nip98')
  const { finalizeEvent } = await import('nostr-tools/pure')
  const body = { method: 'listbannedpubkeys', params: [] }
  const token = await getToken(httpUrl(url), 'post', e => finalizeEvent(e, admin.sk), true, body)
  t.equal((await manage(url, admin.sk, 'listbannedpubkeys', [], { authorization: token })).status, 200)
  const again = await manage(url, admin.sk, 'listbannedpubkeys', [], { authorization: token })
  t.equal(again.status, 401)
  t.match(again.error, /used already/)
})

t.test('a POST with another Content-Type is refused with 415', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'supportedmethods', [], { contentType: 'application/json' })
  t.equal(r.status, 415)
  t.match(r.error, /Content-Type: application\/nostr\+json\+rpc/)
})

t.test('a body over 64 KiB is refused with 413 before it is read further', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const res = await fetch(httpUrl(url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/nostr+json+rpc' },
    body: JSON.stringify({ method: 'changerelaydescription', params: ['x'.repeat(70_000)] }),
  })
  t.equal(res.status, 413)
  t.equal(await res.text(), 'request body too large')
})

t.test('a browser may call the API: the preflight allows POST with Authorization', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const res = await fetch(httpUrl(url), {
    method: 'OPTIONS',
    headers: {
      Origin: 'https://admin.example.com',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type',
    },
  })
  await res.text()
  t.match(res.headers.get('access-control-allow-methods'), /POST/)
  t.match(res.headers.get('access-control-allow-headers'), /Authorization/)
  const r = await fetch(httpUrl(url), { method: 'POST', headers: { 'Content-Type': 'application/nostr+json+rpc' } })
  t.equal(r.headers.get('access-control-allow-origin'), '*', 'replies carry CORS too')
  t.equal(r.status, 401)
  await r.text()
})

t.test('supportedmethods lists every method agora answers', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const names = (await call(url, admin.sk, 'supportedmethods')) as string[]
  for (const m of [
    'banpubkey',
    'unbanpubkey',
    'allowpubkey',
    'listbannedpubkeys',
    'banevent',
    'unbanevent',
    'allowevent',
    'listbannedevents',
    'allowkind',
    'disallowkind',
    'listallowedkinds',
    'listdisallowedkinds',
    'blockip',
    'unblockip',
    'listblockedips',
    'changerelayname',
    'changerelaydescription',
    'changerelayicon',
  ])
    t.ok(names.includes(m), m)
  t.notOk(names.includes('listallowedpubkeys'), 'no allow lists are claimed')
})

t.test('an unknown method and bad parameters answer with an error and change nothing', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const unknown = await manage(url, admin.sk, 'createrole', ['x'])
  t.equal(unknown.status, 200)
  t.match(unknown.error, /^invalid: unsupported method createrole/)
  const proto = await manage(url, admin.sk, 'toString')
  t.match(proto.error, /^invalid: unsupported method toString/)
  const badKey = await manage(url, admin.sk, 'banpubkey', ['npub1notahexkey'])
  t.match(badKey.error, /^invalid: params\[0\] must be the pubkey as 64 lowercase hex/)
  const badReason = await manage(url, admin.sk, 'banpubkey', [signer().pubkey, 42])
  t.match(badReason.error, /^invalid: params\[1\], the reason, must be a string/)
  const badKind = await manage(url, admin.sk, 'allowkind', [70000])
  t.match(badKind.error, /^invalid: params\[0\] must be a kind/)
  const badIp = await manage(url, admin.sk, 'blockip', ['300.1.1.1'])
  t.match(badIp.error, /^invalid: params\[0\] must be an IPv4 or IPv6 address/)
  const badIcon = await manage(url, admin.sk, 'changerelayicon', ['javascript:alert(1)'])
  t.match(badIcon.error, /^invalid: params\[0\] must be an http\(s\) URL/)
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [])
  t.same(await call(url, admin.sk, 'listallowedkinds'), [])
  t.same(await call(url, admin.sk, 'listblockedips'), [])
  t.equal((await nip11(url)).icon, undefined)
})

t.test('the relay’s own pubkey cannot be banned', async t => {
  const { url, relay } = await startTestRelay(t, ADMINS)
  const r = await manage(url, admin.sk, 'banpubkey', [relay.pubkey])
  t.equal(r.error, "invalid: the relay's own pubkey cannot be banned")
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [])
})

t.test('banpubkey hides the stored events, refuses new ones and stops live delivery; allowpubkey restores', async t => {
  const { url, dataDir } = await startTestRelay(t, ADMINS)
  const spammer = signer()
  const other = signer()
  const c = await connectFor(t, url)
  const old = [spammer.sign({ content: 'a' }), spammer.sign({ content: 'b' })]
  const kept = other.sign({ content: 'c' })
  await putAll(c, ...old, kept)
  const watcher = await connectFor(t, url)
  await watcher.req('live', { kinds: [1], since: now() })

  t.equal(await call(url, admin.sk, 'banpubkey', [spammer.pubkey, 'spam']), true)
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [{ pubkey: spammer.pubkey, reason: 'spam' }])
  t.same(await queryIds(c, { authors: [spammer.pubkey] }), [], 'REQ no longer serves them')
  t.same(await queryIds(c, { kinds: [1] }), [kept.id], 'others stay served')
  t.equal(await countOf(url, { authors: [spammer.pubkey] }), 0, 'COUNT leaves them out')
  t.equal(await countOf(url, { kinds: [1] }), 1)
  t.same(
    storeHolds(
      dataDir,
      old.map(e => e.id),
    ).sort(),
    old.map(e => e.id).sort(),
    'the store still holds them',
  )

  const fresh = spammer.sign({ content: 'd' })
  t.same(await c.publish(fresh), ['OK', fresh.id, false, 'blocked: this pubkey is banned from this relay'])
  t.same(storeHolds(dataDir, [fresh.id]), [], 'the refused event is not stored')
  // A live subscriber sees the other author's new event and nothing of the banned one.
  const marker = other.sign({ content: 'after the ban' })
  await putAll(c, marker)
  await watcher.expect(m => m[0] === 'EVENT' && (m[2] as { id: string }).id === marker.id)
  t.notOk(
    watcher.pending().some(m => m[0] === 'EVENT' && (m[2] as { pubkey: string }).pubkey === spammer.pubkey),
    'nothing of the banned pubkey arrived live',
  )

  t.equal(await call(url, admin.sk, 'allowpubkey', [spammer.pubkey]), true)
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [])
  t.same((await queryIds(c, { authors: [spammer.pubkey] })).sort(), old.map(e => e.id).sort(), 'served again')
  t.equal((await c.publish(fresh))[2], true, 'accepted again')
  await watcher.expect(m => m[0] === 'EVENT' && (m[2] as { id: string }).id === fresh.id)
})

t.test('a banned pubkey’s ephemeral events are refused and never delivered live', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const spammer = signer()
  const watcher = await connectFor(t, url)
  await watcher.req('live', { authors: [spammer.pubkey] })
  await call(url, admin.sk, 'banpubkey', [spammer.pubkey])
  const c = await connectFor(t, url)
  const eph = spammer.sign({ kind: 20001 })
  t.same(await c.publish(eph), ['OK', eph.id, false, 'blocked: this pubkey is banned from this relay'])
  await sleep(200)
  t.same(
    watcher.pending().filter(m => m[0] === 'EVENT'),
    [],
    'nothing delivered',
  )
})

t.test('unbanpubkey lifts a ban like allowpubkey', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const k = signer().pubkey
  await call(url, admin.sk, 'banpubkey', [k])
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [{ pubkey: k }], 'no reason given: none listed')
  await call(url, admin.sk, 'unbanpubkey', [k])
  t.same(await call(url, admin.sk, 'listbannedpubkeys'), [])
})

t.test('bans, kinds, blocked addresses and the relay name survive a restart', async t => {
  const dataDir = tempDir(t)
  const spammer = signer()
  const first = await startTestRelay(t, ADMINS, dataDir)
  const c1 = await rawClient(first.url)
  const old = spammer.sign({ content: 'before' })
  const banned = signer().sign({ content: 'banned event' })
  await putAll(c1, old, banned)
  c1.close()
  await call(first.url, admin.sk, 'banpubkey', [spammer.pubkey, 'spam'])
  await call(first.url, admin.sk, 'banevent', [banned.id, 'illegal'])
  await call(first.url, admin.sk, 'disallowkind', [7])
  await call(first.url, admin.sk, 'blockip', ['203.0.113.9', 'abuse'])
  await call(first.url, admin.sk, 'changerelayname', ['renamed'])
  await first.relay.close()

  const second = await startTestRelay(t, ADMINS, dataDir)
  const c = await connectFor(t, second.url)
  t.same(await queryIds(c, { ids: [old.id, banned.id] }), [], 'both stay hidden')
  const fresh = spammer.sign({ content: 'after' })
  t.same(await c.publish(fresh), ['OK', fresh.id, false, 'blocked: this pubkey is banned from this relay'])
  const reaction = signer().sign({ kind: 7 })
  t.same(await c.publish(reaction), ['OK', reaction.id, false, 'blocked: kind 7 is not accepted here'])
  t.same(await call(second.url, admin.sk, 'listbannedpubkeys'), [{ pubkey: spammer.pubkey, reason: 'spam' }])
  t.same(await call(second.url, admin.sk, 'listbannedevents'), [{ id: banned.id, reason: 'illegal' }])
  t.same(await call(second.url, admin.sk, 'listdisallowedkinds'), [7])
  t.same(await call(second.url, admin.sk, 'listblockedips'), [{ ip: '203.0.113.9', reason: 'abuse' }])
  t.equal((await nip11(second.url)).name, 'renamed')
})

t.test('banevent hides the event and refuses it when published again; allowevent lifts it', async t => {
  const { url, dataDir } = await startTestRelay(t, ADMINS)
  const author = signer()
  const c = await connectFor(t, url)
  const bad = author.sign({ content: 'bad' })
  const fine = author.sign({ content: 'fine' })
  await putAll(c, bad, fine)
  t.equal(await call(url, admin.sk, 'banevent', [bad.id, 'illegal content']), true)
  t.same(await call(url, admin.sk, 'listbannedevents'), [{ id: bad.id, reason: 'illegal content' }])
  t.same(await queryIds(c, { authors: [author.pubkey] }), [fine.id], 'only the banned event is hidden')
  t.same(await queryIds(c, { ids: [bad.id] }), [])
  t.equal(await countOf(url, { ids: [bad.id] }), 0)
  t.same(await c.publish(bad), ['OK', bad.id, false, 'blocked: this event is banned from this relay'])
  t.same(storeHolds(dataDir, [bad.id]), [bad.id], 'kept in the store, hidden')
  t.equal(await call(url, admin.sk, 'allowevent', [bad.id]), true)
  t.same(await call(url, admin.sk, 'listbannedevents'), [])
  t.same(await queryIds(c, { ids: [bad.id] }), [bad.id], 'served again')
})

t.test('a banned event that was never stored is refused when first published', async t => {
  const { url, dataDir } = await startTestRelay(t, ADMINS)
  const e = signer().sign({ content: 'known bad' })
  await call(url, admin.sk, 'banevent', [e.id])
  const c = await connectFor(t, url)
  t.same(await c.publish(e), ['OK', e.id, false, 'blocked: this event is banned from this relay'])
  t.same(storeHolds(dataDir, [e.id]), [])
})

t.test('allowkind admits a kind the whitelist refuses; disallowkind refuses a kind it admits', async t => {
  const { url } = await startTestRelay(t, {
    ...ADMINS,
    'policies.open': false,
    'policies.pow.enabled': false,
    'policies.rate_limit.enabled': false,
  })
  const author = signer()
  const c = await connectFor(t, url)
  const note = author.sign({ kind: 1 })
  t.same(await c.publish(note), ['OK', note.id, false, 'blocked: kind 1 is not accepted here'], 'whitelist refuses')
  t.equal(await call(url, admin.sk, 'allowkind', [1]), true)
  t.equal((await c.publish(note))[2], true, 'allowed through the API')
  const profile = author.sign({ kind: 0, content: '{}' })
  t.equal(await call(url, admin.sk, 'disallowkind', [0]), true)
  t.same(await c.publish(profile), ['OK', profile.id, false, 'blocked: kind 0 is not accepted here'])
  t.same(await call(url, admin.sk, 'listallowedkinds'), [1])
  t.same(await call(url, admin.sk, 'listdisallowedkinds'), [0])
  // The last word on a kind wins: disallowing 1 takes it off the allow list.
  await call(url, admin.sk, 'disallowkind', ['1'])
  t.same(await call(url, admin.sk, 'listallowedkinds'), [])
  t.same(await call(url, admin.sk, 'listdisallowedkinds'), [0, 1])
  const note2 = author.sign({ kind: 1, content: 'again' })
  t.same(await c.publish(note2), ['OK', note2.id, false, 'blocked: kind 1 is not accepted here'])
})

t.test('disallowkind holds on an open relay too', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const c = await connectFor(t, url)
  await call(url, admin.sk, 'disallowkind', [1])
  const note = signer().sign({ kind: 1 })
  t.same(await c.publish(note), ['OK', note.id, false, 'blocked: kind 1 is not accepted here'])
  await call(url, admin.sk, 'allowkind', [1])
  t.equal((await c.publish(note))[2], true)
})

t.test('blockip closes the open connections from the address and refuses new ones; unblockip lifts it', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  const open = await rawClient(url)
  t.teardown(() => open.close())
  t.equal(await call(url, admin.sk, 'blockip', ['127.0.0.1', 'flood']), true)
  t.equal(await open.closed, 1008, 'the open connection is closed as a policy violation')
  t.same(await upgradeStatus(url), { status: 403, body: 'blocked: connections from this address are refused' })
  // HTTP stays open, so the operator can still manage the relay from there.
  t.same(await call(url, admin.sk, 'listblockedips'), [{ ip: '127.0.0.1', reason: 'flood' }])
  t.equal((await nip11(url)).software, 'agora')
  t.equal(await call(url, admin.sk, 'unblockip', ['127.0.0.1']), true)
  t.equal((await upgradeStatus(url)).status, 101, 'connections are accepted again')
})

t.test('a block matches an address however it is written', async t => {
  const { url } = await startTestRelay(t, ADMINS)
  await call(url, admin.sk, 'blockip', ['::ffff:127.0.0.1'])
  t.same(await call(url, admin.sk, 'listblockedips'), [{ ip: '127.0.0.1' }])
  t.equal((await upgradeStatus(url)).status, 403)
  await call(url, admin.sk, 'blockip', ['0:0:0:0:0:0:0:1'])
  t.same((await call(url, admin.sk, 'listblockedips')) as unknown[], [{ ip: '127.0.0.1' }, { ip: '::1' }])
})

t.test('blockip goes by the proxy header’s address when relay.real_ip_header is set', async t => {
  const { url } = await startTestRelay(t, { ...ADMINS, 'relay.real_ip_header': 'x-forwarded-for' })
  await call(url, admin.sk, 'blockip', ['198.51.100.7'])
  const viaProxy = (ip: string) =>
    new Promise<number>(resolve => {
      const ws = new WebSocket(url, { headers: { 'X-Forwarded-For': ip } })
      ws.on('open', () => {
        ws.close()
        resolve(101)
      })
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => undefined)
    })
  t.equal(await viaProxy('198.51.100.7'), 403, 'the blocked client')
  t.equal(await viaProxy('198.51.100.8'), 101, 'another client behind the same proxy')
})

t.test('changerelayname, description and icon show in NIP-11 and on the landing page at once', async t => {
  const { url, cfg } = await startTestRelay(t, ADMINS)
  await call(url, admin.sk, 'changerelayname', ['Night Market'])
  await call(url, admin.sk, 'changerelaydescription', ['Agents & <friends>'])
  await call(url, admin.sk, 'changerelayicon', ['https://example.com/icon.png'])
  const doc = await nip11(url)
  t.equal(doc.name, 'Night Market')
  t.equal(doc.description, 'Agents & <friends>')
  t.equal(doc.icon, 'https://example.com/icon.png')
  const page = await (await fetch(httpUrl(url))).text()
  t.match(page, '<h1>Night Market</h1>')
  t.match(page, 'Agents &#38; &#60;friends&#62;', 'escaped')
  // An empty value gives the field back to the config file.
  await call(url, admin.sk, 'changerelayname', [''])
  t.equal((await nip11(url)).name, cfg.relay.name)
})
