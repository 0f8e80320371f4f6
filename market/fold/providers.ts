// The provider registry (DESIGN §7.3): the only writer of market_handlers (31990), market_profiles (kind 0 with a
// lightning address), market_wallets (10019) and market_heartbeats (30333). Replaceable and addressable rows are
// found by author and address on removal, with the id checked; heartbeats by their seq.
import { readNutzapInfo } from '../../nips/nip61.js'
import { readHandler, readHeartbeat, readProfileLud16 } from '../providers.js'
import type { Ctx, Handler, StoredKey } from './context.js'

export function makeProviders(ctx: Ctx) {
  const { db } = ctx
  const q = {
    handler: db.prepare(
      `INSERT INTO market_handlers (pubkey, d, id, kinds, name, lud16, skill) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pubkey, d) DO UPDATE SET id = excluded.id, kinds = excluded.kinds, name = excluded.name,
         lud16 = excluded.lud16, skill = excluded.skill`,
    ),
    profile: db.prepare(
      `INSERT INTO market_profiles (pubkey, id, lud16) VALUES (?, ?, ?)
       ON CONFLICT (pubkey) DO UPDATE SET id = excluded.id, lud16 = excluded.lud16`,
    ),
    wallet: db.prepare(
      `INSERT INTO market_wallets (pubkey, id, p2pk, mints) VALUES (?, ?, ?, ?)
       ON CONFLICT (pubkey) DO UPDATE SET id = excluded.id, p2pk = excluded.p2pk, mints = excluded.mints`,
    ),
    heartbeat: db.prepare(
      'INSERT INTO market_heartbeats (seq, received_at, status, capacity, kinds, price) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    dropHandler: db
      .prepare('DELETE FROM market_handlers WHERE pubkey = ? AND d = ? AND id = ? RETURNING pubkey')
      .pluck(),
    dropProfile: db.prepare('DELETE FROM market_profiles WHERE pubkey = ? AND id = ? RETURNING pubkey').pluck(),
    dropWallet: db.prepare('DELETE FROM market_wallets WHERE pubkey = ? AND id = ? RETURNING pubkey').pluck(),
    dropHeartbeat: db.prepare('DELETE FROM market_heartbeats WHERE seq = ?'),
  }
  const touch = (who: unknown) => ctx.touchProvider(who as string | undefined)

  const handler: Handler = {
    apply: e => {
      const { d, kinds, name, lud16, skill } = readHandler(e)!
      q.handler.run(e.pubkey, d, e.id, JSON.stringify(kinds), name ?? null, lud16 ?? null, skill ?? null)
      ctx.touchProvider(e.pubkey)
    },
    removed: (r: StoredKey) => touch(q.dropHandler.get(r.pubkey, r.addr ?? '', r.id)),
  }

  const profile: Handler = {
    apply: e => {
      const lud16 = readProfileLud16(e)
      if (lud16) q.profile.run(e.pubkey, e.id, lud16)
    },
    removed: r => touch(q.dropProfile.get(r.pubkey, r.id)),
  }

  const wallet: Handler = {
    apply: e => {
      const w = readNutzapInfo(e)
      if (w) q.wallet.run(e.pubkey, e.id, w.p2pk, JSON.stringify(w.mints))
    },
    removed: r => touch(q.dropWallet.get(r.pubkey, r.id)),
  }

  const heartbeat: Handler = {
    apply: (e, receivedAt, seq) => {
      const { status, capacity, kinds, price } = readHeartbeat(e)!
      q.heartbeat.run(seq, receivedAt, status ?? null, capacity ?? null, JSON.stringify(kinds), price ?? null)
      ctx.touchProvider(e.pubkey)
    },
    removed: gone => {
      if (q.dropHeartbeat.run(gone.seq).changes > 0) ctx.touchProvider(gone.pubkey)
    },
  }

  return { handler, profile, wallet, heartbeat }
}
