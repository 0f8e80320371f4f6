// What the relay tells its operator while it runs. Events and refusals are counted in plain numbers, so the hot
// path only increments them (relay/metrics.ts reads them on scrape); the log is built from them: every
// log.summary_interval a line on connections, one on refusals by prefix and one on market milestones, plus a few
// sampled refusals as they happen, and every slow query and slow commit. Event content is never logged: a refusal
// names its reason, the event's kind, a pubkey prefix and the client's address.
import type { Config } from '../config/schema.js'
import type { Milestone } from '../market/fold.js'
import { ATTESTATION } from '../market/attestations.js'
import { ESCROW_ACTION } from '../market/actions.js'
import { ESCROW_LOCK } from '../market/escrow.js'
import { JOB_LEDGER } from '../market/outputs.js'
import { HANDLER_INFO, HEARTBEAT } from '../market/providers.js'
import { REVIEW } from '../market/reviews.js'
import { SEALED_RESULT } from '../market/sealed.js'
import { TRUST } from '../market/trust.js'
import {
  isAddressableKind,
  isEphemeralKind,
  isReplaceableKind,
  type NostrEvent,
  type Prefix,
  type Rejection,
} from '../nips/nip01.js'
import type { CompiledFilter } from '../nips/nip01-filter.js'
import { JOB_FEEDBACK, isJobRequestKind, isJobResultKind } from '../nips/nip90.js'
import type { Log } from './log.js'
import type { Metrics } from './metrics.js'
import type { QueryReport } from './reader-pool.js'

// Index of each prefix in the counters; a Record, so a new prefix in nips/nip01.ts cannot be left out.
const PREFIX_INDEX: Readonly<Record<Prefix, number>> = {
  duplicate: 0,
  pow: 1,
  blocked: 2,
  'rate-limited': 3,
  invalid: 4,
  restricted: 5,
  'auth-required': 6,
  error: 7,
  closed: 8,
}
export const PREFIXES = Object.keys(PREFIX_INDEX) as Prefix[]

/** NIP-01's kind classes, with the market's own kinds (NIP-90 jobs, escrow, reviews, heartbeats...) apart. */
export const KIND_CLASSES = ['regular', 'replaceable', 'ephemeral', 'addressable', 'market'] as const
const MARKET_KINDS = new Set([
  ESCROW_LOCK,
  ESCROW_ACTION,
  SEALED_RESULT,
  ATTESTATION,
  HEARTBEAT,
  TRUST,
  REVIEW,
  JOB_LEDGER,
  HANDLER_INFO,
])

/** The index in KIND_CLASSES of a kind's class. */
export function kindClass(kind: number): number {
  if (isJobRequestKind(kind) || isJobResultKind(kind) || kind === JOB_FEEDBACK || MARKET_KINDS.has(kind)) return 4
  if (isReplaceableKind(kind)) return 1
  if (isEphemeralKind(kind)) return 2
  return isAddressableKind(kind) ? 3 : 0
}

/** How a refusal went out: OK false, CLOSED, NOTICE, an HTTP status on a refused upgrade, or NEG-ERR (NIP-77). */
export const REPLIES = ['ok', 'closed', 'notice', 'http', 'neg-err'] as const
export type Reply = (typeof REPLIES)[number]

export const MILESTONES = ['delivered', 'flagged'] as const

/** What a refusal may say about its event: never the content. */
export type EventFacts = Pick<NostrEvent, 'kind' | 'pubkey'>

/** Running totals since start; indices follow PREFIXES, KIND_CLASSES, REPLIES and MILESTONES. */
export type Counts = {
  /** EVENT messages handled (within limits.max_message_length). */
  received: number
  /** OK true for a stored or delivered event, by kind class. */
  readonly accepted: Float64Array
  duplicate: number
  /** OK false for a well-formed EVENT, at [class * PREFIXES.length + prefix]. */
  readonly eventsRefused: Float64Array
  /** Every refusal sent, at [reply * PREFIXES.length + prefix]. */
  readonly refusals: Float64Array
  /** EVENT frames queued for live subscriptions. */
  deliveries: number
  readonly milestones: Float64Array
}

// Individual refusals and milestones logged at info per summary interval; the rest at debug, all in the summary.
const SAMPLED_REFUSALS = 3
const LOGGED_MILESTONES = 20

const shortKey = (pubkey: string) => pubkey.slice(0, 8)

/** A filter's shape for a slow-query line: which fields, how many values (kinds as they are), never the values. */
export function filterShape(f: CompiledFilter): string {
  const parts: string[] = []
  if (f.ids) parts.push(`ids:${f.ids.size}`)
  if (f.authors) parts.push(`authors:${f.authors.size}`)
  if (f.kinds) parts.push(`kinds:[${[...f.kinds].slice(0, 8).join(',')}${f.kinds.size > 8 ? ',...' : ''}]`)
  for (const [name, values] of f.tags) parts.push(`#${name}:${values.size}`)
  if (f.since !== undefined) parts.push('since')
  if (f.until !== undefined) parts.push('until')
  if (f.limit !== undefined) parts.push(`limit:${f.limit}`)
  return `{${parts.join(' ')}}`
}

/** All counts at 0. */
export function createCounts(): Counts {
  return {
    received: 0,
    accepted: new Float64Array(KIND_CLASSES.length),
    duplicate: 0,
    eventsRefused: new Float64Array(KIND_CLASSES.length * PREFIXES.length),
    refusals: new Float64Array(REPLIES.length * PREFIXES.length),
    deliveries: 0,
    milestones: new Float64Array(MILESTONES.length),
  }
}

/** Live connections and subscriptions. */
export type Live = { connections(): number; subscriptions(): number }

export type ObserverSetup = Live & {
  readonly counts: Counts
  readonly log: Log
  /** The effective log settings (thresholds apply at reload; the interval is read at start). */
  readonly settings: () => Config['log']
  /** Histograms, when metrics are on. */
  readonly metrics?: Pick<Metrics, 'commit' | 'query'>
}

/** Starts the summary timer; `close` stops it. */
export function createObserver(setup: ObserverSetup) {
  const { log, metrics, counts } = setup
  const P = PREFIXES.length
  // Since the last summary.
  const refusedNow = new Float64Array(P)
  const milestonesNow = new Float64Array(MILESTONES.length)
  let sampled = 0
  let lastConns: [number, number] = [0, 0]

  function refused(reply: Reply, r: Rejection, ip: string, ev?: EventFacts): void {
    const p = PREFIX_INDEX[r.prefix]
    counts.refusals[REPLIES.indexOf(reply) * P + p]!++
    if (ev) counts.eventsRefused[kindClass(ev.kind) * P + p]!++
    refusedNow[p]!++
    const level = sampled < SAMPLED_REFUSALS ? 'info' : 'debug'
    if (!log.isLevelEnabled(level)) return
    if (level === 'info') sampled++
    const about = ev ? `, kind ${ev.kind}, pubkey ${shortKey(ev.pubkey)}` : ''
    log[level](
      { component: 'refusal', reply, prefix: r.prefix, ...(ev && { kind: ev.kind, pubkey: shortKey(ev.pubkey) }), ip },
      `refused${level === 'info' ? ' (sampled)' : ''}: ${r.prefix}: ${r.reason} (${reply}${about}, ip ${ip})`,
    )
  }

  function milestones(list: readonly Milestone[]): void {
    for (const m of list) {
      const i = MILESTONES.indexOf(m.what)
      counts.milestones[i]!++
      const level = milestonesNow[i]! < LOGGED_MILESTONES ? 'info' : 'debug'
      milestonesNow[i]!++
      if (!log.isLevelEnabled(level)) continue
      if (m.what === 'delivered')
        log[level]({ component: 'market', job: m.job, provider: m.provider }, `job ${m.job} delivered by ${m.provider}`)
      else
        log[level](
          { component: 'market', provider: m.provider, why: m.why },
          `provider ${m.provider} flagged (${m.why === 'fraud' ? 'proven fraud' : 'reports reached market.flag_threshold'})`,
        )
    }
  }

  function committed(size: number, ms: number): void {
    metrics?.commit(size, ms)
    if (ms >= setup.settings().slow_commit_ms)
      log.warn(
        { component: 'store', ms: Math.round(ms), events: size },
        `slow commit: ${Math.round(ms)} ms for a batch of ${size} event${size === 1 ? '' : 's'}`,
      )
  }

  function queried(q: QueryReport): void {
    let total = 0
    for (const [path, ms] of q.took) {
      metrics?.query(path, ms)
      total += ms
    }
    if (q.took.length === 0 || total < setup.settings().slow_query_ms) return
    const verb = q.took[0]?.[0] === 'count' ? 'COUNT' : 'REQ'
    const shapes = q.filters.map(filterShape)
    const paths = q.took.map(([path]) => path)
    log.warn(
      { component: 'store', ms: Math.round(total), verb, filters: shapes, paths },
      `slow query: ${Math.round(total)} ms for ${verb} ${shapes.join(' ')} (via ${paths.join(', ')})`,
    )
  }

  const interval = setup.settings().summary_interval
  const period = interval === 60 ? 'the last minute' : `the last ${interval} s`

  /** The summary lines of one interval. */
  function summarise(): void {
    const now: [number, number] = [setup.connections(), setup.subscriptions()]
    const changed = now[0] !== lastConns[0] || now[1] !== lastConns[1]
    lastConns = now
    log[changed || now[0] > 0 ? 'info' : 'debug'](
      { component: 'relay', connections: now[0], subscriptions: now[1] },
      `connections ${now[0]}, subscriptions ${now[1]}`,
    )
    const refusals = PREFIXES.flatMap((prefix, i) => (refusedNow[i]! > 0 ? [`${prefix} ${refusedNow[i]}`] : []))
    if (refusals.length > 0) log.info({ component: 'refusal' }, `refusals in ${period}: ${refusals.join(', ')}`)
    const market = MILESTONES.flatMap((what, i) => (milestonesNow[i]! > 0 ? [`${what} ${milestonesNow[i]}`] : []))
    if (market.length > 0) log.info({ component: 'market' }, `market milestones in ${period}: ${market.join(', ')}`)
    refusedNow.fill(0)
    milestonesNow.fill(0)
    sampled = 0
  }
  const timer = setInterval(summarise, interval * 1000)
  timer.unref()

  return {
    /** An EVENT message arrived. */
    received: () => void counts.received++,
    /** An event got OK true: stored or delivered (`duplicate`: already stored). */
    accepted(ev: EventFacts, duplicate: boolean): void {
      if (duplicate) counts.duplicate++
      else counts.accepted[kindClass(ev.kind)]!++
    },
    /** A refusal went out as `reply` to the client at `ip`; `ev` when it refused a well-formed event. */
    refused,
    /** Market milestones the writer reported. */
    milestones,
    /** A batch of `size` events committed in `ms`. */
    committed,
    /** A REQ or COUNT finished on its reader. */
    queried,
    close: () => clearInterval(timer),
  }
}

export type Observer = ReturnType<typeof createObserver>
