// Jobs (DESIGN §7.2): the only writer of market_jobs, market_implied, market_deliveries, market_pairs and
// market_quotes. Other concerns move a job through these functions (lock it, deliver it, mark it paid or
// cancelled), never by SQL of their own. Quotes (feedback with an amount) live here too: what a provider asks.
import { reject, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { amountMsats, isJobResultKind, jobIdOf, type JobRequest } from '../../nips/nip90.js'
import { feedbackCounts, isDelivered, shortId, type JobState } from '../jobs.js'
import { JOB_BY_ID } from '../schema.js'
import { SEALED_RESULT } from '../sealed.js'
import type { Ctx, Delivery, DeliverableJob, HeldJob, StoredKey } from './context.js'

export function makeJobs(ctx: Ctx) {
  const { db } = ctx
  const q = {
    implied: db.prepare('SELECT 1 FROM market_implied WHERE id = ?').pluck(),
    imply: db.prepare('INSERT INTO market_implied (id, seq, customer) VALUES (?, ?, ?)'),
    stored: db.prepare('SELECT kind, raw FROM events WHERE id = ?'),
    open: db.prepare(
      `INSERT INTO market_jobs
         (seq, id, customer, kind, bid_msats, targets, min_reputation, min_zap_msats, created_at, received_at, state, swarm,
          workflow, step)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
    ),
    deliver: db
      .prepare(
        `UPDATE market_jobs SET state = 'delivered', provider = ?, result_id = ?, amount_msats = ?, delivered_at = ?
         WHERE seq = ? AND state IN ('open', 'locked', 'judging') RETURNING delivered_at - created_at`,
      )
      .pluck(),
    delivered: db.prepare(
      `INSERT INTO market_deliveries (provider, delivered, response_s) VALUES (?, 1, ?)
       ON CONFLICT (provider) DO UPDATE SET delivered = delivered + 1, response_s = response_s + excluded.response_s`,
    ),
    lock: db.prepare("UPDATE market_jobs SET state = 'locked', provider = ? WHERE seq = ? AND state = 'open'"),
    unlock: db.prepare("UPDATE market_jobs SET state = 'open', provider = NULL WHERE seq = ? AND state = 'locked'"),
    // Expired or not: the sweep's clock is not in the event stream, and a rebuild must reach the same state.
    cancel: db.prepare("UPDATE market_jobs SET state = 'cancelled' WHERE seq = ? AND state IN ('locked', 'expired')"),
    judging: db.prepare("UPDATE market_jobs SET state = 'judging' WHERE seq = ? AND state = 'open'"),
    // At its deadline a swarm with submissions stops collecting and waits for its customer's pick.
    judgeDue: db
      .prepare(
        `UPDATE market_jobs SET state = 'judging' WHERE state = 'open' AND received_at <= ? AND swarm IS NOT NULL
         AND EXISTS (SELECT 1 FROM market_submissions s WHERE s.job_seq = market_jobs.seq) RETURNING id`,
      )
      .pluck(),
    expire: db.prepare(
      "UPDATE market_jobs SET state = 'expired' WHERE state IN ('open', 'locked') AND received_at <= ? RETURNING id, workflow",
    ),
    setPaid: db.prepare('UPDATE market_jobs SET paid_msats = ?, state = ?, paid_at = ? WHERE seq = ?'),
    pair: db.prepare(
      `INSERT INTO market_pairs (provider, customer, paid, refunded) VALUES (@provider, @customer, @paid, @refunded)
       ON CONFLICT (provider, customer) DO UPDATE SET paid = paid + @paid, refunded = refunded + @refunded`,
    ),
    dropPair: db.prepare('DELETE FROM market_pairs WHERE provider = ? AND customer = ? AND paid = 0 AND refunded = 0'),
    quote: db.prepare(
      'INSERT INTO market_quotes (seq, job_seq, provider, amount_msats, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    askedByQuote: db
      .prepare(
        'SELECT amount_msats FROM market_quotes WHERE job_seq = ? AND provider = ? ORDER BY created_at DESC LIMIT 1',
      )
      .pluck(),
    quoteOf: db
      .prepare(
        `SELECT j.id FROM market_quotes q JOIN market_jobs j ON j.seq = q.job_seq
         WHERE q.seq = (SELECT seq FROM events WHERE id = ?) AND q.provider = ?`,
      )
      .pluck(),
    deliveredBy: db.prepare(`SELECT provider FROM market_jobs WHERE ${JOB_BY_ID} AND result_id = @result`).pluck(),
    deliveredJob: db.prepare("SELECT 1 FROM market_jobs WHERE seq = ? AND state IN ('delivered', 'paid')").pluck(),
    dropOpenJob: db.prepare("DELETE FROM market_jobs WHERE seq = ? AND state IN ('open', 'expired')"),
    dropJobQuotes: db.prepare('DELETE FROM market_quotes WHERE job_seq = ?'),
    dropQuote: db.prepare('DELETE FROM market_quotes WHERE seq = ?'),
    // A report counts when its author was the customer of a delivered job of the reported provider. Reports are
    // rare: this walks the reporter's job requests, the jobs it posted elsewhere, and its workflows' steps.
    counterparty: db
      .prepare(
        `SELECT 1 FROM events e JOIN market_jobs j ON j.seq = e.seq
         WHERE e.pubkey = @customer AND e.kind BETWEEN 5000 AND 5999 AND j.provider = @provider AND j.state IN ('delivered', 'paid')
         UNION ALL SELECT 1 FROM market_implied i JOIN market_jobs j ON j.seq = i.seq
         WHERE i.customer = @customer AND j.provider = @provider AND j.state IN ('delivered', 'paid')
         UNION ALL SELECT 1 FROM market_workflows w JOIN market_jobs j ON j.workflow = w.id
         WHERE w.customer = @customer AND j.provider = @provider AND j.state IN ('delivered', 'paid') LIMIT 1`,
      )
      .pluck(),
  }

  /**
   * The job a stored event delivered, and by whom: read from the event's own `e` tag, so the market keeps no
   * index of result ids (one write less per delivery; the lookups are rare: zaps, deletions, sweeps).
   */
  function deliveredBy(id: string): { job: string; provider: string } | undefined {
    const ev = q.stored.get(id) as { kind: number; raw: string } | undefined
    // Only a result (or a sealed one) can have delivered a job: no other event's JSON is read.
    const delivers = ev && (isJobResultKind(ev.kind) || ev.kind === SEALED_RESULT)
    const jobId = delivers ? jobIdOf(JSON.parse(ev.raw) as NostrEvent) : undefined
    const provider =
      jobId === undefined ? undefined : (q.deliveredBy.get({ id: jobId, result: id }) as string | undefined)
    return provider === undefined ? undefined : { job: jobId!, provider }
  }

  return {
    imply: (id: string, seq: number, customer: string) => void q.imply.run(id, seq, customer),

    /** Opens a job keyed by `seq`: its stored request's, or for an implied job the result's. */
    open(
      r: JobRequest,
      receivedAt: number,
      seq: number,
      swarm: number | null,
      step?: { workflow: string; step: number },
    ) {
      // A job first known from a result's embedded request stays keyed where it was created.
      if (q.implied.get(r.id) !== undefined) return
      q.open.run(
        seq,
        r.id,
        r.customer,
        r.kind,
        r.bidMsats ?? null,
        JSON.stringify(r.targets),
        r.minReputation ?? null,
        r.minZapSats === undefined ? null : r.minZapSats * 1000,
        r.createdAt,
        receivedAt,
        swarm,
        step?.workflow ?? null,
        step?.step ?? null,
      )
    },

    /** Marks a job delivered by `provider` and counts the delivery; false when the job was not deliverable. */
    markDelivered(j: DeliverableJob, provider: string, result: Delivery): boolean {
      const response = q.deliver.get(provider, result.id, result.msats, result.createdAt, j.seq) as number | undefined
      if (response === undefined) return false
      q.delivered.run(provider, response)
      ctx.touchJob(j.id)
      ctx.touchProvider(provider)
      ctx.milestone({ what: 'delivered', job: j.id, provider })
      return true
    },

    lock: (seq: number, provider: string) => void q.lock.run(provider, seq),
    unlock: (seq: number) => void q.unlock.run(seq),
    cancel: (seq: number) => void q.cancel.run(seq),
    judging: (seq: number) => void q.judging.run(seq),
    /** Swarms past their deadline with submissions stop collecting; returns their ids. */
    judgeDue: (receivedBy: number) => q.judgeDue.all(receivedBy) as string[],
    /** Open and locked jobs received up to `receivedBy` expire; returns them. */
    expire: (receivedBy: number) => q.expire.all(receivedBy) as { id: string; workflow: string | null }[],
    /** A delivered escrowed job's payment went back to its customer (a dispute lost). */
    refunded(j: HeldJob): void {
      q.pair.run({ provider: j.provider, customer: j.customer, paid: 0, refunded: 1 })
      ctx.inputsChanged()
    },

    /** Records what a job's provider was paid and whether that makes it paid (counted per provider). */
    setPaid(j: HeldJob, paidMsats: number, state: JobState, paidAt: number | null): void {
      q.setPaid.run(paidMsats, state, paidAt, j.seq)
      if (state === j.state || !j.provider) return
      q.pair.run({ provider: j.provider, customer: j.customer, paid: state === 'paid' ? 1 : -1, refunded: 0 })
      q.dropPair.run(j.provider, j.customer)
      ctx.inputsChanged()
    },

    /** What the provider's latest quote for the job asks, in msats. */
    askedByQuote: (jobSeq: number, provider: string) => q.askedByQuote.get(jobSeq, provider) as number | undefined,
    /** The job of a quote (feedback with an amount) `provider` sent, by the feedback's id. */
    quoteOf: (eventId: string, provider: string) => q.quoteOf.get(eventId, provider) as string | undefined,
    deliveredBy,
    /** True when `customer` had a job delivered by `provider` (the report rule). */
    deliveredFor: (customer: string, provider: string) => q.counterparty.get({ customer, provider }) !== undefined,

    /** Feedback with an amount from a provider the job is open to is a quote: what that provider asks. */
    quote(e: NostrEvent, seq: number): void {
      const amount = amountMsats(e)
      if (amount === undefined) return
      const id = jobIdOf(e)
      const j = id === undefined ? undefined : ctx.job(id)
      if (j && feedbackCounts(j, e.pubkey)) q.quote.run(seq, j.seq, e.pubkey, amount, e.created_at)
    },
    dropQuote: (gone: StoredKey) => void q.dropQuote.run(gone.seq),

    /** A deleted open job's request is its customer's cancel: the job goes, with its quotes. */
    dropOpen(gone: StoredKey): void {
      if (q.dropOpenJob.run(gone.seq).changes > 0) q.dropJobQuotes.run(gone.seq)
    },

    /**
     * Why a deletion may not remove this event: a delivered job's request and the result that delivered it are
     * the record of the job, which their authors cannot delete.
     */
    recordRefusal(id: string, deleter: string): Rejection | undefined {
      const j = ctx.job(id)
      if (j && isDelivered(j.state) && j.customer === deleter)
        return reject('restricted', `job ${shortId(id)} was delivered: its request stays as the record of the job`)
      const delivered = deliveredBy(id)
      if (delivered && delivered.provider === deleter)
        return reject(
          'restricted',
          `result ${shortId(id)} delivered job ${shortId(delivered.job)}: it stays as the record`,
        )
      return undefined
    },

    /** True for a delivered job's request, or for the result that delivered a job. */
    keepsRequest: (k: StoredKey) => q.deliveredJob.get(k.seq) !== undefined,
    keepsResult: (k: StoredKey) => deliveredBy(k.id) !== undefined,
  }
}

export type Jobs = ReturnType<typeof makeJobs>
