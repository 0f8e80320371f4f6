// standing: how long one computation of standing and reputation takes on the writer (market/fold/standing.ts),
// on a store whose market tables hold N edges: trust declarations (20 %), paid customer -> provider pairs (70 %)
// and good reviews of paid jobs (10 %), with a payment per pair, attestations and reports besides. Each run times
// the first computation (every row written), one with nothing changed, and one after a new trust declaration (the
// rows whose bits moved written), each in its own transaction, as the writer runs it. No relay: the store is
// filled with SQL in a temp dir (removed after), and the computation runs in this process.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeMarket } from '../../market/fold.js'
import { openWriteDb, type Db } from '../../relay/store/db.js'
import { rng } from '../random.js'
import type { Ctx, Outcome } from '../scenario.js'
import { median, round, table } from '../stats.js'

export type StandingOptions = { edges: number; runs: number }

type Run = { firstMs: number; unchangedMs: number; oneTrustMs: number; rowsWritten: number; keysWithStanding: number }

const key = (i: number) => createHash('sha256').update(`key ${i}`).digest('hex')

/** Fills the market tables of `db` with a synthetic market of about `edges` edges; returns the roots. */
function fill(db: Db, edges: number, seed: number): string[] {
  const r = rng(seed)
  const keys = Array.from({ length: Math.max(200, Math.floor(edges / 4)) }, (_, i) => key(i))
  // A tenth of the keys are providers; customers and trusters are anyone.
  const provider = () => keys[r.int(keys.length / 10)]!
  const anyone = () => r.pick(keys)
  const q = {
    trust: db.prepare('INSERT OR IGNORE INTO market_trust (truster, trusted, id) VALUES (?, ?, ?)'),
    pair: db.prepare(
      `INSERT INTO market_pairs (provider, customer, delivered, paid, refunded, response_s) VALUES (?, ?, ?, ?, 0, 10)
       ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered, paid = paid + excluded.paid`,
    ),
    pay: db.prepare(
      "INSERT INTO market_payments (ref, via, evidence, provider, payer, job, msats, at) VALUES (?, 'zap', ?, ?, ?, NULL, ?, 0)",
    ),
    job: db.prepare(
      `INSERT INTO market_jobs (seq, id, customer, kind, bid_msats, targets, created_at, received_at, state, provider)
       VALUES (?, ?, ?, 5100, 1000, '[]', 0, 0, 'paid', ?)`,
    ),
    review: db.prepare(
      `INSERT OR IGNORE INTO market_reviews (job, job_seq, reviewer, id, reviewed, rating, role, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'customer', 0)`,
    ),
    attestation: db.prepare(
      'INSERT INTO market_attestations (id, attestor, subject, rating, confidence, at) VALUES (?, ?, ?, ?, 0.9, ?)',
    ),
    report: db.prepare('INSERT INTO market_reports (id, provider, reporter) VALUES (?, ?, ?)'),
  }
  let n = 0
  const id = () => key(-++n)
  db.transaction(() => {
    for (let i = 0; i < edges * 0.2; i++) q.trust.run(anyone(), anyone(), id())
    for (let i = 0; i < edges * 0.7; i++) {
      const [p, c] = [provider(), anyone()]
      q.pair.run(p, c, 1, 1)
      q.pay.run(id(), id(), p, c, 1000 + r.int(100_000))
    }
    for (let i = 0; i < edges * 0.1; i++) {
      const [p, c, job] = [provider(), anyone(), id()]
      q.job.run(n, job, c, p)
      q.review.run(job, n, c, id(), p, 4 + r.int(2))
    }
    for (let i = 0; i < edges * 0.05; i++) q.attestation.run(id(), anyone(), provider(), 1 + r.next() * 4, n)
    for (let i = 0; i < edges * 0.01; i++) q.report.run(id(), provider(), anyone())
  }).immediate()
  return keys.slice(0, 10)
}

/** Milliseconds one computation takes, in a transaction of its own, as the writer runs it. */
function timed(db: Db, compute: () => void): number {
  const started = performance.now()
  db.transaction(compute).immediate()
  return performance.now() - started
}

export async function standing(ctx: Ctx, o: StandingOptions): Promise<Outcome> {
  const runs: Run[] = []
  for (let r = 0; r < o.runs; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'agora-bench-standing-'))
    try {
      const db = openWriteDb(join(dir, 'agora.sqlite'), 'full')
      const roots = fill(db, o.edges, ctx.seed + r)
      ctx.log(`run ${r + 1}: ${o.edges} edges filled`)
      const market = makeMarket(db)
      const rules = { roots, poolShare: 0.01, intervalMs: 0 }
      const firstMs = timed(db, () => market.computeStanding(rules))
      const unchangedMs = timed(db, () => market.computeStanding(rules))
      db.prepare('INSERT INTO market_trust (truster, trusted, id) VALUES (?, ?, ?)').run(roots[0], key(11), key(-1e9))
      const changes = db.prepare('SELECT total_changes()').pluck()
      const before = changes.get() as number
      const oneTrustMs = timed(db, () => market.computeStanding(rules))
      const rowsWritten = (changes.get() as number) - before
      const keysWithStanding = db.prepare('SELECT COUNT(*) FROM market_standing').pluck().get() as number
      db.close()
      runs.push({ firstMs, unchangedMs, oneTrustMs, rowsWritten, keysWithStanding })
      ctx.log(
        `run ${r + 1}: first ${round(firstMs)} ms, unchanged ${round(unchangedMs)} ms, one trust ${round(oneTrustMs)} ms`,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const med = (k: keyof Run) => round(median(runs.map(x => x[k])))
  const summary = {
    firstMs: med('firstMs'),
    unchangedMs: med('unchangedMs'),
    oneTrustMs: med('oneTrustMs'),
    rowsWritten: med('rowsWritten'),
    keysWithStanding: med('keysWithStanding'),
  }
  return {
    results: {
      runs: runs.map(x => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round(v)]))),
      median: summary,
    },
    table: table(
      ['edges', 'first (ms)', 'unchanged (ms)', 'after one trust (ms)', 'rows written', 'keys with standing'],
      [
        [
          String(o.edges),
          summary.firstMs,
          summary.unchangedMs,
          summary.oneTrustMs,
          summary.rowsWritten,
          summary.keysWithStanding,
        ],
      ],
    ),
  }
}
