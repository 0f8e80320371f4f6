// Reputation (DESIGN §7.7), pure: the seed's formula over inputs that each count by the weight of the key that
// produced them (market/standing.ts), so a key with no standing adds nothing whatever it signs. With every source at
// full weight the inputs are the seed's counts and the score is the seed's (ratings centred on 3, so that ratings
// below 3 lower it). market/fold/standing.ts computes these for every key something counts for.

export type ReputationInputs = {
  /** DVM trust declarations, each counted by its truster's weight. */
  readonly trustedBy: number
  /** Verified payments received (zaps, nutzaps, settled escrows, keys bought), msats × the payer's weight. */
  readonly receivedMsats: number
  /** Delivered jobs whose payment the relay verified, each counted by its customer's weight. */
  readonly jobsPaid: number
  /** Delivered escrowed jobs whose payment went back to the customer (disputes lost), by the customer's weight. */
  readonly jobsRefunded: number
  /** Customers' reviews of paid jobs: the reviewers' weights summed, and their weighted mean rating. */
  readonly reviews: number
  readonly avgRating: number | undefined
  /** Attestations: the attestors' weights summed, and the mean rating weighted by weight, confidence and age. */
  readonly attestations: number
  readonly attestation: number | undefined
}

/** What one computation of reputation found for a key (a market_reputation row): counted values beside raw ones. */
export type Reputation = {
  readonly score: number
  readonly trusted_by: number
  readonly trusted_by_raw: number
  readonly jobs_paid: number
  readonly jobs_paid_raw: number
  readonly jobs_refunded: number
  readonly jobs_refunded_raw: number
  readonly received_msats: number
  readonly received_msats_raw: number
  readonly reviews: number
  readonly avg_rating: number | null
  readonly reviews_raw: number
  readonly attestations: number
  readonly attestation: number | null
  readonly attestations_raw: number
  readonly reports: number
  readonly reports_raw: number
}

/** The counts of a Reputation: what its inputs add up to. */
export type Counts = { -readonly [K in Exclude<keyof Reputation, 'score' | 'avg_rating' | 'attestation'>]: number }

/** Every count at 0, as a fresh object of one literal shape (it is summed into, fast). */
export const zeroCounts = (): Counts => ({
  trusted_by: 0,
  trusted_by_raw: 0,
  jobs_paid: 0,
  jobs_paid_raw: 0,
  jobs_refunded: 0,
  jobs_refunded_raw: 0,
  received_msats: 0,
  received_msats_raw: 0,
  reviews: 0,
  reviews_raw: 0,
  attestations: 0,
  attestations_raw: 0,
  reports: 0,
  reports_raw: 0,
})

/** A key nothing counts for yet (a provider that only delivered, or announced itself). */
export const NO_REPUTATION: Reputation = { ...zeroCounts(), score: 0, avg_rating: null, attestation: null }

/**
 * The score: `trusted_by×100 + jobs_paid×5 − jobs_refunded×10` (floored together), plus `floor(log10(sats)×10)`
 * for the sats received, plus the rating terms `(mean − 3)×20` for reviews and `(mean − 3)×15` for attestations,
 * each scaled by the weight behind it up to one key of full standing.
 */
export function score(i: ReputationInputs): number {
  const sats = Math.floor(i.receivedMsats / 1000)
  const rated = (mean: number | undefined, weight: number, points: number) =>
    mean === undefined ? 0 : Math.floor((mean - 3) * points * Math.min(1, weight))
  return (
    Math.floor(i.trustedBy * 100 + i.jobsPaid * 5 - i.jobsRefunded * 10) +
    (sats >= 1 ? Math.floor(Math.log10(sats) * 10) : 0) +
    rated(i.avgRating, i.reviews, 20) +
    rated(i.attestation, i.attestations, 15)
  )
}

/** NIP-85 `rank`, 0-100: half way at a score of 200; a flagged provider ranks 0. */
export const rank = (s: number, flagged: boolean): number =>
  flagged || s <= 0 ? 0 : Math.min(100, Math.round(100 * (1 - 2 ** (-s / 200))))
