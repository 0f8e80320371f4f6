// What the market's concerns share inside the writer's transaction (market/fold.ts builds them): the types the
// writer and the admission hand in, the job lookup, what a batch changed, and the two steps that cross concerns
// (delivering a job, a provider's right to deliver), which the dispatcher wires once every concern exists.
import type { Config } from '../../config/schema.js'
import type { NostrEvent, Rejection } from '../../nips/nip01.js'
import type { Db } from '../../relay/store/db.js'
import type { Job, JobState } from '../jobs.js'
import { JOB_BY_ID } from '../schema.js'

/** What standing is computed from besides the market's tables, and how often (market/fold/standing.ts). */
export type StandingRules = {
  /** The relay key, then market.trust_roots. */
  readonly roots: readonly string[]
  /** market.zap_gate_standing as a fraction: the share of the walk's jumps the zap gate's payers hold. */
  readonly poolShare: number
  /** Milliseconds between two computations at least (market.standing_interval). */
  readonly intervalMs: number
}

/**
 * The operator's market settings the writer applies. The fold needs none of them; a rebuild needs only the
 * standing rules, to compute standing from the tables it folded.
 */
export type MarketRules = {
  /** The summed standing of counting reporters that flags a provider. */
  readonly flagThreshold: number
  /** Seconds an open job stays open, from when the relay received its request. */
  readonly jobTtl: number
  /** Seconds after delivery for a dispute, and the margin before a lock's locktime (DESIGN §7.5). */
  readonly disputeWindow: number
  readonly escrowMargin: number
  readonly standing: StandingRules
}

/** The standing rules of a config, for a relay whose key is `relayPubkey`. */
export const standingRules = (cfg: Config, relayPubkey: string): StandingRules => ({
  roots: [relayPubkey, ...cfg.market.trust_roots],
  poolShare: cfg.market.zap_gate_standing / 100,
  intervalMs: cfg.market.standing_interval * 1000,
})

/** The market rules of a config, or undefined when the market is off. */
export const marketRules = (cfg: Config, relayPubkey: string): MarketRules | undefined =>
  cfg.market.enabled
    ? {
        flagThreshold: cfg.market.flag_threshold,
        jobTtl: cfg.market.job_ttl,
        disputeWindow: cfg.market.dispute_window,
        escrowMargin: cfg.market.escrow_margin,
        standing: standingRules(cfg, relayPubkey),
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

/**
 * What the admission proved with facts from outside (an LNURL server's key, a mint's keyset): kept in the
 * facts tables by evidence id, so the fold and a rebuild read the verdict instead of judging again with
 * whatever the store holds later (a replaced 31990 or 10019 would change the answer).
 */
export type MarketFacts = {
  readonly payments?: readonly PaymentFact[]
  readonly escrow?: EscrowFact
  /** A job request the relay publishes as a workflow's step (only the relay's own writes carry it). */
  readonly workflowStep?: { readonly workflow: string; readonly index: number }
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
export type Touched = { jobs: string[]; providers: string[]; milestones?: Milestone[] }

/** A moment an operator wants in the log (relay/observe.ts): a job delivered, a provider flagged. */
export type Milestone =
  | { readonly what: 'delivered'; readonly job: string; readonly provider: string }
  | { readonly what: 'flagged'; readonly provider: string; readonly why: 'reports' | 'fraud' }

/** A job the market holds, with the seq it is keyed by and when the relay received its request. */
export type HeldJob = Job & {
  readonly seq: number
  readonly receivedAt: number
  readonly swarm: number | null
  /** A workflow step's workflow id and index. */
  readonly workflow: string | null
  readonly step: number | null
}

/** A result as it delivers a job: the result (or sealed result, or winning submission), what it asked, when made. */
export type Delivery = { readonly id: string; readonly msats: number | null; readonly createdAt: number }

/** What one market kind does: each part optional, called only for events of its kind. */
export type Handler = {
  /** Why the event may not be stored (live only, before `apply`, in the same transaction). */
  readonly refusal?: (e: NostrEvent, rules: MarketRules, facts: MarketFacts | undefined) => Rejection | undefined
  /** Folds a stored event in: live after `refusal` passed it, and on a rebuild. */
  readonly apply?: (e: NostrEvent, receivedAt: number, seq: number) => void
  /** The event left the store (deleted, replaced, expired): what it added goes too. */
  readonly removed?: (gone: StoredKey) => void
  /** True when the event is a record (of a job, an escrow, a fraud) that outlives its NIP-40 expiration. */
  readonly keeps?: (stored: StoredKey) => boolean
}

/** The shared part of the market, on the writer's connection. */
export type Ctx = {
  readonly db: Db
  /** The job a request id names, as the market holds it. */
  job(id: string): HeldJob | undefined
  touchJob(id: string): void
  /** The provider's assertion changed outside its reputation (a delivery, a fraud, its announcements). */
  touchProvider(pubkey: string | null | undefined): void
  /** Records a milestone, reported with what the batch touched. */
  milestone(m: Milestone): void
  /**
   * Something standing or reputation is computed from changed (a trust, a paid job, a review, a payment...): the
   * next computation touches the keys whose reputation moved.
   */
  inputsChanged(): void
  /** Delivers a job by a provider's result; false when the job is not deliverable. */
  deliver(j: DeliverableJob, provider: string, result: Delivery, receivedAt: number): boolean
  /** Why this provider may not deliver this job now: flagged, or below its gates (admission only). */
  eligibility(j: Job, provider: string, rules: MarketRules): Rejection | undefined
}

/** What delivering needs to know of a job. */
export type DeliverableJob = Pick<HeldJob, 'id' | 'seq' | 'state' | 'workflow' | 'step'>

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

/** The job lookup and the record of what changed; the dispatcher adds the steps that cross concerns. */
export function makeBase(db: Db) {
  const byId = db.prepare(
    `SELECT seq, received_at, id, customer, kind, bid_msats, targets, min_reputation, min_zap_msats, state, provider,
            amount_msats, swarm, workflow, step
     FROM market_jobs WHERE ${JOB_BY_ID}`,
  )
  const touched = { jobs: new Set<string>(), providers: new Set<string>() }
  let milestones: Milestone[] = []
  // Standing is computed once after a start, and again whenever its inputs changed.
  let inputs = true
  return {
    db,
    job(id: string): HeldJob | undefined {
      const r = byId.get({ id }) as JobRowSql | undefined
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
    },
    touchJob: (id: string) => void touched.jobs.add(id),
    touchProvider: (pubkey: string | null | undefined) => void (pubkey && touched.providers.add(pubkey)),
    milestone: (m: Milestone) => void milestones.push(m),
    inputsChanged: () => void (inputs = true),
    /** True when standing's inputs changed since the last call that cleared it. */
    inputsPending: (clear: boolean) => {
      const was = inputs
      if (clear) inputs = false
      return was
    },
    /** What changed since the last call. */
    drain(): Touched {
      const out: Touched = { jobs: [...touched.jobs], providers: [...touched.providers] }
      touched.jobs.clear()
      touched.providers.clear()
      if (milestones.length > 0) {
        out.milestones = milestones
        milestones = []
      }
      return out
    },
  }
}
