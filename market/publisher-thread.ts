// The market publisher as the relay runs it: on a thread of its own when the relay uses threads (the
// default), or on the event loop (`store.writer_thread = false`, as the tests run). On its thread it also
// computes standing when the writer asks (market/fold/standing.ts), so that the writer only writes the result.
import { Worker } from 'node:worker_threads'
import type { StandingRules, Touched } from './fold.js'
import type { StandingDiff } from './fold/standing.js'
import { makeOutputs } from './outputs.js'
import type { Db } from '../relay/store/db.js'
import type { Identity } from '../relay/identity.js'
import type { Log } from '../relay/log.js'
import { startMarketPublisher, type PublisherSettings } from './publisher.js'
import type { VerifiedEvent } from '../nips/nip01.js'
import { workerUrl } from '../relay/worker-url.js'

export type ToPublisher =
  { touch: Touched } | { settings: PublisherSettings } | { standing: true } | { lag: true } | { close: true }
export type FromPublisher =
  { ready: true } | { store: string } | { standing: StandingDiff; tookMs: number } | { lag: number } | { closed: true }

export type Publisher = {
  touch(t: Touched): void
  /** Computes standing on the publisher's thread (only there: inline, the writer computes it). */
  standing?(): void
  /** The settings a reload may change. */
  settings(s: PublisherSettings): void
  /** Seconds the oldest change not yet published has waited (market/publisher.ts). */
  lag(): Promise<number>
  /** Publishes what is pending (stored through `store`), then stops. */
  close(): Promise<void>
}

export type PublisherSetup = {
  readonly thread: boolean
  readonly file: string
  /** The event loop's read connection, for the inline publisher. */
  readonly readDb: Db
  readonly identity: Identity
  /** What the thread needs to load the same identity. */
  readonly secretKey: string
  readonly dataDir: string
  readonly intervalMs: number
  readonly settings: PublisherSettings
  /** Stores a relay-signed event through the writer. */
  readonly store: (e: VerifiedEvent, raw: string) => Promise<unknown>
  /** How standing is computed, and where its results go (the writer's `applyStanding`). */
  readonly standing: StandingRules
  readonly applyStanding: (diff: StandingDiff, tookMs: number) => void
  /** Where the thread's errors go. */
  readonly log: Log
}

export async function openPublisher(setup: PublisherSetup): Promise<Publisher> {
  if (!setup.thread) {
    let settings = setup.settings
    const p = startMarketPublisher({
      outputs: makeOutputs(setup.readDb),
      relayPubkey: setup.identity.pubkey,
      sign: setup.identity.sign,
      store: setup.store,
      intervalMs: setup.intervalMs,
      settings: () => settings,
    })
    return { touch: p.touch, settings: s => (settings = s), lag: async () => p.lag(), close: p.close }
  }
  const worker = new Worker(workerUrl(import.meta.url, 'publisher-worker'), {
    workerData: {
      file: setup.file,
      secretKey: setup.secretKey,
      dataDir: setup.dataDir,
      intervalMs: setup.intervalMs,
      settings: setup.settings,
      standing: setup.standing,
    },
  })
  let closed: (() => void) | undefined
  // Answers to lag questions, in the order asked (the thread answers in order).
  const lags: ((seconds: number) => void)[] = []
  worker.on('message', (m: FromPublisher) => {
    if ('store' in m) void setup.store(JSON.parse(m.store) as VerifiedEvent, m.store).catch(() => undefined)
    else if ('standing' in m) setup.applyStanding(m.standing, m.tookMs)
    else if ('lag' in m) lags.shift()?.(m.lag)
    else if ('closed' in m) closed?.()
  })
  worker.on('error', err => setup.log.error({ component: 'market' }, `publisher thread stopped: ${err.message}`))
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  const post = (m: ToPublisher) => worker.postMessage(m)
  // A thread that died cannot answer the close: its exit ends the wait too.
  let gone = false
  const exited = new Promise<void>(resolve =>
    worker.once('exit', () => {
      // Nor the questions it held: a stopped publisher publishes nothing, so nothing waits on it.
      gone = true
      lags.splice(0).forEach(answer => answer(0))
      resolve()
    }),
  )
  return {
    touch: t => post({ touch: t }),
    standing: () => post({ standing: true }),
    settings: s => post({ settings: s }),
    lag: () =>
      new Promise<number>(resolve => {
        if (gone) return resolve(0)
        lags.push(resolve)
        post({ lag: true })
      }),
    async close() {
      const done = new Promise<void>(resolve => (closed = resolve))
      post({ close: true })
      await Promise.race([done, exited])
      await worker.terminate()
    },
  }
}
