// fanout: S subscriptions with overlapping filters (kinds, authors, #p and mixes), spread over S / subs-per-conn
// connections, receive what publishers send as fast as the relay answers. R runs of E fresh events each;
// reports deliveries/s and delivery latency (EVENT sent by the publisher -> EVENT received by a subscriber,
// both timed in this process), checking the delivery count against what the filters select.
import type { Filter } from 'nostr-tools/filter'
import { matchFilter } from 'nostr-tools/filter'
import type { NostrEvent } from '../../nips/nip01.js'
import {
  closeAll,
  connectMany,
  EVENT_PREFIX_BYTES,
  eventFrames,
  eventIds,
  publishAll,
  text,
  type WebSocket,
} from '../client.js'
import { ensureCorpus, readCorpusLines } from '../corpus.js'
import { rng, type Rng } from '../random.js'
import { MB, until, type Ctx, type Outcome } from '../scenario.js'
import { percentile, round, summarizeRuns, table } from '../stats.js'
import { meter } from '../target.js'

export type FanoutOptions = {
  subscribers: number
  subsPerConn: number
  events: number
  publishers: number
  window: number
  runs: number
}

export type FanoutRun = {
  events: number
  accepted: number
  deliveries: number
  expectedDeliveries: number
  /** EVENT frames for events not published in this run (left over, or a stored event sent despite limit 0). */
  unexpected: number
  /** Subscriptions that got more or fewer events than their filter selects. */
  mismatchedSubs: number
  seconds: number
  deliveriesPerSec: number
  latencyP50Ms: number
  latencyP99Ms: number
  serverCpuPercent: number
  serverPeakRssMb: number
  /** The load generator's own CPU use, to show it was not the bottleneck. */
  clientCpuPercent: number
}

const SETTLE_MS = 3000

/**
 * Filters that overlap the way follows do: by kind, by a few authors, by #p, kind + #p, kinds + author.
 * Values are drawn from the corpus weighted by how often they occur (active authors get more followers).
 * `limit: 0` asks for live events only.
 */
export function fanoutFilters(events: readonly NostrEvent[], count: number, r: Rng): Filter[] {
  const tagged = events.filter(e => e.tags.some(t => t[0] === 'p'))
  const p = (e: NostrEvent) => e.tags.find(t => t[0] === 'p')![1]!
  return Array.from({ length: count }, (_, i) => {
    const e = r.pick(events)
    const t = r.pick(tagged)
    switch (i % 5) {
      case 0:
        return { kinds: [e.kind], limit: 0 }
      case 1:
        return { authors: [e.pubkey, r.pick(events).pubkey, r.pick(events).pubkey], limit: 0 }
      case 2:
        return { '#p': [p(t), p(r.pick(tagged))], limit: 0 }
      case 3:
        return { kinds: [t.kind], '#p': [p(t)], limit: 0 }
      default:
        return { kinds: [e.kind, r.pick(events).kind], authors: [e.pubkey], limit: 0 }
    }
  })
}

type Live = {
  index: Map<string, number>
  sentAt: Float64Array
  perSub: Int32Array
  latencies: Float64Array
  deliveries: number
  unexpected: number
  lastAt: number
}

export async function fanout(ctx: Ctx, o: FanoutOptions): Promise<Outcome> {
  const shape = { name: 'fanout', n: o.events * o.runs, seed: ctx.seed, customers: 200, providers: 20, span: 3600 }
  const file = await ensureCorpus(ctx.cacheDir, shape, ctx.log)
  const lines = await readCorpusLines(file)
  const events = lines.map(l => JSON.parse(l) as NostrEvent)
  const frames = eventFrames(lines)
  const filters = fanoutFilters(events, o.subscribers, rng(ctx.seed + 1))
  const conns = Math.ceil(o.subscribers / o.subsPerConn)
  const overrides: Record<string, string> =
    o.subsPerConn > 20 ? { 'limits.max_subscriptions': String(o.subsPerConn) } : {}
  const target = await ctx.relay({ overrides })
  const runs: FanoutRun[] = []
  let subscribers: WebSocket[] = []
  let publishers: WebSocket[] = []
  try {
    const opened = await connectMany(target.url, conns)
    subscribers = opened.sockets
    if (opened.failed) throw new Error(`could not open ${opened.failed} subscriber connections: ${opened.firstError}`)
    let live: Live | undefined
    let eose = 0
    let closed: string | undefined
    subscribers.forEach(ws =>
      ws.on('message', (data: WebSocket.RawData) => {
        const prefix = text(data, EVENT_PREFIX_BYTES)
        const ev = eventIds(prefix, () => text(data))
        if (ev) {
          const at = performance.now()
          const i = live?.index.get(ev.id)
          if (!live || i === undefined) {
            if (live) live.unexpected++
            return
          }
          live.perSub[Number(ev.subId.slice(1))]!++
          if (live.deliveries < live.latencies.length) live.latencies[live.deliveries] = at - live.sentAt[i]!
          live.deliveries++
          live.lastAt = at
        } else if (prefix.startsWith('["EOSE"')) eose++
        else if (prefix.startsWith('["CLOSED"')) closed ??= text(data)
      }),
    )
    filters.forEach((f, s) => subscribers[Math.floor(s / o.subsPerConn)]!.send(JSON.stringify(['REQ', `s${s}`, f])))
    await until(() => eose >= o.subscribers || closed !== undefined, ctx.timeoutMs, 'EOSE')
    if (closed) throw new Error(`the relay refused a subscription: ${closed}`)
    const pub = await connectMany(target.url, o.publishers)
    publishers = pub.sockets
    if (pub.failed) throw new Error(`could not open publisher connections: ${pub.firstError}`)

    for (let r = 0; r < o.runs; r++) {
      const from = r * o.events
      const batch = events.slice(from, from + o.events)
      const perSubExpected = filters.map(f => batch.reduce((n, e) => n + (matchFilter(f, e) ? 1 : 0), 0))
      const expected = perSubExpected.reduce((a, b) => a + b, 0)
      const index = new Map(batch.map((e, i) => [e.id, i]))
      const state: Live = {
        index,
        sentAt: new Float64Array(batch.length),
        perSub: new Int32Array(o.subscribers),
        latencies: new Float64Array(expected),
        deliveries: 0,
        unexpected: 0,
        lastAt: 0,
      }
      live = state
      const m = meter(target.pid)
      m.start()
      const rep = await publishAll(
        publishers,
        frames.slice(from, from + o.events),
        batch.map(e => e.id),
        o.window,
        ctx.timeoutMs,
        (i, at) => (state.sentAt[i] = at),
      )
      // Deliveries may trail the last OK; wait until all arrived or nothing came for a while.
      await until(
        () => state.deliveries >= expected || performance.now() - Math.max(state.lastAt, rep.endMs) > SETTLE_MS,
        ctx.timeoutMs,
        'deliveries',
      ).catch(() => {})
      const usage = m.stop()
      live = undefined
      const seconds = (Math.max(state.lastAt, rep.endMs) - rep.startMs) / 1000
      const run: FanoutRun = {
        events: batch.length,
        accepted: rep.accepted,
        deliveries: state.deliveries,
        expectedDeliveries: expected,
        unexpected: state.unexpected,
        mismatchedSubs: perSubExpected.filter((n, s) => state.perSub[s] !== n).length,
        seconds: round(seconds),
        deliveriesPerSec: round(state.deliveries / seconds),
        latencyP50Ms: round(percentile(state.latencies, 50, Math.min(state.deliveries, expected))),
        latencyP99Ms: round(percentile(state.latencies, 99, Math.min(state.deliveries, expected))),
        serverCpuPercent: round(usage.cpuPercent),
        serverPeakRssMb: round(usage.peakRssBytes / MB),
        clientCpuPercent: round(usage.clientCpuPercent),
      }
      runs.push(run)
      ctx.log(
        `run ${r + 1}/${o.runs}: ${run.deliveries}/${expected} deliveries in ${run.seconds} s = ${run.deliveriesPerSec}/s`,
      )
      if (rep.accepted !== batch.length)
        ctx.log(`  only ${rep.accepted} of ${batch.length} events accepted (${rep.firstRefusal ?? 'duplicates'})`)
    }
  } finally {
    await closeAll([...subscribers, ...publishers])
    await target.close()
  }
  const summary = summarizeRuns(runs, [
    'deliveriesPerSec',
    'latencyP50Ms',
    'latencyP99Ms',
    'serverCpuPercent',
    'clientCpuPercent',
  ] as const)
  type Figures = Pick<
    FanoutRun,
    'deliveriesPerSec' | 'latencyP50Ms' | 'latencyP99Ms' | 'serverCpuPercent' | 'clientCpuPercent' | 'serverPeakRssMb'
  >
  const row = (label: string, r: Figures, n?: FanoutRun) => [
    label,
    n?.events,
    n?.deliveries,
    n?.expectedDeliveries,
    n?.seconds,
    r.deliveriesPerSec,
    r.latencyP50Ms,
    r.latencyP99Ms,
    r.serverCpuPercent,
    r.clientCpuPercent,
    r.serverPeakRssMb,
  ]
  const rows = [...runs.map((r, i) => row(`run ${i + 1}`, r, r)), row('median', summary)]
  return {
    results: {
      corpus: file,
      subscribers: o.subscribers,
      subscriberConnections: conns,
      publishers: o.publishers,
      eventsPerRun: o.events,
      runs,
      median: summary,
    },
    table:
      table(
        [
          'fanout',
          'events',
          'deliveries',
          'expected',
          's',
          'deliveries/s',
          'p50 ms',
          'p99 ms',
          'server cpu %',
          'client cpu %',
          'peak RSS MB',
        ],
        rows,
      ) + '\n(latency: publisher EVENT sent -> subscriber EVENT received; median row: medians, peak RSS: the highest)',
  }
}
