import t from 'tap'
import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll as put, queryIds as ids, type RawClient, type Teardown } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const main = await startTestRelay(t)

const connect = (tt: Teardown, to = main.url) => connectFor(tt, to)

/** A read-only handle on the relay's SQLite file, to see rows the protocol would hide. */
function openStore(tt: Teardown, dataDir: string) {
  const db = new Database(join(dataDir, 'agora.sqlite'), { readonly: true, fileMustExist: true })
  tt.teardown(() => db.close())
  const row = db.prepare('SELECT COUNT(*) FROM events WHERE id = ?').pluck()
  return { has: (id: string) => (row.get(id) as number) > 0 }
}

async function count(c: RawClient, ...filters: unknown[]): Promise<unknown> {
  const id = `n-${randomBytes(4).toString('hex')}`
  c.send(['COUNT', id, ...filters])
  const m = await c.expect(m => (m[0] === 'COUNT' || m[0] === 'CLOSED') && m[1] === id)
  if (m[0] === 'CLOSED') throw new Error(`COUNT refused: ${JSON.stringify(m)}`)
  return m[2]
}

const expiring = (at: number) => [['expiration', String(at)]]

t.test('ephemeral events are delivered to live subscribers', async t => {
  const sub = await connect(t)
  const pub = await connect(t)
  const a = signer()
  await sub.req('eph', { authors: [a.pubkey] })
  for (const kind of [20000, 25000, 29999]) {
    const e = a.sign({ kind })
    const ok = await pub.publish(e)
    t.equal(ok[2], true, `kind ${kind} accepted`)
    const m = await sub.expect(m => m[0] === 'EVENT' && m[1] === 'eph')
    t.equal((m[2] as NostrEvent).id, e.id, `kind ${kind} delivered`)
  }
})

t.test('ephemeral events are not stored', async t => {
  const c = await connect(t)
  const store = openStore(t, main.dataDir)
  const a = signer()
  const e = a.sign({ kind: 20001 })
  await put(c, e)
  t.same(await ids(c, { ids: [e.id] }), [], 'a later REQ by id returns nothing')
  t.same(await ids(c, { authors: [a.pubkey] }), [], 'a later REQ by author returns nothing')
  t.same(await count(c, { authors: [a.pubkey] }), { count: 0 }, 'COUNT is 0')
  t.equal(store.has(e.id), false, 'no row in the database')
})

t.test('an event whose expiration has passed is refused with invalid: and not stored', async t => {
  const c = await connect(t)
  const store = openStore(t, main.dataDir)
  const a = signer()
  for (const [at, label] of [
    [now() - 1, 'one second ago'],
    [now(), 'this second'],
  ] as const) {
    const e = a.sign({ content: label, tags: expiring(at) })
    const ok = await c.publish(e)
    t.equal(ok[2], false, `${label}: refused`)
    t.match(ok[3], /^invalid: /, `${label}: invalid:`)
    t.equal(store.has(e.id), false, `${label}: no row in the database`)
  }
  t.same(await ids(c, { authors: [a.pubkey] }), [], 'nothing is served')
})

t.test('an event with a future expiration is served', async t => {
  const c = await connect(t)
  const e = signer().sign({ tags: expiring(now() + 600) })
  await put(c, e)
  t.same(await ids(c, { ids: [e.id] }), [e.id])
})

t.test('an event is no longer served once its expiration passes', async t => {
  const c = await connect(t)
  const a = signer()
  const e = a.sign({ tags: expiring(now() + 2) })
  await put(c, e)
  t.same(await ids(c, { authors: [a.pubkey] }), [e.id], 'served before')
  await sleep(3000)
  t.same(await ids(c, { authors: [a.pubkey] }), [], 'not served by author after')
  t.same(await ids(c, { ids: [e.id] }), [], 'not served by id after')
})

t.test('COUNT excludes an event once its expiration passes', async t => {
  const c = await connect(t)
  const a = signer()
  await put(c, a.sign({ content: 'stays', created_at: now() - 5 }), a.sign({ tags: expiring(now() + 2) }))
  t.same(await count(c, { authors: [a.pubkey] }), { count: 2 }, 'counted before')
  await sleep(3000)
  t.same(await count(c, { authors: [a.pubkey] }), { count: 1 }, 'not counted after')
})

t.test('the background sweeper deletes an expired event from the database', async t => {
  const r = await startTestRelay(t, { 'store.sweep_interval': 1 })
  const c = await connect(t, r.url)
  const store = openStore(t, r.dataDir)
  const a = signer()
  const keep = a.sign({ created_at: now() - 5 })
  const e = a.sign({ tags: expiring(now() + 2) })
  await put(c, keep, e)
  t.equal(store.has(e.id), true, 'the row is there before it expires')
  const deadline = Date.now() + 6000
  while (store.has(e.id) && Date.now() < deadline) await sleep(250)
  t.equal(store.has(e.id), false, 'the row is gone')
  t.equal(store.has(keep.id), true, 'an event without expiration is left alone')
})
