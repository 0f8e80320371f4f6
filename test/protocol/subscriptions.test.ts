import t, { type Test } from 'tap'
import { rawClient, type Frame, type RawClient } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { sleep } from '../helpers/wait.js'

const isEvent = (subId: string, id?: string) => (m: Frame) =>
  m[0] === 'EVENT' && m[1] === subId && (id === undefined || (m[2] as { id: string }).id === id)

/** Frames of `c` that arrived and were not consumed, matching `pred`. */
const pendingMatching = (c: RawClient, pred: (m: Frame) => boolean) => c.pending().filter(pred)

/** Publishes from `c` and asserts OK true; live deliveries to `c` are sent before its OK (fan-out at commit). */
async function published(t: Test, c: RawClient, e: { id: string }): Promise<void> {
  const ok = await c.publish(e)
  t.equal(ok[2], true, `event ${e.id.slice(0, 8)} accepted`)
}

/** Asserts that a refused REQ left the connection able to run a REQ and the store as it was. */
async function stillServes(t: Test, c: RawClient, url: string, stored: string[]): Promise<void> {
  const r = await c.req('after-refusal', { ids: stored })
  t.notOk(r.closed, 'a valid REQ on the same connection is answered')
  t.same(r.events.map(e => e.id).sort(), [...stored].sort(), 'the same connection still reads the stored events')
  t.same((await storedIds(url)).sort(), [...stored].sort(), 'stored data unchanged')
}

t.test('a REQ with an open subscription id replaces its filters', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const a = signer()
  const b = signer()
  t.same((await c.req('s', { authors: [a.pubkey] })).events, [])
  t.same((await c.req('s', { authors: [b.pubkey] })).events, [])
  const fromA = a.sign({ content: 'old filter' })
  const fromB = b.sign({ content: 'new filter' })
  await published(t, c, fromA)
  await published(t, c, fromB)
  await c.expect(isEvent('s', fromB.id))
  await sleep(100)
  t.same(pendingMatching(c, isEvent('s')), [], 'the old filter no longer delivers')
})

t.test('replacing a subscription at limits.max_subscriptions is not refused', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_subscriptions': 2 })
  const c = await rawClient(url)
  const a = signer()
  t.notOk((await c.req('one', { kinds: [1] })).closed)
  t.notOk((await c.req('two', { kinds: [2] })).closed)
  const again = await c.req('one', { authors: [a.pubkey] })
  t.notOk(again.closed, 'the replacing REQ gets EOSE, not CLOSED')
  const e = a.sign()
  await published(t, c, e)
  await c.expect(isEvent('one', e.id))
})

t.test('CLOSE stops live delivery on that subscription', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const a = signer()
  await c.req('s', { authors: [a.pubkey] })
  const before = a.sign({ content: 'before CLOSE' })
  await published(t, c, before)
  await c.expect(isEvent('s', before.id))
  c.send(['CLOSE', 's'])
  const after = a.sign({ content: 'after CLOSE' })
  await published(t, c, after)
  await sleep(200)
  t.same(pendingMatching(c, isEvent('s')), [], 'nothing delivered after CLOSE')
  t.same(
    pendingMatching(c, m => m[0] === 'CLOSED' || m[0] === 'NOTICE'),
    [],
    'CLOSE gets no reply',
  )
})

t.test('a stored event matching several filters of one REQ is sent once', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const a = signer()
  const e = a.sign({ tags: [['t', 'x']] })
  await published(t, c, e)
  const r = await c.req('s', { authors: [a.pubkey] }, { ids: [e.id] }, { '#t': ['x'] }, { kinds: [1] })
  t.same(
    r.events.map(x => x.id),
    [e.id],
  )
})

t.test('a live event matching several filters of one subscription is delivered once', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const p = await rawClient(url)
  const a = signer()
  await c.req('s', { authors: [a.pubkey] }, { '#t': ['x'] }, { kinds: [1] }, {})
  const e = a.sign({ tags: [['t', 'x']] })
  await published(t, p, e)
  await c.expect(isEvent('s', e.id))
  await sleep(200)
  t.same(pendingMatching(c, isEvent('s')), [], 'no second copy')
})

t.test('a live event after EOSE reaches the matching subscription and not the others', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const p = await rawClient(url)
  const a = signer()
  const b = signer()
  await c.req('for-a', { authors: [a.pubkey] })
  await c.req('for-b', { authors: [b.pubkey] })
  await c.req('kind-7', { kinds: [7] })
  const e = a.sign()
  await published(t, p, e)
  await c.expect(isEvent('for-a', e.id))
  // A later event for the other subscription: once it arrives, anything sent for `e` has arrived too.
  const marker = b.sign()
  await published(t, p, marker)
  await c.expect(isEvent('for-b', marker.id))
  t.same(
    pendingMatching(c, m => m[0] === 'EVENT'),
    [],
    'for-b and kind-7 did not get the event',
  )
})

t.test('two subscriptions on one connection each get a matching event under their own id', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const p = await rawClient(url)
  const a = signer()
  await c.req('by-author', { authors: [a.pubkey] })
  await c.req('by-kind', { kinds: [1] })
  const e = a.sign()
  await published(t, p, e)
  await c.expect(isEvent('by-author', e.id))
  await c.expect(isEvent('by-kind', e.id))
})

t.test('a subscription over limits.max_subscriptions is CLOSED restricted: and the open ones keep working', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_subscriptions': 2 })
  const c = await rawClient(url)
  const p = await rawClient(url)
  const a = signer()
  t.notOk((await c.req('one', { authors: [a.pubkey] })).closed)
  t.notOk((await c.req('two', { kinds: [1] })).closed)
  const third = await c.req('three', { kinds: [1] })
  t.equal(third.closed?.[1], 'three')
  t.match(third.closed?.[2], /^restricted: /)
  const e = a.sign()
  await published(t, p, e)
  await c.expect(isEvent('one', e.id))
  await c.expect(isEvent('two', e.id))
  await sleep(100)
  t.same(pendingMatching(c, isEvent('three')), [], 'the refused subscription gets nothing')
  t.same(await storedIds(url), [e.id], 'stored data unchanged by the refusal')
})

t.test('a REQ with more filters than limits.max_filters is CLOSED invalid:', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_filters': 2 })
  const c = await rawClient(url)
  const e = signer().sign()
  await published(t, c, e)
  t.notOk((await c.req('two', { kinds: [1] }, { kinds: [2] })).closed, 'two filters are allowed')
  const r = await c.req('three', { kinds: [1] }, { kinds: [2] }, { kinds: [3] })
  t.equal(r.closed?.[1], 'three')
  t.match(r.closed?.[2], /^invalid: /)
  t.same(r.events, [], 'no events sent for the refused REQ')
  await stillServes(t, c, url, [e.id])
})

t.test('a subscription id longer than 64 characters is CLOSED invalid: under that id', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const e = signer().sign()
  await published(t, c, e)
  t.notOk((await c.req('x'.repeat(64), { kinds: [1] })).closed, '64 characters are allowed')
  const long = 'y'.repeat(65)
  const r = await c.req(long, { kinds: [1] })
  t.equal(r.closed?.[1], long)
  t.match(r.closed?.[2], /^invalid: /)
  t.same(r.events, [])
  await stillServes(t, c, url, [e.id])
})

t.test('an empty or non-string subscription id gets NOTICE invalid:', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const e = signer().sign()
  await published(t, c, e)
  for (const [name, subId] of [
    ['empty', ''],
    ['number', 5],
    ['null', null],
    ['object', { a: 1 }],
    ['array', ['s']],
  ] as const) {
    c.send(['REQ', subId, { kinds: [1] }])
    const n = await c.expect(m => m[0] === 'NOTICE')
    t.match(n[1], /^invalid: /, name)
  }
  await sleep(100)
  t.same(
    pendingMatching(c, m => m[0] === 'EVENT' || m[0] === 'EOSE' || m[0] === 'CLOSED'),
    [],
    'no subscription was opened',
  )
  await stillServes(t, c, url, [e.id])
})

t.test('a filter with an unknown key is CLOSED invalid:', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const e = signer().sign()
  await published(t, c, e)
  const r = await c.req('s', { kinds: [1], colour: 'red' })
  t.equal(r.closed?.[1], 's')
  t.match(r.closed?.[2], /^invalid: .*colour/)
  t.same(r.events, [])
  await stillServes(t, c, url, [e.id])
})

t.test('filters with badly typed values are CLOSED invalid:', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const a = signer()
  const e = a.sign()
  await published(t, c, e)
  const cases: [string, Record<string, unknown>][] = [
    ['kinds as strings', { kinds: ['1'] }],
    ['since as a string', { since: 'x' }],
    ['until as a fraction', { until: 1.5 }],
    ['uppercase authors', { authors: [a.pubkey.toUpperCase()] }],
    ['short hex ids', { ids: [e.id.slice(0, 10)] }],
    ['#e not hex', { '#e': ['not-hex'] }],
    ['#p not hex', { '#p': ['zz'.repeat(32)] }],
    ['negative limit', { limit: -1 }],
    ['kinds not a list', { kinds: 1 }],
    ['filter not an object', ['kinds', 1] as unknown as Record<string, unknown>],
  ]
  for (const [name, filter] of cases) {
    const r = await c.req(name, filter)
    t.equal(r.closed?.[1], name, name)
    t.match(r.closed?.[2], /^invalid: /, name)
    t.same(r.events, [], `${name}: no events sent`)
  }
  await stillServes(t, c, url, [e.id])
})

t.test('a filter list longer than limits.max_filter_values is CLOSED invalid:', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_filter_values': 3 })
  const c = await rawClient(url)
  const e = signer().sign()
  await published(t, c, e)
  const hex = (n: number) => n.toString(16).padStart(64, '0')
  t.notOk((await c.req('three', { kinds: [1, 2, 3] })).closed, 'three values are allowed')
  const cases: [string, Record<string, unknown>][] = [
    ['kinds', { kinds: [1, 2, 3, 4] }],
    ['authors', { authors: [1, 2, 3, 4].map(hex) }],
    ['ids', { ids: [1, 2, 3, 4].map(hex) }],
    ['#t', { '#t': ['a', 'b', 'c', 'd'] }],
  ]
  for (const [name, filter] of cases) {
    const r = await c.req(name, filter)
    t.equal(r.closed?.[1], name, name)
    t.match(r.closed?.[2], /^invalid: /, name)
  }
  await stillServes(t, c, url, [e.id])
})

/** Publishes `n` kind-1 events one second apart and returns their ids newest first. */
async function storeTimeline(t: Test, c: RawClient, n: number): Promise<string[]> {
  const a = signer()
  const base = now() - 1000
  const events = Array.from({ length: n }, (_, i) => a.sign({ created_at: base + i, content: `#${i}` }))
  // Sent out of time order, so the order of the answer comes from created_at, not from insertion.
  for (const e of [...events].reverse()) await published(t, c, e)
  return events.reverse().map(e => e.id)
}

t.test('a scrape filter {} is served newest first up to its limit', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const ids = await storeTimeline(t, c, 8)
  const r = await c.req('scrape', { limit: 5 })
  t.notOk(r.closed)
  t.same(
    r.events.map(e => e.id),
    ids.slice(0, 5),
  )
})

t.test('a scrape filter {} without limit gets the newest limits.default_limit events', async t => {
  const { url } = await startTestRelay(t, { 'limits.default_limit': 3 })
  const c = await rawClient(url)
  const ids = await storeTimeline(t, c, 6)
  const r = await c.req('scrape', {})
  t.notOk(r.closed)
  t.same(
    r.events.map(e => e.id),
    ids.slice(0, 3),
  )
})

t.test('a scrape filter is CLOSED restricted: when limits.allow_scrape is false', async t => {
  const { url } = await startTestRelay(t, { 'limits.allow_scrape': false })
  const c = await rawClient(url)
  const e = signer().sign()
  await published(t, c, e)
  for (const [name, filter] of [
    ['empty', {}],
    ['time only', { since: 0, limit: 10 }],
  ] as const) {
    const r = await c.req(name, filter)
    t.equal(r.closed?.[1], name, name)
    t.match(r.closed?.[2], /^restricted: /, name)
    t.same(r.events, [], `${name}: nothing sent`)
  }
  const narrowed = await c.req('narrowed', { kinds: [1] })
  t.same(
    narrowed.events.map(x => x.id),
    [e.id],
    'a filter naming kinds is still served',
  )
})

t.test('a REQ sent right after an EVENT on the same connection sees that event', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const e = signer().sign()
  c.send(['EVENT', e])
  const r = await c.req('s', { ids: [e.id] })
  t.same(
    r.events.map(x => x.id),
    [e.id],
  )
  const ok = await c.ok(e.id)
  t.equal(ok[2], true)
})

t.test('OKs for several EVENTs sent without waiting come in send order, before the REQ answer', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const a = signer()
  const events = Array.from({ length: 8 }, (_, i) => a.sign({ content: `#${i}` }))
  for (const e of events) c.send(['EVENT', e])
  c.send(['REQ', 'after', { authors: [a.pubkey] }])
  await c.expect(m => m[0] === 'EOSE' && m[1] === 'after')
  const oks = c.pending().filter(m => m[0] === 'OK')
  t.same(
    oks.map(m => [m[1], m[2]]),
    events.map(e => [e.id, true]),
    'OKs in send order, all before EOSE',
  )
  t.same((await storedIds(url)).sort(), events.map(e => e.id).sort())
})

t.test('a refusal is not answered before an earlier EVENT of the same connection', async t => {
  const { url } = await startTestRelay(t)
  const c = await rawClient(url)
  const a = signer()
  const first = a.sign({ content: 'stored' })
  const forged = { ...a.sign({ content: 'forged' }), sig: first.sig }
  const second = a.sign({ content: 'also stored' })
  const badShape = { ...a.sign({ content: 'bad kind' }), kind: 70000 }
  const sent = [first, forged, second, first, badShape]
  const frames = [...sent.map(e => ['EVENT', e]), ['REQ', 'after', { authors: [a.pubkey] }]]
  for (const f of frames) c.send(f)
  await c.expect(m => m[0] === 'EOSE' && m[1] === 'after')
  const oks = c.pending().filter(m => m[0] === 'OK')
  t.same(
    oks.map(m => [m[1], m[2]]),
    [
      [first.id, true],
      [forged.id, false],
      [second.id, true],
      [first.id, true],
      [badShape.id, false],
    ],
    'each EVENT answered in send order',
  )
  t.same((await storedIds(url)).sort(), [first.id, second.id].sort())
})
