import t from 'tap'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll as put, queryIds as ids, type Teardown } from '../helpers/client.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

const { url } = await startTestRelay(t)

const connect = (tt: Teardown, to = url) => connectFor(tt, to)

/** Two versions signed with the same created_at, returned as [lower id, higher id]. */
function sameSecondPair(s: Signer, kind: number, created_at: number, tags: string[][] = []): [NostrEvent, NostrEvent] {
  const x = s.sign({ kind, created_at, tags, content: 'x' })
  const y = s.sign({ kind, created_at, tags, content: 'y' })
  return x.id < y.id ? [x, y] : [y, x]
}

for (const kind of [0, 3]) {
  t.test(`kind ${kind} replaces the older version from the same author`, async t => {
    const c = await connect(t)
    const a = signer()
    const older = a.sign({ kind, created_at: now() - 20, content: 'old' })
    const newer = a.sign({ kind, created_at: now() - 10, content: 'new' })
    await put(c, older, newer)
    t.same(await ids(c, { authors: [a.pubkey], kinds: [kind] }), [newer.id], 'only the newest is served')
    t.same(await ids(c, { ids: [older.id] }), [], 'the superseded version is gone')
  })
}

t.test('kinds 10000 to 19999 replace the older version from the same author', async t => {
  const c = await connect(t)
  const a = signer()
  for (const kind of [10000, 10002, 19999]) {
    const older = a.sign({ kind, created_at: now() - 20, content: 'old' })
    const newer = a.sign({ kind, created_at: now() - 10, content: 'new' })
    await put(c, older, newer)
    t.same(await ids(c, { authors: [a.pubkey], kinds: [kind] }), [newer.id], `kind ${kind}: only the newest is served`)
  }
})

t.test('replaceable versions of different kinds or authors do not replace each other', async t => {
  const c = await connect(t)
  const a = signer()
  const b = signer()
  const a0 = a.sign({ kind: 0, created_at: now() - 20 })
  const a3 = a.sign({ kind: 3, created_at: now() - 10 })
  const b0 = b.sign({ kind: 0, created_at: now() - 5 })
  await put(c, a0, a3, b0)
  t.same(await ids(c, { authors: [a.pubkey, b.pubkey], kinds: [0, 3] }), [b0.id, a3.id, a0.id])
})

t.test(
  'an older replaceable version published after a newer one is refused with blocked: and the stored one stays',
  async t => {
    const c = await connect(t)
    const a = signer()
    const newer = a.sign({ kind: 0, created_at: now() - 10, content: 'new' })
    const older = a.sign({ kind: 0, created_at: now() - 20, content: 'old' })
    await put(c, newer)
    const ok = await c.publish(older)
    t.equal(ok[2], false)
    t.match(ok[3], /^blocked: /)
    t.same(await ids(c, { authors: [a.pubkey], kinds: [0] }), [newer.id], 'the newer version is unchanged')
  },
)

t.test('replaceable with equal created_at keeps the lowest id when the lowest arrives first', async t => {
  const c = await connect(t)
  const a = signer()
  const [low, high] = sameSecondPair(a, 0, now() - 10)
  await put(c, low)
  const ok = await c.publish(high)
  t.equal(ok[2], false)
  t.match(ok[3], /^blocked: /)
  t.same(await ids(c, { authors: [a.pubkey], kinds: [0] }), [low.id])
})

t.test('replaceable with equal created_at keeps the lowest id when the highest arrives first', async t => {
  const c = await connect(t)
  const a = signer()
  const [low, high] = sameSecondPair(a, 0, now() - 10)
  await put(c, high)
  const ok = await c.publish(low)
  t.equal(ok[2], true, 'the lower id is accepted')
  t.same(await ids(c, { authors: [a.pubkey], kinds: [0] }), [low.id])
  t.same(await ids(c, { ids: [high.id] }), [], 'the higher id is gone')
})

t.test('addressable with equal created_at keeps the lowest id in either arrival order', async t => {
  const c = await connect(t)
  for (const lowFirst of [true, false]) {
    const a = signer()
    const [low, high] = sameSecondPair(a, 30000, now() - 10, [['d', 'same']])
    await put(c, lowFirst ? low : high)
    const ok = await c.publish(lowFirst ? high : low)
    t.equal(ok[2], !lowFirst, lowFirst ? 'the higher id is refused' : 'the lower id is accepted')
    if (lowFirst) t.match(ok[3], /^blocked: /)
    t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [low.id], lowFirst ? 'low first' : 'high first')
  }
})

t.test('an addressable event without a d tag is replaced by one with d ""', async t => {
  const c = await connect(t)
  const a = signer()
  const noD = a.sign({ kind: 30000, created_at: now() - 20 })
  const emptyD = a.sign({ kind: 30000, created_at: now() - 10, tags: [['d', '']] })
  await put(c, noD, emptyD)
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [emptyD.id])
})

t.test('an addressable event with d "" is replaced by a newer one without a d tag', async t => {
  const c = await connect(t)
  const a = signer()
  const emptyD = a.sign({ kind: 30001, created_at: now() - 20, tags: [['d', '']] })
  const noD = a.sign({ kind: 30001, created_at: now() - 10 })
  await put(c, emptyD, noD)
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30001] }), [noD.id])
})

t.test('an older addressable version published after a newer one is refused with blocked:', async t => {
  const c = await connect(t)
  const a = signer()
  const newer = a.sign({ kind: 30023, created_at: now() - 10, tags: [['d', 'post']] })
  const older = a.sign({ kind: 30023, created_at: now() - 20, tags: [['d', 'post']] })
  await put(c, newer)
  const ok = await c.publish(older)
  t.equal(ok[2], false)
  t.match(ok[3], /^blocked: /)
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30023] }), [newer.id])
})

t.test('addressable events with different d values coexist', async t => {
  const c = await connect(t)
  const a = signer()
  const da = a.sign({ kind: 30000, created_at: now() - 20, tags: [['d', 'a']] })
  const db = a.sign({ kind: 30000, created_at: now() - 10, tags: [['d', 'b']] })
  const dNone = a.sign({ kind: 30000, created_at: now() - 5 })
  await put(c, da, db, dNone)
  t.same(await ids(c, { authors: [a.pubkey], kinds: [30000] }), [dNone.id, db.id, da.id])
})

t.test('addressable events with the same d but different kinds coexist', async t => {
  const c = await connect(t)
  const a = signer()
  const k1 = a.sign({ kind: 30000, created_at: now() - 20, tags: [['d', 'x']] })
  const k2 = a.sign({ kind: 39999, created_at: now() - 10, tags: [['d', 'x']] })
  await put(c, k1, k2)
  t.same(await ids(c, { authors: [a.pubkey], '#d': ['x'] }), [k2.id, k1.id])
})

t.test("another author's addressable event with the same kind and d does not replace", async t => {
  const c = await connect(t)
  const a = signer()
  const b = signer()
  const mine = a.sign({ kind: 30000, created_at: now() - 20, tags: [['d', 'shared']] })
  const theirs = b.sign({ kind: 30000, created_at: now() - 10, tags: [['d', 'shared']] })
  await put(c, mine, theirs)
  t.same(await ids(c, { authors: [a.pubkey, b.pubkey], kinds: [30000] }), [theirs.id, mine.id])
})
