// The market's live numbers for the relay's metrics (relay/metrics.ts), read on a read connection: jobs waiting,
// escrows not spent, providers online. Finished jobs and spent escrows are never counted, so each read walks only
// partial indexes of the live rows (or the recent heartbeats), never a whole table.
import type { Db } from '../relay/store/db.js'

const LIVE_JOBS = `SELECT state, COUNT(*) AS n FROM market_jobs INDEXED BY market_jobs_due
  WHERE state IN ('open', 'locked') GROUP BY state`
const JUDGING = `SELECT COUNT(*) FROM market_jobs INDEXED BY market_jobs_swarm
  WHERE swarm IS NOT NULL AND state = 'judging'`
const LIVE_ESCROWS = `SELECT state, COUNT(*) AS n FROM market_escrows INDEXED BY market_escrows_live
  WHERE state NOT IN ('settled', 'refunded') GROUP BY state`

export const JOB_STATES = ['open', 'locked', 'judging'] as const
export const ESCROW_STATES = ['held', 'disputed', 'released', 'ruled'] as const

/** What one read finds: counts by state (absent: 0) and providers online. */
export type MarketGauges = {
  readonly jobs: ReadonlyMap<string, number>
  readonly escrows: ReadonlyMap<string, number>
  readonly online: number
}

/** Prepares the reads once; `read` takes the seconds after which a heartbeat keeps its provider online. */
export function makeMarketGauges(db: Db) {
  const q = {
    jobs: db.prepare(LIVE_JOBS),
    judging: db.prepare(JUDGING).pluck(),
    escrows: db.prepare(LIVE_ESCROWS),
    first: db.prepare('SELECT received_at FROM market_heartbeats WHERE seq >= ? ORDER BY seq LIMIT 1').pluck(),
    last: db.prepare('SELECT MAX(seq) FROM market_heartbeats').pluck(),
    online: db
      .prepare(
        `SELECT COUNT(DISTINCT e.pubkey) FROM market_heartbeats b JOIN events e ON e.seq = b.seq
         WHERE b.seq >= ? AND b.received_at > ?`,
      )
      .pluck(),
  }

  /** Providers with a heartbeat received after `after` (seconds). */
  function online(after: number): number {
    // received_at is the relay's clock at storage, so it grows with seq: the recent heartbeats are the table's
    // tail, found by a binary search on seq (a few dozen index lookups) instead of a scan of every heartbeat.
    let lo = 0
    let hi = ((q.last.get() as number | null) ?? -1) + 1
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      const at = q.first.get(mid) as number | undefined
      if (at === undefined || at > after) hi = mid
      else lo = mid + 1
    }
    return q.online.get(lo, after) as number
  }

  const byState = (stmt: typeof q.jobs) =>
    new Map((stmt.all() as { state: string; n: number }[]).map(r => [r.state, r.n]))

  return {
    read: (onlineAfter: number): MarketGauges => ({
      jobs: byState(q.jobs).set('judging', q.judging.get() as number),
      escrows: byState(q.escrows),
      online: online(onlineAfter),
    }),
  }
}
