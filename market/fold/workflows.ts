// Workflows (kind 5117, DESIGN §7.8): the only writer of market_workflows and facts_workflow_steps. A workflow is
// recorded as it arrives; market/workflow-runner.ts publishes each step's request, whose write carries a step fact
// that only the relay's own writes can carry; this refuses a step published already, not due, or of a workflow not
// running, so each step is published once whatever the races or restarts.
import { reject, tagValue, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { jobIdOf } from '../../nips/nip90.js'
import { isDelivered, shortId, type JobState } from '../jobs.js'
import { readWorkflow, workflowRefusal } from '../workflows.js'
import type { Ctx, HeldJob, Handler, MarketFacts } from './context.js'

type StepFact = NonNullable<MarketFacts['workflowStep']>

export function makeWorkflows(ctx: Ctx) {
  const { db } = ctx
  const q = {
    workflow: db.prepare(
      'INSERT OR IGNORE INTO market_workflows (id, seq, customer, steps, state, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    workflowState: db.prepare('SELECT state, steps FROM market_workflows WHERE id = ?'),
    endWorkflow: db.prepare("UPDATE market_workflows SET state = ? WHERE id = ? AND state = 'running'"),
    stepAt: db.prepare('SELECT state FROM market_jobs WHERE workflow = ? AND step = ?').pluck(),
    openStepIds: db.prepare("SELECT id FROM market_jobs WHERE workflow IS NOT NULL AND state = 'open'").pluck(),
    learnStep: db.prepare('INSERT OR IGNORE INTO facts_workflow_steps (evidence, workflow, step) VALUES (?, ?, ?)'),
    provenStep: db.prepare(
      `SELECT f.workflow, f.step, w.customer FROM facts_workflow_steps f JOIN market_workflows w ON w.id = f.workflow
       WHERE f.evidence = ?`,
    ),
  }
  // Open workflow steps by job id: success and error feedback is common and steps are few, so feedback reads its
  // job only when it names one. A step leaves the set once seen closed.
  const openSteps = new Set(q.openStepIds.all() as string[])

  /** Ends a running workflow (completed, failed or cancelled): no further step is published. */
  function end(id: string, state: 'completed' | 'failed' | 'cancelled'): void {
    if (q.endWorkflow.run(state, id).changes > 0) ctx.touchJob(id)
  }

  /**
   * Why the relay may not publish this step now: its workflow is not running, the step is published already
   * (exactly once, whatever races), or the step before it is not delivered.
   */
  function stepRefusal(step: StepFact): Rejection | undefined {
    const w = q.workflowState.get(step.workflow) as { state: string; steps: number } | undefined
    const short = shortId(step.workflow)
    if (!w || w.state !== 'running') return reject('restricted', `workflow ${short} is ${w?.state ?? 'unknown'}`)
    if (q.stepAt.get(step.workflow, step.index) !== undefined)
      return reject('restricted', `step ${step.index} of workflow ${short} is published already`)
    const before = step.index === 0 ? 'delivered' : (q.stepAt.get(step.workflow, step.index - 1) as string | undefined)
    if (step.index >= w.steps || !isDelivered((before ?? 'open') as JobState))
      return reject('restricted', `step ${step.index} of workflow ${short} is not due`)
    return undefined
  }

  const handler: Handler = {
    refusal: e => {
      const w = readWorkflow(e)
      return 'prefix' in w ? w : workflowRefusal(w)
    },
    apply: (e, receivedAt, seq) => {
      const w = readWorkflow(e)
      if ('prefix' in w || workflowRefusal(w)) return
      if (q.workflow.run(w.id, seq, w.customer, w.steps.length, 'running', receivedAt).changes > 0) ctx.touchJob(w.id)
    },
    // The customer's deletion of its workflow cancels it; a step already published stays an ordinary job.
    removed: gone => end(gone.id, 'cancelled'),
  }

  return {
    handler,
    stepRefusal,
    /**
     * The step a stored job request is, when the relay published it as one (its `step` tag spares the others a
     * read), with the workflow's customer: the step's customer for every rule, though the relay signed the request.
     */
    stepOf: (e: NostrEvent) =>
      tagValue(e, 'step') === undefined
        ? undefined
        : (q.provenStep.get(e.id) as { workflow: string; step: number; customer: string } | undefined),
    /** A step's job was opened: its workflow's entry lists it. */
    opened(jobId: string, workflow: string): void {
      openSteps.add(jobId)
      ctx.touchJob(workflow)
    },
    /** A delivered step: the last completes its workflow; the relay's runner publishes the next. */
    stepDelivered(j: Pick<HeldJob, 'workflow' | 'step'>): void {
      if (!j.workflow) return
      const w = q.workflowState.get(j.workflow) as { steps: number } | undefined
      if (w && j.step === w.steps - 1) end(j.workflow, 'completed')
      ctx.touchJob(j.workflow)
    },
    /** A step's pinned provider gives up (7000 `error`): the step, and its workflow, fail. */
    stepFailed(e: NostrEvent): void {
      if (tagValue(e, 'status') !== 'error') return
      const id = jobIdOf(e)
      const j = id === undefined || !openSteps.has(id) ? undefined : ctx.job(id)
      if (j && j.state !== 'open') openSteps.delete(j.id)
      if (j?.workflow && j.state === 'open' && j.targets.includes(e.pubkey)) end(j.workflow, 'failed')
    },
    /** A step undelivered by its deadline fails its workflow. */
    stepExpired: (workflow: string) => end(workflow, 'failed'),
    learn: (evidence: string, w: StepFact) => void q.learnStep.run(evidence, w.workflow, w.index),
  }
}

export type Workflows = ReturnType<typeof makeWorkflows>
