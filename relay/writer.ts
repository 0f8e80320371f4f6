// The single writer: owns the write connection, drains its queue in one transaction per turn,
// and resolves each event's outcome only after the commit (DESIGN §2 step 7).
import type { VerifiedEvent } from '../nips/nip01.js'
import type { WriteNote } from '../policies/types.js'
import type { Db } from './store/db.js'
import type { MarketRules, Touched } from '../market/fold.js'
import type { StandingDiff } from '../market/fold/standing.js'
import { makeWrites, type WriteOutcome } from './store/writes.js'
import { makeManagementWrites } from './store/management.js'
import type { ManagementChange } from './management/state.js'

type Pending = {
  event: VerifiedEvent
  raw: string
  note: WriteNote | undefined
  done: (o: WriteOutcome) => void
  fail: (e: Error) => void
}

export type WriterOptions = {
  readonly batchMax: number
  /** Fold each stored event into the market tables (DESIGN §7) by these rules, refusing what breaks them. */
  readonly market: MarketRules | undefined
  /** Called after each commit with the events that were newly stored, in commit order. */
  readonly onCommitted?: (saved: readonly { event: VerifiedEvent; raw: string }[]) => void
  /** Called after each commit, outside the transaction (the writer thread starts the WAL over here). */
  readonly afterCommit?: () => void
  /** Called after a commit or sweep that changed jobs or providers in the market. */
  readonly onTouched?: (t: Touched) => void
  /** Called after each batch of events commits, with its size and how long the transaction took (ms). */
  readonly onCommit?: (size: number, ms: number) => void
  /**
   * Asks for standing to be computed elsewhere (the publisher thread), which hands the result to `applyStanding`;
   * without it the writer computes standing itself, between batches.
   */
  readonly offloadStanding?: () => void
}

// A computation of standing waits at least this many times its last duration, so it never takes more than a
// twentieth of the time of the thread that runs it, however large the market grows (unless the interval is 0).
const STANDING_SHARE = 20

/** Creates the writer over a connection it then owns. */
export function createWriter(db: Db, opts: WriterOptions) {
  const writes = makeWrites(db, { market: opts.market })
  const management = makeManagementWrites(db)
  const queue: Pending[] = []
  let scheduled = false
  let closed = false
  const idle: (() => void)[] = []
  // Standing (DESIGN §7.7) is computed once its inputs changed, never per event: at most every
  // market.standing_interval, by the publisher thread when there is one (`offloadStanding`), else here between
  // batches; and here on close, so that a stopped relay's tables are current.
  let standingAt = 0
  let standingTimer: NodeJS.Timeout | undefined
  let standingAway = false

  const commit = db.transaction((batch: Pending[]) => batch.map(p => writes.save(p.event, p.raw, p.note)))

  function flush(): void {
    scheduled = false
    const batch = queue.splice(0, opts.batchMax)
    if (queue.length > 0) schedule()
    if (batch.length > 0) {
      let outcomes: WriteOutcome[]
      const started = performance.now()
      try {
        // IMMEDIATE takes the write lock up front, waiting out a checkpoint that holds it; a deferred
        // transaction would fail when it reached its first write.
        outcomes = commit.immediate(batch)
      } catch (err) {
        for (const p of batch) p.fail(err as Error)
        writes.drainTouched() // rolled back: nothing changed
        return
      }
      opts.onCommit?.(batch.length, performance.now() - started)
      opts.afterCommit?.()
      touched()
      const saved = batch.filter((_, i) => outcomes[i]!.status === 'saved')
      batch.forEach((p, i) => p.done(outcomes[i]!))
      if (saved.length > 0) opts.onCommitted?.(saved)
    }
    standing(false)
    if (queue.length === 0) idle.splice(0).forEach(f => f())
  }

  /**
   * Starts a computation of standing if its inputs changed and its interval has passed; `now` (on close) computes
   * here whatever the interval, also when one asked of the publisher thread never came back.
   */
  function standing(now: boolean): void {
    if (!opts.market || !(writes.standingDue() || (now && standingAway))) return
    if (!now && standingAway) return
    const wait = standingAt - Date.now()
    if (!now && wait > 0) {
      standingTimer ??= setTimeout(() => {
        standingTimer = undefined
        if (!closed) standing(false)
      }, wait).unref()
      return
    }
    if (opts.offloadStanding && !now) {
      writes.standingStarted()
      standingAway = true
      return opts.offloadStanding()
    }
    const started = performance.now()
    db.transaction(() => writes.computeStanding()).immediate()
    computed(performance.now() - started)
  }

  /** A computation's result is in: the next waits its interval, and 20 times what this one took. */
  function computed(tookMs: number): void {
    standingAway = false
    const interval = opts.market!.standing.intervalMs
    standingAt = interval === 0 ? 0 : Date.now() + Math.max(interval, STANDING_SHARE * tookMs)
    opts.afterCommit?.()
    touched()
  }

  function touched(): void {
    const t = writes.drainTouched()
    if (t.jobs.length > 0 || t.providers.length > 0 || t.milestones) opts.onTouched?.(t)
  }

  function schedule(): void {
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  return {
    /** Queues a verified event; resolves with its outcome once the batch holding it has committed. */
    enqueue(event: VerifiedEvent, raw: string, note?: WriteNote): Promise<WriteOutcome> {
      if (closed) return Promise.reject(new Error('writer is closed'))
      return new Promise((done, fail) => {
        queue.push({ event, raw, note, done, fail })
        schedule()
      })
    },
    /** Deletes expired events in its own transaction; returns how many went. */
    sweepExpired(now: number): number {
      const n = db.transaction(() => writes.sweepExpired(now)).immediate()
      touched()
      standing(false)
      return n
    },
    /** Records an operator's change (NIP-86) in its own transaction. */
    manage(change: ManagementChange): void {
      if (closed) throw new Error('writer is closed')
      db.transaction(() => management.apply(change)).immediate()
    },
    /** Writes the standing the publisher thread computed, which took it `tookMs`; then starts the next if due. */
    applyStanding(diff: StandingDiff, tookMs: number): void {
      if (closed) return
      db.transaction(() => writes.applyStanding(diff)).immediate()
      computed(tookMs)
      standing(false)
    },
    /** Waits for queued events to commit and brings standing up to date, then closes the connection. */
    async close(): Promise<void> {
      closed = true
      if (queue.length > 0 || scheduled) await new Promise<void>(r => idle.push(r))
      clearTimeout(standingTimer)
      standing(true)
      db.close()
    },
  }
}

export type Writer = ReturnType<typeof createWriter>
