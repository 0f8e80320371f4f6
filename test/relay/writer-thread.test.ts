// The writer on its own thread: the same outcomes as inline, OK only after commit, commits in order,
// expiry sweeps, a drain on close, checkpoints off the writer, and start-up errors that say why.
import t from 'tap'
import Database from 'better-sqlite3'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { bulkSigner } from '../../bench/bulk-sign.js'
import { canonicalJson, type NostrEvent, type VerifiedEvent } from '../../nips/nip01.js'
import { BUSY_TIMEOUT_MS, openReadDb } from '../../relay/store/db.js'
import { openWriter, type WriterSetup } from '../../relay/writer-thread.js'
import { now, signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { testMarketRules } from '../helpers/store.js'
import { waitFor } from '../helpers/wait.js'

type T = Parameters<typeof tempDir>[0]

async function threadWriter(t: T, extra: Partial<WriterSetup> = {}) {
  const file = join(tempDir(t), 'agora.sqlite')
  const committed: string[][] = []
  const writer = await openWriter({
    file,
    synchronous: 'normal',
    batchMax: 1000,
    market: testMarketRules(),
    thread: true,
    onCommitted: saved => committed.push(saved.map(s => s.event.id)),
    ...extra,
  })
  const reader = openReadDb(file)
  t.teardown(async () => {
    await writer.close()
    reader.close()
  })
  const save = (e: NostrEvent) => writer.enqueue(e as VerifiedEvent, canonicalJson(e))
  // Read on a connection of its own, as the relay's readers do.
  const lookup = reader.prepare('SELECT 1 FROM events WHERE id = ?').pluck()
  const stored = (id: string) => lookup.get(id) === 1
  return { file, writer, committed, save, stored }
}

t.test('outcomes match the store rules, each OK comes after its commit, and commits are reported in order', async t => {
  const w = await threadWriter(t)
  const alice = signer()
  const notes = Array.from({ length: 50 }, (_, i) => alice.sign({ content: `note ${i}` }))
  let visible = 0
  const outcomes = await Promise.all(
    notes.map(async e => {
      const o = await w.save(e)
      // Resolved only once committed: a separate read connection already sees it.
      if (w.stored(e.id)) visible++
      return o.status
    }),
  )
  t.equal(visible, notes.length, 'every event was visible to a reader when its outcome arrived')
  t.same(new Set(outcomes), new Set(['saved']))
  t.same(
    w.committed.flat(),
    notes.map(e => e.id),
    'onCommitted saw every saved event once, in order',
  )

  t.equal((await w.save(notes[0]!)).status, 'duplicate')
  const at = now()
  const newer = alice.sign({ kind: 10002, created_at: at, content: 'newer' })
  const older = alice.sign({ kind: 10002, created_at: at - 10, content: 'older' })
  t.equal((await w.save(newer)).status, 'saved')
  const refused = await w.save(older)
  t.equal(refused.status, 'rejected')
  t.match(refused, { rejection: { prefix: 'blocked' } }, 'an older replaceable is refused with its reason')
  t.notOk(w.stored(older.id), 'and is not stored')
  t.equal(w.committed.flat().length, 51, 'duplicates and refusals are not reported as committed')
})

t.test('settled resolves only once every batch handed to the thread has been reported as committed', async t => {
  const w = await threadWriter(t)
  const alice = signer()
  const notes = Array.from({ length: 20 }, (_, i) => alice.sign({ content: `settle ${i}` }))
  const outcomes = Promise.all(notes.map(e => w.save(e)))
  await new Promise(r => setImmediate(r)) // the batch is now on its way to the thread
  t.equal(w.committed.flat().length, 0, 'not reported yet when settled is asked')
  await w.writer.settled()
  t.same(
    w.committed.flat(),
    notes.map(e => e.id),
    'every event handed over was reported before settled resolved',
  )
  await outcomes
  await w.writer.settled() // nothing in flight: resolves at once
})

t.test('expired events are swept through the thread', async t => {
  const w = await threadWriter(t)
  const at = now()
  const bob = signer()
  const short = bob.sign({ tags: [['expiration', String(at + 100)]] })
  const lasting = bob.sign({ content: 'stays' })
  await w.save(short)
  await w.save(lasting)
  t.equal(await w.writer.sweepExpired(at + 99), 0, 'nothing has expired yet')
  t.equal(await w.writer.sweepExpired(at + 100), 1)
  t.notOk(w.stored(short.id))
  t.ok(w.stored(lasting.id))
})

t.test('close commits what is still queued; later writes are refused', async t => {
  const w = await threadWriter(t)
  const carol = signer()
  const events = Array.from({ length: 200 }, (_, i) => carol.sign({ content: `queued ${i}` }))
  const pending = events.map(e => w.save(e))
  await w.writer.close()
  t.same(new Set((await Promise.all(pending)).map(o => o.status)), new Set(['saved']))
  const db = new Database(w.file, { readonly: true })
  t.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 200, 'all queued events are on disk')
  db.close()
  const late = await w.save(carol.sign()).then(
    () => 'stored',
    (err: Error) => err.message,
  )
  t.equal(late, 'writer is closed')
})

t.test('a checkpoint thread copies the WAL into the database; the writer never stops to do it', async t => {
  const w = await threadWriter(t, { checkpointMs: 10 })
  const keys = Array.from({ length: 50 }, () => signer().pubkey)
  const at = now()
  const events = bulkSigner().signAll(
    Array.from({ length: 2000 }, (_, i) => ({
      kind: 1,
      created_at: at,
      tags: [
        ['p', keys[i % 50]!],
        ['t', `t${i}`],
      ],
      content: `stream #${i}`,
    })),
  )
  const before = statSync(w.file).size
  for (let b = 0; b < events.length; b += 100) await Promise.all(events.slice(b, b + 100).map(e => w.save(e)))
  const db = new Database(w.file, { readonly: true })
  t.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 2000)
  db.close()
  // Commits only append to the WAL (the writer's autocheckpoint is off); the database file grows only when
  // the checkpoint thread copies pages back into it.
  await waitFor(() => statSync(w.file).size > before + (1 << 20), 'the database file to take in the WAL')
  t.ok(statSync(w.file).size > before + (1 << 20), `the database file grew from ${before} bytes`)
})

t.test(
  'a long reader (a backup) does not hold each commit at the busy timeout once the WAL is due to restart',
  async t => {
    const w = await threadWriter(t, { checkpointMs: 10, walRestartPages: 50 })
    const author = bulkSigner()
    const at = now()
    const batch = (n: number) =>
      author.signAll(
        Array.from({ length: 50 }, (_, i) => ({
          kind: 1,
          created_at: at,
          tags: [],
          content: `${n}:${i} ${'x'.repeat(200)}`,
        })),
      )
    await Promise.all(batch(0).map(e => w.save(e)))
    // A read transaction pinned to the WAL as it is now, like `agora backup` holds for its whole copy.
    const reader = new Database(w.file, { readonly: true })
    t.teardown(() => reader.close())
    reader.exec('BEGIN')
    reader.prepare('SELECT COUNT(*) FROM events').pluck().get()
    const started = Date.now()
    for (let n = 1; n <= 20; n++) await Promise.all(batch(n).map(e => w.save(e)))
    const took = Date.now() - started
    reader.exec('COMMIT')
    // Waiting out the reader at every commit would take 20 × 10 s; one wait of the busy timeout is the bound.
    t.ok(took < BUSY_TIMEOUT_MS, `20 commits behind a pinned reader took ${took} ms`)
    t.equal(reader.prepare('SELECT COUNT(*) FROM events').pluck().get(), 1050, 'every event was committed')
  },
)

t.test('a database from a newer agora stops the start with the reason', async t => {
  const file = join(tempDir(t), 'agora.sqlite')
  const db = new Database(file)
  db.pragma('user_version = 99')
  db.close()
  await t.rejects(
    openWriter({
      file,
      synchronous: 'normal',
      batchMax: 10,
      market: testMarketRules(),
      thread: true,
      onCommitted: () => {},
    }),
    /database schema 99 is newer than this agora/,
  )
})
