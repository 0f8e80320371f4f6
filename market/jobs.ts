// Job rules (DESIGN §7.2), pure: who may deliver a job, and what a result may claim. The seed let any key
// move any job; here every transition names its sender's right to make it, or the rule it breaks.
import { reject, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { amountMsats, embeddedRequestId, jobIdOf } from '../nips/nip90.js'

/** A job as the market keeps it (one row of market_jobs). */
export type Job = {
  readonly id: string
  readonly customer: string
  readonly kind: number
  readonly bidMsats: number | null
  readonly targets: readonly string[]
  readonly minReputation: number | null
  readonly minZapMsats: number | null
  /** What the delivering result asked (its `amount`), once delivered. */
  readonly amountMsats: number | null
  readonly state: JobState
  readonly provider: string | null
}

/**
 * `locked`: open, with the customer's payment in escrow for one provider (DESIGN §7.5). `paid`: delivered, and
 * verified payments to its provider cover the amount asked. `cancelled`: a locked job its customer took the
 * refund of before delivery, before or after its deadline (an open job's cancel deletes its request, and the job
 * with it). `judging`: a swarm (market/swarms.ts) that stopped collecting, full or at its deadline, and waits
 * for its customer's pick.
 */
export type JobState = 'open' | 'locked' | 'judging' | 'delivered' | 'paid' | 'expired' | 'cancelled'

/** True once a result delivered the job (paid or not). */
export const isDelivered = (s: JobState) => s === 'delivered' || s === 'paid'

/** An id shortened for refusal messages. */
export const shortId = (id: string) => id.slice(0, 12)

/** Why `result` may not deliver `job` (undefined: it may). `cancelled`: the job's request was deleted by its customer. */
export function resultRefusal(job: Job | undefined, result: NostrEvent, cancelled: boolean): Rejection | undefined {
  const jobId = jobIdOf(result)
  if (!jobId) return reject('restricted', 'a job result needs an e tag naming the job request')
  if (!job)
    return cancelled
      ? reject('restricted', `job ${shortId(jobId)} was cancelled by its customer`)
      : reject('restricted', `unknown job ${shortId(jobId)}: publish the job request to this relay first`)
  if (result.kind !== job.kind + 1000)
    return reject('restricted', `a result to a kind ${job.kind} job must be kind ${job.kind + 1000}`)
  if (job.state === 'expired') return reject('restricted', `job ${shortId(job.id)} expired before delivery`)
  if (job.state === 'cancelled') return reject('restricted', `job ${shortId(job.id)} was cancelled by its customer`)
  if (isDelivered(job.state)) return reject('restricted', `job ${shortId(job.id)} is already delivered`)
  // An escrowed job pays only the provider its customer locked the payment to.
  if (job.state === 'locked' && result.pubkey !== job.provider)
    return reject('restricted', `job ${shortId(job.id)} is paid in escrow to another provider`)
  if (result.pubkey === job.customer) return reject('restricted', 'a customer cannot deliver its own job')
  if (job.targets.length > 0 && !job.targets.includes(result.pubkey))
    return reject('restricted', `job ${shortId(job.id)} is a direct request to other providers`)
  const amount = amountMsats(result)
  if (amount !== undefined && job.bidMsats !== null && amount > job.bidMsats)
    return reject('restricted', `amount ${amount} msats is over the job's bid of ${job.bidMsats} msats`)
  const embedded = embeddedRequestId(result)
  if (embedded !== undefined && embedded !== job.id)
    return reject('restricted', "the result's request tag is not this job's request")
  return undefined
}

/** True when `author`'s feedback counts for `job`: a provider it is open to, never its customer. */
export const feedbackCounts = (job: Job, author: string): boolean =>
  author !== job.customer && (job.targets.length === 0 || job.targets.includes(author))
