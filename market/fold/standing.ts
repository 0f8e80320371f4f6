// Standing and reputation (DESIGN §7.7), computed off every event's path: `compute` reads the market's tables in
// their key order (on any connection, in one read transaction: the publisher thread's, or the writer's when it runs
// inline, on close and in a rebuild), walks from the roots along the verified edges (market/standing.ts), counts
// every reputation input by the weight of the key that produced it, and returns the rows whose values changed;
// `apply`, on the writer's connection, writes them. The only writer of market_standing and market_reputation. No
// clock and no randomness: the same tables give the same bits.
import type { Db } from '../../relay/store/db.js'
import { attestationWeight } from '../attestations.js'
import { score, zeroCounts, type Counts, type Reputation } from '../reputation.js'
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
type Sums = Counts & { ratings: number; attested: number; attestedRatings: number }
// Added to a fresh literal, not spread into one: a spread made each a dictionary (measured: a fifth of a
// computation in GC).
const empty = (): Sums => Object.assign(zeroCounts(), { ratings: 0, attested: 0, attestedRatings: 0 })

/**
 * What one computation found that differs from the stored rows: the standing and reputation rows to write or drop,
 * the keys whose assertion changed, and the summed weight of each reported key's reporters. Plain arrays: it
 * crosses from the publisher thread to the writer's.
 */
export type StandingDiff = {
  readonly standing: { readonly put: [string, number, number][]; readonly drop: string[] }
  readonly reputation: { readonly put: unknown[][]; readonly drop: string[] }
  readonly changed: string[]
  readonly reported: [string, number][]
}

/** The computation, over any connection to the store (reads only). */
export function makeStandingReader(db: Db) {
  const q = {
    // What the zap gate's payers paid the operator (zap_unlocks outlives the receipts and a rebuild).
    pool: db.prepare('SELECT pubkey AS key, SUM(msats) AS paid FROM zap_unlocks GROUP BY pubkey ORDER BY pubkey'),
    // Edges and inputs at once, each row [from, to, edge weight, ...]: trust; paid jobs (an edge per paid job);
    // customers' reviews of their paid jobs (an edge when good).
    trust: db.prepare('SELECT truster, trusted, 1 FROM market_trust ORDER BY trusted, truster').raw(),
    pairs: db
      .prepare(
        `SELECT customer, provider, paid, refunded FROM market_pairs WHERE paid > 0 OR refunded > 0
         ORDER BY provider, customer`,
      )
      .raw(),
    reviews: db
      .prepare(
        `SELECT r.reviewer, r.reviewed, CASE WHEN r.rating >= 4 THEN 1 ELSE 0 END, r.rating
         FROM market_reviews r JOIN market_jobs j ON j.seq = r.job_seq
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
    for (const [reviewer, reviewed, , rating] of inputs.reviews) {
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
    /** Standing and reputation from the tables, as the rows that differ from the stored ones; reads only. */
    compute(rules: StandingRules): StandingDiff {
      const inputs: Inputs = {
        trust: q.trust.all() as Inputs['trust'],
        pairs: q.pairs.all() as Inputs['pairs'],
        reviews: q.reviews.all() as Inputs['reviews'],
      }
      // Rows are [from, to, edge weight, ...]: a pair with nothing paid, or a poor review, is no edge.
      const edges = [...inputs.trust, ...inputs.pairs, ...inputs.reviews] as unknown as Edge[]
      const pool = q.pool.all() as { key: string; paid: number }[]
      const standing = computeStanding({ roots: rules.roots, pool, poolShare: rules.poolShare, edges })
      const diff: StandingDiff = {
        standing: { put: [], drop: [] },
        reputation: { put: [], drop: [] },
        changed: [],
        reported: [],
      }
      const stored = new Map<string, [number, number]>()
      for (const [key, was, w] of q.standing.all() as [string, number, number][]) {
        stored.set(key, [was, w])
        if (standing.weightOf(key) === undefined) diff.standing.drop.push(key)
      }
      standing.keys.forEach((key, i) => {
        const [was, w] = stored.get(key) ?? []
        if (standing.standing[i] !== was || standing.weight[i] !== w)
          diff.standing.put.push([key, standing.standing[i]!, standing.weight[i]!])
      })
      const weight = (key: string) => standing.weightOf(key) ?? 0
      const old = new Map((q.reputation.all() as unknown[][]).map(r => [r[0] as string, r]))
      for (const [key, sums] of count(inputs, weight)) {
        const r = row(key, sums)
        const values = COLUMNS.map(c => r[c])
        const before = old.get(key)
        old.delete(key)
        if (r.reports > 0) diff.reported.push([key, r.reports])
        // An assertion shows its key's own weight to two decimals: republished when that moves.
        const moved = Math.round((stored.get(key)?.[1] ?? 0) * 100) !== Math.round(weight(key) * 100)
        const same = before !== undefined && values.every((v, i) => v === before[i])
        if (!same) diff.reputation.put.push(values)
        if (!same || moved) diff.changed.push(key)
      }
      for (const key of old.keys()) {
        diff.reputation.drop.push(key)
        diff.changed.push(key)
      }
      return diff
    },
  }
}

/** Writes what a computation found, on the writer's connection (inside its transaction). */
export function makeStandingWriter(db: Db) {
  const q = {
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
  return {
    apply(diff: StandingDiff): void {
      for (const key of diff.standing.drop) q.dropStanding.run(key)
      for (const r of diff.standing.put) q.putStanding.run(...r)
      for (const key of diff.reputation.drop) q.dropReputation.run(key)
      for (const values of diff.reputation.put) q.putReputation.run(...values)
    },
  }
}

/** The rows read once and used twice, for the walk's edges and for the counts: [from, to, edge weight, ...]. */
type Inputs = {
  trust: [truster: string, trusted: string, one: number][]
  pairs: [customer: string, provider: string, paid: number, refunded: number][]
  reviews: [reviewer: string, reviewed: string, good: number, rating: number][]
}
