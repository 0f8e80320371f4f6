// Swarms (kind 5118, DESIGN §7.8): the only writer of market_submissions. A result to a swarm is a submission, one
// per provider; the swarm judges once full (or at its deadline), and its customer's pick (7000 `success`, `p` = the
// winner) delivers it to the winner alone; the other submissions are rejected and count for nothing.
import { reject, tagValue, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { amountMsats, jobIdOf, type JobRequest } from '../../nips/nip90.js'
import { shortId, type Job } from '../jobs.js'
import { pickedWinner, submissionRefusal, SWARM } from '../swarms.js'
import type { Ctx, HeldJob, StoredKey } from './context.js'
import type { Jobs } from './jobs.js'

type Pick = { j: HeldJob; winner: string }

export function makeSwarms(ctx: Ctx, jobs: Jobs) {
  const { db } = ctx
  const q = {
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
    dropSubmission: db.prepare("DELETE FROM market_submissions WHERE result_id = ? AND state = 'submitted'"),
    swarmIds: db.prepare('SELECT id FROM market_jobs WHERE swarm IS NOT NULL').pluck(),
  }
  // Swarms by job id: success feedback is common and swarms are few, so feedback reads its job only when it names one.
  const swarms = new Set(q.swarmIds.all() as string[])
  // The pick judged live, so the fold right after reads it from here.
  let picked: { id: string; pick: Pick | undefined } | undefined

  const undecided = (j: HeldJob) => j.state === 'open' || j.state === 'judging'

  /** A customer's pick of its swarm's winner (7000 success, `p` = winner). */
  function pickOf(e: NostrEvent): Pick | undefined {
    if (tagValue(e, 'status') !== 'success') return undefined
    const id = jobIdOf(e)
    const j = id === undefined || !swarms.has(id) ? undefined : ctx.job(id)
    if (!j?.swarm) return undefined
    const winner = pickedWinner(e, j.customer)
    return winner === undefined ? undefined : { j, winner }
  }

  return {
    /** A swarm's request was stored. */
    opened: (id: string) => void swarms.add(id),

    /** Why a result may not join a swarm: its request came embedded, its provider submitted, or the swarm is full. */
    refusal(j: Job & { seq?: number; swarm?: number | null }, e: NostrEvent, implied?: JobRequest) {
      if (implied?.kind === SWARM)
        return reject('restricted', 'a swarm collects here only once its request is posted here')
      if (!j.swarm || j.seq === undefined) return undefined
      if (j.state === 'judging')
        return reject('restricted', `swarm ${shortId(j.id)} is judging its submissions: it takes no more`)
      const submitted = q.submitted.get(j.seq, e.pubkey) !== undefined
      return submissionRefusal(j.id, { submitted, count: q.submissions.get(j.seq) as number, max: j.swarm })
    },

    /** A result to a swarm is a submission: collected, and the swarm judges once it has all it asked for. */
    submit(e: NostrEvent, j: HeldJob): void {
      q.submit.run(j.seq, e.pubkey, e.id, amountMsats(e) ?? null, e.created_at)
      if ((q.submissions.get(j.seq) as number) >= j.swarm!) jobs.judging(j.seq)
      ctx.touchJob(j.id)
    },

    /** Why a pick is refused: the swarm is decided, or the winner has no submission. */
    pickRefusal(e: NostrEvent): Rejection | undefined {
      const pick = pickOf(e)
      picked = { id: e.id, pick }
      if (pick && !undecided(pick.j) && pick.winner !== pick.j.provider)
        return reject('restricted', `swarm ${shortId(pick.j.id)} is decided: its winner was picked`)
      if (pick && q.submitted.get(pick.j.seq, pick.winner) === undefined)
        return reject('restricted', `provider ${shortId(pick.winner)} has no submission in swarm ${shortId(pick.j.id)}`)
      return undefined
    },

    /** The pick: the winner's submission delivers the swarm; the others are rejected and count for nothing. */
    pick(e: NostrEvent, receivedAt: number): void {
      const p = picked?.id === e.id ? picked.pick : pickOf(e)
      picked = undefined
      const sub =
        p &&
        (q.submissionOf.get(p.j.seq, p.winner) as
          { result_id: string; amount_msats: number | null; created_at: number } | undefined)
      if (!p || !sub || !undecided(p.j)) return
      const winning = { id: sub.result_id, msats: sub.amount_msats, createdAt: sub.created_at }
      if (ctx.deliver(p.j, p.winner, winning, receivedAt)) q.judge.run(p.winner, p.j.seq)
    },

    /** A withdrawn result withdraws its submission while the swarm is undecided. */
    dropSubmission: (gone: StoredKey) => void q.dropSubmission.run(gone.id),
  }
}

export type Swarms = ReturnType<typeof makeSwarms>
