// Opening a database written by an older agora upgrades its schema in place and keeps its events.
import t from 'tap'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { openWriteDb } from '../../relay/store/db.js'
import { tempDir } from '../helpers/relay.js'

const indexes = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tags'").pluck().all() as string[])
    .filter(n => !n.startsWith('sqlite_'))
    .sort()

t.test('schema 2 (two tag indexes) becomes schema 3 (one), rows untouched', async t => {
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
  t.equal(db.pragma('user_version', { simple: true }), 3)
  t.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 1)
  t.equal(db.prepare("SELECT COUNT(*) FROM tags WHERE name = 'p' AND value = 'x'").pluck().get(), 1)
})
