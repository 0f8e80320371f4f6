// The market as a fold over stored events (DESIGN §3, §7): the writer applies each event it stores to the
// market tables in the same transaction, so events and market state never disagree, and `agora market
// rebuild` replays the stored events into the same tables. Live, `refusal` runs first and may refuse.
import type { Db } from '../relay/store/db.js'
import { reject, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { deletedIds } from '../nips/nip09.js'
import {
  JOB_FEEDBACK,
  amountMsats,
  embeddedRequest,
  feedbackStatus,
  isJobRequestKind,
  isJobResultKind,
  jobIdOf,
  readJobRequest,
  type JobRequest,
} from '../nips/nip90.js'
import { feedbackCounts, resultRefusal, shortId, type Job } from './jobs.js'
import { HANDLER_INFO, HEARTBEAT, readHandler, readHeartbeat } from './providers.js'
import { REVIEW, readReview, reviewRefusal, roleOf } from './reviews.js'
import { TRUST, readTrust, trustRefusal } from './trust.js'

export const MARKET_DDL = `
CREATE TABLE IF NOT EXISTS market_jobs (
  id TEXT PRIMARY KEY,
  customer TEXT NOT NULL,
  kind INTEGER NOT NULL,
  bid_msats INTEGER,
  targets TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  provider TEXT,
  result_id TEXT,
  amount_msats INTEGER,
  delivered_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_jobs_result ON market_jobs(result_id) WHERE result_id IS NOT NULL;
-- One row per counted feedback event; a provider's current status is its newest row.
CREATE TABLE IF NOT EXISTS market_feedback (
  id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  provider TEXT NOT NULL,
  status TEXT,
  amount_msats INTEGER,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_feedback_job ON market_feedback(job, provider, created_at);
-- The provider registry: one row per announcement address, so replacement and deletion map one to one.
CREATE TABLE IF NOT EXISTS market_handlers (
  pubkey TEXT NOT NULL,
  d TEXT NOT NULL,
  id TEXT NOT NULL,
  kinds TEXT NOT NULL,
  name TEXT,
  lud16 TEXT,
  skill TEXT,
  PRIMARY KEY (pubkey, d)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_handlers_id ON market_handlers(id);
-- received_at is the relay's clock: a future-dated heartbeat keeps nobody online.
CREATE TABLE IF NOT EXISTS market_heartbeats (
  pubkey TEXT NOT NULL,
  d TEXT NOT NULL,
  id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT,
  capacity INTEGER,
  kinds TEXT NOT NULL,
  price TEXT,
  PRIMARY KEY (pubkey, d)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_heartbeats_id ON market_heartbeats(id);
CREATE INDEX IF NOT EXISTS market_heartbeats_seen ON market_heartbeats(pubkey, received_at);
-- One review per job per reviewer (31117 is addressable with d = the job, so a newer one replaces it).
CREATE TABLE IF NOT EXISTS market_reviews (
  job TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  id TEXT NOT NULL,
  reviewed TEXT NOT NULL,
  rating INTEGER NOT NULL,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job, reviewer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_reviews_id ON market_reviews(id);
CREATE INDEX IF NOT EXISTS market_reviews_reviewed ON market_reviews(reviewed);
-- DVM trust declarations: one per (truster, trusted), as 30382 is addressable with d = the trusted key.
CREATE TABLE IF NOT EXISTS market_trust (
  truster TEXT NOT NULL,
  trusted TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (trusted, truster)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_trust_id ON market_trust(id);
`

/** The market tables, in the order a comparison or a rebuild walks them. */
export const MARKET_TABLES = [
  'market_jobs',
  'market_feedback',
  'market_handlers',
  'market_heartbeats',
  'market_reviews',
  'market_trust',
] as const

type JobRowSql = {
  id: string
  customer: string
  kind: number
  bid_msats: number | null
  targets: string
  state: 'open' | 'delivered'
  provider: string | null
}

/** The market's statements on the writer's connection. */
export function makeMarket(db: Db) {
  const q = {
    job: db.prepare('SELECT id, customer, kind, bid_msats, targets, state, provider FROM market_jobs WHERE id = ?'),
    jobByResult: db.prepare('SELECT id FROM market_jobs WHERE result_id = ?').pluck(),
    // Only the customer's own deletion cancels (anyone may leave a tombstone under their own key).
    cancelledBy: db.prepare('SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?').pluck(),
    open: db.prepare(
      `INSERT OR IGNORE INTO market_jobs (id, customer, kind, bid_msats, targets, created_at, state)
       VALUES (?, ?, ?, ?, ?, ?, 'open')`,
    ),
    deliver: db.prepare(
      `UPDATE market_jobs SET state = 'delivered', provider = ?, result_id = ?, amount_msats = ?, delivered_at = ?
       WHERE id = ? AND state = 'open'`,
    ),
    feedback: db.prepare(
      'INSERT OR IGNORE INTO market_feedback (id, job, provider, status, amount_msats, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    record: db.prepare("SELECT 1 FROM market_jobs WHERE (id = ? AND state = 'delivered') OR result_id = ?").pluck(),
    dropOpenJob: db.prepare("DELETE FROM market_jobs WHERE id = ? AND state = 'open'"),
    dropJobFeedback: db.prepare('DELETE FROM market_feedback WHERE job = ?'),
    dropFeedback: db.prepare('DELETE FROM market_feedback WHERE id = ?'),
    handler: db.prepare(
      `INSERT INTO market_handlers (pubkey, d, id, kinds, name, lud16, skill) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pubkey, d) DO UPDATE SET id = excluded.id, kinds = excluded.kinds, name = excluded.name,
         lud16 = excluded.lud16, skill = excluded.skill`,
    ),
    heartbeat: db.prepare(
      `INSERT INTO market_heartbeats (pubkey, d, id, received_at, status, capacity, kinds, price)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pubkey, d) DO UPDATE SET id = excluded.id, received_at = excluded.received_at,
         status = excluded.status, capacity = excluded.capacity, kinds = excluded.kinds, price = excluded.price`,
    ),
    review: db.prepare(
      `INSERT INTO market_reviews (job, reviewer, id, reviewed, rating, role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job, reviewer) DO UPDATE SET id = excluded.id, reviewed = excluded.reviewed,
         rating = excluded.rating, role = excluded.role, created_at = excluded.created_at`,
    ),
    dropReview: db.prepare('DELETE FROM market_reviews WHERE id = ?'),
    trust: db.prepare(
      `INSERT INTO market_trust (truster, trusted, id) VALUES (?, ?, ?)
       ON CONFLICT (trusted, truster) DO UPDATE SET id = excluded.id`,
    ),
    dropTrust: db.prepare('DELETE FROM market_trust WHERE id = ?'),
    dropHandler: db.prepare('DELETE FROM market_handlers WHERE id = ?'),
    dropHeartbeat: db.prepare('DELETE FROM market_heartbeats WHERE id = ?'),
  }

  const job = (id: string): Job | undefined => {
    const r = q.job.get(id) as JobRowSql | undefined
    return r && { ...r, bidMsats: r.bid_msats, targets: JSON.parse(r.targets) as string[] }
  }

  /**
   * The job a result names: the stored one, or else the one its embedded request describes (a job posted
   * on another relay; policies/market-admission.ts has checked that request's signature). `cancelled`:
   * its customer deleted the request.
   */
  const jobOfResult = (e: NostrEvent): { job: Job | undefined; cancelled: boolean; implied?: JobRequest } => {
    const id = jobIdOf(e)
    if (id === undefined) return { job: undefined, cancelled: false }
    const stored = job(id)
    if (stored) return { job: stored, cancelled: false }
    const embedded = embeddedRequest(e)
    const implied = embedded && embedded.id === id ? readJobRequest(embedded as NostrEvent) : undefined
    if (!implied) return { job: undefined, cancelled: false }
    if (q.cancelledBy.get(id, implied.customer) !== undefined) return { job: undefined, cancelled: true }
    const asJob: Job = { ...implied, bidMsats: implied.bidMsats ?? null, state: 'open', provider: null }
    return { job: asJob, cancelled: false, implied }
  }

  /**
   * Why the market refuses this event before it is stored, or undefined. A delivered job's request and the
   * result that delivered it are its record: their authors cannot delete them.
   */
  function refusal(e: NostrEvent): Rejection | undefined {
    if (isJobResultKind(e.kind)) {
      const { job: j, cancelled } = jobOfResult(e)
      return resultRefusal(j, e, cancelled)
    }
    const review = readReview(e)
    if (review) return reviewRefusal(job(review.job), e, review)
    const trust = readTrust(e)
    if (trust) return trustRefusal(e, trust.trusted)
    if (e.kind === 5)
      for (const id of deletedIds(e)) {
        const j = job(id)
        if (j && j.state === 'delivered' && j.customer === e.pubkey)
          return reject('restricted', `job ${shortId(id)} was delivered: its request stays as the record of the job`)
        const delivered = q.jobByResult.get(id) as string | undefined
        if (delivered && job(delivered)?.provider === e.pubkey)
          return reject(
            'restricted',
            `result ${shortId(id)} delivered job ${shortId(delivered)}: it stays as the record`,
          )
      }
    return undefined
  }

  const open = (r: JobRequest) => {
    q.open.run(r.id, r.customer, r.kind, r.bidMsats ?? null, JSON.stringify(r.targets), r.createdAt)
  }

  /**
   * Folds a stored event into the market tables (live after `refusal` passed it, or in a rebuild).
   * `receivedAt` is the relay's clock when it was stored.
   */
  function apply(e: NostrEvent, receivedAt: number): void {
    const request = readJobRequest(e)
    if (request) return open(request)
    if (isJobResultKind(e.kind)) {
      const { job: j, implied } = jobOfResult(e)
      if (!j || resultRefusal(j, e, false) !== undefined) return
      if (implied) open(implied)
      q.deliver.run(e.pubkey, e.id, amountMsats(e) ?? null, e.created_at, j.id)
      return
    }
    if (e.kind === JOB_FEEDBACK) {
      const id = jobIdOf(e)
      const j = id === undefined ? undefined : job(id)
      // Feedback records a provider's status; it never moves the job (a stranger's "success" did in the seed).
      if (j && feedbackCounts(j, e.pubkey))
        q.feedback.run(e.id, j.id, e.pubkey, feedbackStatus(e) ?? null, amountMsats(e) ?? null, e.created_at)
      return
    }
    const review = readReview(e)
    if (review) {
      const j = job(review.job)
      if (j && reviewRefusal(j, e, review) === undefined)
        q.review.run(j.id, e.pubkey, e.id, review.reviewed!, review.rating!, roleOf(j, e.pubkey), e.created_at)
      return
    }
    const trust = readTrust(e)
    if (trust) {
      if (trustRefusal(e, trust.trusted) === undefined) q.trust.run(e.pubkey, trust.trusted, e.id)
      return
    }
    const handler = readHandler(e)
    if (handler) {
      const { d, kinds, name, lud16, skill } = handler
      q.handler.run(e.pubkey, d, e.id, JSON.stringify(kinds), name ?? null, lud16 ?? null, skill ?? null)
      return
    }
    const beat = readHeartbeat(e)
    if (beat)
      q.heartbeat.run(
        e.pubkey,
        beat.d,
        e.id,
        receivedAt,
        beat.status ?? null,
        beat.capacity ?? null,
        JSON.stringify(beat.kinds),
        beat.price ?? null,
      )
  }

  /**
   * An event left the store (its author deleted it, a newer version replaced it, or it expired): what it
   * added goes too. A deleted open job's request is its customer's cancel.
   */
  function removed(id: string, kind: number): void {
    // Only the table the kind feeds is touched: most removals (replaced profiles, contact lists) touch none.
    if (isJobRequestKind(kind)) {
      if (q.dropOpenJob.run(id).changes > 0) q.dropJobFeedback.run(id)
    } else if (kind === JOB_FEEDBACK) q.dropFeedback.run(id)
    else if (kind === REVIEW) q.dropReview.run(id)
    else if (kind === TRUST) q.dropTrust.run(id)
    else if (kind === HANDLER_INFO) q.dropHandler.run(id)
    else if (kind === HEARTBEAT) q.dropHeartbeat.run(id)
  }

  /** True for the events that are a delivered job's record; they outlive their NIP-40 expiration. */
  const keeps = (id: string): boolean => q.record.get(id, id) !== undefined

  return { refusal, apply, removed, keeps }
}

export type Market = ReturnType<typeof makeMarket>

/** Empties the market tables and folds every stored event into them again, in storage order. */
export function rebuildMarket(db: Db): number {
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
        market.apply(e, r.received_at ?? e.created_at)
      }
      events += rows.length
      after = rows.at(-1)!.seq
    }
  }).immediate()
  return events
}
