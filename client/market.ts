// The market's events as a client writes and reads them (docs/market-protocol.md): NIP-90 requests, feedback and
// results, provider announcements, escrow, sealed results, reviews, trust, reports, workflows and swarms. Pure:
// templates in, templates out; signing and sending are the pool's.
import type { EventTemplate } from 'nostr-tools/pure'
import type { NostrEvent } from '../nips/nip01.js'

export type Template = Omit<EventTemplate, 'created_at'> & { created_at?: number }

export const FEEDBACK = 7000
export const ESCROW_LOCK = 7117
export const ESCROW_ACTION = 7118
export const SEALED_RESULT = 21117
export const WORKFLOW = 5117
export const SWARM = 5118
export const LEDGER = 31118
export const ASSERTION = 30382
export const HANDLER = 31990
export const HEARTBEAT = 30333
export const NUTZAP_INFO = 10019
export const NUTZAP = 9321
export const REVIEW = 31117
export const ATTESTATION = 30085
export const REPORT = 1984

/** The value of one tag of an event. */
export const tagOf = (e: Pick<NostrEvent, 'tags'>, name: string) => e.tags.find(t => t[0] === name)?.[1]
/** Every tag of that name of an event. */
export const tagsOf = (e: Pick<NostrEvent, 'tags'>, name: string) => e.tags.filter(t => t[0] === name)

/** A job request as a provider reads it. */
export type JobRequest = {
  readonly id: string
  readonly kind: number
  readonly customer: string
  readonly inputs: readonly { value: string; type: string }[]
  readonly params: Readonly<Record<string, string>>
  /** The most the customer pays, msats; undefined when it names no bid. */
  readonly bid: number | undefined
  /** Targeted providers (`p`); empty for an open request. */
  readonly providers: readonly string[]
  /** The customer asks for its payment to be locked in escrow first (`["param", "escrow", "cashu"]`). */
  readonly escrow: boolean
  /** The customer asks for a pay-to-decrypt result (`["param", "sealed", "true"]`). */
  readonly sealed: boolean
  /** A swarm's work kind (`k`) and size; a workflow step's workflow (`e`). */
  readonly swarm: { readonly kind: number; readonly size: number } | undefined
  readonly workflow: string | undefined
  readonly event: NostrEvent
}

/** Reads a job request (5000-5999); a workflow step's customer is its `P`, the real customer, not the relay. */
export function readJobRequest(e: NostrEvent): JobRequest {
  const params = Object.fromEntries(tagsOf(e, 'param').map(t => [t[1] ?? '', t[2] ?? '']))
  const bid = tagOf(e, 'bid')
  const size = Number(tagOf(e, 'swarm'))
  const workKind = Number(tagOf(e, 'k'))
  return {
    id: e.id,
    kind: e.kind,
    customer: tagOf(e, 'P') ?? e.pubkey,
    inputs: tagsOf(e, 'i').map(t => ({ value: t[1] ?? '', type: t[2] ?? 'text' })),
    params,
    bid: bid !== undefined && /^\d+$/.test(bid) ? Number(bid) : undefined,
    providers: tagsOf(e, 'p').map(t => t[1] ?? ''),
    escrow: params['escrow'] !== undefined,
    sealed: params['sealed'] === 'true',
    swarm:
      e.kind === SWARM && Number.isInteger(size) && Number.isInteger(workKind) ? { kind: workKind, size } : undefined,
    workflow: tagOf(e, 'P') !== undefined ? tagOf(e, 'e') : undefined,
    event: e,
  }
}

export type RequestOptions = {
  readonly kind: number
  readonly input: string
  readonly inputType?: string
  /** msats */
  readonly bid?: number
  readonly providers?: readonly string[]
  readonly params?: Readonly<Record<string, string>>
  readonly escrow?: boolean
  readonly sealed?: boolean
  readonly minReputation?: number
  readonly swarm?: number
  readonly relays?: readonly string[]
}

/** A job request (or, with `swarm`, a 5118 swarm of that work kind). */
export function jobRequest(o: RequestOptions): Template {
  const t: string[][] = [['i', o.input, o.inputType ?? 'text']]
  if (o.bid !== undefined) t.push(['bid', String(o.bid)])
  for (const p of o.providers ?? []) t.push(['p', p])
  for (const [k, v] of Object.entries(o.params ?? {})) t.push(['param', k, v])
  if (o.escrow) t.push(['param', 'escrow', 'cashu'])
  if (o.sealed) t.push(['param', 'sealed', 'true'])
  if (o.minReputation !== undefined) t.push(['min_reputation', String(o.minReputation)])
  if (o.relays?.length) t.push(['relays', ...o.relays])
  if (o.swarm === undefined) return { kind: o.kind, tags: t, content: '' }
  return {
    kind: SWARM,
    tags: [...t, ['swarm', String(o.swarm)], ['judge', 'customer'], ['k', String(o.kind)]],
    content: '',
  }
}

/** 7000 feedback: `processing`, `error`, `success`, or `payment-required` with the price (msats) and an invoice. */
export function feedback(
  job: JobRequest,
  status: 'processing' | 'error' | 'success' | 'payment-required',
  o: { content?: string; msats?: number; bolt11?: string } = {},
): Template {
  const t = [
    ['status', status],
    ['e', job.id],
    ['p', job.customer],
  ]
  if (o.msats !== undefined) t.push(o.bolt11 ? ['amount', String(o.msats), o.bolt11] : ['amount', String(o.msats)])
  return { kind: FEEDBACK, tags: t, content: o.content ?? '' }
}

/** The result of a job (request kind + 1000), naming the amount asked (msats) and embedding the request. */
export function jobResult(job: JobRequest, content: string, msats?: number, bolt11?: string): Template {
  const t = [
    ['e', job.id],
    ['p', job.customer],
    ['request', JSON.stringify(job.event)],
  ]
  if (msats !== undefined) t.push(bolt11 ? ['amount', String(msats), bolt11] : ['amount', String(msats)])
  return { kind: job.kind + 1000, tags: t, content }
}

/** NIP-89 handler info: the kinds served and the skill descriptor in the content. */
export const handlerInfo = (d: string, kinds: readonly number[], content: string): Template => ({
  kind: HANDLER,
  tags: [['d', d], ...kinds.map(k => ['k', String(k)])],
  content,
})

/** A 30333 heartbeat: online, free slots and the price per kind in sats. */
export const heartbeat = (d: string, capacity: number, prices: ReadonlyMap<number, number>): Template => ({
  kind: HEARTBEAT,
  tags: [
    ['d', d],
    ['status', 'online'],
    ['capacity', String(capacity)],
    ...[...prices.keys()].map(k => ['k', String(k)]),
    ['price', [...prices].map(([k, sats]) => `${k}:${sats}`).join(',')],
  ],
  content: '',
})

/** NIP-61 nutzap info: the Cashu key escrows and nutzaps are locked to, and the mints accepted. */
export const nutzapInfo = (cashuPubkey: string, mints: readonly string[]): Template => ({
  kind: NUTZAP_INFO,
  tags: [['pubkey', cashuPubkey], ...mints.map(u => ['mint', u, 'sat'])],
  content: '',
})

/** A 9321 nutzap of `proofs` (JSON, locked to the recipient's 10019 key) at `mint`, on the event it pays for. */
export const nutzap = (paid: Pick<NostrEvent, 'id' | 'pubkey'>, mint: string, proofs: readonly string[]): Template => ({
  kind: NUTZAP,
  tags: [...proofs.map(p => ['proof', p]), ['u', mint], ['e', paid.id], ['p', paid.pubkey]],
  content: '',
})

/** A 7117 escrow lock of `proofTags` for a job, to its provider, at a mint. */
export const escrowLock = (job: string, provider: string, mint: string, proofTags: readonly string[][]): Template => ({
  kind: ESCROW_LOCK,
  tags: [['e', job], ['p', provider], ['u', mint], ...proofTags],
  content: '',
})

export type EscrowActionName = 'claim' | 'release' | 'refund' | 'dispute'

/** A 7118 escrow action with its package (a dispute may carry none), and why in the content. */
export const escrowAction = (job: string, action: EscrowActionName, pkg?: string, why = ''): Template => ({
  kind: ESCROW_ACTION,
  tags: [['e', job], ['action', action], ...(pkg ? [['package', pkg]] : [])],
  content: why,
})

/** A 7000 `success` that publishes the key of a sealed result (pay-to-decrypt). */
export const keyReveal = (job: JobRequest | { id: string; customer: string }, key: string): Template => ({
  kind: FEEDBACK,
  tags: [
    ['status', 'success'],
    ['e', job.id],
    ['p', job.customer],
    ['preimage', key],
  ],
  content: '',
})

/** The customer's pick of a swarm's winner (and its winning result). */
export const swarmPick = (swarm: string, winner: string, result?: string): Template => ({
  kind: FEEDBACK,
  tags: [['status', 'success'], ['e', swarm], ...(result ? [['e', result]] : []), ['p', winner]],
  content: '',
})

/** A 31117 review of the other party of a delivered job. */
export const review = (job: string, other: string, rating: number, kind: number | undefined, text = ''): Template => ({
  kind: REVIEW,
  tags: [['d', job], ['p', other], ['rating', String(rating)], ...(kind ? [['k', String(kind)]] : [])],
  content: text,
})

/** A 30382 declaration of trust in a key. */
export const trust = (key: string): Template => ({
  kind: ASSERTION,
  tags: [
    ['d', key],
    ['p', key],
    ['assertion', 'dvm-provider'],
  ],
  content: '',
})

/** A 1984 report of a key (NIP-56). */
export const report = (key: string, type: string, text = ''): Template => ({
  kind: REPORT,
  tags: [['p', key, type]],
  content: text,
})

/** A 5117 workflow from a file's steps (AIP-0004 tags). */
export function workflow(o: {
  input: string
  inputType?: string
  bid?: number
  steps: readonly { kind: number; provider?: string; description?: string }[]
}): Template {
  return {
    kind: WORKFLOW,
    tags: [
      ['i', o.input, o.inputType ?? 'text'],
      ...o.steps.map((s, i) => ['step', String(i), String(s.kind), s.provider ?? '', s.description ?? '']),
      ...(o.bid !== undefined ? [['bid', String(o.bid)]] : []),
    ],
    content: '',
  }
}
