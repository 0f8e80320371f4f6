// The escrow arbiter as the relay runs it (DESIGN §7.5), on the event loop's timers and never on an event's
// path: each second it rules the escrows the fixed rules call for (market/arbiter.ts), and the reconciler asks
// each live escrow's mint whether its proofs are spent (NUT-07), backing off per escrow while nothing moves and
// when the mint fails. Rulings and spent records are relay-signed 7118 events stored through the writer, whose
// fold checks them like any other action, so nothing is ruled or recorded twice.
import { readPackage } from './packages.js'
import { readSpent, rulingDue, rulingTemplate, spentTemplate, type LiveEscrow } from './arbiter.js'
import { readEscrowLock } from './escrow.js'
import type { MintClient } from './mint-client.js'
import { canonicalJson, type NostrEvent, type VerifiedEvent } from '../nips/nip01.js'
import { proofY } from '../nips/nip61.js'
import type { Identity } from '../relay/identity.js'
import type { Db } from '../relay/store/db.js'
import type { WriteOutcome } from '../relay/store/writes.js'

export type ArbiterSettings = { jobTtl: number; disputeWindow: number; escrowMargin: number; reconcileInterval: number }

export type ArbiterSetup = {
  readonly db: Db
  readonly identity: Identity
  readonly mints: Pick<MintClient, 'checkstate'>
  readonly store: (e: VerifiedEvent, raw: string) => Promise<WriteOutcome>
  /** Read at each turn, so a reload applies. */
  readonly settings: () => ArbiterSettings
  readonly log: (line: string) => void
  readonly tickMs?: number
}

type Row = {
  job: string
  customer: string
  job_state: string
  job_provider: string | null
  received_at: number
  provider: string
  mint: string
  locktime: number
  state: LiveEscrow['state']
  delivered_at: number | null
  claim: string | null
  refund: string | null
  spend: string | null
  ruling: 'claim' | 'refund' | null
  lock_raw: string
}

// The longest wait between two questions to a mint about one escrow.
const MAX_BACKOFF_S = 3600

/** The live escrows with their jobs and locks (few: an escrow leaves this list once spent). */
export const LIVE_ESCROWS = `
  SELECT j.id AS job, j.customer, j.state AS job_state, j.provider AS job_provider, j.received_at, x.provider, x.mint, x.locktime,
         x.state, x.delivered_at, x.claim, x.refund, x.spend, x.ruling, e.raw AS lock_raw
  FROM market_escrows x JOIN market_jobs j ON j.seq = x.job_seq JOIN events e ON e.seq = x.lock_seq
  WHERE x.state NOT IN ('settled', 'refunded')`

export function liveEscrow(r: Row): LiveEscrow {
  const lock = readEscrowLock(JSON.parse(r.lock_raw) as NostrEvent)
  const proofs = 'prefix' in lock ? [] : lock.proofs
  return {
    job: r.job,
    customer: r.customer,
    jobState: r.job_state,
    jobProvider: r.job_provider,
    requestedAt: r.received_at,
    provider: r.provider,
    mint: r.mint,
    locktime: r.locktime,
    state: r.state,
    deliveredAt: r.delivered_at,
    claim: r.claim,
    refund: r.refund,
    spend: r.spend,
    ruling: r.ruling,
    secrets: proofs.map(p => p.secret),
  }
}

/** A relay ruling for `x`: the package of the side co-signed with the relay key, then signed as an event. */
export function signRuling(identity: Identity, x: LiveEscrow, side: 'claim' | 'refund', wire: string, reason: string) {
  const pkg = readPackage(wire)
  if ('prefix' in pkg) throw new Error(`the stored ${side} package does not read: ${pkg.reason}`)
  return identity.sign(rulingTemplate(x, side, identity.coSign(pkg), reason, Math.floor(Date.now() / 1000)))
}

export function startEscrowArbiter(setup: ArbiterSetup) {
  const live = setup.db.prepare(LIVE_ESCROWS)
  const lateLogged = new Set<string>()
  // Per job: when the reconciler asks the mint next, and how long it waited last (seconds).
  const next = new Map<string, { at: number; wait: number }>()
  let closed = false

  /** Stores a relay-signed action; true once saved (a refusal says why in the log). */
  async function publish(e: NostrEvent, what: string): Promise<boolean> {
    const o = await setup.store(e as VerifiedEvent, canonicalJson(e))
    if (o.status === 'rejected') setup.log(`${what} refused: ${o.rejection.prefix}: ${o.rejection.reason}`)
    return o.status === 'saved'
  }

  async function rule(x: LiveEscrow, side: 'claim' | 'refund', wire: string, reason: string): Promise<void> {
    const e = signRuling(setup.identity, x, side, wire, reason)
    if (await publish(e, `ruling ${side} for job ${x.job}`))
      setup.log(`ruled ${side} for job ${x.job} (${reason}), ruling ${e.id}`)
  }

  async function reconcile(x: LiveEscrow, now: number): Promise<void> {
    const { reconcileInterval } = setup.settings()
    const slot = next.get(x.job) ?? { at: now, wait: 0 }
    if (now < slot.at) return
    const backOff = () => {
      const wait = Math.min(Math.max(slot.wait * 2, reconcileInterval), MAX_BACKOFF_S)
      next.set(x.job, { at: now + wait, wait })
    }
    let states
    try {
      // Hashed to the curve only when the mint is asked, not at every turn.
      states = await setup.mints.checkstate(x.mint, x.secrets.map(proofY))
    } catch (err) {
      setup.log(`${x.mint} could not say whether job ${x.job}'s proofs are spent: ${(err as Error).message}`)
      return backOff()
    }
    if (states.length === 0 || states.some(s => s.state !== 'SPENT')) return backOff()
    const spent = readSpent(
      x,
      states.map(s => s.witness),
      now,
    )
    if (await publish(setup.identity.sign(spentTemplate(x, spent, now)), `spent record for job ${x.job}`)) {
      next.delete(x.job)
      setup.log(`job ${x.job} ${spent.outcome} by the ${spent.path} path`)
    } else backOff()
  }

  async function turn(): Promise<void> {
    const now = Math.floor(Date.now() / 1000)
    const s = setup.settings()
    // Turns run one after another, so an escrow is never ruled or reconciled twice at once.
    for (const x of (live.all() as Row[]).map(liveEscrow)) {
      if (closed) return
      const due = rulingDue(x, now, s)
      if (due && 'late' in due) {
        if (!lateLogged.has(x.job))
          setup.log(`job ${x.job} is too near its locktime to rule ${due.late}; the customer can refund alone`)
        lateLogged.add(x.job)
      } else if (due) await rule(x, due.side, due.wire, due.reason)
      await reconcile(x, now)
    }
  }

  let running: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    running = running.then(turn).catch(err => setup.log(`turn failed: ${(err as Error).message}`))
  }, setup.tickMs ?? 1000)
  timer.unref()

  return {
    /** An escrow's job changed: ask its mint at the next turn instead of after the backoff. */
    touch(jobs: readonly string[]): void {
      for (const j of jobs) next.delete(j)
    },
    async close(): Promise<void> {
      closed = true
      clearInterval(timer)
      await running
    },
  }
}
