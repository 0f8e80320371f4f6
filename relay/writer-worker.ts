// The writer's thread: owns the write connection through relay/writer.ts. Events arrive as their stored
// JSON (cheaper to pass than objects); everything that arrives while a batch commits joins the next one.
import { parentPort, workerData } from 'node:worker_threads'
import type { VerifiedEvent } from '../nips/nip01.js'
import type { MarketRules } from '../market/fold.js'
import type { WriteNote } from '../policies/types.js'
import { BUSY_TIMEOUT_MS, openWriteDb } from './store/db.js'
import { createWriter } from './writer.js'
import type { ToWriter, FromWriter } from './writer-thread.js'

const port = parentPort!
const post = (m: FromWriter) => port.postMessage(m)
const { file, synchronous, batchMax, market, walPages, restartPages, offloadStanding, readIndexes } = workerData as {
  file: string
  synchronous: 'full' | 'normal'
  batchMax: number
  market: MarketRules | undefined
  /** The WAL size in pages, as the checkpoint thread last saw it. */
  walPages: Int32Array
  restartPages: number
  /** Standing is computed on the publisher thread, and comes back as `standing` messages. */
  offloadStanding: boolean
  readIndexes: boolean
}

// How long starting the WAL over waits for readers to move past its frames.
const RESTART_WAIT_MS = 100

let writer: ReturnType<typeof createWriter>
// Each batch's size and commit time (ms), flat, until the next outcome message carries them to the relay.
let commits: number[] = []
try {
  const db = openWriteDb(file, synchronous, false, readIndexes)
  // Under sustained writes the passive checkpoints never catch up and the WAL only grows; past the limit
  // the writer waits briefly for readers, finishes the checkpoint and starts the WAL over. A long reader (a backup,
  // an export) would hold that wait at the busy timeout after every commit, so the wait is short and a busy
  // attempt is retried only a second later.
  let retryAt = 0
  const afterCommit = () => {
    if (Atomics.load(walPages, 0) <= restartPages || Date.now() < retryAt) return
    db.pragma(`busy_timeout = ${RESTART_WAIT_MS}`)
    try {
      const [r] = db.pragma('wal_checkpoint(RESTART)') as { busy: number }[]
      if (r?.busy === 0) Atomics.store(walPages, 0, 0)
      else retryAt = Date.now() + 1000
    } finally {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    }
  }
  writer = createWriter(db, {
    batchMax,
    market,
    afterCommit,
    onTouched: touched => post({ touched }),
    onCommit: (size, ms) => void commits.push(size, ms),
    ...(offloadStanding ? { offloadStanding: () => post({ standingDue: true }) } : {}),
  })
} catch (err) {
  post({ failed: err instanceof Error ? err.message : String(err) })
  throw err
}

const save = (raw: string, note: WriteNote | undefined) =>
  writer.enqueue(JSON.parse(raw) as VerifiedEvent, raw, note).catch((err: Error) => ({ error: err.message }))

const messageOf = (err: unknown) =>
  err instanceof Error ? err.message : typeof err === 'object' && err && 'code' in err ? String(err.code) : String(err)

/** Runs one call and posts its answer, or why it failed: a throw here would end the thread. */
function answerCall(seq: number, run: () => FromWriter): void {
  try {
    post(run())
  } catch (err) {
    post({ seq, callFailed: messageOf(err) })
  }
}

// Outcome messages not yet posted: `closed` must come after every one of them.
const answering = new Set<Promise<void>>()

port.on('message', (m: ToWriter) => {
  if (m.op === 'write') {
    const answer = Promise.all(m.items.map(([raw, note]) => save(raw, note))).then(outcomes => {
      // A batch's outcomes are posted after it commits, so every commit is reported with some batch's outcomes.
      if (commits.length === 0) post({ seq: m.seq, outcomes })
      else {
        post({ seq: m.seq, outcomes, commits })
        commits = []
      }
      answering.delete(answer)
    })
    answering.add(answer)
  } else if (m.op === 'sweep') answerCall(m.seq, () => ({ seq: m.seq, swept: writer.sweepExpired(m.now) }))
  else if (m.op === 'standing') writer.applyStanding(m.diff, m.tookMs)
  else if (m.op === 'manage')
    answerCall(m.seq, () => {
      writer.manage(m.change)
      return { seq: m.seq, managed: true }
    })
  else
    void writer
      .close()
      .then(() => Promise.all(answering))
      .then(
        () => post({ seq: m.seq, closed: true }),
        (err: unknown) => post({ seq: m.seq, callFailed: messageOf(err) }),
      )
})
post({ ready: true })
