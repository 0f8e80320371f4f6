// `agora market rebuild` (DESIGN §3): the market tables emptied and every stored event folded into them again, in
// storage order, so that they equal what the live fold made of the same events (tested, standing to the bit).
import type { NostrEvent } from '../nips/nip01.js'
import type { Db } from '../relay/store/db.js'
import { makeMarket, type StandingRules } from './fold.js'
import { MARKET_TABLES } from './schema.js'

const now = () => Math.floor(Date.now() / 1000)

/**
 * Empties the market tables and folds every stored event into them again, in storage order; with `jobTtl`,
 * expires open jobs as a sweep at `at` would (without it, the relay's next sweep does); with `standing`, computes
 * standing and reputation from what it folded (without it, the relay's writer does once it starts).
 */
export function rebuildMarket(
  db: Db,
  { jobTtl, at = now(), standing }: { jobTtl?: number; at?: number; standing?: StandingRules } = {},
): number {
  const market = makeMarket(db)
  const page = db.prepare('SELECT seq, raw, received_at FROM events WHERE seq > ? ORDER BY seq LIMIT 1000')
  let events = 0
  db.transaction(() => {
    for (const table of MARKET_TABLES) db.exec(`DELETE FROM ${table}`)
    for (let after = 0; ;) {
      // Read a page, then write: a connection cannot write while one of its cursors is open.
      const rows = page.all(after) as { seq: number; raw: string; received_at: number | null }[]
      if (rows.length === 0) break
      for (const r of rows) {
        const e = JSON.parse(r.raw) as NostrEvent
        // Stored before schema 5: the event's own time is all there is.
        market.apply(e, r.received_at ?? e.created_at, r.seq)
      }
      events += rows.length
      after = rows.at(-1)!.seq
    }
    if (jobTtl !== undefined) market.expireJobs(at - jobTtl)
    if (standing) market.computeStanding(standing)
  }).immediate()
  return events
}
