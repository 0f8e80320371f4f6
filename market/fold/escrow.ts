// Escrow (kinds 7117 and 7118, DESIGN §7.5): the only writer of market_escrows, market_escrow_proofs and
// facts_escrows. A lock the admission proved (facts_escrows) locks its job to one provider; each action is checked
// against the lock's proofs and keys (market/packages.ts, market/actions.ts), on a rebuild too. The lock, the
// actions and the job's request are the record of the escrow: their authors cannot delete them.
import { reject, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import {
  actionRefusal,
  disputeTooLate,
  ESCROW_ACTION,
  readEscrowAction,
  type EscrowAction,
  type EscrowState,
} from '../actions.js'
import { jobTermsRefusal, lockParties, readEscrowLock } from '../escrow.js'
import { feedbackCounts, isDelivered, shortId } from '../jobs.js'
import { checkPackage } from '../packages.js'
import type { Ctx, DeliverableJob, EscrowFact, Handler, HeldJob, MarketRules, StoredKey } from './context.js'
import type { Jobs } from './jobs.js'
import type { Payments } from './payments.js'

/** An escrow row with its lock event. */
type EscrowRow = {
  job_seq: number
  lock_id: string
  provider: string
  sats: number
  state: EscrowState
  delivered_at: number | null
  lock_raw: string
}

/** An action that may be taken, with its job, escrow and the lock keys that signed its package. */
type Judged = { a: EscrowAction; j: HeldJob; x: EscrowRow; signers: readonly string[] }

const now = () => Math.floor(Date.now() / 1000)

export function makeEscrow(ctx: Ctx, jobs: Jobs, payments: Payments) {
  const { db } = ctx
  const q = {
    escrow: db.prepare(
      `INSERT INTO market_escrows (job_seq, lock_seq, lock_id, provider, mint, sats, locktime)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    pledge: db.prepare('INSERT INTO market_escrow_proofs (y, job_seq) VALUES (?, ?)'),
    pledgedTo: db
      .prepare('SELECT j.id FROM market_escrow_proofs p JOIN market_jobs j ON j.seq = p.job_seq WHERE p.y = ?')
      .pluck(),
    escrowOfLock: db.prepare('SELECT job_seq FROM market_escrows WHERE lock_seq = ?').pluck(),
    escrowOfJob: db.prepare('SELECT 1 FROM market_escrows WHERE job_seq = ?').pluck(),
    lockedBy: db
      .prepare(
        `SELECT j.id FROM market_escrows x JOIN market_jobs j ON j.seq = x.job_seq
         WHERE x.lock_seq = (SELECT seq FROM events WHERE id = ?)`,
      )
      .pluck(),
    kindOf: db.prepare('SELECT kind FROM events WHERE id = ?').pluck(),
    dropEscrow: db.prepare('DELETE FROM market_escrows WHERE lock_seq = ? RETURNING job_seq').pluck(),
    dropPledges: db.prepare('DELETE FROM market_escrow_proofs WHERE job_seq = ?'),
    learnEscrow: db.prepare(
      `INSERT OR IGNORE INTO facts_escrows (evidence, job, provider, mint, sats, locktime, ys)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    provenEscrow: db.prepare('SELECT job, provider, mint, sats, locktime, ys FROM facts_escrows WHERE evidence = ?'),
    escrowOf: db.prepare(
      `SELECT x.job_seq, x.lock_id, x.provider, x.sats, x.state, x.delivered_at, e.raw AS lock_raw
       FROM market_escrows x JOIN events e ON e.seq = x.lock_seq WHERE x.job_seq = ?`,
    ),
    escrowDelivered: db.prepare('UPDATE market_escrows SET delivered_at = ? WHERE job_seq = ?'),
    escrowClaim: db.prepare('UPDATE market_escrows SET claim = ? WHERE job_seq = ?'),
    escrowRefund: db.prepare('UPDATE market_escrows SET refund = ? WHERE job_seq = ?'),
    escrowDispute: db.prepare(
      "UPDATE market_escrows SET state = 'disputed', dispute_id = ?, refund = coalesce(?, refund) WHERE job_seq = ?",
    ),
    escrowSpend: db.prepare(
      'UPDATE market_escrows SET state = ?, spend = ?, ruling = ?, ruling_id = ? WHERE job_seq = ?',
    ),
    escrowSpent: db.prepare('UPDATE market_escrows SET state = ?, path = ?, signers = ? WHERE job_seq = ?'),
  }
  // The last action judged live, so the fold right after does not check its package's signatures again.
  let judged: { id: string; verdict: Judged | Rejection } | undefined

  /** The rules a lock must meet on a rebuild as well: the job, its state, its customer and the proofs. */
  function lockJobRefusal(e: NostrEvent, j: HeldJob | undefined, x: EscrowFact): Rejection | undefined {
    if (!j) return reject('restricted', `unknown job ${shortId(x.job)}: publish the job request to this relay first`)
    if (j.customer !== e.pubkey) return reject('restricted', "only the job's customer can lock payment for it")
    if (j.state === 'locked') return reject('restricted', `job ${shortId(j.id)} already has an escrow lock`)
    if (j.state !== 'open') return reject('restricted', `job ${shortId(j.id)} is ${j.state}: too late to lock`)
    if (!feedbackCounts(j, x.provider))
      return reject('restricted', `job ${shortId(j.id)} is not open to provider ${shortId(x.provider)}`)
    for (const [i, y] of x.ys.entries()) {
      const other = q.pledgedTo.get(y) as string | undefined
      if (other !== undefined)
        return reject('invalid', `escrow: proof ${i + 1} is already pledged to job ${shortId(other)}`)
    }
    return undefined
  }

  /**
   * Why an escrow lock cannot hold this job: the job is not the author's, not open, not open to that provider,
   * already locked, or the lock misses the job's terms (locktime after the deadline plus dispute window and
   * margin; value at least the provider's quote, else the bid), or a proof is pledged to another job. A lock
   * with no verdict (an import runs no admission) is stored and locks nothing, as a receipt proves nothing.
   */
  function lockRefusal(e: NostrEvent, rules: MarketRules, x: EscrowFact | undefined): Rejection | undefined {
    if (!x) return undefined
    const j = ctx.job(x.job)
    const why = lockJobRefusal(e, j, x)
    if (why || !j) return why
    const quoted = jobs.askedByQuote(j.seq, x.provider)
    const terms = {
      minLocktime: j.receivedAt + rules.jobTtl + rules.disputeWindow + rules.escrowMargin,
      priceSats: Math.ceil((quoted ?? j.bidMsats ?? 0) / 1000),
    }
    return jobTermsRefusal(x, terms)
  }

  /**
   * An escrow action checked against its escrow: the package spends exactly the escrowed proofs, balances
   * and carries only lock keys' signatures, and the author may take the action in the escrow's state.
   */
  function judgeAction(e: NostrEvent): Judged | Rejection {
    if (judged?.id === e.id) return judged.verdict
    const a = readEscrowAction(e)
    if ('prefix' in a) return a
    const j = ctx.job(a.job)
    const x = j && (q.escrowOf.get(j.seq) as EscrowRow | undefined)
    if (!j || !x) return reject('restricted', `job ${shortId(a.job)} has no escrow here`)
    const lock = readEscrowLock(JSON.parse(x.lock_raw) as NostrEvent)
    // The lock was read when it was stored.
    const proofs = 'prefix' in lock ? [] : lock.proofs
    let signers: readonly string[] = []
    if (a.pkg) {
      const feeSats = proofs.reduce((sum, p) => sum + p.amount, 0) - x.sats
      const checked = checkPackage(a.pkg, { proofs, feeSats })
      if ('prefix' in checked) return checked
      signers = checked.signers
    }
    const view = {
      state: x.state,
      customer: j.customer,
      provider: x.provider,
      ...lockParties(proofs[0]?.secret ?? '', j.customer),
      delivered: isDelivered(j.state) && j.provider === x.provider,
    }
    const verdict: Judged | Rejection = actionRefusal(a, e.pubkey, view, signers) ?? { a, j, x, signers }
    judged = { id: e.id, verdict }
    return verdict
  }

  /** Folds an escrow action: the packages, the state, and for a spent record the payment or the refund. */
  function act(e: NostrEvent, receivedAt: number): void {
    const v = judgeAction(e)
    judged = undefined
    if ('prefix' in v) return
    const { a, j, x } = v
    const wire = a.wire ?? null
    if (a.action === 'claim') q.escrowClaim.run(wire, j.seq)
    else if (a.action === 'release') q.escrowSpend.run('released', wire, null, null, j.seq)
    else if (a.action === 'refund') {
      q.escrowRefund.run(wire, j.seq)
      jobs.cancel(j.seq)
    } else if (a.action === 'dispute') q.escrowDispute.run(e.id, wire, j.seq)
    else if (a.action === 'ruling') q.escrowSpend.run('ruled', wire, a.ruling, e.id, j.seq)
    else {
      const signers = e.tags.filter(t => t[0] === 'signer').map(t => t[1])
      q.escrowSpent.run(a.outcome, a.path, JSON.stringify(signers), j.seq)
      if (a.outcome === 'settled') {
        const paid = { provider: x.provider, payer: j.customer, job: j.id, msats: x.sats * 1000 }
        payments.record({ ref: x.lock_id, via: 'escrow', evidence: e.id, ...paid }, receivedAt)
      } else if (isDelivered(j.state) && j.provider === x.provider) jobs.refunded(j)
    }
    ctx.touchJob(j.id)
  }

  /** Records an escrow lock the admission proved: the job is locked to its provider. */
  function lock(e: NostrEvent, seq: number): void {
    const r = q.provenEscrow.get(e.id) as (Omit<EscrowFact, 'ys'> & { ys: string }) | undefined
    if (!r) return
    const x: EscrowFact = { ...r, ys: JSON.parse(r.ys) as string[] }
    const j = ctx.job(x.job)
    if (!j || lockJobRefusal(e, j, x)) return
    q.escrow.run(j.seq, seq, e.id, x.provider, x.mint, x.sats, x.locktime)
    for (const y of x.ys) q.pledge.run(y, j.seq)
    jobs.lock(j.seq, x.provider)
    ctx.touchJob(j.id)
  }

  const lockHandler: Handler = {
    refusal: (e, rules, facts) => lockRefusal(e, rules, facts?.escrow),
    apply: (e, _receivedAt, seq) => lock(e, seq),
    // Deletion is refused while the lock holds a job; this is a lock leaving by other means (expiry).
    removed: gone => {
      const jobSeq = q.dropEscrow.get(gone.seq) as number | undefined
      if (jobSeq === undefined) return
      q.dropPledges.run(jobSeq)
      jobs.unlock(jobSeq)
    },
    keeps: k => q.escrowOfLock.get(k.seq) !== undefined,
  }

  const actionHandler: Handler = {
    refusal: (e, rules) => {
      // Judged afresh: the escrow may have moved since an earlier try of the same event.
      judged = undefined
      const v = judgeAction(e)
      if ('prefix' in v) return v
      return v.a.action === 'dispute'
        ? disputeTooLate(v.x.delivered_at ?? 0, rules.disputeWindow, now(), v.j.id)
        : undefined
    },
    apply: act,
    // Every action is the record of its escrow.
    keeps: () => true,
  }

  return {
    lockHandler,
    actionHandler,
    /** The escrowed provider delivered: the dispute window starts, by the relay's clock. */
    delivered(j: DeliverableJob, receivedAt: number): void {
      if (j.state === 'locked') q.escrowDelivered.run(receivedAt, j.seq)
    },
    /** Why a deletion may not remove this event: an escrow's request, lock and actions are its record. */
    recordRefusal(id: string, deleter: string): Rejection | undefined {
      const j = ctx.job(id)
      // Locked, expired or cancelled: an escrow's request is its record until the escrow is gone.
      if (j && j.customer === deleter && q.escrowOfJob.get(j.seq) !== undefined)
        return reject('restricted', `job ${shortId(id)} is paid in escrow: its request stays as the record of the job`)
      const locked = q.lockedBy.get(id) as string | undefined
      if (locked !== undefined)
        return reject('restricted', `lock ${shortId(id)} holds job ${shortId(locked)}'s escrow: it stays as the record`)
      if (q.kindOf.get(id) === ESCROW_ACTION)
        return reject('restricted', `escrow action ${shortId(id)} stays as the record of its escrow`)
      return undefined
    },
    /** True for the request of a job with an escrow. */
    keepsRequest: (k: StoredKey) => q.escrowOfJob.get(k.seq) !== undefined,
    learn(evidence: string, x: EscrowFact): void {
      q.learnEscrow.run(evidence, x.job, x.provider, x.mint, x.sats, x.locktime, JSON.stringify(x.ys))
    },
  }
}
