// The market as a fold over stored events (DESIGN §3, §7): the writer applies each event it stores to the
// market tables in the same transaction, so events and market state never disagree, and `agora market
// rebuild` replays the stored events into the same tables. Live, `refusal` runs first and may refuse.
// This file is the dispatcher (STYLE §2.5): each market kind has one handler in the table below, and each
// concern in market/fold/ owns its tables and statements.
import type { Db } from '../relay/store/db.js'
import { deletedIds } from '../nips/nip09.js'
import { ZapReceipt } from '../nips/nip57.js'
import { NUTZAP, NUTZAP_INFO } from '../nips/nip61.js'
import type { NostrEvent } from '../nips/nip01.js'
import { JOB_FEEDBACK, isJobRequestKind, isJobResultKind } from '../nips/nip90.js'
import { ATTESTATION } from './attestations.js'
import { ESCROW_ACTION } from './actions.js'
import { ESCROW_LOCK } from './escrow.js'
import { HANDLER_INFO, HEARTBEAT, PROFILE } from './providers.js'
import { REPORT } from './reports.js'
import { REVIEW } from './reviews.js'
import { SEALED_RESULT } from './sealed.js'
import { TRUST } from './trust.js'
import { WORKFLOW } from './workflows.js'
import {
  makeBase,
  type Ctx,
  type Handler,
  type MarketFacts,
  type MarketRules,
  type StandingRules,
  type StoredKey,
} from './fold/context.js'
import { makeDelivery } from './fold/delivery.js'
import { makeEscrow } from './fold/escrow.js'
import { makeJobs } from './fold/jobs.js'
import { makePayments } from './fold/payments.js'
import { makeProviders } from './fold/providers.js'
import { makeReports } from './fold/reports.js'
import { makeReviews } from './fold/reviews.js'
import { makeSealed } from './fold/sealed.js'
import { makeStandingReader, makeStandingWriter, type StandingDiff } from './fold/standing.js'
import { makeSwarms } from './fold/swarms.js'
import { makeWorkflows } from './fold/workflows.js'

export {
  marketRules,
  standingRules,
  type EscrowFact,
  type MarketFacts,
  type MarketRules,
  type Milestone,
  type PaymentFact,
  type StandingRules,
  type StoredKey,
  type Touched,
} from './fold/context.js'

/** The market's statements on the writer's connection. */
export function makeMarket(db: Db) {
  const base = makeBase(db)
  // The steps that cross concerns, wired to the concerns built below (called only once the fold runs).
  const ctx: Ctx = {
    ...base,
    deliver(j, provider, result, receivedAt) {
      if (!jobs.markDelivered(j, provider, result)) return false
      workflows.stepDelivered(j)
      escrow.delivered(j, receivedAt)
      payments.settleIfPaid(j.id, provider)
      return true
    },
    eligibility: (j, provider, rules) => reports.eligibility(j, provider, rules),
  }
  const jobs = makeJobs(ctx)
  const workflows = makeWorkflows(ctx)
  const swarms = makeSwarms(ctx, jobs)
  const payments = makePayments(ctx, jobs)
  const escrow = makeEscrow(ctx, jobs, payments)
  const sealed = makeSealed(ctx, jobs, payments)
  const reports = makeReports(ctx, jobs, sealed)
  const reviews = makeReviews(ctx, sealed)
  const providers = makeProviders(ctx)
  const delivery = makeDelivery(ctx, jobs, workflows, swarms)
  const standing = { reader: makeStandingReader(db), writer: makeStandingWriter(db) }

  // Feedback never moves a job (a stranger's "success" did in the seed). It may publish a sealed result's key, pick
  // a swarm's winner, fail a workflow's step (its pinned provider's `error`), or quote a price (with an amount).
  const feedback: Handler = {
    refusal: (e, rules) => swarms.pickRefusal(e) ?? reports.feedbackRefusal(e, rules),
    apply: (e, receivedAt, seq) => {
      sealed.reveal(e, receivedAt)
      swarms.pick(e, receivedAt)
      workflows.stepFailed(e)
      jobs.quote(e, seq)
    },
    removed: jobs.dropQuote,
  }

  // A delivered job's request and result, an escrow's request, lock and actions, and a fraud's sealed result are
  // records: their authors cannot delete them.
  const deletion: Handler = {
    refusal: e => {
      for (const id of deletedIds(e)) {
        const why = jobs.recordRefusal(id, e.pubkey) ?? escrow.recordRefusal(id, e.pubkey) ?? sealed.recordRefusal(id)
        if (why) return why
      }
      return undefined
    },
  }

  const request: Handler = { ...delivery.request, keeps: k => jobs.keepsRequest(k) || escrow.keepsRequest(k) }

  /**
   * Writes what a computation of standing found (market/fold/standing.ts), inside the caller's transaction: the
   * keys whose assertion changed are touched, and the flags follow the reporters' new standing (a provider flagged
   * now is a milestone, given the threshold).
   */
  function applyStanding(diff: StandingDiff, flagThreshold?: number): void {
    standing.writer.apply(diff)
    diff.changed.forEach(ctx.touchProvider)
    reports.computed(new Map(diff.reported), flagThreshold)
  }

  const table = new Map<number, Handler>([
    [WORKFLOW, workflows.handler],
    [JOB_FEEDBACK, feedback],
    [5, deletion],
    [ZapReceipt, payments.handler],
    [NUTZAP, payments.handler],
    [ESCROW_LOCK, escrow.lockHandler],
    [ESCROW_ACTION, escrow.actionHandler],
    [SEALED_RESULT, sealed.handler],
    [REVIEW, reviews.review],
    [TRUST, reviews.trust],
    [ATTESTATION, reviews.attestation],
    [REPORT, reports.handler],
    [HANDLER_INFO, providers.handler],
    [PROFILE, providers.profile],
    [NUTZAP_INFO, providers.wallet],
    [HEARTBEAT, providers.heartbeat],
  ])
  /** The handler of a kind: its own, else the job requests' or results' for their ranges. */
  const handlerOf = (kind: number): Handler | undefined =>
    table.get(kind) ?? (isJobRequestKind(kind) ? request : isJobResultKind(kind) ? delivery.result : undefined)

  return {
    /** Why the market refuses this event before it is stored, or undefined. */
    refusal: (e: NostrEvent, rules: MarketRules, facts: MarketFacts | undefined) =>
      handlerOf(e.kind)?.refusal?.(e, rules, facts),

    /**
     * Folds a stored event into the market tables (live after `refusal` passed it, or in a rebuild).
     * `receivedAt` is the relay's clock when it was stored, `seq` its place in the store.
     */
    apply: (e: NostrEvent, receivedAt: number, seq: number) => handlerOf(e.kind)?.apply?.(e, receivedAt, seq),

    /**
     * An event left the store (its author deleted it, a newer version replaced it, or it expired): what it
     * added goes too. A deleted open job's request is its customer's cancel.
     */
    removed: (gone: StoredKey) => handlerOf(gone.kind)?.removed?.(gone),

    /** True for the events that are a record (of a delivered job, an escrow, a fraud): they outlive NIP-40 expiry. */
    keeps: (k: StoredKey) => handlerOf(k.kind)?.keeps?.(k) ?? false,

    /** Open jobs received up to `receivedBy` become expired (the writer's sweep, and a rebuild's end). */
    expireJobs(receivedBy: number): void {
      for (const id of jobs.judgeDue(receivedBy)) ctx.touchJob(id)
      for (const r of jobs.expire(receivedBy)) {
        ctx.touchJob(r.id)
        if (r.workflow) workflows.stepExpired(r.workflow)
      }
    },

    /** Records what the admission proved about a stored event, before it is folded in. */
    learn(evidence: string, facts: MarketFacts): void {
      if (facts.payments) payments.learn(evidence, facts.payments)
      if (facts.escrow) escrow.learn(evidence, facts.escrow)
      if (facts.workflowStep) workflows.learn(evidence, facts.workflowStep)
    },

    /** What changed since the last call. */
    drain: base.drain,

    /** Something standing is computed from changed outside the fold (a zap gate unlock). */
    inputsChanged: base.inputsChanged,
    /** True when standing's inputs changed since a computation last started (and once after a start). */
    standingDue: () => base.inputsPending(false),
    /** A computation starts (here, or on the publisher thread): it sees every input changed until now. */
    standingStarted: () => void base.inputsPending(true),
    /**
     * Writes what a computation of standing found (market/fold/standing.ts), inside the caller's transaction: the
     * keys whose assertion changed are touched, and the flags follow the reporters' new standing.
     */
    applyStanding,
    /** Computes standing and reputation here and writes them, inside the caller's transaction. */
    computeStanding(rules: StandingRules, flagThreshold?: number): void {
      base.inputsPending(true)
      applyStanding(standing.reader.compute(rules), flagThreshold)
    },
  }
}

export type Market = ReturnType<typeof makeMarket>
