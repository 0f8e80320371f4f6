// A verification worker: checks batches of signatures with the configured backend, off the event loop; for
// `agora import`, it checks whole chunks of the file's lines (parse, shape, id, signature) as well.
import { parentPort, workerData } from 'node:worker_threads'
import type { NostrEvent } from '../nips/nip01.js'
import { checkChunk } from './import-check.js'
import { makeVerifier } from './verifier.js'

/** Events as JSON text: cheaper to pass between threads than objects. */
type Batch = { readonly seq: number; readonly events: readonly string[] }
/** Whole lines of an import file, as bytes (decoded here, not on the event loop). */
type Lines = { readonly seq: number; readonly lines: Uint8Array; readonly now: number; readonly verify: boolean }

const verifier = await makeVerifier(workerData.backend)
parentPort!.on('message', (m: Batch | Lines) => {
  if ('lines' in m) {
    const checked = checkChunk(m.lines, { now: m.now, verifier: m.verify ? verifier : undefined })
    return parentPort!.postMessage({ seq: m.seq, checked })
  }
  const ok = new Uint8Array(m.events.length)
  m.events.forEach((e, i) => (ok[i] = verifier.verify(JSON.parse(e) as NostrEvent) ? 1 : 0))
  parentPort!.postMessage({ seq: m.seq, ok }, [ok.buffer])
})
parentPort!.postMessage({ ready: verifier.name })
