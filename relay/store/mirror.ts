// The mirror's tables (schema 14, DESIGN §11 mirroring): each upstream with its position, and which upstreams each
// stored event was seen on. Written only by the writer, in the transaction that stores (or finds) the mirrored event;
// read by the mirror (positions) and by the ledger (market/outputs.ts).
import type { Db } from './db.js'

export const MIRROR_DDL = `
-- position: the newest created_at (never past the relay's clock) of an event from this upstream that reached the writer.
CREATE TABLE IF NOT EXISTS mirror_upstreams (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, position INTEGER);
-- An event seen on several upstreams has a row for each; a local event has none.
CREATE TABLE IF NOT EXISTS mirror_seen (
  seq INTEGER NOT NULL, upstream INTEGER NOT NULL, PRIMARY KEY (seq, upstream)
) WITHOUT ROWID;
`

/** Prepares the writer's statements; each call must run inside a transaction of the writer's. */
export function makeMirrorWrites(db: Db) {
  const q = {
    upstream: db.prepare('INSERT INTO mirror_upstreams (url) VALUES (?) ON CONFLICT (url) DO NOTHING'),
    id: db.prepare('SELECT id FROM mirror_upstreams WHERE url = ?').pluck(),
    seen: db.prepare('INSERT OR IGNORE INTO mirror_seen (seq, upstream) VALUES (?, ?)'),
    advance: db.prepare('UPDATE mirror_upstreams SET position = max(coalesce(position, 0), ?) WHERE id = ?'),
    forget: db.prepare('DELETE FROM mirror_seen WHERE seq = ?'),
  }
  // Upstreams are never removed, so their ids can be kept for the writer's life.
  const ids = new Map<string, number>()
  const idOf = (url: string) => {
    let id = ids.get(url)
    if (id === undefined) {
      q.upstream.run(url)
      id = q.id.get(url) as number
      ids.set(url, id)
    }
    return id
  }
  return {
    /**
     * An event from `url` reached the writer at `now`: its position moves on (a clock ahead of ours cannot move it past
     * now), and a stored copy (`seq`, newly saved or already there) gets its seen-on row.
     */
    reached(url: string, createdAt: number, now: number, seq: number | undefined): void {
      const id = idOf(url)
      q.advance.run(Math.min(createdAt, now), id)
      if (seq !== undefined) q.seen.run(seq, id)
    },
    /** A stored event is gone (replaced, deleted, expired): so are its seen-on rows. */
    forget: (seq: number) => void q.forget.run(seq),
  }
}

/** Where mirroring each upstream stopped, on a read connection. */
export function makeMirrorReads(db: Db) {
  const position = db.prepare('SELECT position FROM mirror_upstreams WHERE url = ?').pluck()
  return {
    /** The newest created_at an event from `url` reached the writer with, if any. */
    position: (url: string) => (position.get(url) as number | null | undefined) ?? undefined,
  }
}
