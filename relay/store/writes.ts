// Event write semantics on the writer's connection: replacement, deletion tombstones, expiry sweep, and
// the market fold of each stored event in the same transaction.
// Called only by relay/writer.ts, inside its transaction.
import { addressOf, reject, wins, type Rejection, type VerifiedEvent } from '../../nips/nip01.js'
import { deletedAddresses, deletedIds } from '../../nips/nip09.js'
import { expiresAt } from '../../nips/nip40.js'
import type { WriteNote } from '../../policies/types.js'
import { makeMarket, type MarketRules, type StoredKey, type Touched } from '../../market/fold.js'
import type { StandingDiff } from '../../market/fold/standing.js'
import type { Db } from './db.js'
import { makeMirrorWrites } from './mirror.js'

/** What happened to one event handed to the writer. */
export type WriteOutcome =
  | { readonly status: 'saved' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly rejection: Rejection }

/** The single-letter tag (name, first value) pairs that are indexed, each once per event. */
function indexedTags(e: VerifiedEvent): [string, string][] {
  const seen = new Set<string>()
  const out: [string, string][] = []
  for (const t of e.tags) {
    if (t.length < 2 || t[0]!.length !== 1) continue
    const key = `${t[0]}\u0000${t[1]}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push([t[0]!, t[1]!])
  }
  return out
}

/** Prepares the write statements once and returns the per-event operations; `market` folds the market in. */
export function makeWrites(db: Db, opts: { market: MarketRules | undefined }) {
  const q = {
    stored: db.prepare('SELECT seq FROM events WHERE id = ?').pluck(),
    deletedId: db.prepare('SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?').pluck(),
    deletedAddr: db.prepare('SELECT created_at FROM deleted_addrs WHERE pubkey = ? AND kind = ? AND addr = ?').pluck(),
    current: db.prepare('SELECT seq, id, created_at FROM events WHERE pubkey = ? AND kind = ? AND addr = ?'),
    insert: db.prepare(
      'INSERT INTO events (id, pubkey, kind, created_at, expires_at, addr, raw, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertTag: db.prepare('INSERT INTO tags (seq, name, value, kind, created_at) VALUES (?, ?, ?, ?, ?)'),
    deleteSeq: db.prepare('DELETE FROM events WHERE seq = ?'),
    deleteTags: db.prepare('DELETE FROM tags WHERE seq = ?'),
    target: db.prepare('SELECT seq, pubkey, kind, addr FROM events WHERE id = ?'),
    addrVersions: db.prepare(
      'SELECT seq, id FROM events WHERE pubkey = ? AND kind = ? AND addr = ? AND created_at <= ?',
    ),
    tombstoneId: db.prepare('INSERT OR IGNORE INTO deleted_ids (id, pubkey) VALUES (?, ?)'),
    tombstoneAddr: db.prepare(
      `INSERT INTO deleted_addrs (pubkey, kind, addr, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (pubkey, kind, addr) DO UPDATE SET created_at = max(created_at, excluded.created_at)`,
    ),
    expired: db.prepare(
      'SELECT seq, id, kind, pubkey, addr FROM events WHERE expires_at IS NOT NULL AND expires_at <= ?',
    ),
    paymentUsed: db.prepare('SELECT 1 FROM zap_unlocks WHERE payment_hash = ?').pluck(),
    unlock: db.prepare('INSERT INTO zap_unlocks (payment_hash, pubkey, msats, receipt_id) VALUES (?, ?, ?, ?)'),
  }

  const rules = opts.market
  const market = rules ? makeMarket(db) : undefined
  const mirror = makeMirrorWrites(db)

  // Every removal (replacement, deletion, expiry) goes through here, so the market sees each one.
  const remove = (gone: StoredKey) => {
    const { seq } = gone
    q.deleteTags.run(seq)
    q.deleteSeq.run(seq)
    mirror.forget(seq)
    market?.removed(gone)
  }

  // NIP-09: delete the author's own events by id and by address; tombstones stop them coming back.
  const applyDeletion = (del: VerifiedEvent) => {
    for (const id of deletedIds(del)) {
      const t = q.target.get(id) as { seq: number; pubkey: string; kind: number; addr: string | null } | undefined
      if (t && (t.pubkey !== del.pubkey || t.kind === 5)) continue // not theirs, or a deletion: no effect
      if (t) remove({ seq: t.seq, id, kind: t.kind, pubkey: t.pubkey, addr: t.addr })
      q.tombstoneId.run(id, del.pubkey)
    }
    for (const a of deletedAddresses(del)) {
      for (const v of q.addrVersions.all(a.pubkey, a.kind, a.d, del.created_at) as { seq: number; id: string }[])
        remove({ seq: v.seq, id: v.id, kind: a.kind, pubkey: a.pubkey, addr: a.d })
      q.tombstoneAddr.run(a.pubkey, a.kind, a.d, del.created_at)
    }
  }

  /** Saves one event with NIP-01/09 semantics, and what its note records; must run inside the writer's transaction. */
  function save(e: VerifiedEvent, raw: string, note?: WriteNote): WriteOutcome {
    // The relay's clock at storage: what market rules about time go by, never the event's own created_at.
    const receivedAt = Math.floor(Date.now() / 1000)
    const outcome = store(e, raw, receivedAt, note)
    // A mirrored event moves its upstream's position whatever became of it, and is seen there if it is stored.
    if (note?.seenOn !== undefined) {
      const seq = outcome.status === 'rejected' ? undefined : (q.stored.get(e.id) as number)
      mirror.reached(note.seenOn, e.created_at, receivedAt, seq)
    }
    return outcome
  }

  function store(e: VerifiedEvent, raw: string, receivedAt: number, note: WriteNote | undefined): WriteOutcome {
    if (q.stored.get(e.id)) return { status: 'duplicate' }
    const zap = note?.zapUnlock
    // NIP-57: one receipt per payment; a second receipt for the same invoice proves nothing new.
    if (zap && q.paymentUsed.get(zap.paymentHash))
      return { status: 'rejected', rejection: reject('invalid', 'zap receipt: this payment hash is already recorded') }
    if (q.deletedId.get(e.id, e.pubkey))
      return { status: 'rejected', rejection: reject('blocked', 'this event was deleted by its author') }
    const refused = rules && market?.refusal(e, rules, note?.facts)
    if (refused) return { status: 'rejected', rejection: refused }
    const addr = addressOf(e)
    if (addr !== undefined) {
      const deletedUpTo = q.deletedAddr.get(e.pubkey, e.kind, addr) as number | undefined
      if (deletedUpTo !== undefined && e.created_at <= deletedUpTo)
        return {
          status: 'rejected',
          rejection: reject('blocked', 'this address was deleted by its author up to a later time'),
        }
      const cur = q.current.get(e.pubkey, e.kind, addr) as { seq: number; id: string; created_at: number } | undefined
      if (cur) {
        // NIP-01: newest wins; at equal created_at the lowest id wins.
        if (!wins(e, cur))
          return {
            status: 'rejected',
            rejection: reject('blocked', 'a newer version of this replaceable event is stored'),
          }
        remove({ seq: cur.seq, id: cur.id, kind: e.kind, pubkey: e.pubkey, addr })
      }
    }
    const { lastInsertRowid: seq } = q.insert.run(
      e.id,
      e.pubkey,
      e.kind,
      e.created_at,
      expiresAt(e) ?? null,
      addr ?? null,
      raw,
      receivedAt,
    )
    for (const [name, value] of indexedTags(e)) q.insertTag.run(seq, name, value, e.kind, e.created_at)
    if (e.kind === 5) applyDeletion(e)
    if (zap) {
      q.unlock.run(zap.paymentHash, zap.sender, zap.msats, e.id)
      // What the zap gate's payers paid is part of standing (market.zap_gate_standing).
      market?.inputsChanged()
    }
    if (note?.facts) market?.learn(e.id, note.facts)
    market?.apply(e, receivedAt, Number(seq))
    return { status: 'saved' }
  }

  /** Deletes events whose NIP-40 expiration has passed; returns how many. */
  function sweepExpired(now: number): number {
    // A delivered job's request and result outlive their expiration: they are the job's record (NIP-40
    // lets relays keep expired events; readers never see them).
    const due = (q.expired.all(now) as StoredKey[]).filter(r => !market?.keeps(r))
    for (const r of due) remove(r)
    if (rules) market?.expireJobs(now - rules.jobTtl)
    return due.length
  }

  const none: Touched = { jobs: [], providers: [] }
  /** The jobs and providers the market changed since the last call. */
  const drainTouched = (): Touched => market?.drain() ?? none

  /** True when the market's standing should be computed again (its inputs changed). */
  const standingDue = () => market?.standingDue() ?? false
  /** A computation of standing starts elsewhere (the publisher thread): the inputs changed until now are its. */
  const standingStarted = () => market?.standingStarted()
  /** Computes the market's standing and reputation here; must run inside a transaction of the writer's. */
  const computeStanding = () => rules && market?.computeStanding(rules.standing, rules.flagThreshold)
  /** Writes what a computation elsewhere found; must run inside a transaction of the writer's. */
  const applyStanding = (diff: StandingDiff) => rules && market?.applyStanding(diff, rules.flagThreshold)

  return { save, sweepExpired, drainTouched, standingDue, standingStarted, computeStanding, applyStanding }
}
