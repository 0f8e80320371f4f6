// Swarms (kind 5118, DESIGN §7.8), pure: a job that collects up to `swarm` results from distinct providers and
// pays one, the winner its customer picks. The seed had the tables and no rules: nothing refused a second
// submission or a stranger's pick, and no event said who won. Here a result (kind 6118) is a submission while
// the swarm collects; the customer's 7000 `success` with `p` = the winner decides; the other submissions are
// rejected and only the winner's delivery counts.
import { reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { shortId } from './jobs.js'

export const SWARM = 5118

/** Most submissions a swarm may ask for: each is a stored result the relay keeps and judges. */
export const MAX_SUBMISSIONS = 100

/** A swarm's terms: how many submissions it collects. Judging is by the customer (the only judge there is). */
export type Swarm = { readonly max: number }

const bad = (reason: string) => reject('invalid', `swarm: ${reason}`)

/** A swarm request's terms, or why they are malformed; undefined for other kinds. */
export function readSwarm(e: NostrEvent): Swarm | Rejection | undefined {
  if (e.kind !== SWARM) return undefined
  const max = tagValue(e, 'swarm')
  if (max === undefined || !/^[1-9]\d{0,2}$/.test(max) || Number(max) > MAX_SUBMISSIONS)
    return bad(`needs a swarm tag with the number of submissions to collect (1-${MAX_SUBMISSIONS})`)
  const judge = tagValue(e, 'judge')
  if (judge !== undefined && judge !== 'customer') return bad('the judge can only be the customer')
  return { max: Number(max) }
}

/** Why this provider may not submit now: it submitted already, or the swarm has all it asked for. */
export function submissionRefusal(
  swarm: string,
  o: { readonly submitted: boolean; readonly count: number; readonly max: number },
): Rejection | undefined {
  if (o.submitted) return reject('restricted', `provider already submitted to swarm ${shortId(swarm)}`)
  if (o.count >= o.max)
    return reject('restricted', `swarm ${shortId(swarm)} is full (${o.max} submissions): it is judging them`)
  return undefined
}

/**
 * The winner a customer's 7000 names for its swarm (`status` success, `p` = the winner), or undefined when the
 * feedback is not a pick. Anyone else's feedback picks nothing.
 */
export function pickedWinner(e: NostrEvent, customer: string): string | undefined {
  if (e.pubkey !== customer || tagValue(e, 'status') !== 'success') return undefined
  return tagValue(e, 'p')
}
