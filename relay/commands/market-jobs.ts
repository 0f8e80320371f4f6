// agora market jobs: the market's jobs, newest first, as a table or JSON lines, read from the store beside the
// running relay.
import type { Config } from '../../config/schema.js'
import type { JobState } from '../../market/jobs.js'
import { isoTime, openStore, tableRow } from './listing.js'

export type JobsFilter = { state?: string; provider?: string; since?: number; json: boolean }

/** Every job state (a Record, so that a state added to JobState must be listed here). */
const STATES: Record<JobState, true> = {
  open: true,
  locked: true,
  judging: true,
  delivered: true,
  paid: true,
  expired: true,
  cancelled: true,
}

/** Why `state` cannot be filtered on (undefined: it can). */
export const stateRefusal = (state: string) =>
  Object.hasOwn(STATES, state) ? undefined : `"${state}" is not a job state (${Object.keys(STATES).join(', ')})`

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** `--since`: unix seconds, or a duration back from `now` (90s, 30m, 1h, 2d, 1w); undefined when unreadable. */
export function parseSince(text: string, now: number): number | undefined {
  if (/^\d+$/.test(text)) return Number(text)
  const m = /^(\d+)([smhdw])$/.exec(text)
  return m ? now - Number(m[1]) * UNITS[m[2]!]! : undefined
}

type JobLine = {
  id: string
  kind: number
  state: string
  customer: string
  provider: string | null
  bid_msats: number | null
  amount_msats: number | null
  paid_msats: number
  created_at: number
  received_at: number
  delivered_at: number | null
}

const HEAD = ['id', 'kind', 'state', 'customer', 'provider', 'bid_msats', 'created']
// The id in full (what `market show` takes); keys cut to 16 hex characters, as --json gives them whole.
const WIDTHS = [64, 5, 9, 16, 16, 12, 20]
const RIGHT = new Set([1, 5])

/** Prints the jobs that match, newest first (by storage order); returns how many. */
export function marketJobs(cfg: Config, f: JobsFilter): number {
  const db = openStore(cfg)
  try {
    const rows = db
      .prepare(
        `SELECT id, kind, state, customer, provider, bid_msats, amount_msats, paid_msats, created_at, received_at,
                delivered_at
         FROM market_jobs
         WHERE (@state IS NULL OR state = @state) AND (@provider IS NULL OR provider = @provider)
           AND (@since IS NULL OR created_at >= @since)
         ORDER BY seq DESC`,
      )
      .iterate({ state: f.state ?? null, provider: f.provider ?? null, since: f.since ?? null }) as Iterable<JobLine>
    let n = 0
    for (const j of rows) {
      if (f.json) console.log(JSON.stringify(j))
      else {
        if (n === 0) console.log(tableRow(HEAD, WIDTHS, RIGHT))
        const cells = [j.id, String(j.kind), j.state, j.customer.slice(0, 16), (j.provider ?? '-').slice(0, 16)]
        console.log(tableRow([...cells, String(j.bid_msats ?? '-'), isoTime(j.created_at)], WIDTHS, RIGHT))
      }
      n++
    }
    return n
  } finally {
    db.close()
  }
}
