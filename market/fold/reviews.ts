// What keys say of each other (DESIGN §7.3): reviews (31117), trust declarations (30382 from agents) and
// attestations (30085). The only writer of market_reviews, market_trust and market_attestations. Rows of these
// addressable events are keyed by author and address, which is how a replacement or deletion finds them (with the
// id checked), so no index by id is written.
import { type NostrEvent } from '../../nips/nip01.js'
import { readAttestation } from '../attestations.js'
import { readReview, reviewRefusal, roleOf } from '../reviews.js'
import { readTrust, trustRefusal } from '../trust.js'
import type { Ctx, Handler, StoredKey } from './context.js'
import type { Sealed } from './sealed.js'

export function makeReviews(ctx: Ctx, sealed: Sealed) {
  const { db } = ctx
  const q = {
    review: db.prepare(
      `INSERT INTO market_reviews (job, job_seq, reviewer, id, reviewed, rating, role, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job, reviewer) DO UPDATE SET id = excluded.id, reviewed = excluded.reviewed,
         rating = excluded.rating, role = excluded.role, created_at = excluded.created_at`,
    ),
    trust: db.prepare(
      `INSERT INTO market_trust (truster, trusted, id) VALUES (?, ?, ?)
       ON CONFLICT (trusted, truster) DO UPDATE SET id = excluded.id`,
    ),
    attestation: db.prepare(
      'INSERT OR IGNORE INTO market_attestations (id, attestor, subject, rating, confidence, at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    dropReview: db
      .prepare('DELETE FROM market_reviews WHERE reviewer = ? AND job = ? AND id = ? RETURNING reviewed')
      .pluck(),
    dropTrust: db
      .prepare('DELETE FROM market_trust WHERE truster = ? AND trusted = ? AND id = ? RETURNING trusted')
      .pluck(),
    dropAttestation: db.prepare('DELETE FROM market_attestations WHERE id = ? RETURNING subject').pluck(),
  }
  // Every change here is an input of standing: the computation touches the keys whose reputation it moves.
  const dropped = (who: unknown) => who !== undefined && ctx.inputsChanged()
  // By author and `d` (the job reviewed, the key trusted), with the id checked.
  const byAddress = (st: typeof q.dropReview) => (r: StoredKey) => dropped(st.get(r.pubkey, r.addr ?? '', r.id))

  /** A review that publishes the key of a sealed result delivers the job as it is stored. */
  function reviewed(e: NostrEvent) {
    const review = readReview(e)!
    const j = ctx.job(review.job)
    const opened = j && sealed.revealed(j, e).find(r => r.opened.ok)
    return { review, j: opened ? { ...j, state: 'delivered' as const, provider: opened.provider } : j }
  }

  const review: Handler = {
    refusal: e => {
      const { review, j } = reviewed(e)
      return reviewRefusal(j, e, review)
    },
    apply: (e, receivedAt) => {
      sealed.reveal(e, receivedAt)
      const review = readReview(e)!
      const j = ctx.job(review.job)
      if (!j || reviewRefusal(j, e, review) !== undefined) return
      const role = roleOf(j, e.pubkey)
      q.review.run(j.id, j.seq, e.pubkey, e.id, review.reviewed!, review.rating!, role, e.created_at)
      ctx.inputsChanged()
    },
    removed: byAddress(q.dropReview),
  }

  const trust: Handler = {
    refusal: e => {
      const t = readTrust(e)
      return t && trustRefusal(e, t.trusted)
    },
    apply: e => {
      const t = readTrust(e)
      if (!t || trustRefusal(e, t.trusted) !== undefined) return
      q.trust.run(e.pubkey, t.trusted, e.id)
      ctx.inputsChanged()
    },
    removed: byAddress(q.dropTrust),
  }

  const attestation: Handler = {
    refusal: e => {
      const a = readAttestation(e)
      return a && 'prefix' in a ? a : undefined
    },
    apply: (e, receivedAt) => {
      const a = readAttestation(e)
      if (!a || 'prefix' in a) return
      q.attestation.run(e.id, e.pubkey, a.subject, a.rating, a.confidence, Math.min(e.created_at, receivedAt))
      ctx.inputsChanged()
    },
    removed: gone => dropped(q.dropAttestation.get(gone.id)),
  }

  return { review, trust, attestation }
}
