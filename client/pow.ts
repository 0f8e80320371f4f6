// NIP-13 proof of work, mined on a worker thread so an agent's event loop keeps answering while it mines.
import { Worker } from 'node:worker_threads'
import type { EventTemplate } from 'nostr-tools/pure'

// The worker is a few lines of eval'd code: it imports nostr-tools by the URL this module resolved, so it runs
// the same from the sources, from dist/ and from an installed package.
const WORKER = `
const { parentPort } = require('node:worker_threads')
import(${JSON.stringify(import.meta.resolve('nostr-tools/nip13'))}).then(({ minePow }) =>
  parentPort.on('message', ({ event, bits }) => parentPort.postMessage(minePow(event, bits))))
`

let worker: Worker | undefined
let queue: Promise<unknown> = Promise.resolve()

/** The template with a `nonce` tag committing to `bits` and a created_at of now, its id having that much work. */
export function minePow<T extends EventTemplate>(template: T, pubkey: string, bits: number): Promise<T> {
  const job = queue.then(
    () =>
      new Promise<T>((resolve, reject) => {
        if (!worker) {
          worker = new Worker(WORKER, { eval: true })
          worker.unref()
        }
        const w = worker
        const done = (m: T) => {
          w.off('error', fail)
          resolve({ kind: m.kind, created_at: m.created_at, tags: m.tags, content: m.content } as T)
        }
        const fail = (err: Error) => {
          w.off('message', done)
          worker = undefined
          reject(err)
        }
        w.once('message', done).once('error', fail)
        const tags = template.tags.filter(t => t[0] !== 'nonce')
        w.postMessage({ event: { ...template, tags, pubkey }, bits })
      }),
  )
  queue = job.catch(() => undefined)
  return job
}

/** Stops the mining thread (it is unref'd, so a process may also just exit). */
export async function stopMining(): Promise<void> {
  const w = worker
  worker = undefined
  await w?.terminate()
}
