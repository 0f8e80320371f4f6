// Owns the read-only connection: stored-event queries, counts, duplicate lookups and export scans.
import { compareNewestFirst } from '../../nips/nip01.js'
import type { CompiledFilter } from '../../nips/nip01-filter.js'
import type { NutzapInfo } from '../../nips/nip61.js'
import { JOB_BY_ID } from '../../market/schema.js'
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'
import { ANY_BANNED } from './management.js'
import { planFilter, planPath, splitForOrder, type PlanPath } from './planner.js'

/** One stored event as the reader returns it: raw JSON plus the keys it is ordered by. */
export type Row = { readonly seq: number; readonly created_at: number; readonly id: string; readonly raw: string }

/** Thrown when a scan runs past its time budget; the caller refuses the request instead of answering partly. */
export class QueryBudgetExceeded extends Error {}

/** Export selection (agora export). */
export type ExportRange = { readonly since?: number; readonly until?: number; readonly kinds?: readonly number[] }

const CACHE_MAX = 256

/** Creates the reader over a connection it then owns. */
export function createReader(db: Db) {
  const cache = new Map<string, Statement<unknown[]>>()
  const prepare = (sql: string) => {
    let s = cache.get(sql)
    if (!s) {
      if (cache.size >= CACHE_MAX) cache.clear()
      s = db.prepare(sql)
      cache.set(sql, s)
    }
    return s
  }
  // One statement for any number of ids (as fast as an IN list of 64, measured, without a statement per length).
  const stored = db.prepare('SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?))').pluck()
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

  /** Rows of one filter in NIP-01 order: one index-ordered cursor per split, merged newest first. */
  function* ordered(filter: CompiledFilter, now: number, hide: boolean): Generator<Row> {
    const parts = splitForOrder(filter)
    if (parts.length === 1) {
      const plan = planFilter(filter, now, false, hide)
      return yield* prepare(plan.sql).iterate(...plan.params) as IterableIterator<Row>
    }
    // Identical SQL for every part, but a statement can drive only one open cursor: prepare each.
    const cursors = parts.map(part => {
      const plan = planFilter(part, now, false, hide)
      return db.prepare(plan.sql).iterate(...plan.params) as IterableIterator<Row>
    })
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
      for (const c of cursors) c.return?.()
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
    const plans = filters.filter(f => !f.never).map(f => planFilter(f, now, true, hide))
    if (plans.length === 0) return 0
    const sql = `SELECT COUNT(DISTINCT seq) FROM (${plans.map(p => p.sql).join(' UNION ALL ')})`
    return prepare(sql)
      .pluck()
      .get(...plans.flatMap(p => p.params)) as number
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
    /** Which of these ids are stored, in one query (the cheap duplicate check before verification). */
    stored: (ids: readonly string[]): Set<string> => new Set(stored.all(JSON.stringify(ids)) as string[]),
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
    exportRows,
    close: () => db.close(),
  }
}

export type Reader = ReturnType<typeof createReader>
