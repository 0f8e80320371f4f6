// The market page's model: the providers table built from the events the relay publishes (31990 handler info,
// 30333 heartbeats, and the relay-signed 30382 assertions), its sorting and filters, and the jobs of the relay's
// ledger (31118). Pure: events in, rows out.
import {
  ASSERTION,
  ATTESTATION,
  HANDLER,
  HEARTBEAT,
  LEDGER,
  readJobRequest,
  REVIEW,
  tagOf,
  tagsOf,
} from '../client/market.js'
import { addressOf, wins } from '../nips/nip01-order.js'
import type { NostrEvent } from '../nips/nip01.js'
import type { MarketInfo, PowRule, RateLimits } from '../nips/nip11.js'

/** One provider as the table shows it. Texts are the provider's own words: the page only ever sets them as text. */
export type ProviderRow = {
  readonly pubkey: string
  readonly name: string
  readonly about: string
  /** An http(s) picture URL, or undefined. */
  readonly picture: string | undefined
  /** From its skill descriptor (client/agent/skill.ts): free words to filter on, models, input types, params. */
  readonly features: readonly string[]
  readonly models: readonly string[]
  readonly inputTypes: readonly string[]
  readonly params: readonly {
    readonly name: string
    readonly type: string
    readonly description: string
    readonly required: boolean
  }[]
  /** Kinds served, from its handlers, its heartbeat and the relay's assertion. */
  readonly kinds: readonly number[]
  /** Sats per job by kind, from its newest heartbeat. */
  readonly price: ReadonlyMap<number, number>
  /** Online by the relay's clock (the assertion's `online`), else by a heartbeat saying so. */
  readonly online: boolean
  /** The relay's NIP-85 rank, 0-100 (higher is better; 0 when flagged), undefined before it published one. */
  readonly rank: number | undefined
  readonly score: number
  readonly standing: number
  readonly jobsDelivered: number
  readonly jobsPaid: number
  readonly flagged: boolean
  /** The assertion's `input` tags: what the rank is made of, as counted and as raw. */
  readonly inputs: readonly { readonly name: string; readonly counted: string; readonly raw: string }[]
}

/**
 * What the subscriptions have delivered: the newest event per replaceable address (kind, author, d), and every
 * other event once (by id).
 */
export class Latest {
  private readonly byAddress = new Map<string, NostrEvent>()

  /** Keeps `e` if it is new or newer than what its address holds (NIP-01 replacement); true if kept. */
  add(e: NostrEvent): boolean {
    const address = addressOf(e)
    const key = address === undefined ? e.id : `${e.kind}:${e.pubkey}:${address}`
    const cur = this.byAddress.get(key)
    if (cur && !wins(e, cur)) return false
    this.byAddress.set(key, e)
    return true
  }

  /** The oldest `created_at` among the kept events that `keep` selects, for paging back with `until`. */
  oldest(keep: (e: NostrEvent) => boolean): number | undefined {
    let min: number | undefined
    for (const e of this.byAddress.values())
      if (keep(e) && (min === undefined || e.created_at < min)) min = e.created_at
    return min
  }

  events(): IterableIterator<NostrEvent> {
    return this.byAddress.values()
  }
}

const num = (v: string | undefined) => {
  const n = Number(v)
  return Number.isFinite(n) ? n : 0
}

/** The handler's content JSON (NIP-89 metadata); anything else reads as empty. */
function handlerContent(e: NostrEvent): { name?: unknown; about?: unknown; picture?: unknown; skill?: unknown } {
  try {
    const c: unknown = JSON.parse(e.content)
    return typeof c === 'object' && c !== null ? c : {}
  } catch {
    return {}
  }
}

const text = (v: unknown) => (typeof v === 'string' ? v : '')
const texts = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}

/** The skill descriptor's parts a person reads; anything malformed reads as absent. */
function skillOf(v: unknown) {
  const skill = record(v)
  const input = record(skill['input'])
  const params = record(skill['params'])
  const required = new Set(texts(params['required']))
  return {
    features: texts(skill['features']),
    models: texts(skill['models']),
    inputTypes: typeof input['type'] === 'string' ? [input['type']] : texts(input['type']),
    params: Object.entries(record(params['properties'])).map(([name, p]) => ({
      name,
      type: text(record(p)['type']) || 'string',
      description: text(record(p)['description']),
      required: required.has(name),
    })),
  }
}
const httpUrl = (v: unknown) => (typeof v === 'string' && /^https?:\/\//i.test(v) ? v : undefined)

/** "5100:20,5200:50" into sats by kind; malformed entries are skipped. */
export function parsePrice(tag: string | undefined): Map<number, number> {
  const out = new Map<number, number>()
  for (const part of (tag ?? '').split(',')) {
    const m = /^(\d+):(\d+)$/.exec(part.trim())
    if (m) out.set(Number(m[1]), Number(m[2]))
  }
  return out
}

/** Every provider the events speak of: a handler, a heartbeat or the relay's assertion about it. */
export function providerRows(events: Iterable<NostrEvent>, relayPubkey: string): ProviderRow[] {
  // A provider may announce several handlers (one address each); its kinds are all of theirs, its name the newest's.
  const handlers = new Map<string, NostrEvent[]>()
  const heartbeat = new Map<string, NostrEvent>()
  const assertion = new Map<string, NostrEvent>()
  const newest = (m: Map<string, NostrEvent>, key: string, e: NostrEvent) => {
    const cur = m.get(key)
    if (!cur || cur.created_at < e.created_at) m.set(key, e)
  }
  for (const e of events) {
    if (e.kind === HANDLER) {
      const list = handlers.get(e.pubkey)
      if (list) list.push(e)
      else handlers.set(e.pubkey, [e])
    } else if (e.kind === HEARTBEAT) newest(heartbeat, e.pubkey, e)
    // Only the relay's own assertions rank providers; anyone else's 30382 is a trust declaration.
    else if (e.kind === ASSERTION && e.pubkey === relayPubkey) {
      const subject = tagOf(e, 'd')
      if (subject) newest(assertion, subject, e)
    }
  }
  const keys = new Set([...handlers.keys(), ...heartbeat.keys(), ...assertion.keys()])
  return [...keys].map(pubkey => {
    const h = handlers.get(pubkey)?.reduce((a, b) => (b.created_at > a.created_at ? b : a))
    const b = heartbeat.get(pubkey)
    const a = assertion.get(pubkey)
    const meta = h ? handlerContent(h) : {}
    const kindTags = [
      ...(handlers.get(pubkey) ?? []).flatMap(x => tagsOf(x, 'k')),
      ...(b ? tagsOf(b, 'k') : []),
      ...(a ? tagsOf(a, 'k') : []),
    ]
    const kinds = new Set(kindTags.map(t => Number(t[1])))
    const at = (name: string) => (a ? tagOf(a, name) : undefined)
    return {
      pubkey,
      name: text(meta.name),
      about: text(meta.about),
      picture: httpUrl(meta.picture),
      ...skillOf(meta.skill),
      kinds: [...kinds].filter(k => Number.isInteger(k)).sort((x, y) => x - y),
      price: parsePrice(b && tagOf(b, 'price')),
      online: a ? at('online') === '1' : b !== undefined && tagOf(b, 'status') === 'online',
      rank: a ? num(at('rank')) : undefined,
      score: num(at('score')),
      standing: num(at('standing')),
      jobsDelivered: num(at('jobs_delivered')),
      jobsPaid: num(at('jobs_paid')),
      flagged: at('flagged') === '1',
      inputs: (a ? tagsOf(a, 'input') : []).map(t => ({ name: t[1] ?? '', counted: t[2] ?? '', raw: t[3] ?? '' })),
    }
  })
}

export type SortKey = 'name' | 'rank' | 'standing' | 'jobsDelivered' | 'jobsPaid' | 'online' | 'price'
export type Sort = { readonly key: SortKey; readonly descending: boolean }

/** The lowest price a provider asks for any kind, for sorting (Infinity when it names none). */
const lowestPrice = (r: ProviderRow) => Math.min(...r.price.values(), Infinity)

const value = (r: ProviderRow, key: SortKey): number | string => {
  if (key === 'name') return (r.name || r.pubkey).toLowerCase()
  // Unranked providers sort below rank 0.
  if (key === 'rank') return r.rank ?? -1
  if (key === 'online') return r.online ? 1 : 0
  if (key === 'price') return lowestPrice(r)
  return r[key]
}

/** Rows sorted by `sort`, ties by pubkey so the order is stable across renders. */
export function sortRows(rows: readonly ProviderRow[], sort: Sort): ProviderRow[] {
  const dir = sort.descending ? -1 : 1
  return [...rows].sort((a, b) => {
    const x = value(a, sort.key)
    const y = value(b, sort.key)
    if (x !== y) return (x < y ? -1 : 1) * dir
    return a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : 0
  })
}

export type RowFilter = { readonly kind?: number; readonly feature?: string; readonly onlineOnly?: boolean }

export function filterRows(rows: readonly ProviderRow[], f: RowFilter): ProviderRow[] {
  return rows.filter(
    r =>
      (f.kind === undefined || r.kinds.includes(f.kind)) &&
      (f.feature === undefined || r.features.includes(f.feature)) &&
      (!f.onlineOnly || r.online),
  )
}

/** One job (or workflow) as the relay's ledger (31118) says it is now. */
export type JobRow = {
  readonly id: string
  readonly kind: number
  readonly state: string
  readonly customer: string
  readonly provider: string | undefined
  readonly bidMsats: number | undefined
  readonly paidMsats: number
  readonly escrow:
    | {
        readonly sats: number
        readonly mint: string
        readonly state: string
        /** The side the relay ruled for, when it ruled. */
        readonly ruling: string | undefined
        /** How the lock was spent (the path of its spending condition), once spent. */
        readonly spentBy: string | undefined
      }
    | undefined
  readonly resultId: string | undefined
  readonly requestedAt: number
  /** When the relay last wrote this entry: the job's latest change. */
  readonly changedAt: number
  readonly deliveredAt: number | undefined
  readonly paidAt: number | undefined
  /** A workflow's steps, in order. */
  readonly steps: readonly { readonly kind: number | undefined; readonly state: string; readonly provider: string }[]
  /** A swarm's submissions and their state. */
  readonly submissions: readonly { readonly provider: string; readonly state: string }[]
  readonly payments: readonly { readonly via: string; readonly msats: number }[]
  /** The upstream relays this relay mirrored the job's request or result from (none for a job posted here). */
  readonly seenOn: readonly string[]
}

/** Whole sats of an amount in msats, as the page writes it. */
export const sats = (msats: number) => `${Math.floor(msats / 1000)} sats`

const optNum = (v: string | undefined) => (v === undefined || v === '' ? undefined : num(v))

/** NIP-90 job requests (workflows and swarms included). */
export const isJobRequest = (e: Pick<NostrEvent, 'kind'>) => e.kind >= 5000 && e.kind <= 5999

/**
 * The jobs the events speak of, the latest change first: each ledger entry of the relay's, and each request the
 * ledger does not have yet, as open (the relay writes a job's entry at its first change after the request).
 */
export function jobRows(events: Iterable<NostrEvent>, relayPubkey: string): JobRow[] {
  const rows: JobRow[] = []
  const requests: NostrEvent[] = []
  for (const e of events) {
    if (isJobRequest(e)) requests.push(e)
    if (e.kind !== LEDGER || e.pubkey !== relayPubkey) continue
    const id = tagOf(e, 'd')
    if (!id) continue
    const escrow = e.tags.find(t => t[0] === 'escrow')
    rows.push({
      id,
      kind: num(tagOf(e, 'k')),
      state: tagOf(e, 'state') ?? 'unknown',
      customer: tagOf(e, 'customer') ?? '',
      provider: tagOf(e, 'provider') || undefined,
      bidMsats: optNum(tagOf(e, 'bid')),
      paidMsats: num(tagOf(e, 'paid')),
      escrow: escrow && {
        mint: escrow[2] ?? '',
        sats: num(escrow[3]),
        state: tagOf(e, 'escrow_state') ?? '',
        ruling: tagOf(e, 'ruling'),
        spentBy: tagOf(e, 'spent'),
      },
      resultId: tagOf(e, 'result'),
      requestedAt: num(tagOf(e, 'requested_at')),
      changedAt: e.created_at,
      deliveredAt: optNum(tagOf(e, 'delivered_at')),
      paidAt: optNum(tagOf(e, 'paid_at')),
      steps: tagsOf(e, 'step').map(t => ({ kind: optNum(t[2]), state: t[4] ?? '', provider: t[5] ?? '' })),
      submissions: tagsOf(e, 'submission').map(t => ({ provider: t[1] ?? '', state: t[3] ?? '' })),
      payments: tagsOf(e, 'payment').map(t => ({ via: t[1] ?? '', msats: num(t[3]) })),
      seenOn: e.tags.find(t => t[0] === 'seen_on')?.slice(1) ?? [],
    })
  }
  const known = new Set(rows.map(r => r.id))
  for (const e of requests) if (!known.has(e.id)) rows.push(openJob(e))
  return rows.sort((a, b) => b.changedAt - a.changedAt || (a.id < b.id ? -1 : 1))
}

/** A request the ledger has no entry for yet: open, as its customer posted it. */
function openJob(e: NostrEvent): JobRow {
  const r = readJobRequest(e)
  return {
    id: e.id,
    kind: e.kind,
    state: 'open',
    customer: r.customer,
    provider: undefined,
    bidMsats: r.bid,
    paidMsats: 0,
    escrow: undefined,
    resultId: undefined,
    requestedAt: e.created_at,
    changedAt: e.created_at,
    deliveredAt: undefined,
    paidAt: undefined,
    steps: [],
    submissions: [],
    payments: [],
    seenOn: [],
  }
}

/** A job's ledger entry in words, a line per fact; `name` turns a pubkey into what the page calls it. */
export function describeJob(j: JobRow, name: (pubkey: string) => string): string[] {
  const lines = [
    `${name(j.customer)} asked for a kind ${j.kind} job${j.bidMsats !== undefined ? `, bidding ${sats(j.bidMsats)}` : ''}.`,
  ]
  if (j.steps.length > 0)
    j.steps.forEach((s, i) =>
      lines.push(
        `Step ${i + 1}${s.kind !== undefined ? ` (kind ${s.kind})` : ''}: ${s.state}${s.provider ? `, by ${name(s.provider)}` : ''}.`,
      ),
    )
  if (j.escrow) {
    // Once spent (paid out or refunded) the sats are no longer held.
    const held = j.escrow.spentBy === undefined && !['settled', 'refunded'].includes(j.escrow.state)
    lines.push(
      `${j.escrow.sats} sats ${held ? 'are' : 'were'} locked in escrow at ${j.escrow.mint}: ${j.escrow.state}.`,
    )
    if (j.escrow.ruling) lines.push(`The relay ruled for the ${j.escrow.ruling}.`)
    // The lock's two ways out (docs/market-protocol.md): two of its three keys, or the customer alone after it expires.
    const ways: Record<string, string> = {
      main: 'spent with two of its three keys',
      refund: 'taken back by the customer after its locktime',
    }
    if (j.escrow.spentBy)
      lines.push(`The escrow was ${ways[j.escrow.spentBy] ?? `spent by its ${j.escrow.spentBy} path`}.`)
  }
  // A swarm's submissions: the customer picks one (winner), the rest are not paid.
  const verdict: Record<string, string> = { winner: ' and was picked', rejected: ', not picked' }
  for (const s of j.submissions) lines.push(`${name(s.provider)} submitted a result${verdict[s.state] ?? ''}.`)
  if (j.provider)
    lines.push(`${name(j.provider)} took it${j.deliveredAt !== undefined ? ' and delivered a result' : ''}.`)
  for (const p of j.payments) lines.push(`Paid ${sats(p.msats)} by ${p.via}.`)
  if (j.seenOn.length > 0) lines.push(`Seen on ${j.seenOn.join(', ')}.`)
  lines.push(`It is ${j.state} now.`)
  return lines
}

/** The market's totals, from the ledger and the providers as the page holds them. */
export type Totals = {
  readonly jobs: number
  /** Jobs requested in the last hour and the last day (by `requested_at`), by kind. */
  readonly lastHour: ReadonlyMap<number, number>
  readonly lastDay: ReadonlyMap<number, number>
  readonly satsPaid: number
  /** Sats in escrow locks not yet spent (neither settled nor refunded). */
  readonly satsInEscrow: number
  readonly providersOnline: number
  /** Shares of the jobs with a provider whose escrow was disputed (ruled included) or refunded (0 when none). */
  readonly disputeRate: number
  readonly refundRate: number
  readonly byState: ReadonlyMap<string, number>
}

export function totals(jobs: readonly JobRow[], providers: readonly ProviderRow[], now: number): Totals {
  const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1)
  const lastHour = new Map<number, number>()
  const lastDay = new Map<number, number>()
  const byState = new Map<string, number>()
  let satsPaid = 0
  let satsInEscrow = 0
  let taken = 0
  let disputed = 0
  let refunded = 0
  for (const j of jobs) {
    count(byState, j.state)
    if (j.requestedAt > now - 3600) count(lastHour, j.kind)
    if (j.requestedAt > now - 86400) count(lastDay, j.kind)
    satsPaid += Math.floor(j.paidMsats / 1000)
    const escrow = j.escrow?.state
    if (j.escrow && escrow !== 'settled' && escrow !== 'refunded') satsInEscrow += j.escrow.sats
    if (j.provider) {
      taken++
      if (escrow === 'disputed' || escrow === 'ruled') disputed++
      if (escrow === 'refunded') refunded++
    }
  }
  return {
    jobs: jobs.length,
    lastHour,
    lastDay,
    satsPaid,
    satsInEscrow,
    providersOnline: providers.filter(p => p.online).length,
    disputeRate: taken ? disputed / taken : 0,
    refundRate: taken ? refunded / taken : 0,
    byState,
  }
}

/** A review (31117), as the relay stored it: only a party of a delivered job may write one. */
export type Review = {
  readonly reviewer: string
  /** Whom it reviews (its `p`). */
  readonly about: string
  readonly job: string
  readonly rating: number
  readonly text: string
}

/** The reviews among the events of one key (`about`) or of one job, newest first. */
export function reviewsOf(events: Iterable<NostrEvent>, of: { about: string } | { job: string }): Review[] {
  return [...events]
    .filter(e => e.kind === REVIEW && ('about' in of ? tagOf(e, 'p') === of.about : tagOf(e, 'd') === of.job))
    .sort((a, b) => b.created_at - a.created_at)
    .map(e => ({
      reviewer: e.pubkey,
      about: tagOf(e, 'p') ?? '',
      job: tagOf(e, 'd') ?? '',
      rating: num(tagOf(e, 'rating')),
      text: e.content,
    }))
}

/** Seconds as a person reads a span of time. */
export function duration(s: number): string {
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86400)} days`
}

/** "5000-5999:30" rules as "30 a minute of kinds 5000-5999", in order (the first that matches a kind applies). */
function perMinute(rules: readonly string[]): string {
  return rules
    .map((r, i) => {
      const kinds = r.slice(0, r.lastIndexOf(':'))
      const which = kinds !== '*' ? `kinds ${kinds}` : i === 0 ? 'any kind' : 'any other kind'
      return `${r.slice(r.lastIndexOf(':') + 1)} a minute of ${which}`
    })
    .join(', ')
}

/**
 * The relay's rules as a person reads them, from its NIP-11 document (agora's extensions included): who may
 * write, the proof of work per kind, the zap gate, the kinds accepted, the rate limits, the escrow terms.
 */
export function relayRules(info: Record<string, unknown>): [string, string][] {
  const limitation = record(info['limitation'])
  const rows: [string, string][] = [['Writes need AUTH', limitation['auth_required'] ? 'yes' : 'no']]
  const pow = Array.isArray(info['pow_by_kind']) ? (info['pow_by_kind'] as PowRule[]) : []
  rows.push(['Proof of work', pow.length ? pow.map(r => `kinds ${r.kinds}: ${r.bits} bits`).join('; ') : 'none'])
  const gate = info['zap_gate'] as { lightning_address?: string; min_sats?: number } | undefined
  if (gate)
    rows.push(['Zap gate', `job requests need a zap of at least ${gate.min_sats} sats to ${gate.lightning_address}`])
  const accepted = info['accepted_kinds']
  rows.push(['Kinds accepted', Array.isArray(accepted) ? accepted.join(', ') : 'every kind'])
  const rate = info['rate_limits'] as RateLimits | undefined
  if (rate)
    rows.push(
      ['Events per author', perMinute(rate.events_per_pubkey)],
      ['Events per address', perMinute(rate.events_per_ip)],
      ['Reads per address', `${rate.reads_per_ip} REQ or COUNT a minute`],
      ['Connections per address', String(rate.connections_per_ip)],
    )
  else rows.push(['Rate limits', 'none'])
  const market = info['market'] as MarketInfo | undefined
  if (market)
    rows.push(
      ['Jobs expire after', duration(market.job_ttl)],
      ['Disputes within', `${duration(market.dispute_window)} of delivery`],
      ['Escrow mints', market.mints.length ? market.mints.join(', ') : 'any mint the provider names'],
      ['Offline after', `${duration(market.offline_after)} without a heartbeat`],
    )
  for (const k of ['max_message_length', 'max_subscriptions', 'max_limit', 'max_event_tags', 'max_content_length'])
    if (limitation[k] !== undefined) rows.push([k.replaceAll('_', ' '), String(limitation[k])])
  return rows
}

/** Counts over time for a chart: bucket start times (seconds) and a series of values per label. */
export type Series = {
  readonly starts: readonly number[]
  readonly series: readonly { readonly label: string; readonly values: readonly number[] }[]
}

/** The `buckets` buckets of `seconds` ending with the one that holds `now`, oldest first. */
function bucketStarts(now: number, seconds: number, buckets: number): number[] {
  const last = Math.floor(now / seconds) * seconds
  return Array.from({ length: buckets }, (_, i) => last - (buckets - 1 - i) * seconds)
}

/**
 * Jobs requested per bucket by kind: a series for each of the `top` most requested kinds in the span and one for
 * the rest, so a chart stays readable however many kinds the market trades.
 */
export function requestSeries(jobs: readonly JobRow[], now: number, seconds: number, buckets: number, top = 5): Series {
  const starts = bucketStarts(now, seconds, buckets)
  const first = starts[0]!
  const inSpan = jobs.filter(j => j.requestedAt >= first && j.requestedAt < first + buckets * seconds)
  const byKind = new Map<number, number>()
  for (const j of inSpan) byKind.set(j.kind, (byKind.get(j.kind) ?? 0) + 1)
  const kinds = [...byKind].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([k]) => k)
  const shown = kinds.slice(0, top)
  const labels = [...shown.map(k => `kind ${k}`), ...(kinds.length > top ? ['other kinds'] : [])]
  const values = labels.map(() => starts.map(() => 0))
  for (const j of inSpan) {
    const at = Math.floor((j.requestedAt - first) / seconds)
    const i = shown.indexOf(j.kind)
    values[i === -1 ? shown.length : i]![at]!++
  }
  return { starts, series: labels.map((label, i) => ({ label, values: values[i]! })) }
}

/** Sats paid per bucket (by when the ledger says each job was paid). */
export function paidSeries(jobs: readonly JobRow[], now: number, seconds: number, buckets: number): Series {
  const starts = bucketStarts(now, seconds, buckets)
  const first = starts[0]!
  const values = starts.map(() => 0)
  for (const j of jobs) {
    if (j.paidAt === undefined || j.paidAt < first) continue
    const at = Math.floor((j.paidAt - first) / seconds)
    if (at < buckets) values[at]! += Math.floor(j.paidMsats / 1000)
  }
  return { starts, series: [{ label: 'sats paid', values }] }
}

/** An attestation (30085) of a provider: another key's rating of it, with its confidence and context. */
export type Attestation = {
  readonly by: string
  readonly rating: number
  readonly confidence: number
  readonly context: string
}

/** The well-formed attestations of `pubkey` among the events, newest first (a key cannot attest to itself). */
export function attestationsOf(events: Iterable<NostrEvent>, pubkey: string): Attestation[] {
  const out: (Attestation & { at: number })[] = []
  for (const e of events) {
    if (e.kind !== ATTESTATION || tagOf(e, 'p') !== pubkey || e.pubkey === pubkey) continue
    let c: Record<string, unknown>
    try {
      c = record(JSON.parse(e.content))
    } catch {
      continue
    }
    const { rating, confidence } = c
    if (typeof rating !== 'number' || typeof confidence !== 'number') continue
    out.push({ by: e.pubkey, rating, confidence, context: text(c['context']), at: e.created_at })
  }
  return out.sort((a, b) => b.at - a.at).map(({ at: _, ...a }) => a)
}

/** What the page can say of a result event it read: its kind and size (a sealed result's is its ciphertext). */
export const resultFacts = (e: NostrEvent) => `kind ${e.kind}, ${e.content.length.toLocaleString('en')} characters`
