// The writer's thread: owns the write connection through relay/writer.ts. Events arrive as their stored
// JSON (cheaper to pass than objects); everything that arrives while a batch commits joins the next one.
import { parentPort, workerData } from 'node:worker_threads'
import type { VerifiedEvent } from '../nips/nip01.js'
import type { MarketRules } from '../market/fold.js'
import type { WriteNote } from '../policies/types.js'
import { openWriteDb } from './store/db.js'
import { createWriter } from './writer.js'
import type { ToWriter, FromWriter } from './writer-thread.js'

const port = parentPort!
const post = (m: FromWriter) => port.postMessage(m)
const { file, synchronous, batchMax, market, walPages, restartPages, offloadStanding } = workerData as {
  file: string
  synchronous: 'full' | 'normal'
  batchMax: number
  market: MarketRules | undefined
  /** The WAL size in pages, as the checkpoint thread last saw it. */
  walPages: Int32Array
  restartPages: number
  /** Standing is computed on the publisher thread, and comes back as `standing` messages. */
  offloadStanding: boolean
}

let writer: ReturnType<typeof createWriter>
// Each batch's size and commit time (ms), flat, until the next outcome message carries them to the relay.
let commits: number[] = []
try {
  const db = openWriteDb(file, synchronous, false)
  // Under sustained writes the passive checkpoints never catch up and the WAL only grows; past the limit
  // the writer waits for readers, finishes the checkpoint and starts the WAL over.
  const afterCommit = () => {
    if (Atomics.load(walPages, 0) <= restartPages) return
    const [r] = db.pragma('wal_checkpoint(RESTART)') as { busy: number }[]
    if (r?.busy === 0) Atomics.store(walPages, 0, 0)
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
  } else if (m.op === 'sweep') post({ seq: m.seq, swept: writer.sweepExpired(m.now) })
  else if (m.op === 'standing') writer.applyStanding(m.diff, m.tookMs)
  else
    void writer
      .close()
      .then(() => Promise.all(answering))
      .then(() => post({ seq: m.seq, closed: true }))
})
post({ ready: true })
