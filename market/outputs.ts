// The relay's published view of the market (DESIGN §7.7), read from the market tables: a NIP-85 assertion
// (kind 30382) per provider and a ledger entry (kind 31118) per job. Each is built from one provider's or
// one job's rows, so publishing what changed never costs O(providers) or O(jobs).
import type { Db } from '../relay/store/db.js'
import { NO_REPUTATION, rank, type Reputation } from './reputation.js'
import { HEARTBEAT } from './providers.js'
import { JOB_BY_ID } from './schema.js'
import { TRUST } from './trust.js'

export const PROVIDER_ASSERTION = TRUST
export const JOB_LEDGER = 31118

type JobRow = {
  seq: number
  id: string
  customer: string
  kind: number
  bid_msats: number | null
  state: string
  provider: string | null
  result_id: string | null
  amount_msats: number | null
  created_at: number
  delivered_at: number | null
  paid_msats: number
  paid_at: number | null
  swarm: number | null
}

type EscrowRow = {
  lock_id: string
  mint: string
  sats: number
  locktime: number
  state: string
  ruling: string | null
  ruling_id: string | null
  path: string | null
  signers: string | null
}

const str = (v: number | string) => String(v)
/** A counted (weighted) value as the assertion shows it: at most two decimals ("3", "2.5", "0.37"). */
const counted = (v: number) => String(Math.round(v * 100) / 100)

/** The output builders over a read connection. */
export function makeOutputs(db: Db) {
  const q = {
    job: db.prepare(
      `SELECT seq, id, customer, kind, bid_msats, state, provider, result_id, amount_msats, created_at, delivered_at,
              paid_msats, paid_at, swarm FROM market_jobs WHERE ${JOB_BY_ID}`,
    ),
    escrow: db.prepare(
      'SELECT lock_id, mint, sats, locktime, state, ruling, ruling_id, path, signers FROM market_escrows WHERE job_seq = ?',
    ),
    submissions: db.prepare(
      'SELECT provider, result_id, state FROM market_submissions WHERE job_seq = ? ORDER BY created_at, provider',
    ),
    payments: db.prepare(
      'SELECT ref, via, evidence, msats FROM market_payments WHERE job = ? AND provider = ? ORDER BY ref',
    ),
    delivered: db.prepare(
      'SELECT delivered AS n, response_s * 1.0 / delivered AS response FROM market_deliveries WHERE provider = ?',
    ),
    reputation: db.prepare('SELECT * FROM market_reputation WHERE pubkey = ?'),
    weight: db.prepare('SELECT weight FROM market_standing WHERE pubkey = ?').pluck(),
    frauds: db.prepare('SELECT COUNT(*) FROM market_frauds WHERE provider = ?').pluck(),
    lastSeen: db
      .prepare(
        `SELECT MAX(b.received_at) FROM events e JOIN market_heartbeats b ON b.seq = e.seq
         WHERE e.pubkey = ? AND e.kind = ${HEARTBEAT}`,
      )
      .pluck(),
    kinds: db
      .prepare(
        `SELECT DISTINCT value FROM (SELECT j.value FROM market_handlers h, json_each(h.kinds) j WHERE h.pubkey = ?
       UNION SELECT j.value FROM events e JOIN market_heartbeats b ON b.seq = e.seq, json_each(b.kinds) j
         WHERE e.pubkey = ? AND e.kind = ${HEARTBEAT}) ORDER BY value`,
      )
      .pluck(),
    stored: db.prepare('SELECT created_at FROM events WHERE pubkey = ? AND kind = ? AND addr = ?').pluck(),
    // The upstreams a job's request or result was mirrored from (relay/store/mirror.ts); none for local events.
    seenOn: db
      .prepare(
        `SELECT DISTINCT u.url FROM mirror_seen s JOIN mirror_upstreams u ON u.id = s.upstream
         WHERE s.seq = ? OR s.seq = (SELECT seq FROM events WHERE id = ?) ORDER BY u.url`,
      )
      .pluck(),
    workflow: db.prepare('SELECT customer, steps, state, received_at FROM market_workflows WHERE id = ?'),
    steps: db.prepare(
      'SELECT step, id, kind, state, provider, result_id FROM market_jobs WHERE workflow = ? ORDER BY step',
    ),
  }

  /** A workflow's entry: its state, and each step as published (job, state, provider, result) or pending. */
  function workflowLedger(id: string): string[][] | undefined {
    const w = q.workflow.get(id) as { customer: string; steps: number; state: string; received_at: number } | undefined
    if (!w) return undefined
    const published = q.steps.all(id) as {
      step: number
      id: string
      kind: number
      state: string
      provider: string | null
      result_id: string | null
    }[]
    const tags = [
      ['d', id],
      ['k', '5117'],
      ['customer', w.customer],
      ['state', w.state],
      // When the relay received it (a job's is its request's created_at): what a timeline places it by.
      ['requested_at', str(w.received_at)],
    ]
    for (let i = 0; i < w.steps; i++) {
      const s = published.find(x => x.step === i)
      tags.push(
        s
          ? ['step', str(i), str(s.kind), s.id, s.state, s.provider ?? '', s.result_id ?? '']
          : ['step', str(i), '', '', 'pending', '', ''],
      )
    }
    return tags
  }

  return {
    /** created_at of the stored output at this address, so a new one after a restart still replaces it. */
    storedAt: (relay: string, kind: number, d: string) => q.stored.get(relay, kind, d) as number | undefined,

    /** Tags of a job's (or a workflow's) ledger entry; undefined when the market no longer holds it (cancelled). */
    jobLedger(id: string): string[][] | undefined {
      const j = q.job.get({ id }) as JobRow | undefined
      if (!j) return workflowLedger(id)
      // d is the job id: both parties know it and read the entry with #d. Each single-letter tag is one more
      // index entry, a random page written per output, so the parties are named in `customer` and `provider`,
      // not in `p` tags (measured: the two `p` entries were a quarter of what the ledger cost the writer).
      const tags = [
        ['d', j.id],
        ['k', str(j.kind)],
        ['customer', j.customer],
      ]
      // An open swarm is collecting its submissions (the seed's word, which its clients read).
      const state = j.swarm !== null && j.state === 'open' ? 'collecting' : j.state
      tags.push(['state', state], ['requested_at', str(j.created_at)])
      if (j.bid_msats !== null) tags.push(['bid', str(j.bid_msats)])
      if (j.provider) tags.push(['provider', j.provider])
      const x = q.escrow.get(j.seq) as EscrowRow | undefined
      if (x) {
        tags.push(['escrow', x.lock_id, x.mint, str(x.sats), str(x.locktime)], ['escrow_state', x.state])
        if (x.ruling_id) tags.push(['ruling', x.ruling!, x.ruling_id])
        if (x.path) tags.push(['spent', x.path, ...(JSON.parse(x.signers!) as string[])])
      }
      if (j.swarm !== null) {
        tags.push(['swarm', str(j.swarm)])
        for (const x of q.submissions.all(j.seq) as { provider: string; result_id: string; state: string }[])
          tags.push(['submission', x.provider, x.result_id, x.state])
      }
      if (j.result_id) tags.push(['result', j.result_id])
      if (j.amount_msats !== null) tags.push(['amount', str(j.amount_msats)])
      if (j.delivered_at !== null)
        tags.push(
          ['delivered_at', str(j.delivered_at)],
          ['response_s', str(Math.max(0, j.delivered_at - j.created_at))],
        )
      if (j.provider) {
        tags.push(['paid', str(j.paid_msats)])
        for (const p of q.payments.all(j.id, j.provider) as {
          ref: string
          via: string
          evidence: string
          msats: number
        }[])
          tags.push(['payment', p.via, p.evidence, str(p.msats), p.ref])
      }
      if (j.paid_at !== null) tags.push(['paid_at', str(j.paid_at)])
      const seenOn = q.seenOn.all(j.seq, j.result_id) as string[]
      if (seenOn.length > 0) tags.push(['seen_on', ...seenOn])
      return tags
    },

    /**
     * Tags of a provider's NIP-85 assertion at `now`, from the last computation of reputation: each count is what
     * counted, by the weight of the keys behind it, and an `input` tag per kind sets it beside the raw count.
     * Online from the relay's receive time of its heartbeats.
     */
    providerAssertion(pubkey: string, now: number, offlineAfter: number, flagThreshold: number): string[][] {
      const r = (q.reputation.get(pubkey) as Reputation | undefined) ?? NO_REPUTATION
      const frauds = q.frauds.get(pubkey) as number
      const flagged = r.reports >= flagThreshold || frauds > 0
      const done = (q.delivered.get(pubkey) as { n: number; response: number } | undefined) ?? { n: 0, response: null }
      const lastSeen = q.lastSeen.get(pubkey) as number | null
      const tags = [
        ['d', pubkey],
        ['p', pubkey],
        ['rank', str(rank(r.score, flagged))],
        ['score', str(r.score)],
        ['jobs_delivered', str(done.n)],
        ['jobs_paid', counted(r.jobs_paid)],
        ['jobs_refunded', counted(r.jobs_refunded)],
        ['avg_rating', (r.avg_rating ?? 0).toFixed(2)],
        ['review_cnt', counted(r.reviews)],
        ['zap_amt_recd', str(Math.floor(r.received_msats / 1000))],
        ['trusted_by', counted(r.trusted_by)],
        ['attestations', counted(r.attestations), (r.attestation ?? 0).toFixed(2)],
        ['reports', counted(r.reports)],
        ['frauds', str(frauds)],
        ['flagged', flagged ? '1' : '0'],
        ['online', lastSeen !== null && now - lastSeen < offlineAfter ? '1' : '0'],
        ['standing', counted((q.weight.get(pubkey) as number | undefined) ?? 0)],
        ['input', 'trust', counted(r.trusted_by), str(r.trusted_by_raw)],
        ['input', 'jobs_paid', counted(r.jobs_paid), str(r.jobs_paid_raw)],
        ['input', 'jobs_refunded', counted(r.jobs_refunded), str(r.jobs_refunded_raw)],
        ['input', 'payments', str(Math.floor(r.received_msats / 1000)), str(Math.floor(r.received_msats_raw / 1000))],
        ['input', 'reviews', counted(r.reviews), str(r.reviews_raw)],
        ['input', 'attestations', counted(r.attestations), str(r.attestations_raw)],
        ['input', 'reports', counted(r.reports), str(r.reports_raw)],
      ]
      if (done.response !== null) tags.push(['avg_response_s', str(Math.round(done.response))])
      for (const k of q.kinds.all(pubkey, pubkey) as number[]) tags.push(['k', str(k)])
      return tags
    },

    /** When a provider's `online` turns 0 without any new event (undefined: it never sent a heartbeat). */
    offlineAt(pubkey: string, offlineAfter: number): number | undefined {
      const lastSeen = q.lastSeen.get(pubkey) as number | null
      return lastSeen === null ? undefined : lastSeen + offlineAfter
    },
  }
}

export type Outputs = ReturnType<typeof makeOutputs>
