// NIP-90 data vending machines: the pure reading of job requests, results and feedback (DESIGN §7.1-7.2).
// Tag spellings that the seed's agents send are accepted next to the NIP's.
import { tagValue, type NostrEvent } from './nip01.js'
import { invoiceMsats } from './nip57.js'

export const JOB_FEEDBACK = 7000

export const isJobRequestKind = (k: number) => k >= 5000 && k <= 5999
export const isJobResultKind = (k: number) => k >= 6000 && k <= 6999

/** What a job request asks for, as the market keeps it. */
export type JobRequest = {
  readonly id: string
  readonly customer: string
  readonly kind: number
  readonly createdAt: number
  /** Most the customer will pay, in msats; undefined when the request names no bid. */
  readonly bidMsats: number | undefined
  /** A direct request names its providers with `p` tags: only they may deliver. Empty: anyone may. */
  readonly targets: readonly string[]
  /** Gates on who may deliver: the provider's reputation score, and the sats of verified zaps it received. */
  readonly minReputation: number | undefined
  readonly minZapSats: number | undefined
}

/** A non-negative integer tag value (msats and sats are integers), or undefined. */
function integer(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined
  return Number(v)
}

/** The request's fields; undefined for an event that is not a job request. */
export function readJobRequest(e: NostrEvent): JobRequest | undefined {
  if (!isJobRequestKind(e.kind)) return undefined
  return {
    id: e.id,
    customer: e.pubkey,
    kind: e.kind,
    createdAt: e.created_at,
    bidMsats: integer(tagValue(e, 'bid')),
    targets: [...new Set(e.tags.filter(t => t[0] === 'p' && t[1]).map(t => t[1]!))],
    minReputation: integer(gate(e, 'min_reputation')),
    minZapSats: integer(gate(e, 'min_zap_sats')),
  }
}

/** A gate as its own tag (`["min_reputation", "50"]`) or as a NIP-90 param (`["param", "min_reputation", "50"]`). */
const gate = (e: NostrEvent, name: string): string | undefined =>
  tagValue(e, name) ?? e.tags.find(t => t[0] === 'param' && t[1] === name)?.[2]

/** The job a result or feedback answers: its first `e` tag. */
export const jobIdOf = (e: Pick<NostrEvent, 'tags'>): string | undefined => tagValue(e, 'e')

/**
 * The amount a result or feedback asks, in msats: the `amount` tag (a bolt11 may follow it), or else the
 * amount of the invoice in a `bolt11` tag, as some agents send it.
 */
export function amountMsats(e: Pick<NostrEvent, 'tags'>): number | undefined {
  const amount = integer(tagValue(e, 'amount'))
  if (amount !== undefined) return amount
  const bolt11 = tagValue(e, 'bolt11')
  const msats = bolt11 === undefined ? undefined : invoiceMsats(bolt11)
  return msats === undefined || msats > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(msats)
}

/**
 * The request embedded in a result's `request` tag (its JSON): undefined when there is no tag, null when
 * the tag is not a JSON object. Whether it is a valid signed event is for the caller to check.
 */
export function embeddedRequest(e: Pick<NostrEvent, 'tags'>): Record<string, unknown> | undefined | null {
  const json = tagValue(e, 'request')
  if (json === undefined) return undefined
  try {
    const v = JSON.parse(json) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

const ID_KEY = '"id":"'

/** The id of the request embedded in a result, or undefined when absent, null when unreadable. */
export function embeddedRequestId(e: Pick<NostrEvent, 'tags'>): string | undefined | null {
  // The writer checks this for every result; a request is a whole event, so its JSON is read only when
  // the id is not plainly there once (quotes inside strings are escaped, so only keys match ID_KEY).
  const json = tagValue(e, 'request')
  const at = json?.indexOf(ID_KEY) ?? -1
  if (at >= 0 && json!.indexOf(ID_KEY, at + 1) < 0) {
    const id = json!.slice(at + ID_KEY.length, at + ID_KEY.length + 65)
    if (/^[0-9a-f]{64}"$/.test(id)) return id.slice(0, 64)
  }
  const req = embeddedRequest(e)
  if (!req) return req
  return typeof req.id === 'string' ? req.id : null
}
