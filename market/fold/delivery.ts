// Job requests and results (NIP-90, DESIGN §7.2): a stored request opens a job (a swarm, or a workflow's step when
// the relay published it as one); a result that passes the job rules delivers it, or joins its swarm. A result may
// carry its job's signed request (a job posted on another relay; policies/market-admission.ts checked the
// signature), which then opens the job here.
import type { NostrEvent } from '../../nips/nip01.js'
import { amountMsats, embeddedRequest, jobIdOf, readJobRequest, type JobRequest } from '../../nips/nip90.js'
import { resultRefusal, type Job } from '../jobs.js'
import { readSwarm } from '../swarms.js'
import type { Ctx, Handler, HeldJob } from './context.js'
import type { Jobs } from './jobs.js'
import type { Swarms } from './swarms.js'
import type { Workflows } from './workflows.js'

type Found = { job: (Job & { seq?: number }) | undefined; cancelled: boolean; implied?: JobRequest }

export function makeDelivery(ctx: Ctx, jobs: Jobs, workflows: Workflows, swarms: Swarms) {
  // Only the customer's own deletion cancels (anyone may leave a tombstone under their own key).
  const cancelledBy = ctx.db.prepare('SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?').pluck()
  // The result admitted live: the fold right after need not look its job up again.
  let admitted: ({ id: string } & Found) | undefined

  /**
   * The job a result names: the stored one, or else the one its embedded request describes (a job posted on
   * another relay). `cancelled`: its customer deleted the request.
   */
  function jobOfResult(e: NostrEvent): Found {
    const id = jobIdOf(e)
    if (id === undefined) return { job: undefined, cancelled: false }
    const stored = ctx.job(id)
    if (stored) return { job: stored, cancelled: false }
    const embedded = embeddedRequest(e)
    const implied = embedded && embedded.id === id ? readJobRequest(embedded as NostrEvent) : undefined
    if (!implied) return { job: undefined, cancelled: false }
    if (cancelledBy.get(id, implied.customer) !== undefined) return { job: undefined, cancelled: true }
    const asJob: Job = {
      ...implied,
      bidMsats: implied.bidMsats ?? null,
      minReputation: implied.minReputation ?? null,
      minZapMsats: implied.minZapSats === undefined ? null : implied.minZapSats * 1000,
      amountMsats: null,
      state: 'open',
      provider: null,
    }
    return { job: asJob, cancelled: false, implied }
  }

  const request: Handler = {
    refusal: (e, _rules, facts) => {
      const swarm = readSwarm(e)
      if (swarm && 'prefix' in swarm) return swarm
      return facts?.workflowStep && workflows.stepRefusal(facts.workflowStep)
    },
    apply: (e, receivedAt, seq) => {
      const r = readJobRequest(e)
      if (!r) return
      const step = workflows.stepOf(e)
      if (step && workflows.stepRefusal({ workflow: step.workflow, index: step.step })) return
      const swarm = readSwarm(e)
      const max = swarm && !('prefix' in swarm) ? swarm.max : null
      // A step's customer is the workflow's, not the relay that signed its request: it cannot deliver it either.
      jobs.open(step ? { ...r, customer: step.customer } : r, receivedAt, seq, max, step)
      if (max !== null) swarms.opened(r.id)
      if (step) workflows.opened(r.id, step.workflow)
    },
    removed: jobs.dropOpen,
  }

  const result: Handler = {
    refusal: (e, rules) => {
      const found = jobOfResult(e)
      const why =
        resultRefusal(found.job, e, found.cancelled) ??
        ctx.eligibility(found.job!, e.pubkey, rules) ??
        swarms.refusal(found.job!, e, found.implied)
      admitted = why ? undefined : { id: e.id, ...found }
      return why
    },
    apply: (e, receivedAt, seq) => {
      const known = admitted?.id === e.id ? admitted : undefined
      admitted = undefined
      // A rebuild checks the job rules again: a result stored while the market was off may break them.
      const { job: j, implied } = known ?? jobOfResult(e)
      if (!j || (!known && resultRefusal(j, e, false) !== undefined)) return
      const held = j as HeldJob
      if (held.swarm && !implied) {
        if (known || swarms.refusal(held, e) === undefined) swarms.submit(e, held)
        return
      }
      if (implied) {
        jobs.open(implied, receivedAt, seq, null)
        jobs.imply(j.id, seq, j.customer)
      }
      const delivery = { id: e.id, msats: amountMsats(e) ?? null, createdAt: e.created_at }
      ctx.deliver({ ...held, seq: j.seq ?? seq }, e.pubkey, delivery, receivedAt)
    },
    removed: swarms.dropSubmission,
    keeps: jobs.keepsResult,
  }

  return { request, result }
}
