// Stored-event queries and counts, on reader threads (each with its own read-only connection) so a scan
// never blocks the event loop; with 0 threads they run inline on the reader given. Point lookups
// (zap views, wallets) stay on the event loop's reader: they cost microseconds.
import { Worker } from 'node:worker_threads'
import type { CompiledFilter } from '../nips/nip01-filter.js'
import { PackedStorage, Responder } from '../nips/nip77.js'
import type { PlanPath } from './store/planner.js'
import { QueryBudgetExceeded, TooManyRecords, type Reader } from './store/reader.js'
import { workerUrl } from './worker-url.js'

type Wanted = readonly { filter: CompiledFilter; limit: number }[]

/** A REQ filter's plan path, or a COUNT (one statement for all its filters). */
export type QueryPath = PlanPath | 'count'
/** A finished query or count: its filters, and each part's path and time on its reader (ms). */
export type QueryReport = { readonly filters: readonly CompiledFilter[]; readonly took: readonly [QueryPath, number][] }

/** A NIP-77 session's opening: its filters (their union), the limits of its set and answers, the first message. */
export type NegOpening = {
  readonly filters: readonly CompiledFilter[]
  readonly now: number
  readonly budgetMs: number
  readonly maxRecords: number
  readonly frameSizeLimit: number
  readonly hex: string
}

/**
 * NIP-77 sessions by a relay-wide key. A session's set is read and kept on one reader, which answers its later
 * messages. Each call resolves with the answer's hex; it rejects with QueryBudgetExceeded or TooManyRecords while the
 * set is read, and with NegentropyError on a message that does not parse or a session that is gone.
 */
export type NegSessions = {
  open(key: number, o: NegOpening): Promise<string>
  message(key: number, hex: string): Promise<string>
  close(key: number): void
}

/** A negentropy message that does not parse, or a session the reader no longer holds. */
export class NegentropyError extends Error {}

/** What REQ, COUNT and NEG-OPEN need from the store. */
export type Queries = {
  /**
   * The stored JSON of the newest matches of each filter, merged in NIP-01 order; rejects with
   * QueryBudgetExceeded past `budgetMs`. Only the JSON crosses from the thread: one flat copy per event.
   */
  query(wanted: Wanted, now: number, budgetMs: number): Promise<string[]>
  /** NIP-45: distinct stored events matching any filter. */
  count(filters: readonly CompiledFilter[], now: number): Promise<number>
  readonly negentropy: NegSessions
  close(): Promise<void>
}

type NegOp =
  | { op: 'neg-open'; seq: number; key: number; opening: NegOpening }
  | { op: 'neg-msg'; seq: number; key: number; hex: string }
  | { op: 'neg-close'; seq: number; key: number }
export type ToReader =
  | { op: 'query'; seq: number; wanted: Wanted; now: number; budgetMs: number }
  | { op: 'count'; seq: number; filters: readonly CompiledFilter[]; now: number }
  | NegOp
export type FromReader =
  | { seq: number; raws: string[]; took: [QueryPath, number][] }
  | { seq: number; count: number; took: [QueryPath, number][] }
  | { seq: number; hex: string }
  | { seq: number; error: string }

/** An error as it crosses from a reader thread, and back into its class. */
export function errorCode(err: unknown): string {
  if (err instanceof QueryBudgetExceeded) return 'budget'
  if (err instanceof TooManyRecords) return 'records'
  return err instanceof NegentropyError ? `neg: ${err.message}` : String(err)
}
function errorOf(code: string): Error {
  if (code === 'budget') return new QueryBudgetExceeded()
  if (code === 'records') return new TooManyRecords()
  return code.startsWith('neg: ') ? new NegentropyError(code.slice(5)) : new Error(code)
}

type Call = { done(m: FromReader): void; fail(err: Error): void }
type Slot = { worker: Worker; calls: Map<number, Call> }

/**
 * A reader's part of NIP-77: the sessions it holds. Undefined for a close, which is not answered; a message's error
 * is thrown with its class (see errorCode).
 */
export function negentropyHost(reader: Reader): (m: NegOp) => FromReader | undefined {
  const sessions = new Map<number, Responder>()
  const answer = (seq: number, key: number, responder: Responder, hex: string) => {
    try {
      return { seq, hex: responder.reconcile(hex) }
    } catch (err) {
      sessions.delete(key)
      throw new NegentropyError((err as Error).message)
    }
  }
  return m => {
    if (m.op === 'neg-close') {
      sessions.delete(m.key)
      return undefined
    }
    if (m.op === 'neg-msg') {
      const responder = sessions.get(m.key)
      if (!responder) throw new NegentropyError('the session is gone')
      return answer(m.seq, m.key, responder, m.hex)
    }
    const o = m.opening
    sessions.delete(m.key)
    const deadline = performance.now() + o.budgetMs
    const pairs = o.filters.flatMap(f => reader.keys(f, o.now, deadline - performance.now(), o.maxRecords))
    if (pairs.length > o.maxRecords) throw new TooManyRecords()
    const set = new PackedStorage(pairs)
    const responder = new Responder(set, o.frameSizeLimit)
    sessions.set(m.key, responder)
    return answer(m.seq, m.key, responder, o.hex)
  }
}

/** Runs a query or count on `reader`, timing it as the reports say. */
export function timedQuery(reader: Reader, m: ToReader & { op: 'query' | 'count' }): FromReader {
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
  if (threads === 0) {
    const host = negentropyHost(inline)
    const neg = async (m: NegOp) => (host(m) as { hex: string } | undefined)?.hex ?? ''
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
      negentropy: {
        open: (key, opening) => neg({ op: 'neg-open', seq: 0, key, opening }),
        message: (key, hex) => neg({ op: 'neg-msg', seq: 0, key, hex }),
        close: key => void host({ op: 'neg-close', seq: 0, key }),
      },
      close: async () => {},
    }
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
    // A dead reader fails what it held, its negentropy sessions included, and takes no more work.
    slot.worker.on('error', err => {
      for (const call of slot.calls.values()) call.fail(err)
      slot.calls.clear()
      slots.splice(slots.indexOf(slot), 1)
      for (const [key, s] of negSlots) if (s === slot) negSlots.delete(key)
    })
  }
  // The reader holding each open negentropy session.
  const negSlots = new Map<number, Slot>()
  let seq = 0
  // The least busy thread: a long scan on one leaves the other free for quick queries.
  const leastBusy = () => slots.reduce((a, b) => (b.calls.size < a.calls.size ? b : a))
  const call = (msg: ToReader, on?: Slot) =>
    new Promise<FromReader>((done, fail) => {
      if (slots.length === 0) return fail(new Error('no reader thread is running'))
      const slot = on ?? leastBusy()
      slot.calls.set(msg.seq, { done, fail })
      slot.worker.postMessage(msg)
    }).then(m => {
      if (!('error' in m)) return m
      throw errorOf(m.error)
    })
  const neg = async (m: NegOp, slot: Slot) => ((await call(m, slot)) as { hex: string }).hex
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
    negentropy: {
      open: (key, opening) => {
        if (slots.length === 0) return Promise.reject(new Error('no reader thread is running'))
        const slot = leastBusy()
        negSlots.set(key, slot)
        return neg({ op: 'neg-open', seq: ++seq, key, opening }, slot)
      },
      message: (key, hex) => {
        const slot = negSlots.get(key)
        if (!slot) return Promise.reject(new NegentropyError('the session is gone'))
        return neg({ op: 'neg-msg', seq: ++seq, key, hex }, slot)
      },
      close: key => {
        negSlots.get(key)?.worker.postMessage({ op: 'neg-close', seq: 0, key } satisfies NegOp)
        negSlots.delete(key)
      },
    },
    close: async () => {
      await Promise.all(slots.map(s => s.worker.terminate()))
    },
  }
}
