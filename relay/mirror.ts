// Mirroring (DESIGN §11): one client connection per [[mirror]] upstream, a live subscription from its position, and
// catch-ups (NIP-77 where the upstream speaks it, else a REQ since the position). Every event it sends takes the
// relay's write path with the upstream as its origin: verified, judged by every policy but the door's, folded by the
// market, recorded as seen there. Bounded per upstream: a budget of events per minute, a backlog of events between
// the socket and the writer, and a limit on garbage; past any of them the upstream is cut off for a backoff.
import type { Filter } from 'nostr-tools/filter'
import { fetchRelayInfo } from '../client/nip11.js'
import { reconcile } from '../client/negentropy.js'
import { RelayClient } from '../client/relay.js'
import type { Config } from '../config/schema.js'
import { checkEventShape, type NostrEvent } from '../nips/nip01.js'
import { compileFilter, matchFilter, type CompiledFilter } from '../nips/nip01-filter.js'
import { expandKinds } from '../policies/kinds.js'
import { makeBuckets } from '../policies/token-bucket.js'
import type { PolicyCtx } from '../policies/types.js'
import type { Log } from './log.js'
import { checkAndAdmit, precheck, type Origin } from './protocol/admit.js'
import type { RelayCtx } from './protocol/context.js'
import type { makeMirrorReads } from './store/mirror.js'
import type { Reader } from './store/reader.js'

type Entry = Config['mirror'][number]

/** What one upstream has sent since the relay started. */
export type UpstreamStats = {
  readonly url: string
  /** Events newly stored, or already held (duplicates). */
  stored: number
  duplicates: number
  /** Events the relay's rules refused (a policy, the market, the store). */
  refused: number
  /** Frames that were no valid event: not JSON, bad shape, outside the filter, a wrong id or signature. */
  garbage: number
  /** Events dropped unread because the upstream was over its budget or backlog. */
  dropped: number
  /** Times it was cut off, and connections made. */
  cutoffs: number
  connects: number
  /** Catch-ups finished, and how (NIP-77 or a plain REQ). */
  catchUps: number
  readonly via: { negentropy: number; req: number }
}

export type MirrorSetup = {
  readonly rc: RelayCtx
  readonly entries: Config['mirror']
  readonly reads: ReturnType<typeof makeMirrorReads>
  /** The stored (created_at, id) pairs of a filter, as the relay's own NIP-77 sessions read them. */
  readonly keys: Reader['keys']
  /** What the policies may know about a mirrored event's moment: nobody authenticated, no address. */
  readonly policyCtx: () => PolicyCtx
  readonly log: Log
}

/** The running mirrors. */
export type Mirrors = { stats(): UpstreamStats[]; close(): void }

// Kinds per filter: the default `limits.max_filter_values` of agora (and a common relay limit) is 500.
const KINDS_PER_FILTER = 500
// Ids per REQ when fetching what a reconciliation found missing.
const IDS_PER_REQ = 500
// A live subscription and a catch-up start this far before the position: events arrive out of created_at order.
const MARGIN_S = 600
// Garbage frames a connection may send before it is cut off.
const GARBAGE_LIMIT = 20
// A cut-off's backoff doubles from this up to the largest, and starts over after a quiet spell.
const CUT_MIN_MS = 1_000
const CUT_MAX_MS = 300_000
const CUT_QUIET_MS = 600_000
// Longest wait for one negentropy answer, and for a catch-up REQ's EOSE.
const ANSWER_MS = 15_000
const EOSE_MS = 60_000

/** The REQ filters of an entry: its kinds in chunks the upstream accepts, each with the entry's other conditions. */
export function mirrorFilters(entry: Pick<Entry, 'kinds' | 'filter'>, since?: number): Filter[] {
  const kinds = expandKinds(entry.kinds)
  const out: Filter[] = []
  const from = Math.max(since ?? 0, (entry.filter['since'] as number | undefined) ?? 0)
  for (let i = 0; i < kinds.length; i += KINDS_PER_FILTER)
    out.push({ ...entry.filter, kinds: kinds.slice(i, i + KINDS_PER_FILTER), ...(from > 0 ? { since: from } : {}) })
  return out
}

const compile = (f: Filter) => compileFilter(f, { maxValues: Number.MAX_SAFE_INTEGER }) as CompiledFilter

/** Starts mirroring every entry; returns at once (connections are made in the background). */
export function startMirrors(setup: MirrorSetup): Mirrors {
  const upstreams = setup.entries.map(e => startUpstream(setup, e))
  return {
    stats: () => upstreams.map(u => u.stats),
    close: () => upstreams.forEach(u => u.close()),
  }
}

function startUpstream(setup: MirrorSetup, entry: Entry) {
  const { rc, reads } = setup
  const url = entry.url
  const log = setup.log.child({ component: 'mirror', upstream: url })
  const stats: UpstreamStats = {
    url,
    stored: 0,
    duplicates: 0,
    refused: 0,
    garbage: 0,
    dropped: 0,
    cutoffs: 0,
    connects: 0,
    catchUps: 0,
    via: { negentropy: 0, req: 0 },
  }
  // What the upstream may send: the entry's filter, whatever `since` a REQ carries.
  const accepts = mirrorFilters(entry).map(compile)
  const budget = makeBuckets(entry.events_per_minute)
  const origin: Origin = { policyCtx: setup.policyCtx, hooks: () => rc.snapshot().policies.mirror, seenOn: url }
  // Per connection: whether it was cut off, its garbage count, events between the socket and the writer's verdict.
  let cut = false
  let garbage = 0
  let backlog = 0
  // The order its events reach the writer in, as a connection's (relay/protocol/on-event.ts).
  let before: Promise<void> = Promise.resolve()
  let cutWait = CUT_MIN_MS
  let lastCut = 0
  let live: { close(): void } | undefined
  let timer: NodeJS.Timeout | undefined
  let catchingUp = false
  let saidNoNeg = false
  let closed = false

  function cutOff(reason: string): void {
    if (cut || closed) return
    cut = true
    stats.cutoffs++
    const now = Date.now()
    if (now - lastCut > CUT_QUIET_MS) cutWait = CUT_MIN_MS
    lastCut = now
    log.warn(
      { reason, backoffMs: cutWait, stored: stats.stored, refused: stats.refused, garbage: stats.garbage },
      `mirror: cut off ${url} (${reason}); reconnecting in ${cutWait / 1000} s`,
    )
    client.drop(reason, cutWait)
    cutWait = Math.min(cutWait * 2, CUT_MAX_MS)
  }

  function junk(what: string): void {
    stats.garbage++
    if (++garbage > GARBAGE_LIMIT) cutOff(`more than ${GARBAGE_LIMIT} garbage frames, the last ${what}`)
  }

  /** One event from the upstream, live or fetched by a catch-up. */
  function take(e: unknown): void {
    if (cut || closed) return void stats.dropped++
    if (!budget.take(url, Date.now())) {
      stats.dropped++
      return cutOff(`over its budget of ${entry.events_per_minute} events per minute`)
    }
    if (backlog >= entry.max_backlog) {
      stats.dropped++
      return cutOff(`backlog of ${entry.max_backlog} events full`)
    }
    if (checkEventShape(e)) return junk('a malformed event')
    const ev = e as NostrEvent
    if (!accepts.some(f => matchFilter(f, ev))) return junk('an event outside the filter')
    const early = precheck(origin, ev)
    if (early) return void stats.refused++
    backlog++
    const next = Promise.resolve(checkAndAdmit(rc, origin, ev, before))
    before = next.then(() => undefined)
    void next
      .then(b => b.verdict)
      .then(v => {
        backlog--
        if (v.ok) return void (v.message === undefined ? stats.stored++ : stats.duplicates++)
        // A wrong id or signature is the upstream's doing; a refusal by the rules is the event's.
        if (v.rejection.prefix === 'invalid' && /signature|id /.test(v.rejection.reason)) junk('a forged event')
        else stats.refused++
      })
  }

  const handlers = { onevent: take }
  const client = new RelayClient(url, {
    log: line => log.info(`mirror: ${line}`),
    ongarbage: junk,
    onstate: open => (open ? connected() : disconnected()),
  })

  function since(): number | undefined {
    const at = reads.position(url)
    return at === undefined ? undefined : Math.max(0, at - MARGIN_S)
  }

  function connected(): void {
    stats.connects++
    cut = false
    garbage = 0
    live?.close()
    live = client.subscribe(mirrorFilters(entry, since()), {
      ...handlers,
      onclosed: reason => cutOff(`it closed the live subscription: ${reason}`),
    })
    void catchUp()
  }

  function disconnected(): void {
    // Not re-sent on reconnect: the next one starts from the position then.
    live?.close()
    live = undefined
  }

  // Fetches under way, ended at once by close().
  const fetching = new Set<() => void>()

  /** Fetches what `filters` match into `take`, until EOSE (at once when the connection is gone). */
  function fetch(filters: Filter[]): Promise<void> {
    if (closed || !client.isOpen) return Promise.resolve()
    return new Promise(resolve => {
      const t = setTimeout(done, EOSE_MS)
      const sub = client.subscribe(filters, { ...handlers, oneose: done, onclosed: done })
      fetching.add(done)
      function done() {
        clearTimeout(t)
        fetching.delete(done)
        sub.close()
        resolve()
      }
    })
  }

  async function negotiated(): Promise<boolean> {
    const info = await fetchRelayInfo(url).catch(() => undefined)
    if (info?.supportedNips.includes(77)) return true
    if (!saidNoNeg) log.info(`mirror: ${url} does not list NIP-77; catching up with a REQ since the position`)
    saidNoNeg = true
    return false
  }

  /** One catch-up over the entry's filters from the position (all of them the first time). */
  async function catchUp(): Promise<void> {
    if (catchingUp || closed) return
    catchingUp = true
    try {
      const filters = mirrorFilters(entry, since())
      let via: 'negentropy' | 'req' = (await negotiated()) ? 'negentropy' : 'req'
      for (const f of filters) {
        if (cut || closed || !client.isOpen) return
        if (via === 'negentropy') {
          try {
            const L = rc.snapshot().cfg.limits
            const local = setup.keys(compile(f), rc.now(), L.query_time_budget_ms, L.max_negentropy_records)
            const r = await reconcile(client, f, local, { answerMs: ANSWER_MS })
            for (let i = 0; i < r.need.length && !cut; i += IDS_PER_REQ)
              await fetch([{ ids: r.need.slice(i, i + IDS_PER_REQ) }])
            continue
          } catch (err) {
            if (closed || !client.isOpen) return
            log.info(`mirror: NIP-77 with ${url} failed (${(err as Error).message}); catching up with a REQ`)
            via = 'req'
          }
        }
        await fetch([f])
      }
      if (!cut && client.isOpen) {
        stats.catchUps++
        stats.via[via]++
      }
    } finally {
      catchingUp = false
    }
  }

  if (entry.catch_up_interval > 0) {
    timer = setInterval(() => void catchUp(), entry.catch_up_interval * 1000)
    timer.unref()
  }

  return {
    stats,
    close() {
      closed = true
      clearInterval(timer)
      client.close()
      for (const done of [...fetching]) done()
    },
  }
}
