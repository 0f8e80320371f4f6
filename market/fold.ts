// The market as a fold over stored events (DESIGN §3, §7): the writer applies each event it stores to the
// market tables in the same transaction, so events and market state never disagree, and `agora market
// rebuild` replays the stored events into the same tables. Live, `refusal` runs first and may refuse.
import type { Config } from '../config/schema.js'
import type { Db } from '../relay/store/db.js'
import { reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { deletedIds } from '../nips/nip09.js'
import { ZapReceipt } from '../nips/nip57.js'
import { NUTZAP, NUTZAP_INFO, readNutzapInfo } from '../nips/nip61.js'
import {
  JOB_FEEDBACK,
  amountMsats,
  embeddedRequest,
  isJobRequestKind,
  isJobResultKind,
  jobIdOf,
  readJobRequest,
  type JobRequest,
} from '../nips/nip90.js'
import { ATTESTATION, readAttestation } from './attestations.js'
import {
  actionRefusal,
  disputeTooLate,
  ESCROW_ACTION,
  readEscrowAction,
  type EscrowAction,
  type EscrowState,
} from './actions.js'
import { ESCROW_LOCK, jobTermsRefusal, lockParties, readEscrowLock } from './escrow.js'
import { checkPackage } from './packages.js'
import {
  keyHash,
  openSealedResult,
  readKeyReveal,
  readSealedResult,
  SEALED_RESULT,
  type SealedResult,
} from './sealed.js'
import { pickedWinner, readSwarm, submissionRefusal, SWARM } from './swarms.js'
import { readWorkflow, WORKFLOW } from './workflows.js'
import { feedbackCounts, isDelivered, resultRefusal, shortId, type Job, type JobState } from './jobs.js'
import { HANDLER_INFO, HEARTBEAT, PROFILE, readHandler, readHeartbeat, readProfileLud16 } from './providers.js'
import { flaggedRefusal, REPORT, reportedKey } from './reports.js'
import { makeReputation, score } from './reputation.js'
import { REVIEW, readReview, reviewRefusal, roleOf } from './reviews.js'
import { JOB_BY_ID, MARKET_TABLES } from './schema.js'
import { TRUST, readTrust, trustRefusal } from './trust.js'

/** The operator's market settings the writer applies; the fold itself needs none, so a rebuild needs none. */
export type MarketRules = {
  /** Distinct counterparty reporters that flag a provider. */
  readonly flagThreshold: number
  /** Seconds an open job stays open, from when the relay received its request. */
  readonly jobTtl: number
  /** Seconds after delivery for a dispute, and the margin before a lock's locktime (DESIGN §7.5). */
  readonly disputeWindow: number
  readonly escrowMargin: number
}

/** The market rules of a config, or undefined when the market is off. */
export const marketRules = (cfg: Config): MarketRules | undefined =>
  cfg.market.enabled
    ? {
        flagThreshold: cfg.market.flag_threshold,
        jobTtl: cfg.market.job_ttl,
        disputeWindow: cfg.market.dispute_window,
        escrowMargin: cfg.market.escrow_margin,
      }
    : undefined

/** A payment an admitted receipt or nutzap proves, as the admission checked it. */
export type PaymentFact = {
  /** Payment hash (zap) or proof Y (nutzap): a payment counts once by it. */
  readonly ref: string
  readonly via: 'zap' | 'nutzap'
  readonly recipient: string
  readonly payer: string
  /** The event it zapped (a result or a quote), when any. */
  readonly zapped: string | undefined
  readonly msats: number
}

/**
 * What the admission proved with facts from outside (an LNURL server's key, a mint's keyset): kept in
 * `facts_payments` by evidence id, so the fold and a rebuild read the verdict instead of judging again
 * with whatever the store holds later (a replaced 31990 or 10019 would change the answer).
 */
export type MarketFacts = {
  readonly payments?: readonly PaymentFact[]
  readonly escrow?: EscrowFact
  /** A job request the relay publishes as a workflow's step (only the relay's own writes carry it). */
  readonly workflowStep?: { readonly workflow: string; readonly index: number }
}

/** What an admitted escrow lock proved (market/escrow.ts checkEscrowLock), for the job it names. */
export type EscrowFact = {
  readonly job: string
  readonly provider: string
  readonly mint: string
  /** Value after the mint's input fees. */
  readonly sats: number
  readonly locktime: number
  /** The Y of each proof: a proof is pledged to one job. */
  readonly ys: readonly string[]
}

/** A stored event that left the store, as the market finds what it added: by seq or id, or by its address. */
export type StoredKey = {
  readonly seq: number
  readonly id: string
  readonly kind: number
  readonly pubkey: string
  /** `d` of an addressable event, '' for a replaceable one, null otherwise. */
  readonly addr: string | null
}

/**
 * What a batch changed, for the relay-signed outputs: jobs whose ledger entry changed (delivered, paid,
 * expired; an open job has none, its request says it all) and providers whose assertion may have.
 */
export type Touched = { jobs: string[]; providers: string[] }

type JobRowSql = {
  seq: number
  received_at: number
  id: string
  customer: string
  kind: number
  bid_msats: number | null
  targets: string
  min_reputation: number | null
  min_zap_msats: number | null
  state: JobState
  provider: string | null
  amount_msats: number | null
  swarm: number | null
  workflow: string | null
  step: number | null
}

const now = () => Math.floor(Date.now() / 1000)

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

/** A job the market holds, with the seq it is keyed by and when the relay received its request. */
type HeldJob = Job & {
  readonly seq: number
  readonly receivedAt: number
  readonly swarm: number | null
  /** A workflow step's workflow id and index. */
  readonly workflow: string | null
  readonly step: number | null
}

/** The market's statements on the writer's connection. */
export function makeMarket(db: Db) {
  const q = {
    job: db.prepare(
      `SELECT seq, received_at, id, customer, kind, bid_msats, targets, min_reputation, min_zap_msats, state, provider,
              amount_msats, swarm, workflow, step
       FROM market_jobs WHERE ${JOB_BY_ID}`,
    ),
    implied: db.prepare('SELECT 1 FROM market_implied WHERE id = ?').pluck(),
    imply: db.prepare('INSERT INTO market_implied (id, seq, customer) VALUES (?, ?, ?)'),
    stored: db.prepare('SELECT kind, raw FROM events WHERE id = ?'),
    kindOf: db.prepare('SELECT kind FROM events WHERE id = ?'),
    // Only the customer's own deletion cancels (anyone may leave a tombstone under their own key).
    cancelledBy: db.prepare('SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?').pluck(),
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
    lock: db.prepare("UPDATE market_jobs SET state = 'locked', provider = ? WHERE seq = ? AND state = 'open'"),
    unlock: db.prepare("UPDATE market_jobs SET state = 'open', provider = NULL WHERE seq = ? AND state = 'locked'"),
    escrow: db.prepare(
      `INSERT INTO market_escrows (job_seq, lock_seq, lock_id, provider, mint, sats, locktime)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    pledge: db.prepare('INSERT INTO market_escrow_proofs (y, job_seq) VALUES (?, ?)'),
    pledgedTo: db
      .prepare('SELECT j.id FROM market_escrow_proofs p JOIN market_jobs j ON j.seq = p.job_seq WHERE p.y = ?')
      .pluck(),
    submitted: db.prepare('SELECT 1 FROM market_submissions WHERE job_seq = ? AND provider = ?').pluck(),
    submissions: db.prepare('SELECT COUNT(*) FROM market_submissions WHERE job_seq = ?').pluck(),
    submit: db.prepare(
      `INSERT INTO market_submissions (job_seq, provider, result_id, amount_msats, created_at, state)
       VALUES (?, ?, ?, ?, ?, 'submitted')`,
    ),
    submissionOf: db.prepare(
      'SELECT result_id, amount_msats, created_at FROM market_submissions WHERE job_seq = ? AND provider = ?',
    ),
    judge: db.prepare(
      "UPDATE market_submissions SET state = CASE provider WHEN ? THEN 'winner' ELSE 'rejected' END WHERE job_seq = ?",
    ),
    judging: db.prepare("UPDATE market_jobs SET state = 'judging' WHERE seq = ? AND state = 'open'"),
    // At its deadline a swarm with submissions stops collecting and waits for its customer's pick.
    judgeDue: db
      .prepare(
        `UPDATE market_jobs SET state = 'judging' WHERE state = 'open' AND received_at <= ? AND swarm IS NOT NULL
         AND EXISTS (SELECT 1 FROM market_submissions s WHERE s.job_seq = market_jobs.seq) RETURNING id`,
      )
      .pluck(),
    dropSubmission: db.prepare("DELETE FROM market_submissions WHERE result_id = ? AND state = 'submitted'"),
    escrowOfLock: db.prepare('SELECT job_seq FROM market_escrows WHERE lock_seq = ?').pluck(),
    escrowOfJob: db.prepare('SELECT 1 FROM market_escrows WHERE job_seq = ?').pluck(),
    lockedBy: db
      .prepare(
        `SELECT j.id FROM market_escrows x JOIN market_jobs j ON j.seq = x.job_seq
         WHERE x.lock_seq = (SELECT seq FROM events WHERE id = ?)`,
      )
      .pluck(),
    dropEscrow: db.prepare('DELETE FROM market_escrows WHERE lock_seq = ? RETURNING job_seq').pluck(),
    dropPledges: db.prepare('DELETE FROM market_escrow_proofs WHERE job_seq = ?'),
    learnEscrow: db.prepare(
      `INSERT OR IGNORE INTO facts_escrows (evidence, job, provider, mint, sats, locktime, ys)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    provenEscrow: db.prepare('SELECT job, provider, mint, sats, locktime, ys FROM facts_escrows WHERE evidence = ?'),
    delivered: db.prepare(
      `INSERT INTO market_deliveries (provider, delivered, paid, response_s) VALUES (?, 1, 0, ?)
       ON CONFLICT (provider) DO UPDATE SET delivered = delivered + 1, response_s = response_s + excluded.response_s`,
    ),
    paidCount: db.prepare('UPDATE market_deliveries SET paid = paid + ? WHERE provider = ?'),
    expire: db.prepare(
      "UPDATE market_jobs SET state = 'expired' WHERE state IN ('open', 'locked') AND received_at <= ? RETURNING id, workflow",
    ),
    workflow: db.prepare(
      'INSERT OR IGNORE INTO market_workflows (id, seq, customer, steps, state, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    workflowState: db.prepare('SELECT state, steps FROM market_workflows WHERE id = ?'),
    endWorkflow: db.prepare("UPDATE market_workflows SET state = ? WHERE id = ? AND state = 'running'"),
    stepAt: db.prepare('SELECT state FROM market_jobs WHERE workflow = ? AND step = ?').pluck(),
    swarmIds: db.prepare('SELECT id FROM market_jobs WHERE swarm IS NOT NULL').pluck(),
    openStepIds: db.prepare("SELECT id FROM market_jobs WHERE workflow IS NOT NULL AND state = 'open'").pluck(),
    learnStep: db.prepare('INSERT OR IGNORE INTO facts_workflow_steps (evidence, workflow, step) VALUES (?, ?, ?)'),
    provenStep: db.prepare('SELECT workflow, step FROM facts_workflow_steps WHERE evidence = ?'),
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
    // Expired or not: the sweep's clock is not in the event stream, and a rebuild must reach the same state.
    cancel: db.prepare("UPDATE market_jobs SET state = 'cancelled' WHERE seq = ? AND state IN ('locked', 'expired')"),
    refundedCount: db.prepare('UPDATE market_deliveries SET refunded = refunded + 1 WHERE provider = ?'),
    sealed: db.prepare('INSERT INTO market_sealed (seq, job_seq, provider, key_hash) VALUES (?, ?, ?, ?)'),
    sealedFor: db.prepare(
      `SELECT s.provider, e.raw FROM market_sealed s JOIN events e ON e.seq = s.seq
       WHERE s.job_seq = ? AND s.key_hash = ? ORDER BY s.seq`,
    ),
    dropSealed: db.prepare('DELETE FROM market_sealed WHERE seq = ?'),
    fraud: db.prepare('INSERT OR IGNORE INTO market_frauds (provider, sealed_id, reveal_id, why) VALUES (?, ?, ?, ?)'),
    frauds: db.prepare('SELECT DISTINCT provider FROM market_frauds').pluck(),
    fraudOf: db.prepare('SELECT 1 FROM market_frauds WHERE sealed_id = ?').pluck(),
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
    learn: db.prepare(
      `INSERT OR IGNORE INTO facts_payments (evidence, ref, via, recipient, payer, zapped, msats)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    proven: db.prepare('SELECT ref, via, recipient, payer, zapped, msats FROM facts_payments WHERE evidence = ?'),
    wallet: db.prepare(
      `INSERT INTO market_wallets (pubkey, id, p2pk, mints) VALUES (?, ?, ?, ?)
       ON CONFLICT (pubkey) DO UPDATE SET id = excluded.id, p2pk = excluded.p2pk, mints = excluded.mints`,
    ),
    paymentSeen: db.prepare('SELECT 1 FROM market_payments WHERE ref = ?').pluck(),
    pay: db.prepare(
      `INSERT OR IGNORE INTO market_payments (ref, via, evidence, provider, payer, job, msats, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    paymentsTo: db.prepare('SELECT msats, at FROM market_payments WHERE job = ? AND provider = ? ORDER BY at, ref'),
    anyPaid: db.prepare('SELECT 1 FROM market_payments WHERE job = ? AND provider = ? LIMIT 1').pluck(),
    setPaid: db.prepare('UPDATE market_jobs SET paid_msats = ?, state = ?, paid_at = ? WHERE seq = ?'),
    dropPayments: db.prepare('DELETE FROM market_payments WHERE evidence = ? RETURNING job, provider'),
    handler: db.prepare(
      `INSERT INTO market_handlers (pubkey, d, id, kinds, name, lud16, skill) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pubkey, d) DO UPDATE SET id = excluded.id, kinds = excluded.kinds, name = excluded.name,
         lud16 = excluded.lud16, skill = excluded.skill`,
    ),
    profile: db.prepare(
      `INSERT INTO market_profiles (pubkey, id, lud16) VALUES (?, ?, ?)
       ON CONFLICT (pubkey) DO UPDATE SET id = excluded.id, lud16 = excluded.lud16`,
    ),
    heartbeat: db.prepare(
      'INSERT INTO market_heartbeats (seq, received_at, status, capacity, kinds, price) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    dropHeartbeat: db.prepare('DELETE FROM market_heartbeats WHERE seq = ?'),
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
    // A report counts when its author was the customer of a delivered job of the reported provider.
    // Reports are rare: this walks the reporter's job requests (and the jobs it posted elsewhere).
    counterparty: db
      .prepare(
        `SELECT 1 FROM events e JOIN market_jobs j ON j.seq = e.seq
         WHERE e.pubkey = @customer AND e.kind BETWEEN 5000 AND 5999 AND j.provider = @provider AND j.state IN ('delivered', 'paid')
         UNION ALL SELECT 1 FROM market_implied i JOIN market_jobs j ON j.seq = i.seq
         WHERE i.customer = @customer AND j.provider = @provider AND j.state IN ('delivered', 'paid') LIMIT 1`,
      )
      .pluck(),
    reported: db.prepare('SELECT provider, COUNT(DISTINCT reporter) AS n FROM market_reports GROUP BY provider'),
    report: db.prepare('INSERT OR IGNORE INTO market_reports (id, provider, reporter) VALUES (?, ?, ?)'),
  }
  // What an event of each kind added: a removal deletes it and names whom it concerned. Rows of
  // replaceable and addressable events are found by their key (the author and the `d`), checked against
  // the id, so no index by id is written for them.
  const drop = (table: string, who: string) => {
    const st = db.prepare(`DELETE FROM ${table} WHERE id = ? RETURNING ${who}`).pluck()
    return (r: StoredKey) => st.get(r.id) as string | undefined
  }
  const dropAt = (table: string, author: string, d: string | undefined, who: string) => {
    const where = d === undefined ? `${author} = ?` : `${author} = ? AND ${d} = ?`
    const st = db.prepare(`DELETE FROM ${table} WHERE ${where} AND id = ? RETURNING ${who}`).pluck()
    return (r: StoredKey) =>
      (d === undefined ? st.get(r.pubkey, r.id) : st.get(r.pubkey, r.addr ?? '', r.id)) as string | undefined
  }
  const dropBy = new Map<number, (r: StoredKey) => string | undefined>([
    [REVIEW, dropAt('market_reviews', 'reviewer', 'job', 'reviewed')],
    [TRUST, dropAt('market_trust', 'truster', 'trusted', 'trusted')],
    [HANDLER_INFO, dropAt('market_handlers', 'pubkey', 'd', 'pubkey')],
    [PROFILE, dropAt('market_profiles', 'pubkey', undefined, 'pubkey')],
    [NUTZAP_INFO, dropAt('market_wallets', 'pubkey', undefined, 'pubkey')],
    [ATTESTATION, drop('market_attestations', 'subject')],
  ])
  const dropReport = drop('market_reports', 'provider')
  const reputation = makeReputation(db)
  // Distinct counting reporters per reported provider, kept in memory: the flag is checked for every
  // result and feedback, and reports are few. Loaded once from the table.
  const reporters = new Map<string, number>()
  for (const r of q.reported.all() as { provider: string; n: number }[]) reporters.set(r.provider, r.n)
  // Providers proven to sell a key that does not open their sealed result (§7.6): flagged at once.
  const frauds = new Set(q.frauds.all() as string[])
  // Swarms, and open workflow steps, by job id: success and error feedback is common and these jobs are few,
  // so feedback reads its job only when it names one of them. A step leaves its set once seen closed.
  const swarms = new Set(q.swarmIds.all() as string[])
  const openSteps = new Set(q.openStepIds.all() as string[])
  const recount = (provider: string) => {
    const n = reputation.reportedBy(provider)
    if (n > 0) reporters.set(provider, n)
    else reporters.delete(provider)
    touchProvider(provider)
  }

  const touched = { jobs: new Set<string>(), providers: new Set<string>() }
  let admitted: ({ id: string } & ReturnType<typeof jobOfResult>) | undefined
  const touchJob = (id: string) => touched.jobs.add(id)
  const touchProvider = (pubkey: string | null | undefined) => pubkey && touched.providers.add(pubkey)

  const job = (id: string): HeldJob | undefined => {
    const r = q.job.get({ id }) as JobRowSql | undefined
    return (
      r && {
        ...r,
        bidMsats: r.bid_msats,
        minReputation: r.min_reputation,
        minZapMsats: r.min_zap_msats,
        amountMsats: r.amount_msats,
        receivedAt: r.received_at,
        // Most requests name no provider: no JSON to read.
        targets: r.targets === '[]' ? [] : (JSON.parse(r.targets) as string[]),
      }
    )
  }

  /**
   * The job a result names: the stored one, or else the one its embedded request describes (a job posted
   * on another relay; policies/market-admission.ts has checked that request's signature). `cancelled`:
   * its customer deleted the request.
   */
  const jobOfResult = (
    e: NostrEvent,
  ): { job: (Job & { seq?: number }) | undefined; cancelled: boolean; implied?: JobRequest } => {
    const id = jobIdOf(e)
    if (id === undefined) return { job: undefined, cancelled: false }
    const stored = job(id)
    if (stored) return { job: stored, cancelled: false }
    const embedded = embeddedRequest(e)
    const implied = embedded && embedded.id === id ? readJobRequest(embedded as NostrEvent) : undefined
    if (!implied) return { job: undefined, cancelled: false }
    if (q.cancelledBy.get(id, implied.customer) !== undefined) return { job: undefined, cancelled: true }
    const asJob: Job = {
      ...implied,
      bidMsats: implied.bidMsats ?? null,
      minReputation: implied.minReputation ?? null,
      minZapMsats: implied.minZapSats === undefined ? null : implied.minZapSats * 1000,
      amountMsats: null,
      state: 'open',
      provider: null,
    }
    return { job: asJob, cancelled: false, implied }
  }

  /**
   * The job a stored event delivered, and by whom: read from the event's own `e` tag, so the market keeps
   * no index of result ids (one write less per delivery; the lookups are rare: zaps, deletions, sweeps).
   */
  const jobDeliveredBy = (id: string): { job: string; provider: string } | undefined => {
    const ev = q.stored.get(id) as { kind: number; raw: string } | undefined
    // Only a result (or a sealed one) can have delivered a job: no other event's JSON is read.
    const delivers = ev && (isJobResultKind(ev.kind) || ev.kind === SEALED_RESULT)
    const jobId = delivers ? jobIdOf(JSON.parse(ev.raw) as NostrEvent) : undefined
    const provider =
      jobId === undefined ? undefined : (q.deliveredBy.get({ id: jobId, result: id }) as string | undefined)
    return provider === undefined ? undefined : { job: jobId!, provider }
  }

  /**
   * Why this provider may not deliver this job now: flagged, or below the job's gates. Checked only when the
   * result arrives (a rebuild keeps what was admitted: reputation moves with time).
   */
  function eligibility(j: Job, provider: string, flagThreshold: number): Rejection | undefined {
    if (frauds.has(provider))
      return reject('blocked', 'provider flagged: proven fraud (its own key does not open a result it sold)')
    const reportedBy = reporters.get(provider) ?? 0
    if (reportedBy >= flagThreshold) return flaggedRefusal(reportedBy)
    const short = shortId(j.id)
    if (j.minZapMsats !== null) {
      const received = reputation.receivedMsats(provider)
      if (received < j.minZapMsats)
        return reject(
          'restricted',
          `job ${short} is open to providers with ${j.minZapMsats / 1000} sats of verified zaps received; this one has ${Math.floor(received / 1000)}`,
        )
    }
    if (j.minReputation !== null) {
      const s = score(reputation.inputs(provider, now()))
      if (s < j.minReputation)
        return reject(
          'restricted',
          `job ${short} needs a reputation score of ${j.minReputation}; this provider has ${s}`,
        )
    }
    return undefined
  }

  /**
   * Why the market refuses this event before it is stored, or undefined. A delivered job's request and the
   * result that delivered it are its record: their authors cannot delete them.
   */
  function refusal(e: NostrEvent, rules: MarketRules, facts: MarketFacts | undefined): Rejection | undefined {
    if (isJobResultKind(e.kind)) {
      const found = jobOfResult(e)
      const why =
        resultRefusal(found.job, e, found.cancelled) ??
        eligibility(found.job!, e.pubkey, rules.flagThreshold) ??
        swarmRefusal(found.job!, e, found.implied)
      // The writer folds an admitted result right after this: it need not look the job up again.
      admitted = why ? undefined : { id: e.id, ...found }
      return why
    }
    const swarm = readSwarm(e)
    if (swarm && 'prefix' in swarm) return swarm
    if (e.kind === WORKFLOW) {
      const w = readWorkflow(e)
      if ('prefix' in w) return w
    }
    if (facts?.workflowStep) return stepRefusal(facts.workflowStep)
    if (e.kind === JOB_FEEDBACK) {
      const pick = pickOf(e)
      // The fold right after reads the pick from here: success feedback is common, swarms are not.
      picked = { id: e.id, pick }
      if (pick && !undecided(pick.j) && pick.winner !== pick.j.provider)
        return reject('restricted', `swarm ${shortId(pick.j.id)} is decided: its winner was picked`)
      if (pick && q.submitted.get(pick.j.seq, pick.winner) === undefined)
        return reject('restricted', `provider ${shortId(pick.winner)} has no submission in swarm ${shortId(pick.j.id)}`)
    }
    // Only a flagged provider's feedback is refused (to a job open to it): no job is read for anyone else.
    const reportedBy = reporters.get(e.pubkey) ?? 0
    if (e.kind === JOB_FEEDBACK && reportedBy >= rules.flagThreshold) {
      const id = jobIdOf(e)
      const j = id === undefined ? undefined : job(id)
      return j && feedbackCounts(j, e.pubkey) ? flaggedRefusal(reportedBy) : undefined
    }
    const counted = facts?.payments?.find(p => q.paymentSeen.get(p.ref) !== undefined)
    if (counted)
      return counted.via === 'zap'
        ? reject('invalid', 'zap receipt: this payment hash is already recorded')
        : reject('invalid', 'nutzap: a proof in it was already counted (each proof pays once)')
    if (e.kind === ESCROW_LOCK) return lockRefusal(e, rules, facts?.escrow)
    if (e.kind === ESCROW_ACTION) {
      // Judged afresh: the escrow may have moved since an earlier try of the same event.
      judged = undefined
      const v = judgeAction(e)
      if ('prefix' in v) return v
      return v.a.action === 'dispute'
        ? disputeTooLate(v.x.delivered_at ?? 0, rules.disputeWindow, now(), v.j.id)
        : undefined
    }
    if (e.kind === SEALED_RESULT) return sealedRefusal(e, rules)
    const review = readReview(e)
    if (review) {
      const j = job(review.job)
      // A review that publishes the key of a sealed result delivers the job as it is stored.
      const opened = j && revealed(j, e).find(r => r.opened.ok)
      return reviewRefusal(opened ? { ...j, state: 'delivered', provider: opened.provider } : j, e, review)
    }
    const trust = readTrust(e)
    if (trust) return trustRefusal(e, trust.trusted)
    const attestation = readAttestation(e)
    if (attestation && 'prefix' in attestation) return attestation
    if (e.kind === 5)
      for (const id of deletedIds(e)) {
        const j = job(id)
        if (j && isDelivered(j.state) && j.customer === e.pubkey)
          return reject('restricted', `job ${shortId(id)} was delivered: its request stays as the record of the job`)
        // Locked, expired or cancelled: an escrow's request is its record until the escrow is gone.
        if (j && j.customer === e.pubkey && q.escrowOfJob.get(j.seq) !== undefined)
          return reject(
            'restricted',
            `job ${shortId(id)} is paid in escrow: its request stays as the record of the job`,
          )
        const delivered = jobDeliveredBy(id)
        if (delivered && delivered.provider === e.pubkey)
          return reject(
            'restricted',
            `result ${shortId(id)} delivered job ${shortId(delivered.job)}: it stays as the record`,
          )
        const locked = q.lockedBy.get(id) as string | undefined
        if (locked !== undefined)
          return reject(
            'restricted',
            `lock ${shortId(id)} holds job ${shortId(locked)}'s escrow: it stays as the record`,
          )
        const stored = q.kindOf.get(id) as { kind: number } | undefined
        if (stored?.kind === ESCROW_ACTION)
          return reject('restricted', `escrow action ${shortId(id)} stays as the record of its escrow`)
        if (stored?.kind === SEALED_RESULT && q.fraudOf.get(id) !== undefined)
          return reject('restricted', `sealed result ${shortId(id)} is the evidence of a fraud: it stays`)
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
    const j = job(x.job)
    const why = lockJobRefusal(e, j, x)
    if (why || !j) return why
    const quoted = q.askedByQuote.get(j.seq, x.provider) as number | undefined
    const terms = {
      minLocktime: j.receivedAt + rules.jobTtl + rules.disputeWindow + rules.escrowMargin,
      priceSats: Math.ceil((quoted ?? j.bidMsats ?? 0) / 1000),
    }
    return jobTermsRefusal(x, terms)
  }

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

  /** An action that may be taken, with its job, escrow and the lock keys that signed its package. */
  type Judged = { a: EscrowAction; j: HeldJob; x: EscrowRow; signers: readonly string[] }
  // The last action judged live, so the fold right after does not check its package's signatures again.
  let judged: { id: string; verdict: Judged | Rejection } | undefined

  /**
   * An escrow action checked against its escrow: the package spends exactly the escrowed proofs, balances
   * and carries only lock keys' signatures, and the author may take the action in the escrow's state.
   */
  function judgeAction(e: NostrEvent): Judged | Rejection {
    if (judged?.id === e.id) return judged.verdict
    const a = readEscrowAction(e)
    if ('prefix' in a) return a
    const j = job(a.job)
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
      q.cancel.run(j.seq)
    } else if (a.action === 'dispute') q.escrowDispute.run(e.id, wire, j.seq)
    else if (a.action === 'ruling') q.escrowSpend.run('ruled', wire, a.ruling, e.id, j.seq)
    else {
      const signers = e.tags.filter(t => t[0] === 'signer').map(t => t[1])
      q.escrowSpent.run(a.outcome, a.path, JSON.stringify(signers), j.seq)
      if (a.outcome === 'settled') {
        q.pay.run(x.lock_id, 'escrow', e.id, x.provider, j.customer, j.id, x.sats * 1000, receivedAt)
        settle(j.id)
      } else if (isDelivered(j.state) && j.provider === x.provider) q.refundedCount.run(x.provider)
    }
    touchJob(j.id)
    touchProvider(x.provider)
  }

  /** Why a sealed result (21117) may not wait for its key here: as a result, while its job is open. */
  function sealedRefusal(e: NostrEvent, rules: MarketRules): Rejection | undefined {
    const s = readSealedResult(e)
    if ('prefix' in s) return s
    const j = job(s.job)
    const short = shortId(s.job)
    if (!j) return reject('restricted', `unknown job ${short}: publish the job request to this relay first`)
    if (s.customer !== j.customer) return reject('invalid', "pay-to-decrypt: the p tag must be the job's customer")
    if (j.state !== 'open' && j.state !== 'locked')
      return reject('restricted', `job ${short} is ${j.state}: a sealed result waits only for an open job`)
    if (j.state === 'locked' && e.pubkey !== j.provider)
      return reject('restricted', `job ${short} is paid in escrow to another provider`)
    if (!feedbackCounts(j, e.pubkey)) return reject('restricted', `job ${short} is not open to this provider`)
    return eligibility(j, e.pubkey, rules.flagThreshold)
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

  /**
   * A published key: a sealed result it opens delivers its job (paid, when the customer published the key,
   * which it learned by paying the invoice); one it does not open to the committed plaintext flags its
   * provider at once, with the evidence kept.
   */
  function reveal(e: NostrEvent, receivedAt: number): void {
    const key = readKeyReveal(e)
    const j = key && job(key.job)
    if (!j) return
    for (const r of revealed(j, e)) {
      if (!r.opened.ok) {
        q.fraud.run(r.provider, r.event.id, e.id, r.opened.why)
        frauds.add(r.provider)
        touchProvider(r.provider)
        continue
      }
      if (j.state !== 'open' && !(j.state === 'locked' && j.provider === r.provider)) continue
      const sealed = { id: r.event.id, msats: r.sealed.msats, createdAt: r.event.created_at }
      if (!deliver(j, r.provider, sealed, receivedAt)) continue
      if (e.pubkey === j.customer) {
        q.pay.run(r.sealed.keyHash, 'preimage', e.id, r.provider, j.customer, j.id, r.sealed.msats, receivedAt)
        settle(j.id)
      }
      return
    }
  }

  /** Records an escrow lock the admission proved: the job is locked to its provider. */
  function lock(e: NostrEvent, seq: number): void {
    const r = q.provenEscrow.get(e.id) as (Omit<EscrowFact, 'ys'> & { ys: string }) | undefined
    if (!r) return
    const x: EscrowFact = { ...r, ys: JSON.parse(r.ys) as string[] }
    const j = job(x.job)
    if (!j || lockJobRefusal(e, j, x)) return
    q.escrow.run(j.seq, seq, e.id, x.provider, x.mint, x.sats, x.locktime)
    for (const y of x.ys) q.pledge.run(y, j.seq)
    q.lock.run(x.provider, j.seq)
    touchJob(j.id)
  }

  /** Why a result may not join a swarm: its request came embedded, its provider submitted, or the swarm is full. */
  function swarmRefusal(j: Job & { seq?: number; swarm?: number | null }, e: NostrEvent, implied?: JobRequest) {
    if (implied?.kind === SWARM)
      return reject('restricted', 'a swarm collects here only once its request is posted here')
    if (!j.swarm || j.seq === undefined) return undefined
    if (j.state === 'judging')
      return reject('restricted', `swarm ${shortId(j.id)} is judging its submissions: it takes no more`)
    const submitted = q.submitted.get(j.seq, e.pubkey) !== undefined
    return submissionRefusal(j.id, { submitted, count: q.submissions.get(j.seq) as number, max: j.swarm })
  }

  let picked: { id: string; pick: ReturnType<typeof pickOf> } | undefined

  const undecided = (j: HeldJob) => j.state === 'open' || j.state === 'judging'

  /** A customer's pick of its swarm's winner (7000 success, `p` = winner). */
  function pickOf(e: NostrEvent): { j: HeldJob; winner: string } | undefined {
    if (tagValue(e, 'status') !== 'success') return undefined
    const id = jobIdOf(e)
    const j = id === undefined || !swarms.has(id) ? undefined : job(id)
    if (!j?.swarm) return undefined
    const winner = pickedWinner(e, j.customer)
    return winner === undefined ? undefined : { j, winner }
  }

  /** The pick: the winner's submission delivers the swarm; the others are rejected and count for nothing. */
  function pick(e: NostrEvent, receivedAt: number): void {
    const p = picked?.id === e.id ? picked.pick : pickOf(e)
    picked = undefined
    const sub =
      p &&
      (q.submissionOf.get(p.j.seq, p.winner) as
        { result_id: string; amount_msats: number | null; created_at: number } | undefined)
    if (!p || !sub || !undecided(p.j)) return
    const winning = { id: sub.result_id, msats: sub.amount_msats, createdAt: sub.created_at }
    if (deliver(p.j, p.winner, winning, receivedAt)) q.judge.run(p.winner, p.j.seq)
  }

  /** A result to a swarm is a submission: collected, and the swarm judges once it has all it asked for. */
  function submit(e: NostrEvent, j: HeldJob): void {
    q.submit.run(j.seq, e.pubkey, e.id, amountMsats(e) ?? null, e.created_at)
    if ((q.submissions.get(j.seq) as number) >= j.swarm!) q.judging.run(j.seq)
    touchJob(j.id)
  }

  /** Ends a running workflow (completed, failed or cancelled): no further step is published. */
  function endWorkflow(id: string, state: 'completed' | 'failed' | 'cancelled'): void {
    if (q.endWorkflow.run(state, id).changes > 0) touchJob(id)
  }

  /**
   * Why the relay may not publish this step now: its workflow is not running, the step is published already
   * (exactly once, whatever races), or the step before it is not delivered.
   */
  function stepRefusal(step: { workflow: string; index: number }): Rejection | undefined {
    const w = q.workflowState.get(step.workflow) as { state: string; steps: number } | undefined
    const short = shortId(step.workflow)
    if (!w || w.state !== 'running') return reject('restricted', `workflow ${short} is ${w?.state ?? 'unknown'}`)
    if (q.stepAt.get(step.workflow, step.index) !== undefined)
      return reject('restricted', `step ${step.index} of workflow ${short} is published already`)
    const before = step.index === 0 ? 'delivered' : (q.stepAt.get(step.workflow, step.index - 1) as string | undefined)
    if (step.index >= w.steps || !isDelivered((before ?? 'open') as JobState))
      return reject('restricted', `step ${step.index} of workflow ${short} is not due`)
    return undefined
  }

  /** A step's pinned provider gives up (7000 `error`): the step, and its workflow, fail. */
  function stepFailed(e: NostrEvent): void {
    if (tagValue(e, 'status') !== 'error') return
    const id = jobIdOf(e)
    const j = id === undefined || !openSteps.has(id) ? undefined : job(id)
    if (j && j.state !== 'open') openSteps.delete(j.id)
    if (j?.workflow && j.state === 'open' && j.targets.includes(e.pubkey)) endWorkflow(j.workflow, 'failed')
  }

  /**
   * Delivers a job by a provider's result (a plain result, a sealed one opened, a swarm's winning submission):
   * counts the delivery, advances a workflow step, starts an escrow's dispute window (by the relay's clock), and
   * settles payments the provider already had (a quote in feedback, zapped). False when the job is not deliverable.
   */
  function deliver(
    j: Pick<HeldJob, 'id' | 'seq' | 'state' | 'workflow' | 'step'>,
    provider: string,
    result: { id: string; msats: number | null; createdAt: number },
    receivedAt: number,
  ): boolean {
    const response = q.deliver.get(provider, result.id, result.msats, result.createdAt, j.seq) as number | undefined
    if (response === undefined) return false
    q.delivered.run(provider, response)
    stepDelivered(j)
    if (j.state === 'locked') q.escrowDelivered.run(receivedAt, j.seq)
    touchJob(j.id)
    touchProvider(provider)
    if (q.anyPaid.get(j.id, provider) !== undefined) settle(j.id)
    return true
  }

  /** A delivered step: the last completes its workflow; the relay's runner publishes the next. */
  function stepDelivered(j: Pick<HeldJob, 'workflow' | 'step'>): void {
    if (!j.workflow) return
    const w = q.workflowState.get(j.workflow) as { steps: number } | undefined
    if (w && j.step === w.steps - 1) endWorkflow(j.workflow, 'completed')
    touchJob(j.workflow)
  }

  /** Opens a job keyed by `seq`: its stored request's, or for an implied job the result's. */
  const open = (
    r: JobRequest,
    receivedAt: number,
    seq: number,
    swarm: number | null = null,
    step?: { workflow: string; step: number },
  ) => {
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
  }

  /**
   * Recomputes what a job's provider has been paid for it. A delivered job whose payments cover the amount
   * asked (the result's `amount`, else the provider's latest quote in feedback, else the bid; any payment
   * when none is named) is paid; payments withdrawn make it delivered again.
   */
  function settle(id: string): void {
    const j = job(id)
    if (!j || !j.provider) return
    const asked = j.amountMsats ?? (q.askedByQuote.get(j.seq, j.provider) as number | undefined) ?? j.bidMsats ?? 1
    // Paid at the relay time of the payment that covered the amount: the same on a rebuild.
    let paid = 0
    let paidAt: number | null = null
    for (const p of q.paymentsTo.all(id, j.provider) as { msats: number; at: number }[]) {
      paid += p.msats
      if (paidAt === null && paid >= asked) paidAt = p.at
    }
    const state: JobState = isDelivered(j.state) ? (paidAt !== null ? 'paid' : 'delivered') : j.state
    q.setPaid.run(paid, state, state === 'paid' ? paidAt : null, j.seq)
    if (state !== j.state) q.paidCount.run(state === 'paid' ? 1 : -1, j.provider)
    touchJob(id)
    touchProvider(j.provider)
  }

  /** The job a payment is for: the one whose result, or whose quote in feedback, the recipient sent. */
  function jobPaidBy(zapped: string | undefined, recipient: string): string | undefined {
    if (zapped === undefined) return undefined
    const delivered = jobDeliveredBy(zapped)
    return delivered?.provider === recipient ? delivered.job : (q.quoteOf.get(zapped, recipient) as string | undefined)
  }

  /** Records the payments the admission proved for this event, toward their jobs and recipients. */
  function pay(e: NostrEvent, receivedAt: number): void {
    const jobs = new Set<string>()
    for (const p of q.proven.all(e.id) as (PaymentFact & { zapped: string | null })[]) {
      // Paying oneself proves nothing.
      if (p.payer === p.recipient) continue
      const jobId = jobPaidBy(p.zapped ?? undefined, p.recipient)
      if (q.pay.run(p.ref, p.via, e.id, p.recipient, p.payer, jobId ?? null, p.msats, receivedAt).changes === 0)
        continue
      touchProvider(p.recipient)
      if (jobId) jobs.add(jobId)
    }
    for (const id of jobs) settle(id)
  }

  /**
   * Folds a stored event into the market tables (live after `refusal` passed it, or in a rebuild).
   * `receivedAt` is the relay's clock when it was stored, `seq` its place in the store.
   */
  function apply(e: NostrEvent, receivedAt: number, seq: number): void {
    if (e.kind === WORKFLOW) {
      const w = readWorkflow(e)
      if (!('prefix' in w) && q.workflow.run(w.id, seq, w.customer, w.steps.length, 'running', receivedAt).changes > 0)
        touchJob(w.id)
      return
    }
    const request = readJobRequest(e)
    if (request) {
      const swarm = readSwarm(e)
      // Only a request the relay published as a step has this fact (its `step` tag spares the others a read).
      const step =
        tagValue(e, 'step') === undefined
          ? undefined
          : (q.provenStep.get(e.id) as { workflow: string; step: number } | undefined)
      if (step && stepRefusal({ workflow: step.workflow, index: step.step })) return
      const max = swarm && !('prefix' in swarm) ? swarm.max : null
      open(request, receivedAt, seq, max, step)
      if (max !== null) swarms.add(request.id)
      if (step) {
        openSteps.add(request.id)
        touchJob(step.workflow)
      }
      return
    }
    if (isJobResultKind(e.kind)) {
      const known = admitted?.id === e.id ? admitted : undefined
      admitted = undefined
      // A rebuild checks the job rules again: a result stored while the market was off may break them.
      const { job: j, implied } = known ?? jobOfResult(e)
      if (!j || (!known && resultRefusal(j, e, false) !== undefined)) return
      const held = j as HeldJob
      if (held.swarm && !implied) {
        if (known || swarmRefusal(held, e) === undefined) submit(e, held)
        return
      }
      if (implied) {
        open(implied, receivedAt, seq)
        q.imply.run(j.id, seq, j.customer)
      }
      const delivery = { id: e.id, msats: amountMsats(e) ?? null, createdAt: e.created_at }
      deliver({ ...held, seq: j.seq ?? seq }, e.pubkey, delivery, receivedAt)
      return
    }
    if (e.kind === JOB_FEEDBACK) {
      reveal(e, receivedAt)
      pick(e, receivedAt)
      stepFailed(e)
      // Feedback never moves a job (a stranger's "success" did in the seed); a quote from a provider the
      // job is open to is what that provider asks.
      const amount = amountMsats(e)
      if (amount === undefined) return
      const id = jobIdOf(e)
      const j = id === undefined ? undefined : job(id)
      if (j && feedbackCounts(j, e.pubkey)) q.quote.run(seq, j.seq, e.pubkey, amount, e.created_at)
      return
    }
    if (e.kind === ZapReceipt || e.kind === NUTZAP) return pay(e, receivedAt)
    if (e.kind === ESCROW_LOCK) return lock(e, seq)
    if (e.kind === ESCROW_ACTION) return act(e, receivedAt)
    if (e.kind === SEALED_RESULT) {
      const s = readSealedResult(e)
      const j = 'prefix' in s ? undefined : job(s.job)
      if (j && (j.state === 'open' || (j.state === 'locked' && j.provider === e.pubkey)))
        q.sealed.run(seq, j.seq, e.pubkey, (s as SealedResult).keyHash)
      return
    }
    const wallet = readNutzapInfo(e)
    if (wallet) {
      q.wallet.run(e.pubkey, e.id, wallet.p2pk, JSON.stringify(wallet.mints))
      return
    }
    const review = readReview(e)
    if (review) {
      reveal(e, receivedAt)
      const j = job(review.job)
      if (j && reviewRefusal(j, e, review) === undefined) {
        const role = roleOf(j, e.pubkey)
        q.review.run(j.id, j.seq, e.pubkey, e.id, review.reviewed!, review.rating!, role, e.created_at)
        touchProvider(review.reviewed)
      }
      return
    }
    const trust = readTrust(e)
    if (trust) {
      if (trustRefusal(e, trust.trusted) === undefined) {
        q.trust.run(e.pubkey, trust.trusted, e.id)
        touchProvider(trust.trusted)
      }
      return
    }
    const attestation = readAttestation(e)
    if (attestation) {
      if ('prefix' in attestation) return
      const { subject, rating, confidence } = attestation
      q.attestation.run(e.id, e.pubkey, subject, rating, confidence, Math.min(e.created_at, receivedAt))
      touchProvider(subject)
      return
    }
    const reported = reportedKey(e)
    if (reported) {
      if (q.counterparty.get({ provider: reported, customer: e.pubkey }) !== undefined) {
        q.report.run(e.id, reported, e.pubkey)
        recount(reported)
      }
      return
    }
    const handler = readHandler(e)
    if (handler) {
      const { d, kinds, name, lud16, skill } = handler
      q.handler.run(e.pubkey, d, e.id, JSON.stringify(kinds), name ?? null, lud16 ?? null, skill ?? null)
      touchProvider(e.pubkey)
      return
    }
    const lud16 = readProfileLud16(e)
    if (lud16) {
      q.profile.run(e.pubkey, e.id, lud16)
      return
    }
    const beat = readHeartbeat(e)
    if (beat) {
      const { status, capacity, kinds, price } = beat
      q.heartbeat.run(seq, receivedAt, status ?? null, capacity ?? null, JSON.stringify(kinds), price ?? null)
      touchProvider(e.pubkey)
    }
  }

  /**
   * An event left the store (its author deleted it, a newer version replaced it, or it expired): what it
   * added goes too. A deleted open job's request is its customer's cancel.
   */
  function removed(gone: StoredKey): void {
    const { seq, kind } = gone
    // Only the table the kind feeds is touched: most removals (replaced contact lists) touch none.
    if (kind === WORKFLOW) endWorkflow(gone.id, 'cancelled')
    else if (isJobRequestKind(kind)) {
      if (q.dropOpenJob.run(seq).changes > 0) q.dropJobQuotes.run(seq)
    } else if (isJobResultKind(kind)) q.dropSubmission.run(gone.id)
    else if (kind === JOB_FEEDBACK) q.dropQuote.run(seq)
    else if (kind === ZapReceipt || kind === NUTZAP) {
      for (const p of q.dropPayments.all(gone.id) as { job: string | null; provider: string }[]) {
        touchProvider(p.provider)
        if (p.job) settle(p.job)
      }
    } else if (kind === ESCROW_LOCK) {
      // Deletion is refused while the lock holds a job; this is a lock leaving by other means (expiry).
      const jobSeq = q.dropEscrow.get(seq) as number | undefined
      if (jobSeq !== undefined) {
        q.dropPledges.run(jobSeq)
        q.unlock.run(jobSeq)
      }
    } else if (kind === SEALED_RESULT) q.dropSealed.run(seq)
    else if (kind === HEARTBEAT) {
      if (q.dropHeartbeat.run(seq).changes > 0) touchProvider(gone.pubkey)
    } else if (kind === REPORT) {
      const provider = dropReport(gone)
      if (provider) recount(provider)
    } else {
      const drop = dropBy.get(kind)
      if (drop) touchProvider(drop(gone))
    }
  }

  /** Open jobs received up to `receivedBy` become expired (the writer's sweep, and a rebuild's end). */
  function expireJobs(receivedBy: number): void {
    for (const id of q.judgeDue.all(receivedBy) as string[]) touchJob(id)
    for (const r of q.expire.all(receivedBy) as { id: string; workflow: string | null }[]) {
      touchJob(r.id)
      // A step undelivered by its deadline fails its workflow.
      if (r.workflow) endWorkflow(r.workflow, 'failed')
    }
  }

  /** Records what the admission proved about a stored event, before it is folded in. */
  function learn(evidence: string, facts: MarketFacts): void {
    for (const p of facts.payments ?? [])
      q.learn.run(evidence, p.ref, p.via, p.recipient, p.payer, p.zapped ?? null, p.msats)
    const x = facts.escrow
    if (x) q.learnEscrow.run(evidence, x.job, x.provider, x.mint, x.sats, x.locktime, JSON.stringify(x.ys))
    const w = facts.workflowStep
    if (w) q.learnStep.run(evidence, w.workflow, w.index)
  }

  /**
   * True for the events that are the record of a delivered job, of an escrow, or of a proven fraud; they outlive
   * their NIP-40 expiration.
   */
  const keeps = ({ seq, id, kind }: StoredKey): boolean =>
    isJobRequestKind(kind)
      ? q.deliveredJob.get(seq) !== undefined || q.escrowOfJob.get(seq) !== undefined
      : kind === ESCROW_LOCK
        ? q.escrowOfLock.get(seq) !== undefined
        : kind === ESCROW_ACTION ||
          (kind === SEALED_RESULT && q.fraudOf.get(id) !== undefined) ||
          ((isJobResultKind(kind) || kind === SEALED_RESULT) && jobDeliveredBy(id) !== undefined)

  /** What changed since the last call. */
  function drain(): Touched {
    const out = { jobs: [...touched.jobs], providers: [...touched.providers] }
    touched.jobs.clear()
    touched.providers.clear()
    return out
  }

  return { refusal, apply, removed, keeps, learn, expireJobs, drain }
}

export type Market = ReturnType<typeof makeMarket>

/**
 * Empties the market tables and folds every stored event into them again, in storage order; with `jobTtl`,
 * expires open jobs as a sweep at `at` would (without it, the relay's next sweep does).
 */
export function rebuildMarket(db: Db, jobTtl?: number, at = now()): number {
  const market = makeMarket(db)
  const page = db.prepare('SELECT seq, raw, received_at FROM events WHERE seq > ? ORDER BY seq LIMIT 1000')
  let events = 0
  db.transaction(() => {
    for (const table of MARKET_TABLES) db.exec(`DELETE FROM ${table}`)
    for (let after = 0; ;) {
      // Read a page, then write: a connection cannot write while one of its cursors is open.
      const rows = page.all(after) as { seq: number; raw: string; received_at: number | null }[]
      if (rows.length === 0) break
      for (const r of rows) {
        const e = JSON.parse(r.raw) as NostrEvent
        // Stored before schema 5: the event's own time is all there is.
        market.apply(e, r.received_at ?? e.created_at, r.seq)
      }
      events += rows.length
      after = rows.at(-1)!.seq
    }
    if (jobTtl !== undefined) market.expireJobs(at - jobTtl)
  }).immediate()
  return events
}
