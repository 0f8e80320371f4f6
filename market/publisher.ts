// Publishes the relay-signed market outputs (DESIGN §7.7) for what the writer reports as changed, at most
// once per `market.publish_interval`: a 31118 ledger entry per touched job and a 30382 assertion per
// touched provider. An output whose tags did not change is not published again. A provider shown online
// is looked at again when its last heartbeat gets too old, so `online` turns 0 without any new event.
import type { EventTemplate } from 'nostr-tools/pure'
import type { Touched } from './fold.js'
import { JOB_LEDGER, PROVIDER_ASSERTION, type Outputs } from './outputs.js'
import { remember } from './remember.js'
import { canonicalJson, type NostrEvent, type VerifiedEvent } from '../nips/nip01.js'

/** The market keys the publisher reads at each publication. */
export type PublisherSettings = { offlineAfter: number; flagThreshold: number; assertionInterval: number }

export type PublisherSetup = {
  readonly outputs: Outputs
  readonly relayPubkey: string
  readonly sign: (t: EventTemplate) => NostrEvent
  /** Stores a relay-signed event through the writer (which fans it out); resolves once committed. */
  readonly store: (e: VerifiedEvent, raw: string) => Promise<unknown>
  readonly intervalMs: number
  /** Read at each publication, so a reload applies. */
  readonly settings: () => PublisherSettings
}

// Addresses whose last tags are remembered; a forgotten one is compared with nothing and published again.
const REMEMBERED = 100_000

export function startMarketPublisher(setup: PublisherSetup) {
  const jobs = new Set<string>()
  const providers = new Set<string>()
  // Per address: the tags last published and their created_at (a replacement needs a later one).
  const last = new Map<string, { tags: string; at: number }>()
  const offlineChecks = new Map<string, NodeJS.Timeout>()
  // When each provider's assertion was last published (ms): a busy provider is republished at most once
  // per assertion interval, as each publication is a stored, indexed event.
  const assertedAt = new Map<string, number>()
  let timer: NodeJS.Timeout | undefined
  let publishing: Promise<void> = Promise.resolve()
  let closed = false
  // When the oldest change not yet taken by a publication came, and the oldest the running publication holds (ms).
  let waitingSince: number | undefined
  let flushingSince: number | undefined

  function publish(kind: number, d: string, tags: string[][], now: number): Promise<unknown> {
    const key = `${kind}:${d}`
    const json = JSON.stringify(tags)
    const prev = last.get(key) ?? { tags: '', at: setup.outputs.storedAt(setup.relayPubkey, kind, d) ?? 0 }
    if (prev.tags === json) return Promise.resolve()
    const at = Math.max(now, prev.at + 1)
    remember(last, key, { tags: json, at }, REMEMBERED)
    const e = setup.sign({ kind, created_at: at, tags, content: '' }) as VerifiedEvent
    return setup.store(e, canonicalJson(e))
  }

  function watchOffline(pubkey: string, now: number, offlineAfter: number): void {
    clearTimeout(offlineChecks.get(pubkey))
    offlineChecks.delete(pubkey)
    const at = setup.outputs.offlineAt(pubkey, offlineAfter)
    if (at === undefined || at <= now) return
    const t = setTimeout(() => touch({ jobs: [], providers: [pubkey] }), (at - now + 1) * 1000)
    t.unref()
    offlineChecks.set(pubkey, t)
  }

  /** Queues a publication after the interval (one at a time, in order). */
  const schedule = () =>
    (timer ??= setTimeout(() => (publishing = publishing.then(() => flush(false))), setup.intervalMs))

  /** Publishes what changed; `all` (at close) includes providers whose assertion interval is not over. */
  async function flush(all: boolean): Promise<void> {
    timer = undefined
    flushingSince = waitingSince
    waitingSince = undefined
    const now = Math.floor(Date.now() / 1000)
    const { offlineAfter, flagThreshold, assertionInterval } = setup.settings()
    const nowMs = Date.now()
    const writes: Promise<unknown>[] = []
    for (const id of jobs) {
      const tags = setup.outputs.jobLedger(id)
      if (tags) writes.push(publish(JOB_LEDGER, id, tags, now))
    }
    for (const pubkey of providers) {
      if (!all && nowMs - (assertedAt.get(pubkey) ?? -Infinity) < assertionInterval * 1000) continue
      providers.delete(pubkey)
      const tags = setup.outputs.providerAssertion(pubkey, now, offlineAfter, flagThreshold)
      writes.push(publish(PROVIDER_ASSERTION, pubkey, tags, now))
      remember(assertedAt, pubkey, nowMs, REMEMBERED)
      watchOffline(pubkey, now, offlineAfter)
    }
    jobs.clear()
    // Providers not due yet wait for a later turn.
    if (providers.size > 0 && !closed) schedule()
    // A failed write is retried by the next change to the same job or provider.
    await Promise.allSettled(writes)
    flushingSince = undefined
  }

  function touch(t: Touched): void {
    if (closed) return
    waitingSince ??= Date.now()
    t.jobs.forEach(j => jobs.add(j))
    t.providers.forEach(p => providers.add(p))
    schedule()
  }

  return {
    touch,
    /**
     * Seconds the oldest change not yet published has waited (0 when none waits). Providers held back by
     * market.assertion_interval wait by design and do not count.
     */
    lag(): number {
      const since = flushingSince ?? waitingSince
      return since === undefined ? 0 : (Date.now() - since) / 1000
    },
    /** Publishes what is pending, then stops. */
    async close(): Promise<void> {
      closed = true
      for (const t of offlineChecks.values()) clearTimeout(t)
      clearTimeout(timer)
      publishing = publishing.then(() => flush(true))
      await publishing
    },
  }
}
