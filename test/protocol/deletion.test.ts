import t from 'tap'
import { connectFor, putAll as put, queryIds as ids, type Teardown } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

const { url } = await startTestRelay(t)

const connect = (tt: Teardown, to = url) => connectFor(tt, to)

t.test("a deletion by e removes the author's event", async t => {
  const c = await connect(t)
  const a = signer()
  const note = a.sign({ created_at: now() - 10 })
  await put(c, note)
  t.same(await ids(c, { ids: [note.id] }), [note.id], 'stored before the deletion')
  await put(c, a.sign({ kind: 5, tags: [['e', note.id]] }))
  t.same(await ids(c, { ids: [note.id] }), [], 'gone after it')
})

t.test("a deletion by e of another author's event does nothing", async t => {
  const c = await connect(t)
  const alice = signer()
  const mallory = signer()
  const note = alice.sign({ created_at: now() - 10 })
  await put(c, note)
  const ok = await c.publish(mallory.sign({ kind: 5, tags: [['e', note.id]] }))
  t.equal(ok[2], true, 'the deletion request itself is a valid event')
  t.same(await ids(c, { ids: [note.id] }), [note.id], "alice's event is still served")
})

t.test("a deletion by e of another author's event does not stop that author publishing it", async t => {
  const c = await connect(t)
  const alice = signer()
  const mallory = signer()
  const note = alice.sign({ created_at: now() - 10 })
  // The deletion arrives before the event it names.
  await put(c, mallory.sign({ kind: 5, tags: [['e', note.id]] }))
  const ok = await c.publish(note)
  t.equal(ok[2], true)
  t.same(await ids(c, { ids: [note.id] }), [note.id])
})

t.test('a deleted id cannot be published again and stays gone', async t => {
  const c = await connect(t)
  const a = signer()
  const note = a.sign({ created_at: now() - 10 })
  await put(c, note, a.sign({ kind: 5, tags: [['e', note.id]] }))
  const ok = await c.publish(note)
  t.equal(ok[2], false)
  t.match(ok[3], /^blocked: /)
  t.same(await ids(c, { ids: [note.id] }), [], 'still gone')
})

t.test(
  'a deletion by a removes the versions up to its created_at and a newer version published later is accepted',
  async t => {
    const c = await connect(t)
    const a = signer()
    const base = now() - 100
    const v1 = a.sign({ kind: 30000, created_at: base, tags: [['d', 'list']] })
    await put(c, v1, a.sign({ kind: 5, created_at: base + 10, tags: [['a', `30000:${a.pubkey}:list`]] }))
    t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [], 'the deleted version is gone')
    const v2 = a.sign({ kind: 30000, created_at: base + 20, tags: [['d', 'list']] })
    const ok = await c.publish(v2)
    t.equal(ok[2], true, 'a newer version is accepted')
    t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [v2.id], 'and served')
  },
)

t.test('a deletion by a leaves a version newer than the deletion in place', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const v = a.sign({ kind: 30000, created_at: base + 20, tags: [['d', 'kept']] })
  await put(c, v, a.sign({ kind: 5, created_at: base + 10, tags: [['a', `30000:${a.pubkey}:kept`]] }))
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [v.id])
})

t.test('a deletion by a removes only the named d', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const gone = a.sign({ kind: 30000, created_at: base, tags: [['d', 'one']] })
  const kept = a.sign({ kind: 30000, created_at: base, tags: [['d', 'two']] })
  await put(c, gone, kept, a.sign({ kind: 5, created_at: base + 10, tags: [['a', `30000:${a.pubkey}:one`]] }))
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [kept.id])
})

t.test('a deletion by a of a replaceable kind removes it', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  const profile = a.sign({ kind: 0, created_at: base })
  await put(c, profile, a.sign({ kind: 5, created_at: base + 10, tags: [['a', `0:${a.pubkey}:`]] }))
  t.same(await ids(c, { authors: [a.pubkey], kinds: [0] }), [])
})

t.test('an older version published after a deletion by a is refused with blocked:', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  await put(c, a.sign({ kind: 5, created_at: base + 10, tags: [['a', `30000:${a.pubkey}:list`]] }))
  for (const [created_at, label] of [
    [base, 'older than the deletion'],
    [base + 10, 'same second as the deletion'],
  ] as const) {
    const ok = await c.publish(a.sign({ kind: 30000, created_at, tags: [['d', 'list']] }))
    t.equal(ok[2], false, `${label}: refused`)
    t.match(ok[3], /^blocked: /, `${label}: blocked:`)
  }
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [], 'nothing was stored')
})

t.test("a deletion by a naming someone else's pubkey does nothing", async t => {
  const c = await connect(t)
  const alice = signer()
  const mallory = signer()
  const base = now() - 100
  const v = alice.sign({ kind: 30000, created_at: base, tags: [['d', 'list']] })
  await put(c, v)
  const ok = await c.publish(
    mallory.sign({ kind: 5, created_at: base + 10, tags: [['a', `30000:${alice.pubkey}:list`]] }),
  )
  t.equal(ok[2], true, 'the deletion request itself is a valid event')
  t.same(await ids(c, { authors: [alice.pubkey], kinds: [30000] }), [v.id], "alice's version is still served")
})

t.test("a deletion by a naming someone else's pubkey does not stop that author publishing versions", async t => {
  const c = await connect(t)
  const alice = signer()
  const mallory = signer()
  const base = now() - 100
  await put(c, mallory.sign({ kind: 5, created_at: base + 10, tags: [['a', `30000:${alice.pubkey}:list`]] }))
  const v = alice.sign({ kind: 30000, created_at: base, tags: [['d', 'list']] })
  const ok = await c.publish(v)
  t.equal(ok[2], true)
  t.same(await ids(c, { authors: [alice.pubkey], kinds: [30000] }), [v.id])
})

t.test('the deletion request itself stays served', async t => {
  const c = await connect(t)
  const a = signer()
  const note = a.sign({ created_at: now() - 10 })
  const del = a.sign({ kind: 5, tags: [['e', note.id]] })
  await put(c, note, del)
  t.same(await ids(c, { authors: [a.pubkey], kinds: [5] }), [del.id])
})

t.test('deleting a deletion has no effect', async t => {
  const c = await connect(t)
  const a = signer()
  const note = a.sign({ created_at: now() - 20 })
  const del1 = a.sign({ kind: 5, created_at: now() - 10, tags: [['e', note.id]] })
  const del2 = a.sign({ kind: 5, tags: [['e', del1.id]] })
  await put(c, note, del1, del2)
  t.same(await ids(c, { ids: [del1.id] }), [del1.id], 'the first deletion is still served')
  t.same(await ids(c, { ids: [note.id] }), [], 'and the event it deleted stays gone')
  const ok = await c.publish(note)
  t.equal(ok[2], false, 'the deleted event still cannot come back')
  t.match(ok[3], /^blocked: /)
})
