// The operator's tables (NIP-86, schema 12): what the management API set, kept across restarts. Written only by
// the writer (relay/writer.ts), each change in its own transaction; read once at start into relay/management/state.ts
// and, for bans, by the query planner, so a banned author's or event's stored copies are never served.
import { emptyManaged, type InfoKey, type Managed, type ManagementChange } from '../management/state.js'
import type { Db } from './db.js'

export const MANAGEMENT_DDL = `
CREATE TABLE IF NOT EXISTS banned_pubkeys (pubkey TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS banned_events (id TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
-- allowed = 1: accepted whatever the kind whitelist says; 0: refused whatever it says.
CREATE TABLE IF NOT EXISTS managed_kinds (kind INTEGER PRIMARY KEY, allowed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocked_ips (ip TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
-- NIP-11 name, description and icon set at runtime; they override the config file's.
CREATE TABLE IF NOT EXISTS relay_info (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`

/** SQL that holds for a stored event (alias `e`) whose author and id are not banned; the planner adds it. */
export const NOT_BANNED =
  'NOT EXISTS (SELECT 1 FROM banned_pubkeys b WHERE b.pubkey = e.pubkey) AND NOT EXISTS (SELECT 1 FROM banned_events b WHERE b.id = e.id)'

/** SQL answering 1 when anything is banned, so queries add NOT_BANNED only then. */
export const ANY_BANNED = 'SELECT EXISTS (SELECT 1 FROM banned_pubkeys) OR EXISTS (SELECT 1 FROM banned_events)'

/** Prepares the writer's statements; `apply` must run inside a transaction of the writer's. */
export function makeManagementWrites(db: Db) {
  const q = {
    banPubkey: db.prepare('INSERT OR REPLACE INTO banned_pubkeys (pubkey, reason) VALUES (?, ?)'),
    unbanPubkey: db.prepare('DELETE FROM banned_pubkeys WHERE pubkey = ?'),
    banEvent: db.prepare('INSERT OR REPLACE INTO banned_events (id, reason) VALUES (?, ?)'),
    unbanEvent: db.prepare('DELETE FROM banned_events WHERE id = ?'),
    kind: db.prepare('INSERT OR REPLACE INTO managed_kinds (kind, allowed) VALUES (?, ?)'),
    blockIp: db.prepare('INSERT OR REPLACE INTO blocked_ips (ip, reason) VALUES (?, ?)'),
    unblockIp: db.prepare('DELETE FROM blocked_ips WHERE ip = ?'),
    setInfo: db.prepare('INSERT OR REPLACE INTO relay_info (key, value) VALUES (?, ?)'),
    clearInfo: db.prepare('DELETE FROM relay_info WHERE key = ?'),
  }
  return {
    /** Records one change. */
    apply(c: ManagementChange): void {
      if (c.op === 'ban-pubkey') q.banPubkey.run(c.pubkey, c.reason)
      else if (c.op === 'unban-pubkey') q.unbanPubkey.run(c.pubkey)
      else if (c.op === 'ban-event') q.banEvent.run(c.id, c.reason)
      else if (c.op === 'unban-event') q.unbanEvent.run(c.id)
      else if (c.op === 'kind') q.kind.run(c.kind, c.allowed ? 1 : 0)
      else if (c.op === 'block-ip') q.blockIp.run(c.ip, c.reason)
      else if (c.op === 'unblock-ip') q.unblockIp.run(c.ip)
      else if (c.value === '') q.clearInfo.run(c.key)
      else q.setInfo.run(c.key, c.value)
    },
  }
}

/** Everything the operator set, read from the store into `m` (at start, for the main thread's copy). */
export function loadManaged(db: Db, m: Managed = emptyManaged()): Managed {
  const pairs = (sql: string) => db.prepare(sql).raw().all() as [string, string][]
  for (const [k, v] of pairs('SELECT pubkey, reason FROM banned_pubkeys')) m.pubkeys.set(k, v)
  for (const [k, v] of pairs('SELECT id, reason FROM banned_events')) m.events.set(k, v)
  for (const [k, v] of pairs('SELECT ip, reason FROM blocked_ips')) m.ips.set(k, v)
  for (const [k, v] of pairs('SELECT key, value FROM relay_info')) m.info.set(k as InfoKey, v)
  for (const [k, v] of db.prepare('SELECT kind, allowed FROM managed_kinds').raw().all() as [number, number][])
    m.kinds.set(k, v === 1)
  return m
}
