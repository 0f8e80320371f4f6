// A reader thread: runs stored-event queries and counts on its own read-only connection, so a long scan
// never holds up the event loop (DESIGN §9).
import { parentPort, workerData } from 'node:worker_threads'
import { openReadDb } from './store/db.js'
import { createReader, QueryBudgetExceeded } from './store/reader.js'
import { timedQuery, type FromReader, type ToReader } from './reader-pool.js'

const reader = createReader(openReadDb((workerData as { file: string }).file))
const port = parentPort!

port.on('message', (m: ToReader) => {
  let reply: FromReader
  try {
    reply = timedQuery(reader, m)
  } catch (err) {
    reply = { seq: m.seq, error: err instanceof QueryBudgetExceeded ? 'budget' : String(err) }
  }
  port.postMessage(reply)
})
port.postMessage('ready')
