import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll as put, queryIds as ids, type Teardown } from '../helpers/client.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const { url } = await startTestRelay(t)

const connect = (tt: Teardown, to = url) => connectFor(tt, to)

const hex64 = () => randomBytes(32).toString('hex')
const word = () => randomBytes(6).toString('hex')
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Three events at the same second, returned sorted by id (lowest first). */
function ties(s: Signer, created_at: number, extra: Parameters<Signer['sign']>[0] = {}): NostrEvent[] {
  return [0, 1, 2].map(i => s.sign({ created_at, content: `tie ${i} ${word()}`, ...extra })).sort(byId)
}

t.test('stored events come newest first with the lowest id first on ties when there is no limit', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const newest = a.sign({ created_at: base + 10 })
  const tied = ties(a, base + 5)
  const oldest = a.sign({ created_at: base })
  // Ties go in highest id first, so insertion order differs from the expected order.
  await put(c, oldest, tied[2]!, tied[1]!, tied[0]!, newest)
  t.same(await ids(c, { authors: [a.pubkey] }), [newest.id, tied[0]!.id, tied[1]!.id, tied[2]!.id, oldest.id])
})

t.test('with a limit the newest come first and ties keep the lowest ids', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const newest = a.sign({ created_at: base + 10 })
  const tied = ties(a, base + 5)
  const oldest = a.sign({ created_at: base })
  await put(c, oldest, tied[2]!, tied[1]!, tied[0]!, newest)
  t.same(await ids(c, { authors: [a.pubkey], limit: 3 }), [newest.id, tied[0]!.id, tied[1]!.id])
})

t.test('a tag-filtered query is newest first with the lowest id first on ties', async t => {
  const c = await connect(t)
  const a = signer()
  const tag = word()
  const base = now() - 100
  const newest = a.sign({ created_at: base + 10, tags: [['t', tag]] })
  const tied = ties(a, base + 5, { tags: [['t', tag]] })
  await put(c, tied[2]!, tied[1]!, newest, tied[0]!)
  t.same(await ids(c, { '#t': [tag], limit: 3 }), [newest.id, tied[0]!.id, tied[1]!.id])
  t.same(await ids(c, { '#t': [tag] }), [newest.id, tied[0]!.id, tied[1]!.id, tied[2]!.id])
})

t.test('limit returns the newest n events', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const evs = [0, 1, 2, 3, 4].map(i => a.sign({ created_at: base + i }))
  await put(c, evs[3]!, evs[0]!, evs[4]!, evs[1]!, evs[2]!)
  t.same(await ids(c, { authors: [a.pubkey], limit: 2 }), [evs[4]!.id, evs[3]!.id])
})

t.test('limit 0 sends no stored events, then EOSE, and the subscription stays live', async t => {
  const sub = await connect(t)
  const pub = await connect(t)
  const a = signer()
  const stored = a.sign({ created_at: now() - 10 })
  await put(pub, stored)
  const r = await sub.req('live', { authors: [a.pubkey], limit: 0 })
  t.equal(r.closed, undefined, 'answered with EOSE, not CLOSED')
  t.same(r.events, [], 'no stored events')
  const later = a.sign()
  await put(pub, later)
  const m = await sub.expect(m => m[0] === 'EVENT' && m[1] === 'live')
  t.equal((m[2] as NostrEvent).id, later.id)
})

t.test('since and until are inclusive at both ends', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const evs = [0, 1, 2, 3].map(i => a.sign({ created_at: base + i }))
  await put(c, ...evs)
  t.same(await ids(c, { authors: [a.pubkey], since: base + 1, until: base + 2 }), [evs[2]!.id, evs[1]!.id])
})

t.test('since equal to until returns the events of exactly that second', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const evs = [0, 1, 2].map(i => a.sign({ created_at: base + i }))
  await put(c, ...evs)
  t.same(await ids(c, { authors: [a.pubkey], since: base + 1, until: base + 1 }), [evs[1]!.id])
})

t.test('filters in one REQ are ORed and an event matching two of them is sent once', async t => {
  const c = await connect(t)
  const a = signer()
  const b = signer()
  const base = now() - 100
  const a1 = a.sign({ created_at: base + 3 })
  const a7 = a.sign({ kind: 7, created_at: base + 2 })
  const b1 = b.sign({ created_at: base + 1 })
  await put(c, a1, a7, b1)
  const got = await ids(c, { authors: [a.pubkey], kinds: [1] }, { ids: [a1.id, b1.id] })
  t.same(got, [a1.id, b1.id])
})

t.test('a live event matching two filters of one REQ arrives once', async t => {
  const sub = await connect(t)
  const pub = await connect(t)
  const a = signer()
  const tag = word()
  await sub.req('two', { authors: [a.pubkey] }, { '#t': [tag] })
  const e = a.sign({ tags: [['t', tag]] })
  await put(pub, e)
  const m = await sub.expect(m => m[0] === 'EVENT' && m[1] === 'two')
  t.equal((m[2] as NostrEvent).id, e.id)
  await sleep(300)
  t.same(
    sub.pending().filter(m => m[0] === 'EVENT'),
    [],
    'no second copy',
  )
})

t.test('authors and kinds in one filter must both match', async t => {
  const c = await connect(t)
  const a = signer()
  const b = signer()
  const base = now() - 100
  const hit = a.sign({ created_at: base + 2 })
  await put(c, hit, a.sign({ kind: 7, created_at: base + 1 }), b.sign({ created_at: base }))
  t.same(await ids(c, { authors: [a.pubkey], kinds: [1] }), [hit.id])
})

t.test('kinds and a tag in one filter must both match', async t => {
  const c = await connect(t)
  const a = signer()
  const tag = word()
  const base = now() - 100
  const hit = a.sign({ created_at: base + 2, tags: [['t', tag]] })
  await put(
    c,
    hit,
    a.sign({ kind: 7, created_at: base + 1, tags: [['t', tag]] }),
    a.sign({ created_at: base, tags: [['t', word()]] }),
  )
  t.same(await ids(c, { kinds: [1], '#t': [tag] }), [hit.id])
})

t.test('two different tag letters in one filter must both match', async t => {
  const c = await connect(t)
  const a = signer()
  const tv = word()
  const rv = word()
  const base = now() - 100
  const hit = a.sign({
    created_at: base + 2,
    tags: [
      ['t', tv],
      ['r', rv],
    ],
  })
  await put(
    c,
    hit,
    a.sign({ created_at: base + 1, tags: [['t', tv]] }),
    a.sign({ created_at: base, tags: [['r', rv]] }),
  )
  t.same(await ids(c, { '#t': [tv], '#r': [rv] }), [hit.id])
  t.same(await ids(c, { '#r': [rv], '#t': [tv] }), [hit.id], 'the order of the tag keys does not matter')
})

t.test('a tag filter matches only the first value of a tag', async t => {
  const c = await connect(t)
  const first = word()
  const second = word()
  const e = signer().sign({ tags: [['t', first, second]] })
  await put(c, e)
  t.same(await ids(c, { '#t': [first] }), [e.id], 'first value matches')
  t.same(await ids(c, { '#t': [second] }), [], 'second value does not')
})

t.test('a live subscription on the second value of a tag does not receive the event', async t => {
  const sub = await connect(t)
  const pub = await connect(t)
  const first = word()
  const second = word()
  await sub.req('second', { '#t': [second] })
  await sub.req('first', { '#t': [first] })
  const e = signer().sign({ tags: [['t', first, second]] })
  await put(pub, e)
  const m = await sub.expect(m => m[0] === 'EVENT' && m[1] === 'first')
  t.equal((m[2] as NostrEvent).id, e.id, 'the first-value subscription gets it')
  await sleep(300)
  t.same(
    sub.pending().filter(m => m[0] === 'EVENT'),
    [],
    'the second-value subscription does not',
  )
})

t.test('an empty list in a filter matches nothing', async t => {
  const c = await connect(t)
  const a = signer()
  const tag = word()
  const e = a.sign({ tags: [['t', tag]] })
  await put(c, e)
  t.same(await ids(c, { authors: [a.pubkey] }), [e.id], 'the event is stored')
  const empties = [
    { ids: [] },
    { authors: [] },
    { authors: [a.pubkey], kinds: [] },
    { '#t': [tag], authors: [] },
    { authors: [a.pubkey], '#t': [] },
  ]
  for (const f of empties) {
    const r = await c.req(`empty-${word()}`, f)
    t.equal(r.closed, undefined, `${JSON.stringify(f)} is answered with EOSE`)
    t.same(r.events, [], `${JSON.stringify(f)} matches nothing`)
  }
})

t.test('filters by ids', async t => {
  const c = await connect(t)
  const a = signer()
  const e1 = a.sign({ content: 'one' })
  const e2 = a.sign({ content: 'two' })
  await put(c, e1, e2)
  t.same(await ids(c, { ids: [e2.id] }), [e2.id])
})

t.test('filters by authors', async t => {
  const c = await connect(t)
  const a = signer()
  const b = signer()
  const d = signer()
  const base = now() - 100
  const ea = a.sign({ created_at: base + 2 })
  const eb = b.sign({ created_at: base + 1 })
  await put(c, ea, eb, d.sign({ created_at: base + 3 }))
  t.same(await ids(c, { authors: [a.pubkey, b.pubkey] }), [ea.id, eb.id])
})

t.test('filters by kinds', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  // 4917 and 4918 are used by no other test in this file.
  const hit = a.sign({ kind: 4917, created_at: base + 1 })
  await put(c, hit, a.sign({ kind: 4918, created_at: base + 2 }))
  t.same(await ids(c, { kinds: [4917] }), [hit.id])
})

t.test('filters by #e', async t => {
  const c = await connect(t)
  const target = hex64()
  const hit = signer().sign({ tags: [['e', target]] })
  await put(c, hit, signer().sign({ tags: [['e', hex64()]] }))
  t.same(await ids(c, { '#e': [target] }), [hit.id])
})

t.test('filters by #p', async t => {
  const c = await connect(t)
  const target = signer().pubkey
  const hit = signer().sign({ tags: [['p', target]] })
  await put(c, hit, signer().sign({ tags: [['p', signer().pubkey]] }))
  t.same(await ids(c, { '#p': [target] }), [hit.id])
})

t.test('filters by an arbitrary lowercase single-letter tag', async t => {
  const c = await connect(t)
  const v = word()
  const hit = signer().sign({ tags: [['x', v]] })
  await put(c, hit, signer().sign({ tags: [['y', v]] }), signer().sign({ tags: [['x', word()]] }))
  t.same(await ids(c, { '#x': [v] }), [hit.id])
})

t.test('filters by an uppercase single-letter tag, distinct from its lowercase', async t => {
  const c = await connect(t)
  const v = word()
  const hit = signer().sign({ tags: [['L', v]] })
  await put(c, hit, signer().sign({ tags: [['l', v]] }))
  t.same(await ids(c, { '#L': [v] }), [hit.id])
})

t.test('a limit above limits.max_limit is clamped to it', async t => {
  const r = await startTestRelay(t, { 'limits.max_limit': 3 })
  const c = await connect(t, r.url)
  const a = signer()
  const base = now() - 100
  const evs = [0, 1, 2, 3, 4].map(i => a.sign({ created_at: base + i }))
  await put(c, ...evs)
  t.same(await ids(c, { authors: [a.pubkey], limit: 100 }), [evs[4]!.id, evs[3]!.id, evs[2]!.id])
})

t.test('limits.default_limit applies to a filter without limit', async t => {
  const r = await startTestRelay(t, { 'limits.default_limit': 2 })
  const c = await connect(t, r.url)
  const a = signer()
  const base = now() - 100
  const evs = [0, 1, 2, 3].map(i => a.sign({ created_at: base + i }))
  await put(c, ...evs)
  t.same(await ids(c, { authors: [a.pubkey] }), [evs[3]!.id, evs[2]!.id], 'default applies')
  t.same(
    await ids(c, { authors: [a.pubkey], limit: 4 }),
    [evs[3]!.id, evs[2]!.id, evs[1]!.id, evs[0]!.id],
    'an explicit limit overrides it',
  )
})
