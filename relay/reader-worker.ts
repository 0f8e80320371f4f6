// A reader thread: runs stored-event queries and counts on its own read-only connection, so a long scan
// never holds up the event loop (DESIGN §9).
import { parentPort, workerData } from 'node:worker_threads'
import { openReadDb } from './store/db.js'
import { createReader } from './store/reader.js'
import { errorCode, negentropyHost, timedQuery, type FromReader, type ToReader } from './reader-pool.js'

const reader = createReader(openReadDb((workerData as { file: string }).file))
const negentropy = negentropyHost(reader)
const port = parentPort!

port.on('message', (m: ToReader) => {
  let reply: FromReader | undefined
  try {
    reply = m.op === 'query' || m.op === 'count' ? timedQuery(reader, m) : negentropy(m)
  } catch (err) {
    reply = { seq: m.seq, error: errorCode(err) }
  }
  if (reply) port.postMessage(reply)
})
port.postMessage('ready')
