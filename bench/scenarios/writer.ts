// writer: the store's writer alone (relay/writer.ts over relay/store/writes.ts, synchronous = full, the market's fold
// on, as the relay runs it), fed the ingest corpus in batches of each given size, on a fresh store per run in a temp
// dir. Reports events/s and the WAL written per event: with checkpoints left to nobody, the WAL's size at the end is
// every page each commit wrote, a figure the machine's load does not move. No relay, no --url.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../config/load.js'
import { marketRules } from '../../market/fold.js'
import type { VerifiedEvent } from '../../nips/nip01.js'
import { openWriteDb } from '../../relay/store/db.js'
import { createWriter } from '../../relay/writer.js'
import { ownTempDir } from '../cleanup.js'
import { ensureCorpus, readCorpusLines } from '../corpus.js'
import type { Ctx, Outcome } from '../scenario.js'
import { median, round, table } from '../stats.js'

export type WriterOptions = { events: number; batches: readonly number[]; runs: number; mix: 'market' | 'notes' }

type Row = { batch: number; eventsPerSec: number; walKbPerEvent: number; commits: number }

/** One run: every event written in batches of `batch`, on a fresh store, the market's fold on its default rules. */
async function once(lines: readonly string[], batch: number) {
  const { dir, remove } = ownTempDir('agora-bench-writer-')
  try {
    const file = join(dir, 'agora.sqlite')
    let commits = 0
    const writer = createWriter(openWriteDb(file, 'full', false), {
      batchMax: batch,
      market: marketRules(loadConfig({ env: {} }), '0'.repeat(64)),
      onCommit: () => void commits++,
    })
    const events = lines.map(l => JSON.parse(l) as VerifiedEvent)
    const started = performance.now()
    for (let i = 0; i < lines.length; i += batch) {
      const outcomes = await Promise.all(lines.slice(i, i + batch).map((l, j) => writer.enqueue(events[i + j]!, l)))
      const refused = outcomes.find(o => o.status !== 'saved')
      if (refused) throw new Error(`the writer did not save event ${i}: ${JSON.stringify(refused)}`)
    }
    const seconds = (performance.now() - started) / 1000
    const wal = statSync(`${file}-wal`).size
    await writer.close()
    return { eventsPerSec: lines.length / seconds, walKbPerEvent: wal / 1024 / lines.length, commits }
  } finally {
    remove()
  }
}

export async function writer(ctx: Ctx, o: WriterOptions): Promise<Outcome> {
  const shape = {
    name: o.mix === 'notes' ? 'ingest-notes' : 'ingest',
    notesOnly: o.mix === 'notes',
    n: o.events,
    seed: ctx.seed,
    customers: 1000,
    providers: 50,
    span: 86_400,
  }
  const lines = await readCorpusLines(await ensureCorpus(ctx.cacheDir, shape, ctx.log))
  const runs = new Map(o.batches.map(b => [b, [] as Awaited<ReturnType<typeof once>>[]]))
  for (let r = 0; r < o.runs; r++)
    // The batch sizes take turns, the order reversed each round, so a neighbour's load falls on all of them alike.
    for (const b of r % 2 ? [...o.batches].reverse() : o.batches) {
      const run = await once(lines, b)
      runs.get(b)!.push(run)
      ctx.log(
        `round ${r + 1}, batch ${b}: ${round(run.eventsPerSec)} events/s, ${round(run.walKbPerEvent)} KiB of WAL an event`,
      )
    }
  const rows: Row[] = o.batches.map(b => {
    const rs = runs.get(b)!
    return {
      batch: b,
      eventsPerSec: round(median(rs.map(x => x.eventsPerSec))),
      walKbPerEvent: round(median(rs.map(x => x.walKbPerEvent))),
      commits: rs[0]!.commits,
    }
  })
  return {
    results: { rows },
    table: table(
      ['batch', 'events/s (median)', 'WAL KiB per event', 'commits'],
      rows.map(r => [r.batch, r.eventsPerSec, r.walKbPerEvent, r.commits]),
    ),
  }
}
