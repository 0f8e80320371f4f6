// Workflows (kind 5117, DESIGN §7.8, AIP-0004), pure: a customer's pipeline of job steps, which the relay runs
// one after another, publishing each step's request when the previous step is delivered. Two forms read to the
// same Workflow: AIP-0004's tags (`i`, `step` idx/kind/provider/description, `bid`), and the JSON content the
// seed's clients send ({input, steps, bid_sats}), used only when there is no `step` tag.
import type { EventTemplate } from 'nostr-tools/pure'
import { isHex64, isRejection, reject, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { isJobRequestKind } from '../nips/nip90.js'
import { SWARM } from './swarms.js'

export const WORKFLOW = 5117
/** One event cannot make the relay publish without end. */
const MAX_STEPS = 20
/** Whole sats whose msats keep the 15 digits every amount the market reads is capped at. */
const MAX_BID_SATS = 999_999_999_999

export type WorkflowStep = {
  /** 0-based, in order. */
  readonly index: number
  /** A DVM job request kind: 5000-5999, not 5117 or 5118. */
  readonly kind: number
  /** The pinned provider's pubkey (64 lowercase hex), if any. */
  readonly provider: string | undefined
  /** May be ''. */
  readonly description: string
  /** This step's share of the bid. */
  readonly bidMsats: number | undefined
}

export type Workflow = {
  readonly id: string
  /** The event's pubkey. */
  readonly customer: string
  /** The initial input, fed to step 0. */
  readonly input: { readonly value: string; readonly type: string }
  /** Sorted by index. */
  readonly steps: readonly WorkflowStep[]
  /** The total bid. */
  readonly bidMsats: number | undefined
}

/** A step as either form gives it, before its rules are checked. */
type RawStep = {
  readonly index: number
  readonly kind: unknown
  readonly provider: unknown
  readonly description: unknown
}
type Parts = {
  readonly input: Workflow['input']
  readonly steps: readonly RawStep[]
  readonly bidMsats: number | undefined
}

const bad = (rule: string) => reject('invalid', `workflow: ${rule}`)

/** The workflow a 5117 describes, or the first rule it breaks. */
export function readWorkflow(e: NostrEvent): Workflow | Rejection {
  if (e.kind !== WORKFLOW) return bad(`must be kind ${WORKFLOW}`)
  const parts = e.tags.some(t => t[0] === 'step') ? fromTags(e) : fromJson(e.content)
  if (isRejection(parts)) return parts
  const steps: WorkflowStep[] = []
  const n = parts.steps.length
  for (const raw of parts.steps) {
    const step = readStep(raw, n, parts.bidMsats)
    if (isRejection(step)) return step
    steps.push(step)
  }
  return { id: e.id, customer: e.pubkey, input: parts.input, steps, bidMsats: parts.bidMsats }
}

/**
 * Why a well-formed workflow breaks a market rule: a step pinned to the workflow's own customer, who cannot deliver
 * its own job (DESIGN §7.8: a step's customer is the workflow's for every rule).
 */
export function workflowRefusal(w: Workflow): Rejection | undefined {
  const own = w.steps.find(s => s.provider === w.customer)
  return own
    ? reject(
        'restricted',
        `workflow: step ${own.index} is pinned to the workflow's own customer, who cannot deliver its own job`,
      )
    : undefined
}

/** AIP-0004: one `i` tag, `step` tags (in any order), an optional `bid` in msats. */
function fromTags(e: NostrEvent): Parts | Rejection {
  const inputs = e.tags.filter(t => t[0] === 'i')
  if (inputs.length !== 1 || !inputs[0]![1]) return bad('needs one i tag with the initial input')
  const stepTags = e.tags.filter(t => t[0] === 'step')
  const count = countRefusal(stepTags.length)
  if (count) return count
  const n = stepTags.length
  // Indexes are the order the relay runs the steps in: each of 0..N-1 exactly once, so none is skipped or run
  // twice. With N tags, a duplicate or an index out of range always leaves one missing.
  const seen = new Set<number>()
  for (const [, index] of stepTags) {
    if (index === undefined || !/^\d+$/.test(index))
      return bad(
        `step indexes must run 0 to ${n - 1} without gaps (index ${JSON.stringify(index ?? null)} is not a whole number)`,
      )
    const i = Number(index)
    if (seen.has(i)) return bad(`step indexes must run 0 to ${n - 1} without gaps (index ${i} twice)`)
    seen.add(i)
  }
  for (let i = 0; i < n; i++)
    if (!seen.has(i)) return bad(`step indexes must run 0 to ${n - 1} without gaps (missing ${i})`)
  const steps = stepTags
    .map(([, index, kind, provider, description]) => ({
      index: Number(index),
      // A kind that is not plain decimal stays a string, so the refusal shows it as sent.
      kind: kind !== undefined && /^[1-9]\d{0,4}$/.test(kind) ? Number(kind) : kind,
      provider: provider || undefined,
      description: description ?? '',
    }))
    .sort((a, b) => a.index - b.index)
  const bid = e.tags.find(t => t[0] === 'bid')
  // 15 digits keep msats a safe integer, and the step requests' bids readable by nips/nip90.ts.
  if (bid && !/^\d{1,15}$/.test(bid[1] ?? '')) return bad('bid must be a whole number of msats')
  return {
    input: { value: inputs[0]![1]!, type: inputs[0]![2] || 'text' },
    steps,
    bidMsats: bid ? Number(bid[1]) : undefined,
  }
}

/** The seed's form: content {"input": string, "steps": [{kind, description?, provider?}], "bid_sats"?: number}. */
function fromJson(content: string): Parts | Rejection {
  const notJson = bad('no step tags, and the content is not the JSON form {input, steps, bid_sats}')
  let v: unknown
  try {
    v = JSON.parse(content)
  } catch {
    return notJson
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return notJson
  const o = v as Record<string, unknown>
  if (!Array.isArray(o.steps)) return notJson
  if (typeof o.input !== 'string' || o.input === '') return bad('input must be a non-empty string')
  const count = countRefusal(o.steps.length)
  if (count) return count
  const steps: RawStep[] = []
  for (const [index, s] of (o.steps as unknown[]).entries()) {
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      return bad(`step ${index} is not an object {kind, description?, provider?}`)
    const step = s as Record<string, unknown>
    // null is how some clients write "none"; it means the same as leaving the field out.
    steps.push({ index, kind: step.kind, provider: step.provider ?? undefined, description: step.description ?? '' })
  }
  const sats = o.bid_sats ?? undefined
  if (sats !== undefined && (typeof sats !== 'number' || !Number.isSafeInteger(sats) || sats < 0))
    return bad('bid_sats must be a whole number of sats')
  if (sats !== undefined && sats > MAX_BID_SATS) return bad(`bid_sats must be at most ${MAX_BID_SATS}`)
  return { input: { value: o.input, type: 'text' }, steps, bidMsats: sats === undefined ? undefined : sats * 1000 }
}

function countRefusal(n: number): Rejection | undefined {
  if (n < 2) return bad(`needs at least two steps (got ${n})`)
  if (n > MAX_STEPS) return bad(`at most ${MAX_STEPS} steps (got ${n})`)
  return undefined
}

/** A step's own rules; it gets its share of the bid. */
function readStep(s: RawStep, n: number, total: number | undefined): WorkflowStep | Rejection {
  const k = s.kind
  // A workflow or swarm as a step would let one event start pipelines inside pipelines.
  if (typeof k !== 'number' || !Number.isInteger(k) || !isJobRequestKind(k) || k === WORKFLOW || k === SWARM) {
    const shown = typeof k === 'number' ? String(k) : k === undefined ? 'missing' : JSON.stringify(k)
    return bad(`step ${s.index} kind ${shown} is not a DVM job kind (5000-5999, not ${WORKFLOW} or ${SWARM})`)
  }
  const provider = s.provider === '' ? undefined : s.provider
  if (provider !== undefined && !isHex64(provider)) return bad(`step ${s.index} provider is not a 64-hex pubkey`)
  if (typeof s.description !== 'string') return bad(`step ${s.index} description must be a string`)
  return { index: s.index, kind: k, provider, description: s.description, bidMsats: share(total, n, s.index) }
}

/** A step's share of the total: floor(total / N), the remainder to the last step, so the shares add up to it. */
function share(total: number | undefined, n: number, index: number): number | undefined {
  if (total === undefined) return undefined
  const each = Math.floor(total / n)
  return index === n - 1 ? total - each * (n - 1) : each
}

/**
 * The job request the relay publishes (and signs) for step `index`: step 0 takes the workflow's input, a later
 * step the result that delivered the step before it (NIP-90 chaining, `["i", <result id>, "job"]`). `P` names
 * the real customer, `e` the workflow. A missing or malformed previous result, or a step that does not exist,
 * is the caller's bug, so it throws.
 */
export function stepRequest(
  w: Workflow,
  index: number,
  previousResult: string | undefined,
  now: number,
): EventTemplate {
  const step = w.steps[index]
  if (step === undefined || step.index !== index) throw new Error(`workflow ${w.id} has no step ${index}`)
  if (index > 0 && !isHex64(previousResult))
    throw new Error(`step ${index} of workflow ${w.id} needs the id of the result of step ${index - 1}`)
  const tags: string[][] = [
    index === 0 ? ['i', w.input.value, w.input.type] : ['i', previousResult!, 'job'],
    ['P', w.customer],
    ['e', w.id],
    ['step', String(index)],
  ]
  if (step.bidMsats !== undefined) tags.push(['bid', String(step.bidMsats)])
  if (step.provider !== undefined) tags.push(['p', step.provider])
  if (step.description !== '') tags.push(['param', 'description', step.description])
  return { kind: step.kind, created_at: now, tags, content: '' }
}
