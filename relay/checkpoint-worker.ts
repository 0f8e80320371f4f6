// The checkpointer's thread: copies the WAL back into the database, so the writer's commits only append
// to the WAL and never stop for the page writes and fsyncs of a checkpoint (DESIGN §9).
import { parentPort, workerData } from 'node:worker_threads'
import { openCheckpointDb } from './store/db.js'

const { file, intervalMs, walPages } = workerData as { file: string; intervalMs: number; walPages: Int32Array }
const db = openCheckpointDb(file)

const timer = setInterval(() => {
  try {
    // Passive: never waits for or blocks the writer. The WAL size it reports tells the writer when to
    // start the WAL over (only the writer can do that without failing its own next transaction).
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[]
    Atomics.store(walPages, 0, r?.log ?? 0)
  } catch (err) {
    // The relay's logger lives on the main thread.
    parentPort!.postMessage({ error: `checkpoint did not run: ${err instanceof Error ? err.message : String(err)}` })
  }
}, intervalMs)

parentPort!.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort!.close()
})
parentPort!.postMessage('ready')
