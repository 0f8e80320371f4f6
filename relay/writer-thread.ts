// The writer as the relay uses it: on its own thread (the default), so transactions, fsyncs and WAL
// checkpoints never block the event loop; or inline on the event loop (`store.writer_thread = false`).
import { Worker } from 'node:worker_threads'
import type { VerifiedEvent } from '../nips/nip01.js'
import type { MarketRules, Touched } from '../market/fold.js'
import type { StandingDiff } from '../market/fold/standing.js'
import type { WriteNote } from '../policies/types.js'
import type { Log } from './log.js'
import { openWriteDb } from './store/db.js'
import type { WriteOutcome } from './store/writes.js'
import { workerUrl } from './worker-url.js'
import { createWriter } from './writer.js'
import type { ManagementChange } from './management/state.js'

/** What the relay needs of its writer, wherever it runs. */
export type RelayWriter = {
  /** Resolves with the event's outcome once the batch holding it has committed. */
  enqueue(event: VerifiedEvent, raw: string, note?: WriteNote): Promise<WriteOutcome>
  /**
   * The same for an event known only by its canonical JSON (a bulk load): it is parsed where it is written, on the
   * writer thread when there is one, and then `onCommitted` does not hear of it.
   */
  load(raw: string): Promise<WriteOutcome>
  /** Deletes expired events; resolves with how many went. */
  sweepExpired(now: number): Promise<number>
  /** Writes the standing computed elsewhere (the publisher thread), which took `tookMs`. */
  applyStanding(diff: StandingDiff, tookMs: number): void
  /** Resolves once an operator's change (NIP-86) is committed. */
  manage(change: ManagementChange): Promise<void>
  /**
   * Resolves once every batch handed to the writer so far has been reported through `onCommitted`. Readers on
   * other connections see a commit before the relay hears of it; a REQ waits on this before it stops deduplicating.
   */
  settled(): Promise<void>
  /** Commits what is queued, then closes the database. */
  close(): Promise<void>
}

export type WriterSetup = {
  readonly file: string
  readonly synchronous: 'full' | 'normal'
  readonly batchMax: number
  readonly market: MarketRules | undefined
  readonly thread: boolean
  /** Called after each commit with the events that were newly stored, in commit order (see `load`). */
  readonly onCommitted: (saved: readonly { event: VerifiedEvent; raw: string }[]) => void
  /** Called after a commit or sweep that changed jobs or providers in the market. */
  readonly onTouched?: (t: Touched) => void
  /** Called for each batch of events committed, with its size and how long the transaction took (ms). */
  readonly onCommit?: (size: number, ms: number) => void
  /** Where the threads' errors go. */
  readonly log?: Log
  /**
   * With the writer on its thread: asks for standing to be computed elsewhere (the publisher thread), which hands
   * it back through `applyStanding`. Without it, or inline, the writer computes standing itself.
   */
  readonly onStandingDue?: () => void
  /** Milliseconds between passive checkpoints, and the WAL size at which the writer starts it over. */
  readonly checkpointMs?: number
  readonly walRestartPages?: number
  /** False for a bulk load into an empty store: the indexes only queries use are built after it (store/db.ts). */
  readonly readIndexes?: boolean
}

export type ToWriter =
  | { op: 'write'; seq: number; items: [raw: string, note: WriteNote | undefined][] }
  | { op: 'sweep'; seq: number; now: number }
  | { op: 'standing'; diff: StandingDiff; tookMs: number }
  | { op: 'manage'; seq: number; change: ManagementChange }
  | { op: 'close'; seq: number }
type Outcome = WriteOutcome | { error: string }
export type FromWriter =
  | { ready: true }
  | { failed: string }
  | { seq: number; outcomes: Outcome[]; commits?: number[] }
  | { seq: number; swept: number }
  | { seq: number; managed: true }
  /** A sweep, management change or close that threw (SQLITE_BUSY from another writer, a full disk). */
  | { seq: number; callFailed: string }
  | { seq: number; closed: true }
  | { touched: Touched }
  | { standingDue: true }

type Pending = {
  /** Undefined for `load`: the thread parses the event. */
  event: VerifiedEvent | undefined
  raw: string
  note: WriteNote | undefined
  done(o: WriteOutcome): void
  fail(e: Error): void
}

// Checkpoints run every half second; past 32,768 WAL pages (128 MiB) the writer starts the WAL over.
const CHECKPOINT_MS = 500
const RESTART_PAGES = 32768

/** Opens the store for writing (creating it) and starts its writer. */
export async function openWriter(setup: WriterSetup): Promise<RelayWriter> {
  if (!setup.thread) {
    const writer = createWriter(openWriteDb(setup.file, setup.synchronous, true, setup.readIndexes ?? true), setup)
    return {
      enqueue: writer.enqueue,
      load: raw => writer.enqueue(JSON.parse(raw) as VerifiedEvent, raw),
      sweepExpired: async now => writer.sweepExpired(now),
      applyStanding: writer.applyStanding,
      manage: async change => writer.manage(change),
      // Inline, a batch is reported in the same turn that commits it.
      settled: async () => {},
      close: writer.close,
    }
  }
  // The checkpoint thread tells the writer how large the WAL has grown.
  const walPages = new Int32Array(new SharedArrayBuffer(4))
  const worker = new Worker(workerUrl(import.meta.url, 'writer-worker'), {
    workerData: {
      file: setup.file,
      synchronous: setup.synchronous,
      batchMax: setup.batchMax,
      market: setup.market,
      walPages,
      restartPages: setup.walRestartPages ?? RESTART_PAGES,
      offloadStanding: setup.onStandingDue !== undefined,
      readIndexes: setup.readIndexes ?? true,
    },
  })
  await new Promise<void>((resolve, reject) => {
    const first = (m: FromWriter) => ('failed' in m ? reject(new Error(m.failed)) : resolve())
    worker.once('message', first)
    worker.once('error', reject)
  })
  // Started once the writer has created the database.
  const checkpointer = new Worker(workerUrl(import.meta.url, 'checkpoint-worker'), {
    workerData: { file: setup.file, intervalMs: setup.checkpointMs ?? CHECKPOINT_MS, walPages },
  })
  const checkpointerExit = new Promise(r => checkpointer.once('exit', r))
  await new Promise((resolve, reject) => {
    checkpointer.once('message', resolve)
    checkpointer.once('error', reject)
  })
  checkpointer.on('error', err => setup.log?.error({ component: 'store' }, `checkpoint thread stopped: ${err.message}`))
  checkpointer.on('message', (m: { error: string }) => setup.log?.warn({ component: 'store' }, m.error))

  let seq = 0
  let queue: Pending[] = []
  let scheduled = false
  let dead: Error | undefined
  const writes = new Map<number, Pending[]>()
  let lastWrite = 0
  const settling = new Map<number, (() => void)[]>() // write seq -> waiters for its report
  const calls = new Map<number, { done(m: FromWriter): void; fail(e: Error): void }>()

  const die = (err: Error) => {
    dead ??= err
    for (const batch of writes.values()) batch.forEach(p => p.fail(err))
    for (const call of calls.values()) call.fail(err)
    writes.clear()
    calls.clear()
    // Nothing more will be reported.
    for (const waiters of settling.values()) waiters.forEach(w => w())
    settling.clear()
  }
  worker.on('error', err => {
    setup.log?.error({ component: 'store' }, `writer thread stopped: ${err.message}`)
    die(err)
  })
  worker.on('exit', code => die(new Error(`writer thread exited (code ${code})`)))
  worker.on('message', (m: FromWriter) => {
    if ('touched' in m) return setup.onTouched?.(m.touched)
    if ('standingDue' in m) return setup.onStandingDue?.()
    if (!('seq' in m)) return
    const batch = writes.get(m.seq)
    if (batch && 'outcomes' in m) {
      writes.delete(m.seq)
      if (m.commits) for (let i = 0; i < m.commits.length; i += 2) setup.onCommit?.(m.commits[i]!, m.commits[i + 1]!)
      const saved: { event: VerifiedEvent; raw: string }[] = []
      m.outcomes.forEach((o, i) => {
        const p = batch[i]!
        if ('error' in o) return p.fail(new Error(o.error))
        p.done(o)
        if (o.status === 'saved' && p.event) saved.push({ event: p.event, raw: p.raw })
      })
      if (saved.length > 0) setup.onCommitted(saved)
      // The worker answers in order, so every batch up to this one is reported.
      for (const [n, waiters] of settling)
        if (n <= m.seq) {
          settling.delete(n)
          waiters.forEach(w => w())
        }
      return
    }
    const pending = calls.get(m.seq)
    calls.delete(m.seq)
    if ('callFailed' in m) pending?.fail(new Error(m.callFailed))
    else pending?.done(m)
  })

  // One message per turn of the event loop: the worker commits it (with whatever else is waiting) as one batch.
  const flush = () => {
    scheduled = false
    const batch = queue
    queue = []
    if (dead) return batch.forEach(p => p.fail(dead!))
    const n = ++seq
    lastWrite = n
    writes.set(n, batch)
    worker.postMessage({ op: 'write', seq: n, items: batch.map(p => [p.raw, p.note]) } satisfies ToWriter)
  }
  const call = (msg: Extract<ToWriter, { seq: number }>) =>
    new Promise<FromWriter>((done, fail) => {
      if (dead) return fail(dead)
      calls.set(msg.seq, { done, fail })
      worker.postMessage(msg)
    })

  let closing: Promise<void> | undefined
  const enqueue = (event: VerifiedEvent | undefined, raw: string, note: WriteNote | undefined) =>
    new Promise<WriteOutcome>((done, fail) => {
      if (closing) return fail(new Error('writer is closed'))
      if (dead) return fail(dead)
      queue.push({ event, raw, note, done, fail })
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    })
  return {
    enqueue,
    load: raw => enqueue(undefined, raw, undefined),
    applyStanding: (diff, tookMs) => {
      if (!dead && !closing) worker.postMessage({ op: 'standing', diff, tookMs } satisfies ToWriter)
    },
    settled: () =>
      new Promise<void>(done => {
        if (!writes.has(lastWrite)) return done()
        const waiters = settling.get(lastWrite) ?? []
        waiters.push(done)
        settling.set(lastWrite, waiters)
      }),
    sweepExpired: async now => {
      const m = await call({ op: 'sweep', seq: ++seq, now })
      return 'swept' in m ? m.swept : 0
    },
    manage: async change => {
      if (closing) throw new Error('writer is closed')
      await call({ op: 'manage', seq: ++seq, change })
    },
    close: () =>
      (closing ??= (async () => {
        // Let a flush scheduled this turn go out first, so queued events are committed, not dropped.
        await new Promise(r => setImmediate(r))
        if (!dead) await call({ op: 'close', seq: ++seq })
        await worker.terminate()
        checkpointer.postMessage('stop')
        await checkpointerExit
      })()),
  }
}
