// One client connection to one relay: reconnects with backoff, re-sends its subscriptions, answers NIP-42 AUTH,
// and matches each OK to its publish. Everything else in the client talks to relays through this.
import WebSocket from 'ws'
import type { Filter } from 'nostr-tools/filter'
import type { NostrEvent } from '../nips/nip01.js'
import { ClientError } from './errors.js'
import type { Signer } from './keys.js'

export type { Filter }

/** The relay's answer to a publish: its OK flag and message (a refusal starts with its prefix). */
export type PublishResult = { readonly ok: boolean; readonly message: string }

export type SubHandlers = {
  onevent(e: NostrEvent): void
  /** The first EOSE of this subscription (not repeated after a reconnect). */
  oneose?(): void
  /** The relay closed the subscription with this reason. */
  onclosed?(reason: string): void
}

export type Subscription = { close(): void }

/** One NIP-77 session's messages from the relay, as hex; `onerr` hears a NEG-ERR or a lost connection. */
export type NegHandlers = { onmsg(hex: string): void; onerr(reason: string): void }

/** An open NIP-77 session: the next message to the relay, or NEG-CLOSE. */
export type NegSession = { send(hex: string): void; close(): void }

export type RelayOptions = {
  /** Answers AUTH challenges (NIP-42) with this key. */
  readonly signer?: Signer
  /** Told each connect, disconnect and NOTICE, as one line. */
  readonly log?: (line: string) => void
  /** Told true on each connect and false on each loss (a page shows it). */
  readonly onstate?: (open: boolean) => void
  /** First and largest wait between reconnects, in ms; 250 and 30,000 by default. */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number }
  /** Told of each frame that is no Nostr message (not JSON, not an array, an EVENT without an event), dropped. */
  readonly ongarbage?: (what: string) => void
}

// authRefusal: the relay's auth-required answer, held while our AUTH answer is pending (NIP-42).
type Sub = { filters: Filter[]; h: SubHandlers; eosed: boolean; seen: Set<string>; authRefusal?: string }
type Pending = { event: NostrEvent; resolve(r: PublishResult): void; authRefusal?: string }

/** A relay connection that keeps itself open until close(). */
export class RelayClient {
  private ws: WebSocket | undefined
  private closed = false
  private wasOpen = false
  private wait: number
  /** The wait `drop` asked for, used once instead of the backoff. */
  private dropWait: number | undefined
  private timer: NodeJS.Timeout | undefined
  private lastError = 'not connected yet'
  private nextSub = 0
  private authId: string | undefined
  private readonly subs = new Map<string, Sub>()
  private readonly pending = new Map<string, Pending>()
  private readonly negs = new Map<string, NegHandlers>()
  private readonly openers = new Set<() => void>()

  constructor(
    readonly url: string,
    private readonly opts: RelayOptions = {},
  ) {
    if (!/^wss?:\/\//.test(url)) throw new ClientError(`relay URL ${url} must start with ws:// or wss://`)
    // ws throws a bare SyntaxError on a malformed URL (a space, a port out of range): say which URL instead.
    if (!URL.canParse(url)) throw new ClientError(`relay URL ${url} is not a valid URL`)
    this.wait = opts.backoff?.minMs ?? 250
    this.connect()
  }

  /** True while the socket is open. */
  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Resolves once connected; rejects with the last connection error after `ms`. */
  waitOpen(ms = 10_000): Promise<void> {
    if (this.isOpen) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(t)
        this.openers.delete(done)
        resolve()
      }
      const t = setTimeout(() => {
        this.openers.delete(done)
        reject(new ClientError(`cannot reach ${this.url}: ${this.lastError}`))
      }, ms)
      this.openers.add(done)
    })
  }

  /** Sends an event and resolves with the relay's OK; re-sent after a reconnect until answered or `ms` passes. */
  publish(event: NostrEvent, ms = 30_000): Promise<PublishResult> {
    return new Promise(resolve => {
      const t = setTimeout(() => {
        this.pending.delete(event.id)
        resolve({ ok: false, message: `error: no answer from ${this.url} within ${ms / 1000} s (${this.lastError})` })
      }, ms)
      this.pending.set(event.id, {
        event,
        resolve: r => {
          clearTimeout(t)
          this.pending.delete(event.id)
          resolve(r)
        },
      })
      this.send(['EVENT', event])
    })
  }

  /** Opens a subscription, kept across reconnects; each event id is delivered once. */
  subscribe(filters: Filter[], h: SubHandlers): Subscription {
    const id = `s${++this.nextSub}`
    this.subs.set(id, { filters, h, eosed: false, seen: new Set() })
    this.send(['REQ', id, ...filters])
    return {
      close: () => {
        if (this.subs.delete(id)) this.send(['CLOSE', id])
      },
    }
  }

  /**
   * Opens a NIP-77 (negentropy) session over `filter` with the initiator's first message. A session does not survive
   * a reconnect: its handlers hear `onerr` instead, and the caller starts again.
   */
  negOpen(filter: Filter, initialHex: string, h: NegHandlers): NegSession {
    const id = `n${++this.nextSub}`
    if (!this.isOpen) {
      queueMicrotask(() => h.onerr(`error: not connected to ${this.url} (${this.lastError})`))
      return { send: () => {}, close: () => {} }
    }
    this.negs.set(id, h)
    this.send(['NEG-OPEN', id, filter, initialHex])
    return {
      send: hex => {
        if (this.negs.has(id)) this.send(['NEG-MSG', id, hex])
      },
      close: () => {
        if (this.negs.delete(id)) this.send(['NEG-CLOSE', id])
      },
    }
  }

  /** The stored events matching `filters`, up to the relay's EOSE. */
  query(filters: Filter[], ms = 30_000): Promise<NostrEvent[]> {
    return new Promise((resolve, reject) => {
      const out: NostrEvent[] = []
      const t = setTimeout(() => {
        sub.close()
        reject(new ClientError(`${this.url} did not answer a query within ${ms / 1000} s (${this.lastError})`))
      }, ms)
      const sub = this.subscribe(filters, {
        onevent: e => out.push(e),
        oneose: () => {
          clearTimeout(t)
          sub.close()
          resolve(out)
        },
        onclosed: reason => {
          clearTimeout(t)
          reject(new ClientError(`${this.url} refused the query: ${reason}`))
        },
      })
    })
  }

  /**
   * Cuts the connection now and reconnects after `waitMs` (then with the usual backoff), re-sending what is open:
   * for a caller that finds the relay misbehaving. Frames already received are not delivered.
   */
  drop(reason: string, waitMs: number): void {
    if (this.closed || !this.ws) return
    this.lastError = reason
    this.dropWait = waitMs
    this.ws.removeAllListeners('message')
    this.ws.terminate()
  }

  /** Closes the connection for good; unanswered publishes resolve as failed. */
  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    for (const p of [...this.pending.values()]) p.resolve({ ok: false, message: 'error: connection closed' })
    this.ws?.terminate()
  }

  private connect(): void {
    const ws = new WebSocket(this.url, { handshakeTimeout: 10_000 })
    this.ws = ws
    ws.on('open', () => {
      this.wasOpen = true
      this.wait = this.opts.backoff?.minMs ?? 250
      this.opts.log?.(`connected to ${this.url}`)
      for (const [id, s] of this.subs) this.send(['REQ', id, ...s.filters])
      for (const p of this.pending.values()) this.send(['EVENT', p.event])
      for (const f of [...this.openers]) f()
      this.opts.onstate?.(true)
    })
    ws.on('message', data => this.onMessage(String(data)))
    ws.on('error', err => (this.lastError = (err as NodeJS.ErrnoException).code ?? err.message))
    ws.on('close', () => {
      for (const h of this.negs.values()) h.onerr(`error: connection to ${this.url} lost (${this.lastError})`)
      this.negs.clear()
      if (this.closed) return
      this.opts.onstate?.(false)
      // Before the first connection, waitOpen reports the failure once; retries after a loss are worth a line each.
      if (this.wasOpen)
        this.opts.log?.(`disconnected from ${this.url} (${this.lastError}); retrying in ${this.wait} ms`)
      if (this.dropWait !== undefined) {
        this.timer = setTimeout(() => this.connect(), this.dropWait)
        this.dropWait = undefined
        return
      }
      this.timer = setTimeout(() => this.connect(), this.wait * (0.75 + Math.random() / 2))
      this.wait = Math.min(this.wait * 2, this.opts.backoff?.maxMs ?? 30_000)
    })
  }

  private send(frame: unknown[]): void {
    if (this.isOpen) this.ws!.send(JSON.stringify(frame))
  }

  private onMessage(text: string): void {
    let m: unknown
    try {
      m = JSON.parse(text)
    } catch {
      return this.opts.ongarbage?.('a frame that is not JSON')
    }
    if (!Array.isArray(m)) return this.opts.ongarbage?.('a frame that is not an array')
    const [verb, a, b, c] = m as [string, unknown, unknown, unknown]
    if (verb === 'EVENT' && typeof a === 'string') {
      const s = this.subs.get(a)
      const e = b as NostrEvent
      if (typeof e?.id !== 'string') return this.opts.ongarbage?.('an EVENT without an event')
      if (!s || s.seen.has(e.id)) return
      if (s.seen.size > 100_000) s.seen.clear() // bounded: a long-lived subscription sees each id once per 100k
      s.seen.add(e.id)
      s.h.onevent(e)
    } else if (verb === 'EOSE' && typeof a === 'string') {
      const s = this.subs.get(a)
      if (s && !s.eosed) {
        s.eosed = true
        s.h.oneose?.()
      }
    } else if (verb === 'OK' && typeof a === 'string') this.onOk(a, b === true, String(c ?? ''))
    else if (verb === 'CLOSED' && typeof a === 'string') {
      const s = this.subs.get(a)
      if (!s) return
      // NIP-42: an auth-required CLOSED is retried once the AUTH answer has been sent.
      if (String(b).startsWith('auth-required:') && this.opts.signer) {
        s.authRefusal = String(b)
        return
      }
      this.subs.delete(a)
      s.h.onclosed?.(String(b ?? ''))
    } else if ((verb === 'NEG-MSG' || verb === 'NEG-ERR') && typeof a === 'string' && typeof b === 'string') {
      const h = this.negs.get(a)
      if (!h) return
      if (verb === 'NEG-MSG') return h.onmsg(b)
      this.negs.delete(a)
      h.onerr(b)
    } else if (verb === 'AUTH' && typeof a === 'string') this.auth(a)
    else if (verb === 'NOTICE') this.opts.log?.(`${this.url} says: ${String(a)}`)
  }

  private onOk(id: string, ok: boolean, message: string): void {
    if (id === this.authId) {
      if (ok) this.afterAuth()
      else this.authRefused(message)
      return
    }
    const p = this.pending.get(id)
    if (!p) return
    // NIP-42: an auth-required refusal is worth one retry after authenticating.
    if (!ok && message.startsWith('auth-required:') && this.opts.signer && p.authRefusal === undefined) {
      p.authRefusal = message
      return
    }
    // A duplicate is an event the relay already has: for the sender, that is success.
    p.resolve({ ok: ok || message.startsWith('duplicate:'), message })
  }

  private auth(challenge: string): void {
    const signer = this.opts.signer
    if (!signer) return
    const e = signer.sign({
      kind: 22242,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['relay', this.url],
        ['challenge', challenge],
      ],
      content: '',
    })
    this.authId = e.id
    this.send(['AUTH', e])
  }

  /** Whatever waited on AUTH is asked again once the relay accepted the answer. */
  private afterAuth(): void {
    for (const [id, s] of this.subs) {
      s.authRefusal = undefined
      this.send(['REQ', id, ...s.filters])
    }
    for (const p of this.pending.values()) if (p.authRefusal !== undefined) this.send(['EVENT', p.event])
  }

  /** A refused AUTH answer ends what waited on it with the relay's auth-required refusal, not with a timeout. */
  private authRefused(message: string): void {
    this.opts.log?.(`${this.url} refused our AUTH: ${message}`)
    const why = (refusal: string) => `${refusal} (our AUTH was refused: ${message})`
    for (const p of [...this.pending.values()])
      if (p.authRefusal !== undefined) p.resolve({ ok: false, message: why(p.authRefusal) })
    for (const [id, s] of [...this.subs])
      if (s.authRefusal !== undefined) {
        this.subs.delete(id)
        s.h.onclosed?.(why(s.authRefusal))
      }
  }
}
