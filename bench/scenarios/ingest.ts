// ingest: C connections publish pre-signed unique events, W unanswered per connection, as fast as the relay
// answers. R runs, each on its own N fresh events; reports accepted events/s, OK latency and server CPU/RSS.
import { closeAll, connectMany, eventFrames, publishAll } from '../client.js'
import { ensureCorpus, lineId, readCorpusLines } from '../corpus.js'
import { MB, type Ctx, type Outcome } from '../scenario.js'
import { percentile, round, summarizeRuns, table } from '../stats.js'
import { meter } from '../target.js'

export type IngestOptions = {
  events: number
  connections: number
  window: number
  runs: number
  /** The corpus: the market's mix, or kind-1 notes only (what generic relay benchmarks send). */
  mix: 'market' | 'notes'
}

export type IngestRun = {
  sent: number
  accepted: number
  duplicates: number
  refused: number
  firstRefusal?: string
  seconds: number
  eventsPerSec: number
  okP50Ms: number
  okP99Ms: number
  serverCpuPercent: number
  serverPeakRssMb: number
  /** The load generator's own CPU use, to show it was not the bottleneck. */
  clientCpuPercent: number
}

export async function ingest(ctx: Ctx, o: IngestOptions): Promise<Outcome> {
  const shape = {
    name: o.mix === 'notes' ? 'ingest-notes' : 'ingest',
    notesOnly: o.mix === 'notes',
    n: o.events * o.runs,
    seed: ctx.seed,
    customers: 1000,
    providers: 50,
    span: 86_400,
  }
  const file = await ensureCorpus(ctx.cacheDir, shape, ctx.log)
  const lines = await readCorpusLines(file)
  const frames = eventFrames(lines)
  const ids = lines.map(lineId)
  const target = await ctx.relay()
  const runs: IngestRun[] = []
  try {
    for (let r = 0; r < o.runs; r++) {
      const from = r * o.events
      const { sockets, failed, firstError } = await connectMany(target.url, o.connections)
      if (failed) throw new Error(`could not open ${failed} of ${o.connections} connections: ${firstError}`)
      const m = meter(target.pid)
      m.start()
      const rep = await publishAll(
        sockets,
        frames.slice(from, from + o.events),
        ids.slice(from, from + o.events),
        o.window,
        ctx.timeoutMs,
      )
      const usage = m.stop()
      await closeAll(sockets)
      const seconds = (rep.endMs - rep.startMs) / 1000
      const run: IngestRun = {
        sent: rep.sent,
        accepted: rep.accepted,
        duplicates: rep.duplicates,
        refused: rep.refused,
        ...(rep.firstRefusal !== undefined ? { firstRefusal: rep.firstRefusal } : {}),
        seconds: round(seconds),
        eventsPerSec: round(rep.accepted / seconds),
        okP50Ms: round(percentile(rep.latencies, 50)),
        okP99Ms: round(percentile(rep.latencies, 99)),
        serverCpuPercent: round(usage.cpuPercent),
        serverPeakRssMb: round(usage.peakRssBytes / MB),
        clientCpuPercent: round(usage.clientCpuPercent),
      }
      runs.push(run)
      ctx.log(`run ${r + 1}/${o.runs}: ${run.accepted} accepted in ${run.seconds} s = ${run.eventsPerSec} events/s`)
      if (rep.duplicates) ctx.log(`  ${rep.duplicates} duplicates: the relay already had them (try another --seed)`)
      if (rep.refused) ctx.log(`  ${rep.refused} refused, first: ${rep.firstRefusal}`)
    }
  } finally {
    await target.close()
  }
  const summary = summarizeRuns(runs, [
    'eventsPerSec',
    'okP50Ms',
    'okP99Ms',
    'serverCpuPercent',
    'clientCpuPercent',
  ] as const)
  type Figures = Pick<
    IngestRun,
    'eventsPerSec' | 'okP50Ms' | 'okP99Ms' | 'serverCpuPercent' | 'clientCpuPercent' | 'serverPeakRssMb'
  >
  const row = (label: string, r: Figures, n?: IngestRun) => [
    label,
    n?.accepted,
    n && n.refused + n.duplicates,
    n?.seconds,
    r.eventsPerSec,
    r.okP50Ms,
    r.okP99Ms,
    r.serverCpuPercent,
    r.clientCpuPercent,
    r.serverPeakRssMb,
  ]
  const rows = [...runs.map((r, i) => row(`run ${i + 1}`, r, r)), row('median', summary)]
  return {
    results: { corpus: file, eventsPerRun: o.events, runs, median: summary },
    table:
      table(
        [
          'ingest',
          'accepted',
          'not accepted',
          's',
          'events/s',
          'OK p50 ms',
          'OK p99 ms',
          'server cpu %',
          'client cpu %',
          'peak RSS MB',
        ],
        rows,
      ) + '\n(median row: medians of the runs, except peak RSS: the highest)',
  }
}
