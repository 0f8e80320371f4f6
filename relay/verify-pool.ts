// Owns the verification workers. Events are batched per turn of the event loop and sent to the least
// busy worker, so the event loop never waits on signature checks (DESIGN §9). `agora import` sends them whole
// chunks of its file instead (createLineChecker).
import { Worker } from 'node:worker_threads'
import type { NostrEvent } from '../nips/nip01.js'
import { checkChunk, type CheckedLines } from './import-check.js'
import { makeVerifier } from './verifier.js'
import { workerUrl } from './worker-url.js'

type Backend = Parameters<typeof makeVerifier>[0]

/** Asynchronous signature checks of events whose id is already checked. */
export type AsyncVerifier = {
  readonly name: string
  /** `raw`, the event's canonical JSON when the caller has it, is what crosses to the worker thread. */
  verify(e: Readonly<NostrEvent>, raw?: string): Promise<boolean>
  close(): Promise<void>
}

type Waiter = {
  readonly e: Readonly<NostrEvent>
  readonly raw?: string
  done(ok: boolean): void
  fail(err: Error): void
}
type Slot = { worker: Worker; busy: number; pending: Map<number, { waiters: Waiter[]; sent: number }> }

// Small batches keep every worker busy and let results stream back to the writer while the rest is
// checked; one large batch would leave the other workers and the writer waiting on it.
const BATCH_MAX = 64

async function startWorker(backend: Backend): Promise<{ worker: Worker; name: string }> {
  const worker = new Worker(workerUrl(import.meta.url, 'verify-worker'), { workerData: { backend } })
  const name = await new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { ready: string }) => resolve(m.ready))
    worker.once('error', reject)
  })
  return { worker, name }
}

/**
 * A pool of `workers` verification threads running `backend`; with 0 workers, checks run inline on the
 * calling thread (for tiny deployments and tools). `onBatch` hears each batch's size and time to its answer (ms).
 */
export async function createVerifyPool(
  backend: Backend,
  workers: number,
  onBatch?: (size: number, ms: number) => void,
): Promise<AsyncVerifier> {
  if (workers === 0) {
    const inline = await makeVerifier(backend)
    const check = !onBatch
      ? inline.verify
      : (e: Readonly<NostrEvent>) => {
          const started = performance.now()
          const ok = inline.verify(e)
          onBatch(1, performance.now() - started)
          return ok
        }
    return { name: inline.name, verify: async e => check(e), close: async () => {} }
  }
  const started = await Promise.all(Array.from({ length: workers }, () => startWorker(backend)))
  const slots: Slot[] = started.map(({ worker }) => ({ worker, busy: 0, pending: new Map() }))
  let seq = 0
  const queue: Waiter[] = []
  let scheduled = false

  for (const slot of slots) {
    slot.worker.on('message', (m: { seq: number; ok: Uint8Array }) => {
      const { waiters, sent } = slot.pending.get(m.seq)!
      slot.pending.delete(m.seq)
      onBatch?.(waiters.length, performance.now() - sent)
      slot.busy -= waiters.length
      // An idle worker must not keep the process alive; a busy one must, or answers could be lost.
      if (slot.busy === 0) slot.worker.unref()
      waiters.forEach((w, i) => w.done(m.ok[i] === 1))
    })
    // A dead worker fails what it held (the events get `error:`), and takes no more work.
    slot.worker.on('error', err => {
      for (const { waiters } of slot.pending.values()) waiters.forEach(w => w.fail(err))
      slot.pending.clear()
      slot.busy = Infinity
    })
    slot.worker.unref()
  }

  const flush = () => {
    scheduled = false
    const size = Math.min(BATCH_MAX, Math.ceil(queue.length / slots.length))
    while (queue.length > 0) {
      const batch = queue.splice(0, size)
      const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a))
      if (slot.busy === Infinity) {
        batch.forEach(w => w.fail(new Error('no verification worker is running')))
        continue
      }
      const n = ++seq
      slot.pending.set(n, { waiters: batch, sent: performance.now() })
      slot.busy += batch.length
      slot.worker.ref()
      // A string is copied across in one piece; an event object is walked and rebuilt field by field.
      slot.worker.postMessage({ seq: n, events: batch.map(b => b.raw ?? JSON.stringify(b.e)) })
    }
  }

  return {
    name: `${started[0]!.name} in ${workers} worker${workers > 1 ? 's' : ''}`,
    verify: (e, raw) =>
      new Promise((done, fail) => {
        queue.push({ e, raw, done, fail })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      }),
    close: async () => {
      await Promise.all(slots.map(s => s.worker.terminate()))
    },
  }
}

/** Checks chunks of an import file's lines; answers may come back in any order. */
export type LineChecker = {
  readonly name: string
  /** `lines` holds whole lines of the file, each ending in a newline but maybe the file's last. */
  check(lines: Uint8Array, now: number, verify: boolean): Promise<CheckedLines>
  close(): Promise<void>
}

/**
 * `workers` threads running `backend` that check an import file's lines (parse, shape, id, signature) and hand back
 * their canonical JSON, each chunk to the worker with the fewest waiting; with 0 workers, checks run inline.
 */
export async function createLineChecker(backend: Backend, workers: number): Promise<LineChecker> {
  if (workers === 0) {
    const inline = await makeVerifier(backend)
    return {
      name: inline.name,
      check: async (lines, now, verify) => checkChunk(lines, { now, verifier: verify ? inline : undefined }),
      close: async () => {},
    }
  }
  const started = await Promise.all(Array.from({ length: workers }, () => startWorker(backend)))
  type Waiting = { done(c: CheckedLines): void; fail(err: Error): void }
  const slots = started.map(({ worker }) => ({ worker, dead: false, pending: new Map<number, Waiting>() }))
  let seq = 0
  for (const slot of slots) {
    slot.worker.on('message', (m: { seq: number; checked: CheckedLines }) => {
      slot.pending.get(m.seq)!.done(m.checked)
      slot.pending.delete(m.seq)
      if (slot.pending.size === 0) slot.worker.unref()
    })
    slot.worker.on('error', err => {
      slot.dead = true
      for (const w of slot.pending.values()) w.fail(err)
      slot.pending.clear()
    })
    slot.worker.unref()
  }
  return {
    name: `${started[0]!.name} in ${workers} worker${workers > 1 ? 's' : ''}`,
    check: (lines, now, verify) =>
      new Promise((done, fail) => {
        const alive = slots.filter(s => !s.dead)
        if (alive.length === 0) return fail(new Error('no verification worker is running'))
        const slot = alive.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
        const n = ++seq
        slot.pending.set(n, { done, fail })
        slot.worker.ref()
        slot.worker.postMessage({ seq: n, lines, now, verify })
      }),
    close: async () => {
      await Promise.all(slots.map(s => s.worker.terminate()))
    },
  }
}
