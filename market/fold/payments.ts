// Payments (DESIGN §7.2, §7.4, NIP-61): the only writer of market_payments and facts_payments. A zap receipt or
// nutzap counts by what its admission proved (kept in facts_payments, so a rebuild needs no network); an escrow
// settled or a sealed result's key bought are payments too. Each counts once, by payment hash, proof Y, lock or
// key hash. A delivered job is paid once payments to its provider cover what it asked.
import { reject } from '../../nips/nip01.js'
import { ZapReceipt } from '../../nips/nip57.js'
import { isDelivered, type JobState } from '../jobs.js'
import type { Ctx, Handler, PaymentFact } from './context.js'
import type { Jobs } from './jobs.js'

/** How a payment was proven. */
export type PaidVia = PaymentFact['via'] | 'escrow' | 'preimage'

export function makePayments(ctx: Ctx, jobs: Jobs) {
  const { db } = ctx
  const q = {
    learn: db.prepare(
      `INSERT OR IGNORE INTO facts_payments (evidence, ref, via, recipient, payer, zapped, msats)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    proven: db.prepare('SELECT ref, via, recipient, payer, zapped, msats FROM facts_payments WHERE evidence = ?'),
    paymentSeen: db.prepare('SELECT 1 FROM market_payments WHERE ref = ?').pluck(),
    pay: db.prepare(
      `INSERT OR IGNORE INTO market_payments (ref, via, evidence, provider, payer, job, msats, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    paymentsTo: db.prepare('SELECT msats, at FROM market_payments WHERE job = ? AND provider = ? ORDER BY at, ref'),
    anyPaid: db.prepare('SELECT 1 FROM market_payments WHERE job = ? AND provider = ? LIMIT 1').pluck(),
    dropPayments: db.prepare('DELETE FROM market_payments WHERE evidence = ? RETURNING job, provider'),
  }

  /**
   * Recomputes what a job's provider has been paid for it. A delivered job whose payments cover the amount asked
   * (the result's `amount`, else the provider's latest quote in feedback, else the bid; any payment when none is
   * named) is paid; payments withdrawn make it delivered again.
   */
  function settle(id: string): void {
    const j = ctx.job(id)
    if (!j || !j.provider) return
    const asked = j.amountMsats ?? jobs.askedByQuote(j.seq, j.provider) ?? j.bidMsats ?? 1
    // Paid at the relay time of the payment that covered it: the same on a rebuild.
    let paid = 0
    let paidAt: number | null = null
    for (const p of q.paymentsTo.all(id, j.provider) as { msats: number; at: number }[]) {
      paid += p.msats
      if (paidAt === null && paid >= asked) paidAt = p.at
    }
    const state: JobState = isDelivered(j.state) ? (paidAt !== null ? 'paid' : 'delivered') : j.state
    jobs.setPaid(j, paid, state, state === 'paid' ? paidAt : null)
    ctx.touchJob(id)
  }

  /** The job a payment is for: the one whose result, or whose quote in feedback, the recipient sent. */
  function jobPaidBy(zapped: string | undefined, recipient: string): string | undefined {
    if (zapped === undefined) return undefined
    const delivered = jobs.deliveredBy(zapped)
    return delivered?.provider === recipient ? delivered.job : jobs.quoteOf(zapped, recipient)
  }

  /** Zap receipts and nutzaps: what their admission proved counts once per payment. */
  const handler: Handler = {
    refusal: (e, _rules, facts) => {
      // DESIGN §7.2: paying oneself proves nothing (a provider's own LNURL server or mint would make it cheap).
      if (facts?.payments?.some(p => p.payer === p.recipient))
        return reject(
          'restricted',
          `${e.kind === ZapReceipt ? 'zap receipt' : 'nutzap'}: its payer is its recipient, and paying oneself counts for nothing`,
        )
      const counted = facts?.payments?.find(p => q.paymentSeen.get(p.ref) !== undefined)
      if (!counted) return undefined
      return counted.via === 'zap'
        ? reject('invalid', 'zap receipt: this payment hash is already recorded')
        : reject('invalid', 'nutzap: a proof in it was already counted (each proof pays once)')
    },
    apply: (e, receivedAt) => {
      const paid = new Set<string>()
      for (const p of q.proven.all(e.id) as (PaymentFact & { zapped: string | null })[]) {
        // Paying oneself proves nothing.
        if (p.payer === p.recipient) continue
        const jobId = jobPaidBy(p.zapped ?? undefined, p.recipient)
        if (q.pay.run(p.ref, p.via, e.id, p.recipient, p.payer, jobId ?? null, p.msats, receivedAt).changes === 0)
          continue
        ctx.inputsChanged()
        if (jobId) paid.add(jobId)
      }
      for (const id of paid) settle(id)
    },
    removed: gone => {
      for (const p of q.dropPayments.all(gone.id) as { job: string | null; provider: string }[]) {
        ctx.inputsChanged()
        if (p.job) settle(p.job)
      }
    },
  }

  return {
    handler,
    settle,
    /** A payment proven by the market itself (an escrow settled, a sealed result's key published by its customer). */
    record(
      p: { ref: string; via: PaidVia; evidence: string; provider: string; payer: string; job: string; msats: number },
      at: number,
    ): void {
      q.pay.run(p.ref, p.via, p.evidence, p.provider, p.payer, p.job, p.msats, at)
      ctx.inputsChanged()
      settle(p.job)
    },
    /** A job just delivered by `provider` may already be paid (a zapped quote). */
    settleIfPaid(jobId: string, provider: string): void {
      if (q.anyPaid.get(jobId, provider) !== undefined) settle(jobId)
    },
    learn(evidence: string, payments: readonly PaymentFact[]): void {
      for (const p of payments) q.learn.run(evidence, p.ref, p.via, p.recipient, p.payer, p.zapped ?? null, p.msats)
    },
  }
}

export type Payments = ReturnType<typeof makePayments>
