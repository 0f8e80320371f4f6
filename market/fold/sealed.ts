// Pay-to-decrypt results (kind 21117, DESIGN §7.6): the only writer of market_sealed and market_frauds. A sealed
// result waits while its job is open to its provider; a key published for the job (a `preimage` in a 7000 success
// or a 31117) that opens it delivers the job, paid when the customer published the key; one that opens it to
// another plaintext is proof of fraud and flags the provider at once, with the evidence kept.
import { reject, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { feedbackCounts, shortId } from '../jobs.js'
import {
  keyHash,
  openSealedResult,
  readKeyReveal,
  readSealedResult,
  SEALED_RESULT,
  type SealedResult,
} from '../sealed.js'
import type { Ctx, Handler, HeldJob, MarketRules } from './context.js'
import type { Jobs } from './jobs.js'
import type { Payments } from './payments.js'

export function makeSealed(ctx: Ctx, jobs: Jobs, payments: Payments) {
  const { db } = ctx
  const q = {
    sealed: db.prepare('INSERT INTO market_sealed (seq, job_seq, provider, key_hash) VALUES (?, ?, ?, ?)'),
    sealedFor: db.prepare(
      `SELECT s.provider, e.raw FROM market_sealed s JOIN events e ON e.seq = s.seq
       WHERE s.job_seq = ? AND s.key_hash = ? ORDER BY s.seq`,
    ),
    dropSealed: db.prepare('DELETE FROM market_sealed WHERE seq = ?'),
    fraud: db.prepare('INSERT OR IGNORE INTO market_frauds (provider, sealed_id, reveal_id, why) VALUES (?, ?, ?, ?)'),
    frauds: db.prepare('SELECT DISTINCT provider FROM market_frauds').pluck(),
    fraudOf: db.prepare('SELECT 1 FROM market_frauds WHERE sealed_id = ?').pluck(),
    kindOf: db.prepare('SELECT kind FROM events WHERE id = ?').pluck(),
  }
  // Providers proven to sell a key that does not open their sealed result (§7.6): flagged at once.
  const frauds = new Set(q.frauds.all() as string[])

  /** Why a sealed result (21117) may not wait for its key here: as a result, while its job is open. */
  function refusal(e: NostrEvent, rules: MarketRules): Rejection | undefined {
    const s = readSealedResult(e)
    if ('prefix' in s) return s
    const j = ctx.job(s.job)
    const short = shortId(s.job)
    if (!j) return reject('restricted', `unknown job ${short}: publish the job request to this relay first`)
    if (s.customer !== j.customer) return reject('invalid', "pay-to-decrypt: the p tag must be the job's customer")
    if (j.state !== 'open' && j.state !== 'locked')
      return reject('restricted', `job ${short} is ${j.state}: a sealed result waits only for an open job`)
    if (j.state === 'locked' && e.pubkey !== j.provider)
      return reject('restricted', `job ${short} is paid in escrow to another provider`)
    if (!feedbackCounts(j, e.pubkey)) return reject('restricted', `job ${short} is not open to this provider`)
    return ctx.eligibility(j, e.pubkey, rules)
  }

  /** The sealed results of this job that a key published by `e` (a `preimage`) opens, or proves fraudulent. */
  function revealed(j: HeldJob, e: NostrEvent) {
    const key = readKeyReveal(e)
    if (!key || key.job !== j.id) return []
    return (q.sealedFor.all(j.seq, keyHash(key.key)) as { provider: string; raw: string }[]).map(r => {
      const event = JSON.parse(r.raw) as NostrEvent
      const sealed = readSealedResult(event) as SealedResult
      return { provider: r.provider, event, sealed, opened: openSealedResult(sealed, key.key) }
    })
  }

  const handler: Handler = {
    refusal: (e, rules) => refusal(e, rules),
    apply: (e, _receivedAt, seq) => {
      const s = readSealedResult(e)
      const j = 'prefix' in s ? undefined : ctx.job(s.job)
      if (j && (j.state === 'open' || (j.state === 'locked' && j.provider === e.pubkey)))
        q.sealed.run(seq, j.seq, e.pubkey, (s as SealedResult).keyHash)
    },
    removed: gone => void q.dropSealed.run(gone.seq),
    // The record of the delivery it made, or the evidence of a fraud.
    keeps: k => q.fraudOf.get(k.id) !== undefined || jobs.keepsResult(k),
  }

  return {
    handler,
    revealed,
    isFraud: (provider: string) => frauds.has(provider),

    /**
     * A published key: a sealed result it opens delivers its job (paid, when the customer published the key,
     * which it learned by paying the invoice); one it does not open to the committed plaintext flags its
     * provider at once, with the evidence kept.
     */
    reveal(e: NostrEvent, receivedAt: number): void {
      const key = readKeyReveal(e)
      const j = key && ctx.job(key.job)
      if (!j) return
      for (const r of revealed(j, e)) {
        if (!r.opened.ok) {
          q.fraud.run(r.provider, r.event.id, e.id, r.opened.why)
          if (!frauds.has(r.provider)) ctx.milestone({ what: 'flagged', provider: r.provider, why: 'fraud' })
          frauds.add(r.provider)
          ctx.touchProvider(r.provider)
          continue
        }
        if (j.state !== 'open' && !(j.state === 'locked' && j.provider === r.provider)) continue
        const sealed = { id: r.event.id, msats: r.sealed.msats, createdAt: r.event.created_at }
        if (!ctx.deliver(j, r.provider, sealed, receivedAt)) continue
        if (e.pubkey === j.customer) {
          const paid = { provider: r.provider, payer: j.customer, job: j.id, msats: r.sealed.msats }
          payments.record({ ref: r.sealed.keyHash, via: 'preimage', evidence: e.id, ...paid }, receivedAt)
        }
        return
      }
    },

    /** Why a deletion may not remove this event: a sealed result proven fraudulent is the evidence. */
    recordRefusal(id: string): Rejection | undefined {
      return q.kindOf.get(id) === SEALED_RESULT && q.fraudOf.get(id) !== undefined
        ? reject('restricted', `sealed result ${shortId(id)} is the evidence of a fraud: it stays`)
        : undefined
    },
  }
}

export type Sealed = ReturnType<typeof makeSealed>
