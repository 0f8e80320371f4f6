// Reviews (kind 31117, DESIGN §7.3), pure: only the two parties of a delivered job review it, each the
// other, with an integer rating 1-5. The seed counted reviews from strangers.
import { reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { isDelivered, shortId, type Job } from './jobs.js'

export const REVIEW = 31117

export type Review = {
  readonly job: string
  readonly reviewed: string | undefined
  readonly rating: number | undefined
  readonly role: string | undefined
  /** The job kind the review names (`k`, or `kind` as the seed's agents send it). */
  readonly kind: number | undefined
}

export function readReview(e: NostrEvent): Review | undefined {
  if (e.kind !== REVIEW) return undefined
  const rating = tagValue(e, 'rating')
  const kind = tagValue(e, 'k') ?? tagValue(e, 'kind')
  return {
    job: tagValue(e, 'd') ?? '',
    reviewed: tagValue(e, 'p'),
    rating: rating !== undefined && /^[1-5]$/.test(rating) ? Number(rating) : undefined,
    role: tagValue(e, 'role'),
    kind: kind !== undefined && /^\d{4}$/.test(kind) ? Number(kind) : undefined,
  }
}

/** The reviewer's side of the job, which a missing `role` tag is inferred from. */
export const roleOf = (job: Job, reviewer: string) => (reviewer === job.customer ? 'customer' : 'provider')

/** Why `e` may not review `job` (undefined: it may). */
export function reviewRefusal(job: Job | undefined, e: NostrEvent, r: Review): Rejection | undefined {
  const short = shortId(r.job)
  if (r.rating === undefined) return reject('invalid', 'a review needs a rating tag with an integer from 1 to 5')
  if (!job || !isDelivered(job.state))
    return reject('restricted', `only a delivered job can be reviewed; job ${short} is not delivered here`)
  const parties = [job.customer, job.provider]
  if (!parties.includes(e.pubkey))
    return reject('restricted', `only the customer and the provider of job ${short} may review it`)
  const other = e.pubkey === job.customer ? job.provider : job.customer
  if (r.reviewed !== other) return reject('restricted', 'a review is about the other party of the job (its p tag)')
  if (r.kind !== undefined && r.kind !== job.kind)
    return reject('invalid', `the review names kind ${r.kind}; job ${short} is kind ${job.kind}`)
  if (r.role !== undefined && r.role !== roleOf(job, e.pubkey))
    return reject('invalid', `the reviewer is the job's ${roleOf(job, e.pubkey)}, not its ${r.role}`)
  return undefined
}
