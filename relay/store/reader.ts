// Owns the read-only connection: stored-event queries, counts and export scans.
import { compareNewestFirst } from '../../nips/nip01.js'
import type { CompiledFilter } from '../../nips/nip01-filter.js'
import type { NutzapInfo } from '../../nips/nip61.js'
import { JOB_BY_ID } from '../../market/schema.js'
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'
import { ANY_BANNED } from './management.js'
import { authorKindsBudget, planFilter, planPath, splitForOrder, type PlanPath } from './planner.js'

/** One stored event as the reader returns it: raw JSON plus the keys it is ordered by. */
export type Row = { readonly seq: number; readonly created_at: number; readonly id: string; readonly raw: string }

/** Thrown when a scan runs past its time budget; the caller refuses the request instead of answering partly. */
export class QueryBudgetExceeded extends Error {}

/** Thrown when a NIP-77 set would hold more events than the relay serves in one session. */
export class TooManyRecords extends Error {}

/** Export selection (agora export). */
export type ExportRange = { readonly since?: number; readonly until?: number; readonly kinds?: readonly number[] }

const CACHE_MAX = 256

/** Creates the reader over a connection it then owns. */
export function createReader(db: Db) {
  // Per SQL text, as many statements as one query has needed at once: a statement drives one open cursor, and a
  // filter split into streams opens one cursor per stream, all with the same SQL.
  const cache = new Map<string, Statement<unknown[]>[]>()
  const statements = (sql: string, n: number) => {
    let pool = cache.get(sql)
    if (!pool) {
      if (cache.size >= CACHE_MAX) cache.clear()
      pool = []
      cache.set(sql, pool)
    }
    while (pool.length < n) pool.push(db.prepare(sql))
    return pool
  }
  const prepare = (sql: string) => statements(sql, 1)[0]!
  // The next kind an author has: one seek in the author index each.
  const nextKind = db.prepare('SELECT kind FROM events WHERE pubkey = ? AND kind > ? ORDER BY kind LIMIT 1').pluck()
  const largestZap = db.prepare('SELECT MAX(msats) FROM zap_unlocks WHERE pubkey = ?').pluck().safeIntegers()
  const job = db.prepare(`SELECT 1 FROM market_jobs WHERE ${JOB_BY_ID}`).pluck()
  const addresses = db
    .prepare(
      `SELECT lud16 FROM market_handlers WHERE pubkey = ? AND lud16 IS NOT NULL
       UNION SELECT lud16 FROM market_profiles WHERE pubkey = ?`,
    )
    .pluck()
  const wallet = db.prepare('SELECT p2pk, mints FROM market_wallets WHERE pubkey = ?')
  // Checked once per query: while nothing is banned, plans stay free of the ban lookups.
  const anyBanned = db.prepare(ANY_BANNED).pluck()

  /** A cursor's rows with each run of equal created_at ordered by id: SQL gives them in index order. */
  function* lowestIdFirst(rows: IterableIterator<Row>): Generator<Row> {
    let run: Row[] = []
    for (const row of rows) {
      if (run.length === 0 || run[0]!.created_at === row.created_at) run.push(row)
      else if (run.length === 1) {
        // Nearly every run is one row: passed on without a new array.
        yield run[0]!
        run[0] = row
      } else {
        yield* run.sort(compareNewestFirst)
        run = [row]
      }
    }
    yield* run.sort(compareNewestFirst)
  }

  /** The kinds these authors have stored, or undefined when there are more than `max`. */
  function kindsOf(authors: ReadonlySet<string>, max: number): Set<number> | undefined {
    const kinds = new Set<number>()
    for (const author of authors)
      for (let k = nextKind.get(author, -1); k !== undefined; k = nextKind.get(author, k)) {
        if (kinds.add(k as number).size > max) return undefined
      }
    return kinds
  }

  /** Rows of one filter in NIP-01 order: one index-ordered cursor per split, merged newest first. */
  function* ordered(filter: CompiledFilter, now: number, hide: boolean): Generator<Row> {
    const budget = authorKindsBudget(filter)
    if (budget !== undefined) {
      const kinds = kindsOf(filter.authors!, budget)
      if (kinds?.size === 0) return
      if (kinds) filter = { ...filter, kinds }
    }
    const parts = splitForOrder(filter)
    if (parts.length === 1) {
      const plan = planFilter(filter, now, 'rows', hide)
      return yield* lowestIdFirst(prepare(plan.sql).iterate(...plan.params) as IterableIterator<Row>)
    }
    // Identical SQL for every part (the values are parameters), so a statement of the same text each.
    const plans = parts.map(part => planFilter(part, now, 'rows', hide))
    const pool = statements(plans[0]!.sql, plans.length)
    const cursors = plans.map((plan, i) => lowestIdFirst(pool[i]!.iterate(...plan.params) as IterableIterator<Row>))
    const heads = cursors.map(c => c.next())
    try {
      for (;;) {
        let best = -1
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i]!
          if (!h.done && (best < 0 || compareNewestFirst(h.value, (heads[best] as IteratorYieldResult<Row>).value) < 0))
            best = i
        }
        if (best < 0) return
        yield (heads[best] as IteratorYieldResult<Row>).value
        heads[best] = cursors[best]!.next()
      }
    } finally {
      for (const c of cursors) c.return(undefined)
    }
  }

  /**
   * The newest `limit` matches of each filter, merged without duplicates in NIP-01 order; `took` hears each
   * filter's plan path and scan time (ms). Throws QueryBudgetExceeded if the scan takes longer than `budgetMs`.
   */
  function query(
    filters: readonly { filter: CompiledFilter; limit: number }[],
    now: number,
    budgetMs: number,
    took?: (path: PlanPath, ms: number) => void,
  ): Row[] {
    const deadline = performance.now() + budgetMs
    const out = new Map<string, Row>()
    const hide = anyBanned.get() === 1
    let n = 0
    for (const { filter, limit } of filters) {
      if (filter.never || limit <= 0) continue
      const started = performance.now()
      let taken = 0
      const seen = new Set<number>()
      for (const row of ordered(filter, now, hide)) {
        if ((++n & 63) === 0 && performance.now() > deadline) throw new QueryBudgetExceeded()
        if (seen.has(row.seq)) continue // a tag join yields one row per matching tag value
        seen.add(row.seq)
        out.set(row.id, row)
        if (++taken >= limit) break
      }
      took?.(planPath(filter), performance.now() - started)
    }
    return [...out.values()].sort(compareNewestFirst)
  }

  /** NIP-45: how many distinct stored events match any of the filters. */
  function count(filters: readonly CompiledFilter[], now: number): number {
    const hide = anyBanned.get() === 1
    const plans = filters.filter(f => !f.never).map(f => planFilter(f, now, 'seq', hide))
    if (plans.length === 0) return 0
    const sql = `SELECT COUNT(DISTINCT seq) FROM (${plans.map(p => p.sql).join(' UNION ALL ')})`
    return prepare(sql)
      .pluck()
      .get(...plans.flatMap(p => p.params)) as number
  }

  /**
   * NIP-77: (created_at, id) of every stored match of one filter (its newest `limit` if it has one), unordered and
   * possibly repeated (a negentropy set is built from them). Throws QueryBudgetExceeded past `budgetMs`, TooManyRecords past `maxRecords`.
   */
  function keys(filter: CompiledFilter, now: number, budgetMs: number, maxRecords: number): [number, string][] {
    if (filter.never) return []
    const deadline = performance.now() + budgetMs
    const plan = planFilter(filter, now, 'keys', anyBanned.get() === 1)
    // With a limit, the set is the newest matches, as a REQ of the filter would send them.
    const [sql, params] =
      filter.limit === undefined
        ? [plan.sql, plan.params]
        : [`SELECT DISTINCT * FROM (${plan.sql}) ORDER BY 1 DESC, 2 LIMIT ?`, [...plan.params, filter.limit]]
    const out: [number, string][] = []
    for (const pair of prepare(sql)
      .raw()
      .iterate(...params) as IterableIterator<[number, string]>) {
      if ((out.length & 1023) === 0 && performance.now() > deadline) throw new QueryBudgetExceeded()
      if (out.length >= maxRecords) throw new TooManyRecords()
      out.push(pair)
    }
    return out
  }

  /** Stored events in (created_at, id) order for export. */
  function* exportRows(r: ExportRange): Generator<string> {
    const where = ['1']
    const params: number[] = []
    if (r.since !== undefined) {
      where.push('created_at >= ?')
      params.push(r.since)
    }
    if (r.until !== undefined) {
      where.push('created_at <= ?')
      params.push(r.until)
    }
    if (r.kinds?.length) {
      where.push(`kind IN (${r.kinds.map(() => '?').join(',')})`)
      params.push(...r.kinds)
    }
    const stmt = db.prepare(`SELECT raw FROM events WHERE ${where.join(' AND ')} ORDER BY created_at, id`).pluck()
    yield* stmt.iterate(...params) as IterableIterator<string>
  }

  return {
    /** The largest recorded zap to the relay from this pubkey, in msats (0n when none). */
    largestZapMsats: (pubkey: string): bigint => (largestZap.get(pubkey) as bigint | null) ?? 0n,
    /** True when the market holds a job with this request id. */
    knownJob: (id: string): boolean => job.get({ id }) !== undefined,
    lightningAddresses: (pubkey: string): string[] => addresses.all(pubkey, pubkey) as string[],
    wallet: (pubkey: string): NutzapInfo | undefined => {
      const w = wallet.get(pubkey) as { p2pk: string; mints: string } | undefined
      return w && { p2pk: w.p2pk, mints: JSON.parse(w.mints) as string[] }
    },
    query,
    count,
    keys,
    exportRows,
    close: () => db.close(),
  }
}

export type Reader = ReturnType<typeof createReader>
