// Opening a database written by an older agora upgrades its schema in place and keeps its events.
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { openWriteDb } from '../../relay/store/db.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { openTestStore } from '../helpers/store.js'

const indexes = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tags'").pluck().all() as string[])
    .filter(n => !n.startsWith('sqlite_'))
    .sort()

t.test('schema 2 (two tag indexes) becomes the current schema (one), rows untouched', async t => {
  const file = join(tempDir(t), 'agora.sqlite')
  const first = openWriteDb(file, 'normal')
  // Put the database back the way schema 2 left it.
  first.exec(`DROP INDEX tags_by_value;
    CREATE INDEX tags_value ON tags(name, value, created_at DESC);
    CREATE INDEX tags_value_kind ON tags(name, value, kind, created_at DESC);
    INSERT INTO events (id, pubkey, kind, created_at, raw) VALUES ('${'a'.repeat(64)}', '${'b'.repeat(64)}', 1, 5, '{}');
    INSERT INTO tags (seq, name, value, kind, created_at) VALUES (1, 'p', 'x', 1, 5);`)
  first.pragma('user_version = 2')
  first.close()

  const db = openWriteDb(file, 'normal')
  t.teardown(() => db.close())
  t.same(indexes(db), ['tags_by_value'])
  t.equal(db.pragma('user_version', { simple: true }), 14)
  t.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 1)
  t.equal(db.prepare("SELECT COUNT(*) FROM tags WHERE name = 'p' AND value = 'x'").pluck().get(), 1)
})

t.test('a schema 3 store gets its market tables folded from the events it holds', async t => {
  const dir = tempDir(t)
  const store = openTestStore(dir)
  const customer = signer()
  const request = customer.sign({ kind: 5100, tags: [['bid', '2000']] })
  await store.save(request)
  await store.close()
  const old = new Database(join(dir, 'agora.sqlite'))
  old.pragma('user_version = 3')
  old.close()

  const db = openWriteDb(join(dir, 'agora.sqlite'), 'normal')
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT id, customer, bid_msats, state FROM market_jobs').all(), [
    { id: request.id, customer: customer.pubkey, bid_msats: 2000, state: 'open' },
  ])
})

t.test('a schema 4 store gains the received_at column, empty for the events it held', async t => {
  const dir = tempDir(t)
  const store = openTestStore(dir)
  const note = signer().sign({ content: 'before schema 5' })
  await store.save(note)
  await store.close()
  const old = new Database(join(dir, 'agora.sqlite'))
  old.exec('ALTER TABLE events DROP COLUMN received_at')
  old.pragma('user_version = 4')
  old.close()

  const db = openWriteDb(join(dir, 'agora.sqlite'), 'normal')
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), 14)
  t.same(db.prepare('SELECT id, received_at FROM events').all(), [{ id: note.id, received_at: null }])
})

t.test('a schema 8 store has its jobs table rebuilt keyed by seq, and its jobs folded again', async t => {
  const dir = tempDir(t)
  const store = openTestStore(dir)
  const customer = signer()
  const request = customer.sign({ kind: 5100, tags: [['bid', '3000']] })
  await store.save(request)
  await store.close()
  // Schema 8 keyed market_jobs by the request id.
  const old = new Database(join(dir, 'agora.sqlite'))
  old.exec(`DROP TABLE market_jobs;
    CREATE TABLE market_jobs (id TEXT PRIMARY KEY, customer TEXT NOT NULL, state TEXT NOT NULL) WITHOUT ROWID;`)
  old.pragma('user_version = 8')
  old.close()

  const db = openWriteDb(join(dir, 'agora.sqlite'), 'normal')
  t.teardown(() => db.close())
  const seq = db.prepare('SELECT seq FROM events WHERE id = ?').pluck().get(request.id)
  t.same(db.prepare('SELECT seq, id, customer, bid_msats, state FROM market_jobs').all(), [
    { seq, id: request.id, customer: customer.pubkey, bid_msats: 3000, state: 'open' },
  ])
})

/** A store of schema `version` that lacks `tables` (dropped from a current one) gains them on open, its event kept. */
function gainsTables(t: Test, version: number, tables: readonly string[]) {
  const file = join(tempDir(t), 'agora.sqlite')
  const old = openWriteDb(file, 'normal')
  old.exec(`${tables.map(name => `DROP TABLE ${name};`).join(' ')}
    INSERT INTO events (id, pubkey, kind, created_at, raw) VALUES ('${'a'.repeat(64)}', '${'b'.repeat(64)}', 1, 5, '{}');`)
  old.pragma(`user_version = ${version}`)
  old.close()
  const db = openWriteDb(file, 'normal')
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), 14)
  const now = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]
  for (const name of tables) t.ok(now.includes(name), name)
  t.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 1)
}

t.test('a schema 11 store gains the operator’s tables (NIP-86), its events untouched', async t =>
  gainsTables(t, 11, ['banned_pubkeys', 'banned_events', 'managed_kinds', 'blocked_ips', 'relay_info']),
)

t.test('a schema 12 store has its event indexes built again narrower, the second author index gone', async t => {
  const file = join(tempDir(t), 'agora.sqlite')
  const old = openWriteDb(file, 'normal')
  // Put the indexes back the way schema 12 had them.
  old.exec(`DROP INDEX events_created; DROP INDEX events_kind; DROP INDEX events_pubkey_kind;
    CREATE INDEX events_created ON events(created_at DESC, id);
    CREATE INDEX events_pubkey ON events(pubkey, created_at DESC, id);
    CREATE INDEX events_kind ON events(kind, created_at DESC, id);
    CREATE INDEX events_pubkey_kind ON events(pubkey, kind, created_at DESC, id);
    INSERT INTO events (id, pubkey, kind, created_at, raw) VALUES ('${'a'.repeat(64)}', '${'b'.repeat(64)}', 1, 5, '{}');`)
  old.pragma('user_version = 12')
  old.close()
  const db = openWriteDb(file, 'normal')
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), 14)
  const defs = Object.fromEntries(
    (
      db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL")
        .all() as { name: string; sql: string }[]
    ).map(r => [r.name, r.sql.replace(/^.* ON /, '')]),
  )
  t.same(
    [defs.events_created, defs.events_kind, defs.events_pubkey_kind, defs.events_pubkey],
    ['events(created_at DESC)', 'events(kind, created_at DESC)', 'events(pubkey, kind, created_at DESC)', undefined],
  )
  t.equal(db.prepare('SELECT COUNT(*) FROM events WHERE pubkey = ?').pluck().get('b'.repeat(64)), 1)
})

t.test('a schema 13 store gains the mirror’s tables, its events untouched', async t =>
  gainsTables(t, 13, ['mirror_upstreams', 'mirror_seen']),
)
