// The relays a client speaks to, as one: each event is signed once (mined to the strictest rule among them) and
// sent to all; subscriptions and queries merge their answers, each event once.
import type { EventTemplate } from 'nostr-tools/pure'
import type { NostrEvent } from '../nips/nip01.js'
import { ClientError } from './errors.js'
import { signingReady, type Signer } from './keys.js'
import { bitsFromRefusal, fetchRelayInfo, type RelayInfo } from './nip11.js'
import { minePow } from './pow.js'
import { RelayClient, type Filter, type SubHandlers, type Subscription } from './relay.js'

/** What each relay answered to one event. */
export type Published = {
  readonly event: NostrEvent
  /** True when at least one relay stored it. */
  readonly ok: boolean
  readonly answers: readonly { readonly url: string; readonly ok: boolean; readonly message: string }[]
}

export type PoolOptions = { readonly log?: (line: string) => void; readonly connectMs?: number }

/** Several relays, one signer. */
export class Pool {
  readonly relays: readonly RelayClient[]
  private readonly infos = new Map<string, Promise<RelayInfo | undefined>>()

  constructor(
    urls: readonly string[],
    readonly signer: Signer,
    private readonly opts: PoolOptions = {},
  ) {
    if (urls.length === 0) throw new ClientError('no relay given: pass --relay ws://HOST:PORT')
    this.relays = [...new Set(urls)].map(u => new RelayClient(u, { signer, ...(opts.log ? { log: opts.log } : {}) }))
  }

  /** Resolves when every relay is connected; rejects naming the first that is not within the wait. */
  async connect(): Promise<void> {
    await Promise.all([signingReady, ...this.relays.map(r => r.waitOpen(this.opts.connectMs ?? 10_000))])
  }

  /** A relay's NIP-11 document, fetched once; undefined when it has none. */
  info(url: string): Promise<RelayInfo | undefined> {
    let p = this.infos.get(url)
    if (!p) {
      p = fetchRelayInfo(url).catch(err => {
        this.opts.log?.((err as Error).message)
        return undefined
      })
      this.infos.set(url, p)
    }
    return p
  }

  /**
   * Signs `t` (created now, mined to what the relays' NIP-11 ask for its kind) and sends it to every relay, each
   * re-sent after a reconnect until it answers or `ms` passes.
   */
  async publish(t: Omit<EventTemplate, 'created_at'> & { created_at?: number }, ms?: number): Promise<Published> {
    const infos = await Promise.all(this.relays.map(r => this.info(r.url)))
    let bits = Math.max(0, ...infos.map(i => i?.powFor(t.kind) ?? 0))
    let event = await this.sign(t, bits)
    let answers = await this.send(event, this.relays, ms)
    // A relay that states no rule (or another) says what it needs in its refusal: mine that and send again.
    const asked = Math.max(0, ...answers.map(a => (a.ok ? 0 : (bitsFromRefusal(a.message) ?? 0))))
    // Only when no relay took it: a relay that did would otherwise hold two versions of the same request.
    if (asked > bits && !answers.some(a => a.ok)) {
      bits = asked
      event = await this.sign(t, bits)
      answers = await this.send(event, this.relays, ms)
    }
    return { event, ok: answers.some(a => a.ok), answers }
  }

  /** Sends an already signed event to every relay. */
  async publishSigned(event: NostrEvent): Promise<Published> {
    const answers = await this.send(event, this.relays)
    return { event, ok: answers.some(a => a.ok), answers }
  }

  /**
   * One subscription on every relay; each event is delivered once, and EOSE once every relay has sent it or
   * closed the subscription (a relay that refuses it must not keep the others' EOSE back).
   */
  subscribe(filters: Filter[], h: SubHandlers): Subscription {
    const seen = new Set<string>()
    let settled = 0
    const settle = () => {
      if (++settled === this.relays.length) h.oneose?.()
    }
    const subs = this.relays.map(r => {
      let done = false
      const once = () => {
        if (!done) settle()
        done = true
      }
      return r.subscribe(filters, {
        onevent: e => {
          if (seen.has(e.id)) return
          if (seen.size > 100_000) seen.clear()
          seen.add(e.id)
          h.onevent(e)
        },
        oneose: once,
        onclosed: reason => {
          h.onclosed?.(`${r.url}: ${reason}`)
          once()
        },
      })
    })
    return { close: () => subs.forEach(s => s.close()) }
  }

  /**
   * Stored events matching `filters` on the relays, each once, newest first. A relay that refuses or does not
   * answer is left out (and logged); only when none answers does the query fail.
   */
  async query(filters: Filter[], ms?: number): Promise<NostrEvent[]> {
    const all = await Promise.allSettled(this.relays.map(r => r.query(filters, ms)))
    const answered = all.flatMap(a => (a.status === 'fulfilled' ? [a.value] : []))
    const failed = all.flatMap(a => (a.status === 'rejected' ? [a.reason as Error] : []))
    if (!answered.length) throw failed[0]
    for (const err of failed) this.opts.log?.(err.message)
    const byId = new Map(answered.flat().map(e => [e.id, e]))
    return [...byId.values()].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
  }

  close(): void {
    for (const r of this.relays) r.close()
  }

  private async sign(t: Omit<EventTemplate, 'created_at'> & { created_at?: number }, bits: number) {
    const template = { ...t, created_at: t.created_at ?? Math.floor(Date.now() / 1000) }
    return this.signer.sign(bits > 0 ? await minePow(template, this.signer.pubkey, bits) : template)
  }

  private send(event: NostrEvent, relays: readonly RelayClient[], ms?: number) {
    return Promise.all(relays.map(async r => ({ url: r.url, ...(await r.publish(event, ms)) })))
  }
}

/** The refused answers of a publish, as one line: "url: prefix: reason; ...". */
export function refusals(p: Published): string {
  return p.answers
    .filter(a => !a.ok)
    .map(a => `${a.url}: ${a.message}`)
    .join('; ')
}
