import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { rawClient, type Frame, type RawClient } from '../helpers/client.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { mined, minedWithTarget, underMined } from '../helpers/pow.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { sleep } from '../helpers/wait.js'

type Flags = Record<string, string | number | boolean>

/** Flags of a relay with the anti-spam policies on, plus `extra`. */
const closed = (extra: Flags = {}): Flags => ({ 'policies.open': false, ...extra })

/** Opens a client and consumes the challenge the relay sends on connect. */
async function connect(url: string): Promise<{ c: RawClient; challenge: string }> {
  const c = await rawClient(url)
  const m = await c.expect(m => m[0] === 'AUTH')
  return { c, challenge: m[1] as string }
}

/** Opens a client authenticated (NIP-42) as each of `signers`. */
async function authedClient(url: string, ...signers: Signer[]): Promise<RawClient> {
  const { c, challenge } = await connect(url)
  for (const s of signers) {
    const e = s.sign({
      kind: 22242,
      tags: [
        ['challenge', challenge],
        ['relay', url],
      ],
    })
    c.send(['AUTH', e])
    const ok = await c.ok(e.id)
    if (ok[2] !== true) throw new Error(`AUTH refused: ${JSON.stringify(ok)}`)
  }
  return c
}

/** Asserts an OK false frame whose reason is exactly `reason` (or matches it). */
function refusedWith(t: Test, ok: Frame, reason: string | RegExp, what: string): void {
  t.equal(ok[2], false, `${what}: OK false`)
  if (typeof reason === 'string') t.equal(ok[3], reason, `${what}: reason`)
  else t.match(ok[3], reason, `${what}: reason`)
}

// ---- kind whitelist

t.test('a kind outside the default whitelist is refused blocked: and not stored', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const note = signer().sign({ kind: 1, content: 'hello' })
  refusedWith(t, await c.publish(note), 'blocked: kind 1 is not accepted here', 'kind 1')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('a whitelisted kind that needs no work is accepted and stored', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const feedback = signer().sign({ kind: 7000, content: 'status' })
  const ok = await c.publish(feedback)
  t.equal(ok[2], true, 'accepted')
  t.same(await storedIds(url), [feedback.id], 'stored')
})

t.test('a configured whitelist accepts its kinds and ranges and refuses the rest', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.kind_whitelist.kinds': '7000,9000-9099' }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  const single = s.sign({ kind: 7000 })
  const inRange = s.sign({ kind: 9050 })
  const outside = s.sign({ kind: 9100 })
  const dropped = s.sign({ kind: 7001 })
  t.equal((await c.publish(single))[2], true, 'a listed kind is accepted')
  t.equal((await c.publish(inRange))[2], true, 'a kind inside a listed range is accepted')
  refusedWith(t, await c.publish(outside), 'blocked: kind 9100 is not accepted here', 'kind past the range')
  refusedWith(t, await c.publish(dropped), 'blocked: kind 7001 is not accepted here', 'unlisted kind')
  t.same((await storedIds(url)).sort(), [single.id, inRange.id].sort(), 'only the accepted ones are stored')
})

// ---- proof of work (default rule: 5000-5999 need 10 bits)

t.test('a job request mined to the required bits is accepted', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const job = mined(signer(), { kind: 5100, content: 'job' }, 10)
  const ok = await c.publish(job)
  t.equal(ok[2], true, 'accepted')
  t.same(await storedIds(url), [job.id], 'stored')
})

t.test('a job request without a nonce tag is refused pow: with 0 proven bits', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const job = signer().sign({ kind: 5100, content: 'job' })
  refusedWith(t, await c.publish(job), 'pow: kind 5100 needs 10 bits committed in a nonce tag, event has 0', 'no nonce')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('work beyond a committed target lower than required does not count', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const job = minedWithTarget(signer(), { kind: 5100, content: 'lucky' }, 10, 5)
  refusedWith(t, await c.publish(job), 'pow: kind 5100 needs 10 bits committed in a nonce tag, event has 5', 'target 5')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('a job request committing to enough bits but with too few zero bits is refused pow:', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const job = underMined(signer(), { kind: 5100, content: 'bluff' }, 10, 10)
  refusedWith(t, await c.publish(job), /^pow: kind 5100 needs 10 bits committed in a nonce tag, event has \d$/, 'bluff')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('an allowlisted pubkey that authenticated skips proof of work', async t => {
  const vip = signer()
  const { url } = await startTestRelay(t, closed({ 'policies.auth_allowlist': vip.pubkey }))
  const c = await authedClient(url, vip)
  t.teardown(() => c.close())
  const job = vip.sign({ kind: 5100, content: 'no work' })
  const ok = await c.publish(job)
  t.equal(ok[2], true, 'accepted without a nonce tag')
  t.same(await storedIds(url), [job.id], 'stored')
})

t.test('an allowlisted pubkey that did not authenticate still needs proof of work', async t => {
  const vip = signer()
  const { url } = await startTestRelay(t, closed({ 'policies.auth_allowlist': vip.pubkey }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const job = vip.sign({ kind: 5100, content: 'no work' })
  refusedWith(t, await c.publish(job), /^pow: kind 5100 needs 10 bits/, 'not authenticated')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('authenticating without being allowlisted does not skip proof of work', async t => {
  const vip = signer()
  const other = signer()
  const { url } = await startTestRelay(t, closed({ 'policies.auth_allowlist': vip.pubkey }))
  const c = await authedClient(url, other)
  t.teardown(() => c.close())
  const job = other.sign({ kind: 5100, content: 'no work' })
  refusedWith(t, await c.publish(job), /^pow: kind 5100 needs 10 bits/, 'authenticated, not allowlisted')
  t.same(await storedIds(url), [], 'nothing stored')
})

// ---- rate limits

/** Sends every event at once (one burst), then collects their OK frames in order. */
async function burst(c: RawClient, events: { id: string }[]): Promise<Frame[]> {
  for (const e of events) c.send(['EVENT', e])
  return Promise.all(events.map(e => c.ok(e.id)))
}

t.test('a burst beyond the per-pubkey bucket is refused rate-limited: and the excess is not stored', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.events_per_pubkey': '*:60' }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  const events = Array.from({ length: 65 }, (_, i) => s.sign({ kind: 7000, content: `n${i}` }))
  const oks = await burst(c, events)
  t.ok(
    oks.slice(0, 60).every(ok => ok[2] === true),
    'the bucket of 60 is spent first',
  )
  const refused = oks.filter(ok => ok[2] === false)
  t.ok(refused.length >= 1, 'at least one event past the bucket is refused')
  for (const ok of refused) t.match(ok[3], /^rate-limited: /, 'refused with rate-limited:')
  const accepted = events.filter((_, i) => oks[i]![2] === true).map(e => e.id)
  t.same((await storedIds(url)).sort(), accepted.sort(), 'only the accepted events are stored')
})

t.test('a pubkey whose bucket ran dry may publish again after a second of refill', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.events_per_pubkey': '*:60' }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  const oks = await burst(
    c,
    Array.from({ length: 62 }, (_, i) => s.sign({ kind: 7000, content: `n${i}` })),
  )
  t.equal(oks.at(-1)![2], false, 'the bucket is empty after the burst')
  await sleep(1500)
  const next = s.sign({ kind: 7000, content: 'after refill' })
  t.equal((await c.publish(next))[2], true, 'accepted after refill')
  t.ok((await storedIds(url, { ids: [next.id] })).includes(next.id), 'stored')
})

t.test('a drained per-pubkey bucket does not limit another pubkey', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.events_per_pubkey': '*:5' }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  const oks = await burst(
    c,
    Array.from({ length: 6 }, (_, i) => s.sign({ kind: 7000, content: `n${i}` })),
  )
  t.match(oks[5]![3], /^rate-limited: /, 'the first pubkey is limited')
  const other = signer().sign({ kind: 7000, content: 'other' })
  t.equal((await c.publish(other))[2], true, 'another pubkey is accepted')
})

t.test('events beyond the per-IP bucket are refused rate-limited: whatever their author', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.events_per_ip': '*:5' }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const events = Array.from({ length: 6 }, (_, i) => signer().sign({ kind: 7000, content: `n${i}` }))
  const oks = await burst(c, events)
  t.ok(
    oks.slice(0, 5).every(ok => ok[2] === true),
    'five events from five pubkeys are accepted',
  )
  t.equal(oks[5]![2], false, 'the sixth is refused')
  t.match(oks[5]![3], /^rate-limited: /)
  t.same(
    (await storedIds(url)).sort(),
    events
      .slice(0, 5)
      .map(e => e.id)
      .sort(),
    'the sixth is not stored',
  )
})

t.test('REQ beyond reads_per_ip is closed rate-limited:', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.reads_per_ip': 5 }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  for (let i = 0; i < 5; i++) {
    const r = await c.req(`r${i}`, { kinds: [7000] })
    t.equal(r.closed, undefined, `REQ ${i + 1} is served`)
  }
  const r = await c.req('over', { kinds: [7000] })
  t.equal(r.closed?.[0], 'CLOSED', 'the sixth REQ is closed')
  t.match(r.closed?.[2], /^rate-limited: /)
})

t.test('COUNT spends the same reads_per_ip budget as REQ', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.reads_per_ip': 3 }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  for (let i = 0; i < 3; i++) t.equal((await c.req(`r${i}`, { kinds: [7000] })).closed, undefined, `REQ ${i + 1}`)
  c.send(['COUNT', 'cnt', { kinds: [7000] }])
  const m = await c.expect(m => m[1] === 'cnt')
  t.equal(m[0], 'CLOSED', 'the COUNT is closed')
  t.match(m[2], /^rate-limited: /)
})

/** Tries a WebSocket upgrade and resolves with the HTTP status and body when the server refuses it. */
function refusedUpgrade(url: string): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => {
        resolve({ status: res.statusCode, body })
        ws.terminate()
      })
    })
    ws.on('open', () => {
      ws.close()
      reject(new Error('the upgrade was accepted'))
    })
    ws.on('error', err => reject(err))
  })
}

t.test('a connection beyond connections_per_ip gets HTTP 429 while open ones keep working', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.connections_per_ip': 3 }))
  const open = [await rawClient(url), await rawClient(url), await rawClient(url)]
  t.teardown(() => open.forEach(c => c.close()))
  const refused = await refusedUpgrade(url)
  t.equal(refused.status, 429, 'HTTP 429 on upgrade')
  t.match(refused.body, /^rate-limited: /, 'the body says why')
  const e = signer().sign({ kind: 7000, content: 'still here' })
  t.equal((await open[0]!.publish(e))[2], true, 'an open connection can still publish')
  const r = await open[2]!.req('q', { ids: [e.id] })
  t.same(
    r.events.map(x => x.id),
    [e.id],
    'an open connection can still read',
  )
})

t.test('closing a connection frees its slot under connections_per_ip', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.rate_limit.connections_per_ip': 2 }))
  const a = await rawClient(url)
  const b = await rawClient(url)
  t.teardown(() => b.close())
  t.equal((await refusedUpgrade(url)).status, 429, 'full')
  a.close()
  await a.closed
  await sleep(100)
  const c = await rawClient(url)
  t.teardown(() => c.close())
  t.equal((await c.expect(m => m[0] === 'AUTH'))[0], 'AUTH', 'a new connection is accepted')
})

// ---- auth writes

t.test('with auth_writes an unauthenticated event is refused auth-required: followed by an AUTH frame', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.auth_writes.enabled': true }))
  const { c, challenge } = await connect(url)
  t.teardown(() => c.close())
  const e = signer().sign({ kind: 7000, content: 'who am i' })
  const ok = await c.publish(e)
  refusedWith(t, ok, /^auth-required: /, 'unauthenticated')
  const again = await c.expect(m => m[0] === 'AUTH')
  t.equal(again[1], challenge, 'the refusal comes with the challenge')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('with auth_writes the refused event is accepted once its author authenticates', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.auth_writes.enabled': true }))
  const s = signer()
  const { c, challenge } = await connect(url)
  t.teardown(() => c.close())
  const e = s.sign({ kind: 7000, content: 'me' })
  refusedWith(t, await c.publish(e), /^auth-required: /, 'before AUTH')
  const auth = s.sign({
    kind: 22242,
    tags: [
      ['challenge', challenge],
      ['relay', url],
    ],
  })
  c.send(['AUTH', auth])
  t.equal((await c.ok(auth.id))[2], true, 'AUTH accepted')
  t.equal((await c.publish(e))[2], true, 'the same event is accepted after AUTH')
  t.same(await storedIds(url), [e.id], 'stored')
})

t.test('with auth_writes an event by a pubkey other than the authenticated one is refused restricted:', async t => {
  const { url } = await startTestRelay(t, closed({ 'policies.auth_writes.enabled': true }))
  const c = await authedClient(url, signer())
  t.teardown(() => c.close())
  const e = signer().sign({ kind: 7000, content: 'not mine' })
  refusedWith(t, await c.publish(e), /^restricted: /, 'other author')
  t.same(await storedIds(url), [], 'nothing stored')
})

// ---- private reads (7117 private; 7000 public). The market is off: these 7117s are no escrow locks.

const privateFlags = closed({
  'policies.private_reads.enabled': true,
  'policies.private_reads.kinds': '7117',
  'market.enabled': false,
})

t.test('stored private events are served only to their author or p-tagged party after AUTH', async t => {
  const { url } = await startTestRelay(t, privateFlags)
  const author = signer()
  const party = signer()
  const stranger = signer()
  const pub = await rawClient(url)
  t.teardown(() => pub.close())
  const secret = author.sign({ kind: 7117, tags: [['p', party.pubkey]], content: 'escrow' })
  const open = author.sign({ kind: 7000, content: 'public' })
  t.equal((await pub.publish(secret))[2], true, 'the private event is accepted')
  t.equal((await pub.publish(open))[2], true, 'the public event is accepted')
  const filter = { kinds: [7000, 7117] }
  const idsFor = async (...as: Signer[]) => {
    const c = await authedClient(url, ...as)
    try {
      return (await c.req('q', filter)).events.map(e => e.id).sort()
    } finally {
      c.close()
    }
  }
  t.same(await idsFor(), [open.id], 'an unauthenticated reader sees only the public event')
  t.same(await idsFor(stranger), [open.id], 'a stranger sees only the public event')
  t.same(await idsFor(author), [secret.id, open.id].sort(), 'the author sees both')
  t.same(await idsFor(party), [secret.id, open.id].sort(), 'the p-tagged party sees both')
  t.same(await storedIds(url, { ids: [secret.id] }), [], 'a lookup by id does not reveal it either')
})

t.test('live private events reach only their author or p-tagged party', async t => {
  const { url } = await startTestRelay(t, privateFlags)
  const author = signer()
  const party = signer()
  const stranger = signer()
  const watchers = {
    anonymous: await authedClient(url),
    stranger: await authedClient(url, stranger),
    party: await authedClient(url, party),
    author: await authedClient(url, author),
  }
  t.teardown(() => Object.values(watchers).forEach(c => c.close()))
  for (const c of Object.values(watchers)) await c.req('live', { kinds: [7117], limit: 0 })
  const secret = author.sign({ kind: 7117, tags: [['p', party.pubkey]], content: 'escrow' })
  t.equal((await watchers.author.publish(secret))[2], true, 'published')
  const got = (c: RawClient) => c.expect(m => m[0] === 'EVENT' && m[1] === 'live', 2000)
  t.equal(((await got(watchers.party))[2] as { id: string }).id, secret.id, 'the party gets it live')
  t.equal(((await got(watchers.author))[2] as { id: string }).id, secret.id, 'the author gets it live')
  await sleep(300)
  t.same(
    watchers.anonymous.pending().filter(m => m[0] === 'EVENT'),
    [],
    'an unauthenticated subscriber gets nothing',
  )
  t.same(
    watchers.stranger.pending().filter(m => m[0] === 'EVENT'),
    [],
    'a stranger gets nothing',
  )
})

t.test('COUNT that could match a private kind is closed restricted:', async t => {
  const { url } = await startTestRelay(t, privateFlags)
  const author = signer()
  const c = await authedClient(url, author)
  t.teardown(() => c.close())
  const secret = author.sign({ kind: 7117, tags: [['p', author.pubkey]], content: 'escrow' })
  t.equal((await c.publish(secret))[2], true, 'stored')
  for (const [name, filter] of [
    ['naming the private kind', { kinds: [7117] }],
    ['naming no kinds', { authors: [author.pubkey] }],
  ] as const) {
    c.send(['COUNT', name, filter])
    const m = await c.expect(m => m[1] === name)
    t.equal(m[0], 'CLOSED', `${name}: closed`)
    t.match(m[2], /^restricted: /, `${name}: restricted:`)
  }
  t.same(
    (await c.req('after', { kinds: [7117] })).events.map(e => e.id),
    [secret.id],
    'the store is unchanged',
  )
})

t.test('COUNT naming only public kinds is answered while private reads are on', async t => {
  const { url } = await startTestRelay(t, privateFlags)
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  t.equal((await c.publish(s.sign({ kind: 7000, content: 'a' })))[2], true)
  t.equal((await c.publish(s.sign({ kind: 7117, content: 'b' })))[2], true)
  c.send(['COUNT', 'pub', { kinds: [7000] }])
  const m = await c.expect(m => m[1] === 'pub')
  t.same(m, ['COUNT', 'pub', { count: 1 }])
})

// ---- checks that apply whatever the anti-spam settings

t.test('created_at outside the window is still refused invalid: with policies on', async t => {
  const { url } = await startTestRelay(t, closed())
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  const old = s.sign({ kind: 7000, created_at: now() - 4 * 365 * 86400 })
  const future = s.sign({ kind: 7000, created_at: now() + 3600 })
  refusedWith(t, await c.publish(old), /^invalid: created_at is more than \d+ seconds in the past$/, 'too old')
  refusedWith(t, await c.publish(future), /^invalid: created_at is more than \d+ seconds in the future$/, 'future')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('size caps still apply with policies on', async t => {
  const { url } = await startTestRelay(t, closed({ 'limits.max_content_length': 100, 'limits.max_event_tags': 5 }))
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const s = signer()
  const long = s.sign({ kind: 7000, content: 'x'.repeat(101) })
  const tagged = s.sign({ kind: 7000, tags: Array.from({ length: 6 }, (_, i) => ['t', `t${i}`]) })
  refusedWith(t, await c.publish(long), 'invalid: content is 101 characters, limit 100', 'content')
  refusedWith(t, await c.publish(tagged), 'invalid: event has 6 tags, limit 5', 'tags')
  const fits = s.sign({ kind: 7000, content: 'x'.repeat(100), tags: Array.from({ length: 5 }, () => ['t', 'x']) })
  t.equal((await c.publish(fits))[2], true, 'an event at both caps is accepted')
  t.same(await storedIds(url), [fits.id], 'only it is stored')
})

t.test('policies.open accepts a kind-1 note without proof of work', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': true })
  const c = await rawClient(url)
  t.teardown(() => c.close())
  const note = signer().sign({ kind: 1, content: 'hello' })
  t.equal((await c.publish(note))[2], true, 'accepted')
  t.same(await storedIds(url), [note.id], 'stored')
})
