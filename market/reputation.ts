// Reputation (DESIGN §7.7): the seed's formula, fed only verified inputs, with ratings below 3 lowering
// the score instead of adding to it. Every input is an indexed aggregate over one provider's rows, so a
// score costs O(that provider's records), never O(providers) or O(jobs).
import type { Db } from '../relay/store/db.js'
import { attestationWeight } from './attestations.js'

export type ReputationInputs = {
  /** Distinct keys with a DVM trust declaration for the provider. */
  readonly trustedBy: number
  /** Verified zaps and nutzaps received, msats. */
  readonly receivedMsats: number
  /** Delivered jobs whose payment the relay verified. */
  readonly jobsPaid: number
  /** Customers' reviews of paid jobs. */
  readonly reviewCount: number
  readonly avgRating: number
  /** Weighted mean rating of live attestations (undefined: none). */
  readonly attestation: number | undefined
  readonly attestationCount: number
  /** Distinct customers of its delivered jobs who report it. */
  readonly reportedBy: number
  /** Delivered escrowed jobs whose payment went back to the customer (disputes lost). */
  readonly jobsRefunded: number
  /** Sealed results proven not to open with the key it sold (DESIGN §7.6): any one flags. */
  readonly frauds: number
}

/**
 * The score: trust, zaps, paid jobs, reviews and attestations, each term as in the seed, ratings centred on 3;
 * a delivered job refunded from escrow costs what two paid jobs earn.
 */
export function score(i: ReputationInputs): number {
  const sats = Math.floor(i.receivedMsats / 1000)
  return (
    i.trustedBy * 100 +
    (sats >= 1 ? Math.floor(Math.log10(sats) * 10) : 0) +
    i.jobsPaid * 5 -
    i.jobsRefunded * 10 +
    (i.reviewCount > 0 ? Math.floor((i.avgRating - 3) * 20) : 0) +
    (i.attestation !== undefined ? Math.floor((i.attestation - 3) * 15) : 0)
  )
}

/** NIP-85 `rank`, 0-100: half way at a score of 200; a flagged provider ranks 0. */
export const rank = (s: number, flagged: boolean): number =>
  flagged || s <= 0 ? 0 : Math.min(100, Math.round(100 * (1 - 2 ** (-s / 200))))

/** The reputation reads on one connection (the writer's for gates, the reader's for outputs). */
export function makeReputation(db: Db) {
  const q = {
    trustedBy: db.prepare('SELECT COUNT(*) FROM market_trust WHERE trusted = ?').pluck(),
    received: db.prepare('SELECT COALESCE(SUM(msats), 0) FROM market_payments WHERE provider = ?').pluck(),
    deliveries: db.prepare('SELECT paid, refunded FROM market_deliveries WHERE provider = ?'),
    reviews: db.prepare(
      `SELECT COUNT(*) AS n, COALESCE(AVG(r.rating), 0) AS avg FROM market_reviews r JOIN market_jobs j ON j.seq = r.job_seq
       WHERE r.reviewed = ? AND j.provider = r.reviewed AND j.state = 'paid'`,
    ),
    attestations: db.prepare('SELECT rating, confidence, at FROM market_attestations WHERE subject = ?'),
    reportedBy: db.prepare('SELECT COUNT(DISTINCT reporter) FROM market_reports WHERE provider = ?').pluck(),
    frauds: db.prepare('SELECT COUNT(*) FROM market_frauds WHERE provider = ?').pluck(),
  }
  return {
    reportedBy: (pubkey: string) => q.reportedBy.get(pubkey) as number,
    receivedMsats: (pubkey: string) => q.received.get(pubkey) as number,
    inputs(pubkey: string, now: number): ReputationInputs {
      const reviews = q.reviews.get(pubkey) as { n: number; avg: number }
      const done = (q.deliveries.get(pubkey) as { paid: number; refunded: number } | undefined) ?? {
        paid: 0,
        refunded: 0,
      }
      const atts = q.attestations.all(pubkey) as { rating: number; confidence: number; at: number }[]
      let weight = 0
      let weighted = 0
      for (const a of atts) {
        const w = attestationWeight(a, now)
        weight += w
        weighted += a.rating * w
      }
      return {
        trustedBy: q.trustedBy.get(pubkey) as number,
        receivedMsats: q.received.get(pubkey) as number,
        jobsPaid: done.paid,
        jobsRefunded: done.refunded,
        reviewCount: reviews.n,
        avgRating: reviews.avg,
        attestation: weight > 0 ? weighted / weight : undefined,
        attestationCount: atts.length,
        reportedBy: q.reportedBy.get(pubkey) as number,
        frauds: q.frauds.get(pubkey) as number,
      }
    },
  }
}
