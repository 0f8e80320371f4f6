// query: a store of N events (a month of market traffic and notes, Zipf-distributed authors), then a fixed set
// of REQ shapes, K times each with varying values, one at a time; reports REQ -> EOSE latency per shape and
// checks each result count against the corpus.
//
// A local store is filled with `agora import --no-verify` before the relay starts (loading 1M events over
// WebSocket would take far longer than the queries). With --url the relay must already hold this corpus, or
// --load publishes it over WebSocket first.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { closeAll, connect, connectMany, countEvents, eventFrames, publishAll, timeQuery } from '../client.js'
import { eachCorpusEvent, ensureCorpus, lineId, readCorpusLines, type CorpusShape } from '../corpus.js'
import { rng, type Rng } from '../random.js'
import { MB, type Ctx, type Outcome } from '../scenario.js'
import { percentile, round, table } from '../stats.js'
import { meter, runAgora, type Overrides, type Target, type Usage } from '../target.js'
import { ownTempDir } from '../cleanup.js'

export type QueryOptions = { events: number; queries: number; data: string | undefined; load: boolean }

const LIMIT = 500
/** COUNT {} requests in the stall phase. */
const HEAVY_COUNTS = 5
const DAY = 86_400

/** What the harness keeps of the corpus to choose queries and know their answers: one slot per event. */
export type CorpusIndex = {
  readonly n: number
  readonly kind: Uint16Array
  readonly created: Uint32Array
  /** Index into `values` of the author, and of the first e and p tag values (-1: none). */
  readonly author: Int32Array
  readonly e: Int32Array
  readonly p: Int32Array
  readonly values: string[]
  /** Ids of the events at the sampled positions. */
  readonly ids: Map<number, string>
}

/** Reads a corpus into a CorpusIndex, keeping the ids at `sample` positions. */
export async function indexCorpus(file: string, n: number, sample: ReadonlySet<number>): Promise<CorpusIndex> {
  const values: string[] = []
  const interned = new Map<string, number>()
  const intern = (v: string | undefined) => {
    if (v === undefined) return -1
    let i = interned.get(v)
    if (i === undefined) interned.set(v, (i = values.push(v) - 1))
    return i
  }
  const ix: CorpusIndex = {
    n,
    kind: new Uint16Array(n),
    created: new Uint32Array(n),
    author: new Int32Array(n),
    e: new Int32Array(n),
    p: new Int32Array(n),
    values,
    ids: new Map(),
  }
  const read = await eachCorpusEvent(file, (ev, i) => {
    ix.kind[i] = ev.kind
    ix.created[i] = ev.created_at
    ix.author[i] = intern(ev.pubkey)
    ix.e[i] = intern(ev.tags.find(t => t[0] === 'e')?.[1])
    ix.p[i] = intern(ev.tags.find(t => t[0] === 'p')?.[1])
    if (sample.has(i)) ix.ids.set(i, ev.id)
  })
  if (read !== n) throw new Error(`${file} has ${read} events, expected ${n}`)
  return ix
}

type Query = { filter: Record<string, unknown>; expected: number }

/** Counts events matching `pred`, stopping at the limit like the relay does. */
function count(ix: CorpusIndex, pred: (i: number) => boolean, limit = LIMIT): number {
  let c = 0
  for (let i = 0; i < ix.n && c < limit; i++) if (pred(i)) c++
  return c
}

/** A random position whose event satisfies `pred`. */
function pickWhere(ix: CorpusIndex, r: Rng, pred: (i: number) => boolean, what: string): number {
  for (let tries = 0; tries < 100_000; tries++) {
    const i = r.int(ix.n)
    if (pred(i)) return i
  }
  throw new Error(`the corpus has no ${what}`)
}

/** The REQ shapes: each makes a query with its expected result count (the corpus has one e and one p at most). */
export const SHAPES: readonly { name: string; make(ix: CorpusIndex, r: Rng, j: number): Query }[] = [
  {
    name: 'by id',
    make: (ix, _r, j) => ({ filter: { ids: [[...ix.ids.values()][j % ix.ids.size]] }, expected: 1 }),
  },
  {
    name: 'authors+kinds',
    make(ix, r) {
      const a = ix.author[pickWhere(ix, r, i => ix.kind[i] === 1, 'note')]!
      return {
        filter: { authors: [ix.values[a]], kinds: [1], limit: LIMIT },
        expected: count(ix, i => ix.author[i] === a && ix.kind[i] === 1),
      }
    },
  },
  {
    name: '#e',
    make(ix, r) {
      const e = ix.e[pickWhere(ix, r, i => ix.e[i]! >= 0, 'e tag')]!
      return { filter: { '#e': [ix.values[e]], limit: LIMIT }, expected: count(ix, i => ix.e[i] === e) }
    },
  },
  {
    name: '#p+kinds',
    make(ix, r) {
      const p = ix.p[pickWhere(ix, r, i => ix.kind[i] === 7000 && ix.p[i]! >= 0, 'feedback')]!
      return {
        filter: { '#p': [ix.values[p]], kinds: [7000], limit: LIMIT },
        expected: count(ix, i => ix.p[i] === p && ix.kind[i] === 7000),
      }
    },
  },
  {
    name: 'kinds+since',
    make(ix, r) {
      // Since a moment in the newest day: a client catching up on notes.
      const newest = ix.created[ix.n - 1]!
      const since = newest - r.int(DAY)
      return {
        filter: { kinds: [1], since, limit: LIMIT },
        expected: count(ix, i => ix.kind[i] === 1 && ix.created[i]! >= since),
      }
    },
  },
  { name: '{} limit 500', make: ix => ({ filter: { limit: LIMIT }, expected: Math.min(ix.n, LIMIT) }) },
]

export type ShapeResult = {
  shape: string
  example: Record<string, unknown>
  queries: number
  p50Ms: number
  p99Ms: number
  meanResults: number
  /** Queries whose result count differs from the corpus' answer. */
  wrongCounts: number
  /** Queries refused with CLOSED. */
  refused: number
  firstRefusal?: string
}

export type ProbeResult = { probes: number; p50Ms: number; p99Ms: number; maxMs: number }

/**
 * Runs `work` while a second connection sends a REQ by id every 10 ms: how long any other client waits
 * while the work's queries run (DESIGN §9: no query may stall other connections for more than 50 ms).
 */
async function probeDuring<T>(url: string, id: string, timeoutMs: number, work: () => Promise<T>) {
  const ws = await connect(url)
  const times: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      times.push((await timeQuery(ws, [{ ids: [id] }], timeoutMs)).ms)
      await new Promise(r => setTimeout(r, 10))
    }
  })()
  try {
    const result = await work()
    return { result, probe: summarizeProbe(times) }
  } finally {
    running = false
    await loop
    await closeAll([ws])
  }
}

const summarizeProbe = (times: number[]): ProbeResult => {
  const a = Float64Array.from(times)
  return {
    probes: a.length,
    p50Ms: round(percentile(a, 50)),
    p99Ms: round(percentile(a, 99)),
    maxMs: round(a.length ? Math.max(...a) : NaN),
  }
}

/** Publishes the corpus over WebSocket in slices (for --url --load). */
async function loadOverWire(ctx: Ctx, url: string, file: string, n: number): Promise<void> {
  const sockets = (await connectMany(url, 4)).sockets
  try {
    for (let from = 0; from < n; from += 50_000) {
      const lines = await readCorpusLines(file, from, 50_000)
      const rep = await publishAll(sockets, eventFrames(lines), lines.map(lineId), 64, ctx.timeoutMs)
      ctx.log(
        `  loaded ${from + lines.length}/${n} (${rep.refused} refused${rep.firstRefusal ? `: ${rep.firstRefusal}` : ''})`,
      )
    }
  } finally {
    await closeAll(sockets)
  }
}

/**
 * The relay holding the corpus. Local: `agora import` into the data dir unless a marker file says it already
 * holds this corpus, then start agora on it. Remote: publish it first with --load, or assume it is there.
 */
export async function prepareStore(
  ctx: Ctx,
  o: Pick<QueryOptions, 'events' | 'data' | 'load'>,
  file: string,
  overrides?: Overrides,
): Promise<{ target: Target; loadSeconds: number | undefined; cleanup(): void }> {
  const n = o.events
  if (!ctx.local) {
    const target = await ctx.relay()
    if (!o.load) {
      ctx.log(`assuming ${target.url} already holds ${file} (use --load to publish it first)`)
      return { target, loadSeconds: undefined, cleanup() {} }
    }
    ctx.log(`publishing ${n} events to ${target.url}`)
    const t0 = performance.now()
    await loadOverWire(ctx, target.url, file, n)
    return { target, loadSeconds: (performance.now() - t0) / 1000, cleanup() {} }
  }
  const temp = o.data === undefined ? ownTempDir('agora-bench-query-') : undefined
  const dataDir = o.data ?? temp!.dir
  const cleanup = () => temp?.remove()
  try {
    let loadSeconds: number | undefined
    const marker = join(dataDir, 'bench-corpus.txt')
    if (existsSync(marker) && readFileSync(marker, 'utf8') === basename(file))
      ctx.log(`reusing the store in ${dataDir}`)
    else {
      if (existsSync(join(dataDir, 'agora.sqlite')))
        throw new Error(`${dataDir} holds another store; give --data an empty or bench-made directory`)
      ctx.log(`importing ${n} events into ${dataDir} (agora import --no-verify)`)
      const t0 = performance.now()
      // A large import takes minutes (about 1,000-2,000 events/s on a 2-core machine): bound it by size.
      const bound = Math.max(ctx.timeoutMs, n * 5)
      const stderr = await runAgora(['import', file, '--data', dataDir, '--no-verify'], ctx.overrides, bound)
      loadSeconds = (performance.now() - t0) / 1000
      const saved = Number(/imported (\d+)/.exec(stderr)?.[1])
      if (saved !== n) throw new Error(`agora import saved ${saved} of ${n} events: ${stderr.slice(-500)}`)
      writeFileSync(marker, basename(file))
      ctx.log(`  imported in ${loadSeconds.toFixed(1)} s`)
    }
    return { target: await ctx.relay({ dataDir, overrides }), loadSeconds, cleanup }
  } catch (err) {
    cleanup()
    throw err
  }
}

/** The query corpus of `n` events (the negentropy scenario reads the same one, and so the same cached store). */
export function queryShape(n: number, seed: number): CorpusShape {
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(x)))
  return {
    name: 'query',
    n,
    seed,
    customers: clamp(n / 200, 50, 5000),
    providers: clamp(n / 5000, 10, 200),
    span: 30 * DAY,
  }
}

export async function query(ctx: Ctx, o: QueryOptions): Promise<Outcome> {
  const n = o.events
  const file = await ensureCorpus(ctx.cacheDir, queryShape(n, ctx.seed), ctx.log)
  const r = rng(ctx.seed + 2)
  const sample = new Set(Array.from({ length: o.queries + 1 }, () => r.int(n)))
  ctx.log(`indexing ${file}`)
  const ix = await indexCorpus(file, n, sample)

  const { target, loadSeconds, cleanup } = await prepareStore(ctx, o, file)
  // Every query and its expected count are chosen before timing starts (counting scans the whole index).
  const planned = SHAPES.map(s => ({
    name: s.name,
    warmUp: s.make(ix, r, o.queries),
    queries: Array.from({ length: o.queries }, (_, j) => s.make(ix, r, j)),
  }))
  const shapes: ShapeResult[] = []
  let usage: Usage = { cpuPercent: NaN, peakRssBytes: NaN, clientCpuPercent: NaN }
  const probeId = [...ix.ids.values()][0]!
  let shapesProbe: ProbeResult | undefined
  let heavy: { countMs: number[]; probe: ProbeResult } | undefined
  try {
    const ws = await connect(target.url)
    const m = meter(target.pid)
    m.start()
    try {
      shapesProbe = (
        await probeDuring(target.url, probeId, ctx.timeoutMs, async () => {
          for (const s of planned) {
            await timeQuery(ws, [s.warmUp.filter], ctx.timeoutMs) // not counted
            const times = new Float64Array(o.queries)
            const res: ShapeResult = {
              shape: s.name,
              example: s.queries[0]!.filter,
              queries: o.queries,
              p50Ms: 0,
              p99Ms: 0,
              meanResults: 0,
              wrongCounts: 0,
              refused: 0,
            }
            let results = 0
            for (const [j, q] of s.queries.entries()) {
              const got = await timeQuery(ws, [q.filter], ctx.timeoutMs)
              times[j] = got.ms
              results += got.events
              if (got.closed) {
                res.refused++
                res.firstRefusal ??= got.closed
              } else if (got.events !== q.expected) res.wrongCounts++
            }
            res.p50Ms = round(percentile(times, 50))
            res.p99Ms = round(percentile(times, 99))
            res.meanResults = round(results / o.queries)
            shapes.push(res)
            ctx.log(`${s.name}: p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms`)
          }
        })
      ).probe
      // The heaviest read a client can ask for: COUNT of everything visits every stored event.
      const counted = await probeDuring(target.url, probeId, ctx.timeoutMs, async () => {
        const ms: number[] = []
        for (let i = 0; i < HEAVY_COUNTS; i++) ms.push(round((await countEvents(ws, {}, ctx.timeoutMs)).ms))
        return ms
      })
      heavy = { countMs: counted.result, probe: counted.probe }
      ctx.log(
        `other clients' REQ by id: p99 ${shapesProbe.p99Ms} ms (max ${shapesProbe.maxMs}) during the shapes, ` +
          `p99 ${heavy.probe.p99Ms} ms (max ${heavy.probe.maxMs}) during COUNT {} (${heavy.countMs.join(', ')} ms each)`,
      )
    } finally {
      usage = m.stop()
      await closeAll([ws])
    }
  } finally {
    await target.close()
    cleanup()
  }
  const probeRow = (label: string, p: ProbeResult | undefined) => [
    label,
    p?.probes ?? 0,
    p?.p50Ms ?? NaN,
    p?.p99Ms ?? NaN,
    `max ${p?.maxMs}`,
    '-',
    '-',
  ]
  return {
    results: {
      corpus: file,
      events: n,
      loadSeconds: loadSeconds === undefined ? null : round(loadSeconds),
      loadEventsPerSec: loadSeconds === undefined ? null : round(n / loadSeconds),
      queriesPerShape: o.queries,
      shapes,
      probeDuringShapes: shapesProbe ?? null,
      heavyCount: heavy ?? null,
      serverCpuPercent: round(usage.cpuPercent),
      serverPeakRssMb: round(usage.peakRssBytes / MB),
      clientCpuPercent: round(usage.clientCpuPercent),
    },
    table: table(
      ['query shape', 'queries', 'p50 ms', 'p99 ms', 'mean results', 'wrong counts', 'refused'],
      [
        ...shapes.map(s => [s.shape, s.queries, s.p50Ms, s.p99Ms, s.meanResults, s.wrongCounts, s.refused]),
        probeRow('probe, during shapes', shapesProbe),
        probeRow('probe, during COUNT {}', heavy?.probe),
      ],
    ),
  }
}
