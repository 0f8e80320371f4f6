// The market publisher's thread: builds the relay-signed outputs from its own read-only connection and
// signs them, so that work stays off the event loop (measured: the event loop is on every event's path,
// and signing there alone cost about 5 points of ingest). Finished events go back to be stored. It also
// computes standing when the writer asks, from one read transaction, so that the writer only writes the
// rows that changed (measured: reading the inputs is most of a computation).
import { parentPort, workerData } from 'node:worker_threads'
import type { StandingRules } from './fold.js'
import { makeStandingReader } from './fold/standing.js'
import { makeOutputs } from './outputs.js'
import { loadIdentity } from '../relay/identity.js'
import { startMarketPublisher, type PublisherSettings } from './publisher.js'
import type { FromPublisher, ToPublisher } from './publisher-thread.js'
import { openReadDb } from '../relay/store/db.js'

const setup = workerData as {
  file: string
  secretKey: string
  dataDir: string
  intervalMs: number
  settings: PublisherSettings
  standing: StandingRules
}
const port = parentPort!
const post = (m: FromPublisher) => port.postMessage(m)
let settings = setup.settings
const identity = await loadIdentity(setup.secretKey, setup.dataDir)
const db = openReadDb(setup.file)
const standing = makeStandingReader(db)
// One snapshot for every table the computation reads.
const computeStanding = db.transaction(() => standing.compute(setup.standing))
const publisher = startMarketPublisher({
  outputs: makeOutputs(db),
  relayPubkey: identity.pubkey,
  sign: identity.sign,
  store: (_e, raw) => {
    post({ store: raw })
    return Promise.resolve()
  },
  intervalMs: setup.intervalMs,
  settings: () => settings,
})

port.on('message', (m: ToPublisher) => {
  if ('touch' in m) publisher.touch(m.touch)
  else if ('settings' in m) settings = m.settings
  else if ('lag' in m) post({ lag: publisher.lag() })
  else if ('standing' in m) {
    const started = performance.now()
    const diff = computeStanding()
    post({ standing: diff, tookMs: performance.now() - started })
  } else
    void publisher.close().then(() => {
      db.close()
      post({ closed: true })
    })
})
post({ ready: true })
