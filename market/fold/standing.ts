// Standing and reputation as the writer computes them (DESIGN §7.7): off every event's path, when their inputs
// changed and at most every market.standing_interval, in a transaction of its own; and at the end of a rebuild. The
// only writer of market_standing and market_reputation. It reads the market's tables in their key order, walks
// from the roots along the verified edges (market/standing.ts), counts every reputation input by the weight of the
// key that produced it, and writes the rows whose values changed. No clock: the same tables give the same bits.
import type { Db } from '../../relay/store/db.js'
import { attestationWeight } from '../attestations.js'
import { NO_REPUTATION, score, type Reputation } from '../reputation.js'
import { computeStanding, type Edge } from '../standing.js'
import type { StandingRules } from './context.js'

/** A market_reputation row. */
type Row = Reputation & { readonly pubkey: string }
const COLUMNS = [
  'pubkey',
  'score',
  'trusted_by',
  'trusted_by_raw',
  'jobs_paid',
  'jobs_paid_raw',
  'jobs_refunded',
  'jobs_refunded_raw',
  'received_msats',
  'received_msats_raw',
  'reviews',
  'avg_rating',
  'reviews_raw',
  'attestations',
  'attestation',
  'attestations_raw',
  'reports',
  'reports_raw',
] as const satisfies readonly (keyof Row)[]

/** Sums for one key while the inputs are read. */
type Sums = { -readonly [K in Exclude<keyof Reputation, 'score' | 'avg_rating' | 'attestation'>]: number } & {
  ratings: number
  attested: number
  attestedRatings: number
}
const empty = (): Sums => ({
  ...NO_REPUTATION,
  ratings: 0,
  attested: 0,
  attestedRatings: 0,
})

/** What one computation changed: keys whose reputation row changed, and the summed weight of each key's reporters. */
export type StandingChange = { readonly changed: readonly string[]; readonly reported: ReadonlyMap<string, number> }

export function makeStanding(db: Db) {
  const q = {
    // What the zap gate's payers paid the operator (zap_unlocks outlives the receipts and a rebuild).
    pool: db.prepare('SELECT pubkey AS key, SUM(msats) AS paid FROM zap_unlocks GROUP BY pubkey ORDER BY pubkey'),
    trust: db.prepare('SELECT truster, trusted FROM market_trust ORDER BY trusted, truster').raw(),
    pairs: db
      .prepare(
        'SELECT customer, provider, paid, refunded FROM market_pairs WHERE paid > 0 OR refunded > 0 ORDER BY provider, customer',
      )
      .raw(),
    // Customers' reviews of their paid jobs.
    reviews: db
      .prepare(
        `SELECT r.reviewer, r.reviewed, r.rating FROM market_reviews r JOIN market_jobs j ON j.seq = r.job_seq
         WHERE j.state = 'paid' AND r.reviewer = j.customer AND r.reviewed = j.provider ORDER BY r.job, r.reviewer`,
      )
      .raw(),
    payments: db.prepare('SELECT payer, provider, msats FROM market_payments ORDER BY ref').raw(),
    attestations: db
      .prepare('SELECT attestor, subject, rating, confidence, at FROM market_attestations ORDER BY id')
      .raw(),
    reports: db.prepare('SELECT DISTINCT reporter, provider FROM market_reports ORDER BY provider, reporter').raw(),
    standing: db.prepare('SELECT pubkey, standing, weight FROM market_standing').raw(),
    reputation: db.prepare(`SELECT ${COLUMNS.join(', ')} FROM market_reputation`).raw(),
    putStanding: db.prepare(
      `INSERT INTO market_standing (pubkey, standing, weight) VALUES (?, ?, ?)
       ON CONFLICT (pubkey) DO UPDATE SET standing = excluded.standing, weight = excluded.weight`,
    ),
    dropStanding: db.prepare('DELETE FROM market_standing WHERE pubkey = ?'),
    putReputation: db.prepare(
      `INSERT OR REPLACE INTO market_reputation (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    ),
    dropReputation: db.prepare('DELETE FROM market_reputation WHERE pubkey = ?'),
  }

  /** Standing from the roots over the verified edges: trust, paid jobs (customer to provider), good reviews. */
  function walk(rules: StandingRules, inputs: Inputs) {
    const edges: Edge[] = []
    for (const [truster, trusted] of inputs.trust) edges.push({ from: truster, to: trusted, weight: 1 })
    for (const [customer, provider, paid] of inputs.pairs)
      if (paid > 0) edges.push({ from: customer, to: provider, weight: paid })
    for (const [reviewer, reviewed, rating] of inputs.reviews)
      if (rating >= 4) edges.push({ from: reviewer, to: reviewed, weight: 1 })
    const pool = q.pool.all() as { key: string; paid: number }[]
    return computeStanding({ roots: rules.roots, pool, poolShare: rules.poolShare, edges })
  }

  /** Every reputation input counted by the weight of the key that produced it, per key it counts for. */
  function count(inputs: Inputs, weight: (key: string) => number): Map<string, Sums> {
    const sums = new Map<string, Sums>()
    const of = (key: string) => {
      let s = sums.get(key)
      if (!s) sums.set(key, (s = empty()))
      return s
    }
    for (const [truster, trusted] of inputs.trust) {
      const s = of(trusted)
      s.trusted_by += weight(truster)
      s.trusted_by_raw++
    }
    for (const [customer, provider, paid, refunded] of inputs.pairs) {
      const [s, w] = [of(provider), weight(customer)]
      s.jobs_paid += paid * w
      s.jobs_paid_raw += paid
      s.jobs_refunded += refunded * w
      s.jobs_refunded_raw += refunded
    }
    for (const [payer, provider, msats] of q.payments.all() as [string, string, number][]) {
      const s = of(provider)
      s.received_msats += msats * weight(payer)
      s.received_msats_raw += msats
    }
    for (const [reviewer, reviewed, rating] of inputs.reviews) {
      const [s, w] = [of(reviewed), weight(reviewer)]
      s.reviews += w
      s.ratings += w * rating
      s.reviews_raw++
    }
    const attestations = q.attestations.all() as [string, string, number, number, number][]
    // Ages count from each subject's newest attestation: the weighted mean is the same at any later time.
    const newest = new Map<string, number>()
    for (const [, subject, , , at] of attestations) newest.set(subject, Math.max(at, newest.get(subject) ?? at))
    for (const [attestor, subject, rating, confidence, at] of attestations) {
      const [s, w] = [of(subject), weight(attestor)]
      const aw = w * attestationWeight({ rating, confidence, at }, newest.get(subject)!)
      s.attestations += w
      s.attested += aw
      s.attestedRatings += aw * rating
      s.attestations_raw++
    }
    for (const [reporter, provider] of q.reports.all() as [string, string][]) {
      const s = of(provider)
      s.reports += weight(reporter)
      s.reports_raw++
    }
    return sums
  }

  /** The row of one key's sums, with its score. */
  function row(pubkey: string, s: Sums): Row {
    const { ratings, attested, attestedRatings, ...counted } = s
    const avg_rating = s.reviews > 0 ? ratings / s.reviews : null
    const attestation = attested > 0 ? attestedRatings / attested : null
    const inputs = {
      trustedBy: s.trusted_by,
      receivedMsats: s.received_msats,
      jobsPaid: s.jobs_paid,
      jobsRefunded: s.jobs_refunded,
      reviews: s.reviews,
      avgRating: avg_rating ?? undefined,
      attestations: s.attestations,
      attestation: attestation ?? undefined,
    }
    return { pubkey, ...counted, score: score(inputs), avg_rating, attestation }
  }

  return {
    /** Computes standing and reputation and writes what changed; call inside a transaction. */
    compute(rules: StandingRules): StandingChange {
      const inputs: Inputs = {
        trust: q.trust.all() as [string, string][],
        pairs: q.pairs.all() as [string, string, number, number][],
        reviews: q.reviews.all() as [string, string, number][],
      }
      const standing = walk(rules, inputs)
      const weight = (key: string) => standing.get(key)?.weight ?? 0
      // The standing stored before: rows are written only where a bit changed; a weight moved by what an assertion
      // shows (two decimals) republishes it.
      const stored = new Map<string, [number, number]>()
      for (const [key, was, w] of q.standing.all() as [string, number, number][]) {
        stored.set(key, [was, w])
        if (!standing.has(key)) q.dropStanding.run(key)
      }
      for (const [key, v] of standing) {
        const [was, w] = stored.get(key) ?? []
        if (v.standing !== was || v.weight !== w) q.putStanding.run(key, v.standing, v.weight)
      }
      const old = new Map((q.reputation.all() as unknown[][]).map(r => [r[0] as string, r]))
      const changed: string[] = []
      const reported = new Map<string, number>()
      for (const [key, sums] of count(inputs, weight)) {
        const r = row(key, sums)
        const values = COLUMNS.map(c => r[c])
        const before = old.get(key)
        old.delete(key)
        if (r.reports > 0) reported.set(key, r.reports)
        const moved = Math.round((stored.get(key)?.[1] ?? 0) * 100) !== Math.round(weight(key) * 100)
        if (before && values.every((v, i) => v === before[i]) && !moved) continue
        if (!before || values.some((v, i) => v !== before[i])) q.putReputation.run(...values)
        changed.push(key)
      }
      for (const key of old.keys()) {
        q.dropReputation.run(key)
        changed.push(key)
      }
      return { changed, reported }
    },
  }
}

/** The inputs read once and used twice: for the walk's edges and for the counts. */
type Inputs = {
  trust: [truster: string, trusted: string][]
  pairs: [customer: string, provider: string, paid: number, refunded: number][]
  reviews: [reviewer: string, reviewed: string, rating: number][]
}

export type Standing = ReturnType<typeof makeStanding>
