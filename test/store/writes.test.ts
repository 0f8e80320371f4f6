// Store semantics straight through the writer and the reader: replacement, deletion tombstones, expiry sweep.
import t from 'tap'
import { canonicalJson, type NostrEvent, type VerifiedEvent } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { isRejection } from '../../nips/nip01.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { openTestStore, type TestStore } from '../helpers/store.js'

type T = { teardown(fn: () => unknown): void }

function store(t: T): TestStore {
  const s = openTestStore(tempDir(t))
  t.teardown(() => s.close())
  return s
}

function filter(raw: Record<string, unknown>): CompiledFilter {
  const f = compileFilter(raw, { maxValues: 500 })
  if (isRejection(f)) throw new Error(f.reason)
  return f
}

/** Ids the reader returns for a filter, newest first. */
const ids = (s: TestStore, raw: Record<string, unknown>, at = now()) =>
  s.reader.query([{ filter: filter(raw), limit: 1000 }], at, 10_000).map(r => r.id)

/** Two events of `who` signed from the same template, returned as [lower id, higher id]. */
function sameSecondPair(
  who: Signer,
  tmpl: { kind: number; created_at: number; tags?: string[][] },
): [NostrEvent, NostrEvent] {
  const a = who.sign({ ...tmpl, content: 'one' })
  const b = who.sign({ ...tmpl, content: 'two' })
  return a.id < b.id ? [a, b] : [b, a]
}

const rowCount = (s: TestStore, table: 'events' | 'tags') =>
  s.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number

t.test('storing the same event twice reports duplicate and keeps one copy', async t => {
  const s = store(t)
  const e = signer().sign()
  t.same(await s.save(e), { status: 'saved' })
  t.same(await s.save(e), { status: 'duplicate' })
  t.same(ids(s, {}), [e.id])
})

t.test('a newer replaceable version replaces the older one', async t => {
  const s = store(t)
  const alice = signer()
  const old = alice.sign({ kind: 0, created_at: now() - 10 })
  const fresh = alice.sign({ kind: 0, created_at: now() - 5 })
  await s.save(old)
  t.same(await s.save(fresh), { status: 'saved' })
  t.same(ids(s, { authors: [alice.pubkey] }), [fresh.id])
  t.same(ids(s, { ids: [old.id] }), [], 'the superseded version is not fetchable by id')
})

t.test('an older replaceable version is refused with blocked: and the stored one stays', async t => {
  const s = store(t)
  const alice = signer()
  const fresh = alice.sign({ kind: 10002, created_at: now() - 5 })
  const old = alice.sign({ kind: 10002, created_at: now() - 10 })
  await s.save(fresh)
  const r = await s.save(old)
  t.equal(r.status, 'rejected')
  t.match(r.status === 'rejected' ? r.rejection : {}, { prefix: 'blocked', reason: /newer version/ })
  t.same(ids(s, { authors: [alice.pubkey] }), [fresh.id])
})

t.test('replaceable with equal created_at keeps the lowest id when the higher id arrives first', async t => {
  const s = store(t)
  const alice = signer()
  const [low, high] = sameSecondPair(alice, { kind: 3, created_at: now() - 5 })
  await s.save(high)
  t.same(await s.save(low), { status: 'saved' })
  t.same(ids(s, { authors: [alice.pubkey] }), [low.id])
})

t.test('replaceable with equal created_at refuses the higher id when the lowest is stored', async t => {
  const s = store(t)
  const alice = signer()
  const [low, high] = sameSecondPair(alice, { kind: 3, created_at: now() - 5 })
  await s.save(low)
  const r = await s.save(high)
  t.equal(r.status === 'rejected' && r.rejection.prefix, 'blocked')
  t.same(ids(s, { authors: [alice.pubkey] }), [low.id])
})

t.test('addressable events replace per d tag and a missing d is the same address as d ""', async t => {
  const s = store(t)
  const alice = signer()
  const x1 = alice.sign({ kind: 30023, created_at: now() - 10, tags: [['d', 'x']] })
  const y1 = alice.sign({ kind: 30023, created_at: now() - 10, tags: [['d', 'y']] })
  const bare = alice.sign({ kind: 30023, created_at: now() - 10 })
  const empty = alice.sign({ kind: 30023, created_at: now() - 5, tags: [['d', '']] })
  const x2 = alice.sign({ kind: 30023, created_at: now() - 5, tags: [['d', 'x']] })
  for (const e of [x1, y1, bare, empty, x2]) t.same(await s.save(e), { status: 'saved' }, e.content)
  t.same(ids(s, { authors: [alice.pubkey] }).sort(), [y1.id, empty.id, x2.id].sort())
})

t.test('the same address of another pubkey or another kind is not replaced', async t => {
  const s = store(t)
  const alice = signer()
  const bob = signer()
  const a = alice.sign({ kind: 30023, created_at: now() - 10, tags: [['d', 'x']] })
  const b = bob.sign({ kind: 30023, created_at: now() - 5, tags: [['d', 'x']] })
  const k = alice.sign({ kind: 30024, created_at: now() - 5, tags: [['d', 'x']] })
  for (const e of [a, b, k]) await s.save(e)
  t.same(ids(s, {}).sort(), [a.id, b.id, k.id].sort())
})

t.test('a replaced version leaves no tags rows behind', async t => {
  const s = store(t)
  const alice = signer()
  await s.save(alice.sign({ kind: 0, created_at: now() - 10, tags: [['t', 'old']] }))
  await s.save(alice.sign({ kind: 0, created_at: now() - 5, tags: [['t', 'new']] }))
  t.same(s.db.prepare('SELECT value FROM tags').pluck().all(), ['new'])
  t.same(ids(s, { '#t': ['old'] }), [])
})

t.test('an e deletion by the author removes the event and blocks it from coming back', async t => {
  const s = store(t)
  const alice = signer()
  const note = alice.sign({ created_at: now() - 10, tags: [['t', 'x']] })
  await s.save(note)
  const del = alice.sign({ kind: 5, created_at: now() - 5, tags: [['e', note.id]] })
  await s.save(del)
  t.same(ids(s, {}), [del.id], 'only the deletion is left')
  t.equal(rowCount(s, 'tags'), 1, "the note's tags rows went with it (the deletion's e tag stays)")
  const again = await s.save(note)
  t.equal(again.status === 'rejected' && again.rejection.prefix, 'blocked')
  t.same(ids(s, {}), [del.id])
})

t.test('an e deletion that arrives first blocks the author publishing that id later', async t => {
  const s = store(t)
  const alice = signer()
  const note = alice.sign({ created_at: now() - 10 })
  await s.save(alice.sign({ kind: 5, created_at: now() - 5, tags: [['e', note.id]] }))
  const r = await s.save(note)
  t.equal(r.status === 'rejected' && r.rejection.prefix, 'blocked')
  t.same(ids(s, { ids: [note.id] }), [])
})

t.test("a deletion by another pubkey does not remove the author's event", async t => {
  const s = store(t)
  const alice = signer()
  const mallory = signer()
  const note = alice.sign({ created_at: now() - 10 })
  await s.save(note)
  await s.save(mallory.sign({ kind: 5, created_at: now() - 5, tags: [['e', note.id]] }))
  t.same(ids(s, { ids: [note.id] }), [note.id])
})

t.test('a deletion by another pubkey does not block the real author from publishing that id later', async t => {
  const s = store(t)
  const alice = signer()
  const mallory = signer()
  const note = alice.sign({ created_at: now() - 10 })
  // Mallory learns the id before the relay has it and tries to pre-delete it.
  await s.save(mallory.sign({ kind: 5, created_at: now() - 5, tags: [['e', note.id]] }))
  t.same(await s.save(note), { status: 'saved' })
  t.same(ids(s, { ids: [note.id] }), [note.id])
})

t.test('a deletion cannot delete another deletion', async t => {
  const s = store(t)
  const alice = signer()
  const note = alice.sign({ created_at: now() - 10 })
  await s.save(note)
  const del = alice.sign({ kind: 5, created_at: now() - 8, tags: [['e', note.id]] })
  await s.save(del)
  const delDel = alice.sign({ kind: 5, created_at: now() - 5, tags: [['e', del.id]] })
  await s.save(delDel)
  t.same(ids(s, { kinds: [5] }).sort(), [del.id, delDel.id].sort())
})

t.test('an a deletion removes the versions up to its created_at', async t => {
  const s = store(t)
  const alice = signer()
  const T0 = now() - 100
  const v = alice.sign({ kind: 30023, created_at: T0, tags: [['d', 'post']] })
  await s.save(v)
  await s.save(alice.sign({ kind: 5, created_at: T0 + 10, tags: [['a', `30023:${alice.pubkey}:post`]] }))
  t.same(ids(s, { kinds: [30023] }), [])
})

t.test('an a tombstone blocks older versions only', async t => {
  const s = store(t)
  const alice = signer()
  const T0 = now() - 100
  await s.save(alice.sign({ kind: 30023, created_at: T0, tags: [['d', 'post']] }))
  await s.save(alice.sign({ kind: 5, created_at: T0 + 10, tags: [['a', `30023:${alice.pubkey}:post`]] }))
  const older = alice.sign({ kind: 30023, created_at: T0 + 5, tags: [['d', 'post']] })
  const same = alice.sign({ kind: 30023, created_at: T0 + 10, tags: [['d', 'post']] })
  const newer = alice.sign({ kind: 30023, created_at: T0 + 11, tags: [['d', 'post']] })
  for (const e of [older, same]) {
    const r = await s.save(e)
    t.equal(r.status === 'rejected' && r.rejection.prefix, 'blocked', `created_at ${e.created_at - T0}`)
  }
  t.same(ids(s, { kinds: [30023] }), [], 'nothing came back')
  t.same(await s.save(newer), { status: 'saved' })
  t.same(ids(s, { kinds: [30023] }), [newer.id])
})

t.test('an a tombstone covers only its own d tag', async t => {
  const s = store(t)
  const alice = signer()
  const T0 = now() - 100
  const other = alice.sign({ kind: 30023, created_at: T0, tags: [['d', 'other']] })
  await s.save(other)
  await s.save(alice.sign({ kind: 5, created_at: T0 + 10, tags: [['a', `30023:${alice.pubkey}:post`]] }))
  t.same(ids(s, { kinds: [30023] }), [other.id])
  const newerOther = alice.sign({ kind: 30023, created_at: T0 + 1, tags: [['d', 'other']] })
  t.same(await s.save(newerOther), { status: 'saved' }, 'a version older than the tombstone of another d is accepted')
})

t.test("an a deletion naming another pubkey's address has no effect", async t => {
  const s = store(t)
  const alice = signer()
  const mallory = signer()
  const T0 = now() - 100
  const v = alice.sign({ kind: 30023, created_at: T0, tags: [['d', 'post']] })
  await s.save(v)
  await s.save(mallory.sign({ kind: 5, created_at: T0 + 10, tags: [['a', `30023:${alice.pubkey}:post`]] }))
  t.same(ids(s, { kinds: [30023] }), [v.id])
  t.same(await s.save(alice.sign({ kind: 30023, created_at: T0 + 5, tags: [['d', 'post']] })), { status: 'saved' })
})

t.test('expired events are hidden from queries before any sweep', async t => {
  const s = store(t)
  const at = now()
  const e = signer().sign({ created_at: at - 10, tags: [['expiration', `${at + 100}`]] })
  await s.save(e)
  t.same(ids(s, {}, at), [e.id], 'served before it expires')
  t.same(ids(s, {}, at + 100), [], 'hidden from the expiration second on')
  t.equal(s.reader.count([filter({})], at + 100), 0)
})

t.test('sweepExpired deletes expired rows and their tags rows and keeps the rest', async t => {
  const s = store(t)
  const at = now()
  const who = signer()
  const expiring = who.sign({
    created_at: at - 10,
    tags: [
      ['t', 'gone'],
      ['p', who.pubkey],
      ['expiration', `${at + 100}`],
    ],
  })
  const later = who.sign({
    created_at: at - 10,
    tags: [
      ['t', 'later'],
      ['expiration', `${at + 1000}`],
    ],
  })
  const forever = who.sign({ created_at: at - 10, tags: [['t', 'kept']] })
  for (const e of [expiring, later, forever]) await s.save(e)
  t.equal(s.writer.sweepExpired(at + 99), 0, 'nothing has expired yet')
  t.equal(s.writer.sweepExpired(at + 100), 1)
  t.same(s.db.prepare('SELECT id FROM events ORDER BY id').pluck().all(), [later.id, forever.id].sort())
  t.same(s.db.prepare('SELECT value FROM tags ORDER BY value').pluck().all(), ['kept', 'later'])
  t.same(ids(s, { '#t': ['gone'] }, at), [])
})

/** (event id, upstream url) pairs of the seen-on table, sorted. */
const seenOn = (s: TestStore) =>
  s.db
    .prepare(
      `SELECT e.id, u.url FROM mirror_seen m JOIN events e ON e.seq = m.seq JOIN mirror_upstreams u ON u.id = m.upstream
       ORDER BY e.id, u.url`,
    )
    .raw()
    .all()
const position = (s: TestStore, url: string) =>
  s.db.prepare('SELECT position FROM mirror_upstreams WHERE url = ?').pluck().get(url)
const mirrored = (s: TestStore, e: NostrEvent, url: string) =>
  s.writer.enqueue(e as VerifiedEvent, canonicalJson(e), { seenOn: url })

t.test('a mirrored event records where it was seen, a second upstream adds its row, a local event none', async t => {
  const s = store(t)
  const who = signer()
  const a = who.sign({ kind: 1, created_at: now() - 100 })
  const local = who.sign({ kind: 1, created_at: now() - 50 })
  t.same(await mirrored(s, a, 'wss://one.example'), { status: 'saved' })
  t.same(await mirrored(s, a, 'wss://two.example'), { status: 'duplicate' }, 'the same event from another upstream')
  t.same(await mirrored(s, a, 'wss://two.example'), { status: 'duplicate' }, 'and again from the same one')
  t.same(await s.save(local), { status: 'saved' })
  t.same(seenOn(s), [
    [a.id, 'wss://one.example'],
    [a.id, 'wss://two.example'],
  ])
  t.equal(position(s, 'wss://one.example'), a.created_at, 'the position is the newest created_at that came')
})

t.test('an upstream position never passes the relay clock, and refused events move it too', async t => {
  const s = store(t)
  const who = signer()
  const ahead = who.sign({ kind: 1, created_at: now() + 600 })
  t.same(await mirrored(s, ahead, 'wss://one.example'), { status: 'saved' })
  t.ok((position(s, 'wss://one.example') as number) <= now(), 'capped at the clock')
  const old = who.sign({ kind: 0, created_at: now() - 10 })
  const older = who.sign({ kind: 0, created_at: now() - 20 })
  await s.save(old)
  t.match(await mirrored(s, older, 'wss://two.example'), { status: 'rejected' }, 'an older replaceable version')
  t.equal(position(s, 'wss://two.example'), older.created_at, 'still reached the writer: the position moved')
  t.same(seenOn(s), [[ahead.id, 'wss://one.example']], 'but a refused event is seen nowhere')
})

t.test('a mirrored event that is replaced or deleted loses its seen-on rows', async t => {
  const s = store(t)
  const who = signer()
  const first = who.sign({ kind: 0, created_at: now() - 10 })
  const note = who.sign({ kind: 1, created_at: now() - 10 })
  await mirrored(s, first, 'wss://one.example')
  await mirrored(s, note, 'wss://one.example')
  await s.save(who.sign({ kind: 0, created_at: now() - 5 }))
  await s.save(who.sign({ kind: 5, tags: [['e', note.id]] }))
  t.same(seenOn(s), [])
})
