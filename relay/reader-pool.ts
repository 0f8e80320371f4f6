// Stored-event queries and counts, on reader threads (each with its own read-only connection) so a scan
// never blocks the event loop; with 0 threads they run inline on the reader given. Point lookups
// (zap views, wallets) stay on the event loop's reader: they cost microseconds.
import { Worker } from 'node:worker_threads'
import type { CompiledFilter } from '../nips/nip01-filter.js'
import type { PlanPath } from './store/planner.js'
import { QueryBudgetExceeded, type Reader } from './store/reader.js'
import { workerUrl } from './worker-url.js'

type Wanted = readonly { filter: CompiledFilter; limit: number }[]

/** A REQ filter's plan path, or a COUNT (one statement for all its filters). */
export type QueryPath = PlanPath | 'count'
/** A finished query or count: its filters, and each part's path and time on its reader (ms). */
export type QueryReport = { readonly filters: readonly CompiledFilter[]; readonly took: readonly [QueryPath, number][] }

/** What REQ and COUNT need from the store. */
export type Queries = {
  /**
   * The stored JSON of the newest matches of each filter, merged in NIP-01 order; rejects with
   * QueryBudgetExceeded past `budgetMs`. Only the JSON crosses from the thread: one flat copy per event.
   */
  query(wanted: Wanted, now: number, budgetMs: number): Promise<string[]>
  /** NIP-45: distinct stored events matching any filter. */
  count(filters: readonly CompiledFilter[], now: number): Promise<number>
  close(): Promise<void>
}

export type ToReader =
  | { op: 'query'; seq: number; wanted: Wanted; now: number; budgetMs: number }
  | { op: 'count'; seq: number; filters: readonly CompiledFilter[]; now: number }
export type FromReader =
  | { seq: number; raws: string[]; took: [QueryPath, number][] }
  | { seq: number; count: number; took: [QueryPath, number][] }
  | { seq: number; error: string }

type Call = { done(m: FromReader): void; fail(err: Error): void }
type Slot = { worker: Worker; calls: Map<number, Call> }

/** Runs a query or count on `reader`, timing it as the reports say. */
export function timedQuery(reader: Reader, m: ToReader): FromReader {
  const took: [QueryPath, number][] = []
  if (m.op === 'query') {
    const raws = reader.query(m.wanted, m.now, m.budgetMs, (path, ms) => took.push([path, ms])).map(r => r.raw)
    return { seq: m.seq, raws, took }
  }
  const started = performance.now()
  const count = reader.count(m.filters, m.now)
  took.push(['count', performance.now() - started])
  return { seq: m.seq, count, took }
}

/** `threads` reader threads over `file`, or `inline` when threads is 0; `onQuery` hears how each one went. */
export async function openQueries(
  file: string,
  threads: number,
  inline: Reader,
  onQuery?: (r: QueryReport) => void,
): Promise<Queries> {
  // Called as report?.(...): without a listener the filters are not even gathered.
  const report =
    onQuery &&
    ((m: FromReader, filters: readonly CompiledFilter[]) => {
      if ('took' in m) onQuery({ filters, took: m.took })
    })
  if (threads === 0)
    return {
      query: async (wanted, now, budgetMs) => {
        const m = timedQuery(inline, { op: 'query', seq: 0, wanted, now, budgetMs })
        report?.(
          m,
          wanted.map(w => w.filter),
        )
        return 'raws' in m ? m.raws : []
      },
      count: async (filters, now) => {
        const m = timedQuery(inline, { op: 'count', seq: 0, filters, now })
        report?.(m, filters)
        return 'count' in m ? m.count : 0
      },
      close: async () => {},
    }
  const slots: Slot[] = await Promise.all(
    Array.from({ length: threads }, async () => {
      const worker = new Worker(workerUrl(import.meta.url, 'reader-worker'), { workerData: { file } })
      await new Promise((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      })
      return { worker, calls: new Map<number, Call>() }
    }),
  )
  for (const slot of slots) {
    slot.worker.on('message', (m: FromReader) => {
      slot.calls.get(m.seq)?.done(m)
      slot.calls.delete(m.seq)
    })
    // A dead reader fails what it held and takes no more work.
    slot.worker.on('error', err => {
      for (const call of slot.calls.values()) call.fail(err)
      slot.calls.clear()
      slots.splice(slots.indexOf(slot), 1)
    })
  }
  let seq = 0
  const call = (msg: ToReader) =>
    new Promise<FromReader>((done, fail) => {
      if (slots.length === 0) return fail(new Error('no reader thread is running'))
      // The least busy thread: a long scan on one leaves the other free for quick queries.
      const slot = slots.reduce((a, b) => (b.calls.size < a.calls.size ? b : a))
      slot.calls.set(msg.seq, { done, fail })
      slot.worker.postMessage(msg)
    }).then(m => {
      if (!('error' in m)) return m
      throw m.error === 'budget' ? new QueryBudgetExceeded() : new Error(m.error)
    })
  return {
    query: async (wanted, now, budgetMs) => {
      const m = await call({ op: 'query', seq: ++seq, wanted, now, budgetMs })
      report?.(
        m,
        wanted.map(w => w.filter),
      )
      return 'raws' in m ? m.raws : []
    },
    count: async (filters, now) => {
      const m = await call({ op: 'count', seq: ++seq, filters, now })
      report?.(m, filters)
      return 'count' in m ? m.count : 0
    },
    close: async () => {
      await Promise.all(slots.map(s => s.worker.terminate()))
    },
  }
}
