// Opens the SQLite database with WAL and the schema. Each connection has one owner (writer or reader).
import Database from 'better-sqlite3'
import { rebuildMarket } from '../../market/rebuild.js'
import { MARKET_DDL } from '../../market/schema.js'
import { MANAGEMENT_DDL } from './management.js'
import { MIRROR_DDL } from './mirror.js'

export type Db = Database.Database

// Schema 12 added the operator's tables (NIP-86): an older agora refuses the file rather than ignore its bans.
// Schema 13 narrowed the read indexes (below). Schema 14 added the mirror's tables (relay/store/mirror.ts): an older
// agora would store mirrored events without their seen-on rows, so it refuses the file.
const SCHEMA_VERSION = 14

const DDL = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  pubkey TEXT NOT NULL,
  kind INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  addr TEXT,
  raw TEXT NOT NULL,
  -- The relay's clock when the event was stored (schema 5; NULL for events stored before).
  received_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS events_addr ON events(pubkey, kind, addr) WHERE addr IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_expires ON events(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS tags (
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  kind INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (seq, name, value)
) WITHOUT ROWID;
-- (id, deleter): a deletion by someone else must not block the real author.
CREATE TABLE IF NOT EXISTS deleted_ids (id TEXT NOT NULL, pubkey TEXT NOT NULL, PRIMARY KEY (id, pubkey)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleted_addrs (
  pubkey TEXT NOT NULL, kind INTEGER NOT NULL, addr TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (pubkey, kind, addr)
) WITHOUT ROWID;
-- Verified zaps to the relay (zap gate). Kept when the receipt event is deleted or pruned: an unlock is for good.
CREATE TABLE IF NOT EXISTS zap_unlocks (
  payment_hash TEXT PRIMARY KEY, pubkey TEXT NOT NULL, msats INTEGER NOT NULL, receipt_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS zap_unlocks_pubkey ON zap_unlocks(pubkey, msats);
`

/**
 * The indexes only queries read; writing needs none of them (it looks events up by id, address and seq). An import
 * into an empty store builds them after the load instead (relay/commands/import.ts): one sort each instead of a
 * random page per event and index.
 */
const READ_INDEXES: Record<string, string> = {
  // Every index is a random page written per stored event, and at ingest the WAL those pages fill is the writer's
  // limit (README, Performance). So since schema 13 no key ends in the id (the reader orders equal created_at by
  // id itself) and authors have one index, keyed by kind too: a filter of authors without kinds is read per kind
  // they have (relay/store/reader.ts).
  events_created: 'events(created_at DESC)',
  events_kind: 'events(kind, created_at DESC)',
  events_pubkey_kind: 'events(pubkey, kind, created_at DESC)',
  // One tag index (as strfry has): kind rides along so tag+kinds filters are checked inside the index.
  // Every index is a random page written per stored event; a second one keyed (value, kind) cost more
  // on every write than it saved on tag+kinds reads.
  tags_by_value: 'tags(name, value, created_at DESC, kind)',
}

/** Drops the read indexes of an empty store, for a load that builds them after (`openWriteDb` builds them). */
export function dropReadIndexes(db: Db): void {
  for (const name of Object.keys(READ_INDEXES)) db.exec(`DROP INDEX IF EXISTS ${name}`)
}

/** How long a writing connection waits for another's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10_000

/**
 * Opens (and on first use creates) the database for writing: WAL, the schema, the chosen durability.
 * `autocheckpoint: false` leaves checkpoints to another connection (relay/checkpoint-worker.ts).
 * `readIndexes: false` leaves out the indexes only queries use, for a bulk load that builds them after; any later
 * open builds them, so a load that stops half way leaves a complete store behind.
 */
export function openWriteDb(
  file: string,
  synchronous: 'full' | 'normal',
  autocheckpoint = true,
  readIndexes = true,
): Db {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  // Another connection holding the lock (a checkpoint) is waited out instead of failing.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  // Measured on the writer (30k events, 1000 per batch): a larger cache, fewer WAL checkpoints and mmap
  // together take it from about 9,600 to 14,000 events/s.
  db.pragma('cache_size = -65536')
  db.pragma(`wal_autocheckpoint = ${autocheckpoint ? 10000 : 0}`)
  // A WAL that grew under a burst is cut back when it starts over.
  db.pragma('journal_size_limit = 67108864')
  db.pragma('mmap_size = 268435456')
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION)
    throw new Error(`database schema ${version} is newer than this agora (${SCHEMA_VERSION})`)
  // Schema 2 had two tag indexes, replaced in 3 by tags_by_value.
  if (version === 2) db.exec('DROP INDEX IF EXISTS tags_value; DROP INDEX IF EXISTS tags_value_kind;')
  // Schemas before 13 had the wider event indexes and a second author index: built again narrower, below.
  if (version > 0 && version < 13)
    for (const name of ['events_created', 'events_pubkey', 'events_kind', 'events_pubkey_kind'])
      db.exec(`DROP INDEX IF EXISTS ${name}`)
  const columns = version > 0 ? (db.pragma('table_info(events)') as { name: string }[]).map(c => c.name) : []
  if (version > 0 && !columns.includes('received_at')) db.exec('ALTER TABLE events ADD COLUMN received_at INTEGER')
  // Schemas 8 to 11 reshaped the market tables: they are derived, so they are dropped and folded again.
  if (version > 0 && version < 11)
    for (const { name } of db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'market\\_%' ESCAPE '\\'")
      .all() as { name: string }[])
      db.exec(`DROP TABLE ${name}`)
  db.exec(DDL)
  if (readIndexes)
    for (const [name, on] of Object.entries(READ_INDEXES)) db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON ${on}`)
  db.exec(MARKET_DDL)
  db.exec(MANAGEMENT_DDL)
  db.exec(MIRROR_DDL)
  // Schemas 4 to 11 added market tables: fold the events stored before them (the writer computes standing).
  if (version > 0 && version < 11) rebuildMarket(db)
  db.pragma(`user_version = ${SCHEMA_VERSION}`)
  return db
}

/** Opens the connection that only runs checkpoints, beside the writer's. */
export function openCheckpointDb(file: string): Db {
  const db = new Database(file, { fileMustExist: true })
  // A restarting checkpoint waits for the writer's transaction and for readers of old WAL frames.
  db.pragma('busy_timeout = 10000')
  return db
}

/** Opens a read-only connection to a database the writer has created. */
export function openReadDb(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  db.pragma('query_only = ON')
  db.pragma('cache_size = -32768')
  db.pragma('mmap_size = 268435456')
  return db
}
