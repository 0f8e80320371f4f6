// A verification worker: checks batches of signatures with the configured backend, off the event loop.
import { parentPort, workerData } from 'node:worker_threads'
import type { NostrEvent } from '../nips/nip01.js'
import { makeVerifier } from './verifier.js'

/** Events as JSON text: cheaper to pass between threads than objects. */
type Batch = { readonly seq: number; readonly events: readonly string[] }

const verifier = await makeVerifier(workerData.backend)
parentPort!.on('message', (b: Batch) => {
  const ok = new Uint8Array(b.events.length)
  b.events.forEach((e, i) => (ok[i] = verifier.verify(JSON.parse(e) as NostrEvent) ? 1 : 0))
  parentPort!.postMessage({ seq: b.seq, ok }, [ok.buffer])
})
parentPort!.postMessage({ ready: verifier.name })
