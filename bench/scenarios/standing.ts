// standing: how long one computation of standing and reputation takes (market/fold/standing.ts) on a store whose
// market tables hold N edges: trust declarations (20 %), paid customer -> provider pairs (70 %)
// and good reviews of paid jobs (10 %), with a payment per pair, attestations and reports besides. Each run times
// the first computation (every row written), one with nothing changed, and one after a new trust declaration,
// each in two parts as the relay runs them: reading and computing in one read transaction (the publisher
// thread's work) and writing the rows that changed (the writer's). No relay: the store is filled with SQL in a
// temp dir (removed after), and both parts run in this process.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { makeMarket, type Market, type StandingRules } from '../../market/fold.js'
import { makeStandingReader } from '../../market/fold/standing.js'
import { openWriteDb, type Db } from '../../relay/store/db.js'
import { rng } from '../random.js'
import type { Ctx, Outcome } from '../scenario.js'
import { median, round, table } from '../stats.js'
import { ownTempDir } from '../cleanup.js'

export type StandingOptions = { edges: number; runs: number }

/** One computation: reading and computing (the publisher thread's part), writing the rows that changed (the writer's). */
type Phase = { computeMs: number; applyMs: number; rows: number }
type Run = { first: Phase; unchanged: Phase; oneTrust: Phase; keysWithStanding: number }

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
      `INSERT INTO market_pairs (provider, customer, paid, refunded) VALUES (?, ?, ?, 0)
       ON CONFLICT DO UPDATE SET paid = paid + excluded.paid`,
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
      q.pair.run(p, c, 1)
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

/** One computation as the relay runs it: read and computed in one read transaction, then written by the writer. */
function phase(db: Db, reader: ReturnType<typeof makeStandingReader>, market: Market, rules: StandingRules): Phase {
  const started = performance.now()
  const diff = db.transaction(() => reader.compute(rules))()
  const computed = performance.now()
  db.transaction(() => market.applyStanding(diff)).immediate()
  const { standing, reputation } = diff
  const rows = standing.put.length + standing.drop.length + reputation.put.length + reputation.drop.length
  return { computeMs: computed - started, applyMs: performance.now() - computed, rows }
}

const PHASES = { first: 'first', unchanged: 'nothing changed', oneTrust: 'after one trust' } as const

export async function standing(ctx: Ctx, o: StandingOptions): Promise<Outcome> {
  const runs: Run[] = []
  for (let r = 0; r < o.runs; r++) {
    const { dir, remove } = ownTempDir('agora-bench-standing-')
    try {
      const db = openWriteDb(join(dir, 'agora.sqlite'), 'full')
      const roots = fill(db, o.edges, ctx.seed + r)
      ctx.log(`run ${r + 1}: ${o.edges} edges filled`)
      const market = makeMarket(db)
      const reader = makeStandingReader(db)
      const rules = { roots, poolShare: 0.01, intervalMs: 0 }
      const first = phase(db, reader, market, rules)
      const unchanged = phase(db, reader, market, rules)
      db.prepare('INSERT INTO market_trust (truster, trusted, id) VALUES (?, ?, ?)').run(roots[0], key(11), key(-1e9))
      const oneTrust = phase(db, reader, market, rules)
      const keysWithStanding = db.prepare('SELECT COUNT(*) FROM market_standing').pluck().get() as number
      db.close()
      runs.push({ first, unchanged, oneTrust, keysWithStanding })
      ctx.log(`run ${r + 1}: ${JSON.stringify(runs.at(-1))}`)
    } finally {
      remove()
    }
  }
  const med = (pick: (r: Run) => number) => round(median(runs.map(pick)))
  const phases = Object.keys(PHASES) as (keyof typeof PHASES)[]
  const summary = Object.fromEntries(
    phases.map(p => [
      p,
      { computeMs: med(r => r[p].computeMs), applyMs: med(r => r[p].applyMs), rows: med(r => r[p].rows) },
    ]),
  ) as Record<keyof typeof PHASES, Phase>
  const keysWithStanding = med(r => r.keysWithStanding)
  const rows = phases.map(p => [
    `${o.edges} edges, ${PHASES[p]}`,
    summary[p].computeMs,
    summary[p].applyMs,
    summary[p].rows,
  ])
  return {
    results: { runs, median: { ...summary, keysWithStanding } },
    table: `${table(['computation', 'read + compute (ms)', 'write (ms)', 'rows written'], rows)}\nkeys with standing: ${keysWithStanding}`,
  }
}
