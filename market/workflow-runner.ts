// The workflow runner (DESIGN §7.8): publishes each running workflow's next step, signed by the relay key, once
// the step before it is delivered (step 0 at once). Everything it knows is in the store, so a restart resumes
// where the store is; the writer's fold refuses a step published already, so a race or a restart publishes
// nothing twice. It runs on the event loop's timers and when the writer reports a change, never on an event's
// path.
import { readWorkflow, stepRequest } from './workflows.js'
import { canonicalJson, type NostrEvent, type VerifiedEvent } from '../nips/nip01.js'
import type { WriteNote } from '../policies/types.js'
import type { Identity } from '../relay/identity.js'
import type { Db } from '../relay/store/db.js'
import type { WriteOutcome } from '../relay/store/writes.js'

export type RunnerSetup = {
  readonly db: Db
  readonly identity: Identity
  readonly store: (e: VerifiedEvent, raw: string, note: WriteNote) => Promise<WriteOutcome>
  readonly log: (line: string) => void
  readonly tickMs?: number
}

type Running = {
  id: string
  raw: string
  steps: number
  last: number | null
  last_state: string | null
  last_result: string | null
}

// Running workflows with their last published step: what is due follows from it.
const RUNNING = `
  SELECT w.id, e.raw, w.steps, s.step AS last, s.state AS last_state, s.result_id AS last_result
  FROM market_workflows w JOIN events e ON e.seq = w.seq
  LEFT JOIN market_jobs s ON s.workflow = w.id AND s.step = (SELECT MAX(step) FROM market_jobs WHERE workflow = w.id)
  WHERE w.state = 'running'`

export function startWorkflowRunner(setup: RunnerSetup) {
  const running = setup.db.prepare(RUNNING)
  let turn: Promise<void> = Promise.resolve()
  let queued = false
  let closed = false

  async function publishDue(): Promise<void> {
    queued = false
    for (const r of running.all() as Running[]) {
      if (closed) return
      // Due: step 0, or the step after a delivered one; the workflow is read only then.
      const next = r.last === null ? 0 : r.last + 1
      if (r.last !== null && r.last_state !== 'delivered' && r.last_state !== 'paid') continue
      if (next >= r.steps) continue
      const w = readWorkflow(JSON.parse(r.raw) as NostrEvent)
      if ('prefix' in w) continue
      const e = setup.identity.sign(stepRequest(w, next, r.last_result ?? undefined, Math.floor(Date.now() / 1000)))
      const o = await setup.store(e as VerifiedEvent, canonicalJson(e), {
        facts: { workflowStep: { workflow: w.id, index: next } },
      })
      if (o.status === 'saved') setup.log(`workflow ${w.id}: published step ${next} as ${e.id}`)
      else if (o.status === 'rejected')
        setup.log(`workflow ${w.id}: step ${next} refused: ${o.rejection.prefix}: ${o.rejection.reason}`)
    }
  }

  /** Runs a turn after the current one; turns never overlap. */
  const schedule = () => {
    if (queued || closed) return
    queued = true
    turn = turn.then(publishDue).catch(err => setup.log(`turn failed: ${(err as Error).message}`))
  }
  const timer = setInterval(schedule, setup.tickMs ?? 1000)
  timer.unref()
  schedule()

  return {
    /** The writer changed jobs: a step may have been delivered, or a workflow arrived. */
    touch: schedule,
    async close(): Promise<void> {
      closed = true
      clearInterval(timer)
      await turn
    },
  }
}
