// Lightning payments through Nostr Wallet Connect (NIP-47): the wallet service listens on the relays its URI names
// for kind 23194 requests signed with the URI's secret and answers each with a 23195 naming it. The encryption is
// NIP-44 v2 when the service's 13194 info offers it, else NIP-04 (wallets from before NIP-44 publish no
// `encryption` tag).
import { createHash } from 'node:crypto'
import { hexToBytes } from '@noble/curves/utils.js'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import type { NostrEvent } from '../nips/nip01.js'
import { readInvoice } from '../nips/nip57.js'
import { ClientError } from './errors.js'
import { signerFrom, type Signer } from './keys.js'
import { RelayClient } from './relay.js'

/** What a NIP-47 connection URI names. */
export type NwcConnection = {
  readonly walletPubkey: string
  readonly relays: readonly string[]
  /** The client's secret key (hex): it signs the requests and keys the encryption. */
  readonly secret: string
}

/** An invoice's state as the wallet reports it. */
export type InvoiceState = 'pending' | 'accepted' | 'settled' | 'expired' | 'failed'

/** A connected wallet. Each call is one NIP-47 request; failures are ClientErrors. */
export type Nwc = {
  readonly walletPubkey: string
  /** The encryption its requests use. */
  readonly encryption: 'nip44_v2' | 'nip04'
  /** Pays a BOLT11 invoice; resolves once paid (a hold invoice: once its payee settles). */
  payInvoice(bolt11: string): Promise<{ preimage: string }>
  makeInvoice(msats: number, description?: string): Promise<{ bolt11: string; paymentHash: string }>
  /** An invoice for a payment hash whose preimage the caller keeps; a payment to it waits for settleHoldInvoice. */
  makeHoldInvoice(msats: number, paymentHash: string, description?: string): Promise<{ bolt11: string }>
  settleHoldInvoice(preimage: string): Promise<void>
  cancelHoldInvoice(paymentHash: string): Promise<void>
  lookupInvoice(paymentHash: string): Promise<{ state: InvoiceState; preimage?: string }>
  /** The balance in msats. */
  getBalance(): Promise<number>
  close(): void
}

/** How long requests wait, and where connection events are told. */
export type NwcOptions = {
  /** How long one request may wait for its answer; 60 s by default. */
  readonly timeoutMs?: number
  readonly log?: (line: string) => void
}

const HEX64 = /^[0-9a-f]{64}$/
const SHAPE = 'a NWC URI looks like nostr+walletconnect://<wallet pubkey, 64 hex>?relay=wss://...&secret=<64 hex>'
const STATES: readonly string[] = ['pending', 'accepted', 'settled', 'expired', 'failed']

/** The wallet, relays and secret of a connection URI; a ClientError that shows the shape when it is malformed. */
export function parseNwcUri(uri: string): NwcConnection {
  // The URI holds a secret: messages say what is wrong with it, never repeat it.
  const bad = (why: string) => new ClientError(`not a Nostr Wallet Connect URI (${why}): ${SHAPE}`)
  let url: URL
  try {
    url = new URL(uri.trim())
  } catch {
    throw bad('it does not parse as a URI')
  }
  if (url.protocol !== 'nostr+walletconnect:') throw bad('it must start with nostr+walletconnect://')
  const walletPubkey = (url.host || url.pathname.replace(/^\/+/, '')).toLowerCase()
  if (!HEX64.test(walletPubkey)) throw bad('the wallet pubkey must be 64 hex characters')
  const relays = url.searchParams.getAll('relay')
  if (relays.length === 0) throw bad('it names no relay')
  const notWs = relays.find(r => !/^wss?:\/\//.test(r))
  if (notWs !== undefined) throw bad(`relay ${notWs} is not a ws:// or wss:// URL`)
  const secret = (url.searchParams.get('secret') ?? '').toLowerCase()
  if (!HEX64.test(secret)) throw bad('the secret must be 64 hex characters')
  return { walletPubkey, relays, secret }
}

/** Connects to the wallet a NIP-47 URI names: opens its relays and reads its 13194 info to pick the encryption. */
export async function connectNwc(uri: string, o: NwcOptions = {}): Promise<Nwc> {
  const conn = parseNwcUri(uri)
  const timeoutMs = o.timeoutMs ?? 60_000
  const relays = conn.relays.map(url => new RelayClient(url, o.log ? { log: o.log } : {}))
  const closeAll = () => relays.forEach(r => r.close())
  let info: NostrEvent | undefined
  try {
    await Promise.any(relays.map(r => r.waitOpen(Math.min(timeoutMs, 10_000))))
    info = await readInfo(relays, conn.walletPubkey, timeoutMs)
  } catch (err) {
    closeAll()
    if (err instanceof AggregateError) throw new ClientError(`cannot reach the wallet's relay: ${reasons(err)}`)
    throw err
  }
  const offered = info?.tags.find(t => t[0] === 'encryption')?.[1]?.split(/\s+/) ?? []
  const encryption = offered.includes('nip44_v2') ? 'nip44_v2' : 'nip04'
  o.log?.(
    info
      ? `wallet ${conn.walletPubkey.slice(0, 8)} offers ${info.content || 'nothing'}; speaking ${encryption}`
      : `wallet ${conn.walletPubkey.slice(0, 8)} published no info (13194); speaking nip04`,
  )
  const methods = info ? new Set(info.content.split(/\s+/)) : undefined
  const call = requester({ conn, relays, encryption, timeoutMs, methods })
  return walletApi(conn.walletPubkey, encryption, call, () => {
    call.close()
    closeAll()
  })
}

const reasons = (err: AggregateError) => err.errors.map(e => (e instanceof Error ? e.message : String(e))).join('; ')

/** The service's newest 13194 on any of the relays that answer. */
async function readInfo(relays: RelayClient[], walletPubkey: string, ms: number): Promise<NostrEvent | undefined> {
  const answers = await Promise.allSettled(
    relays.filter(r => r.isOpen).map(r => r.query([{ kinds: [13194], authors: [walletPubkey], limit: 1 }], ms)),
  )
  const events = answers.flatMap(a => (a.status === 'fulfilled' ? a.value : []))
  return events.sort((a, b) => b.created_at - a.created_at)[0]
}

type Result = Record<string, unknown>
type Call = ((method: string, params: Result) => Promise<Result>) & { close(): void }
type Waiter = { method: string; resolve(r: Result): void; reject(e: Error): void; timer: NodeJS.Timeout }

/** Sends requests and matches each 23195 to its request by the `e` tag. */
function requester(o: {
  conn: NwcConnection
  relays: RelayClient[]
  encryption: 'nip44_v2' | 'nip04'
  timeoutMs: number
  methods: Set<string> | undefined
}): Call {
  const signer = signerFrom(o.conn.secret)
  const cipher = makeCipher(o.conn, o.encryption)
  const waiting = new Map<string, Waiter>()
  const filter = { kinds: [23195], authors: [o.conn.walletPubkey], '#p': [signer.pubkey] }
  const subs = o.relays.map(r => r.subscribe([filter], { onevent: e => answer(waiting, cipher, e) }))

  const call = (method: string, params: Result) => {
    if (o.methods && !o.methods.has(method))
      return Promise.reject(new ClientError(`wallet: NOT_IMPLEMENTED: the wallet does not offer ${method}`))
    const request = sign(signer, o, cipher.encrypt(JSON.stringify({ method, params })))
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(request.id)
        const where = o.relays.map(r => r.url).join(', ')
        // An unanswered payment may still go through: paying again at once could pay twice.
        const unsure =
          method === 'pay_invoice' ? ' (the payment may still go through: check the wallet before paying again)' : ''
        reject(
          new ClientError(`the wallet did not answer ${method} within ${o.timeoutMs / 1000} s on ${where}${unsure}`),
        )
      }, o.timeoutMs)
      waiting.set(request.id, { method, resolve, reject, timer })
      void send(o.relays, request, method, o.timeoutMs).catch(err => {
        clearTimeout(timer)
        waiting.delete(request.id)
        reject(err)
      })
    })
  }
  return Object.assign(call, {
    close: () => {
      subs.forEach(s => s.close())
      for (const w of waiting.values()) {
        clearTimeout(w.timer)
        w.reject(new ClientError(`the wallet connection closed before ${w.method} was answered`))
      }
      waiting.clear()
    },
  })
}

/** Hands a 23195 to the request it names; one that does not decrypt under this connection's key is ignored. */
function answer(waiting: Map<string, Waiter>, cipher: Cipher, e: NostrEvent): void {
  const id = e.tags.find(t => t[0] === 'e')?.[1] ?? ''
  const w = waiting.get(id)
  if (!w) return
  let body: { error?: { code?: unknown; message?: unknown } | null; result?: Result | null }
  try {
    body = JSON.parse(cipher.decrypt(e.content)) as typeof body
  } catch {
    return
  }
  clearTimeout(w.timer)
  waiting.delete(id)
  if (body.error) w.reject(new ClientError(`wallet: ${String(body.error.code)}: ${String(body.error.message)}`))
  else w.resolve(body.result ?? {})
}

function sign(signer: Signer, o: { conn: NwcConnection; encryption: string }, content: string): NostrEvent {
  const tags = [['p', o.conn.walletPubkey], ...(o.encryption === 'nip44_v2' ? [['encryption', 'nip44_v2']] : [])]
  return signer.sign({ kind: 23194, created_at: Math.floor(Date.now() / 1000), tags, content })
}

/** Publishes a request to every relay; rejects only when none took it. */
async function send(relays: RelayClient[], request: NostrEvent, method: string, ms: number): Promise<void> {
  const answers = await Promise.all(relays.map(r => r.publish(request, ms).then(a => ({ url: r.url, ...a }))))
  if (answers.some(a => a.ok)) return
  const why = answers.map(a => `${a.url}: ${a.message}`).join('; ')
  throw new ClientError(`the wallet's relay refused the ${method} request: ${why}`)
}

type Cipher = { encrypt(s: string): string; decrypt(s: string): string }

function makeCipher(conn: NwcConnection, encryption: 'nip44_v2' | 'nip04'): Cipher {
  if (encryption === 'nip04')
    return {
      encrypt: (s: string) => nip04.encrypt(conn.secret, conn.walletPubkey, s),
      decrypt: (s: string) => nip04.decrypt(conn.secret, conn.walletPubkey, s),
    }
  const key = nip44.getConversationKey(hexToBytes(conn.secret), conn.walletPubkey)
  return { encrypt: (s: string) => nip44.encrypt(s, key), decrypt: (s: string) => nip44.decrypt(s, key) }
}

const sha256hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')

function field(r: Result, name: string, method: string): string {
  const v = r[name]
  if (typeof v !== 'string' || v === '') throw new ClientError(`wallet: its ${method} answer has no ${name}`)
  return v
}

/** The NIP-47 verbs on a requester. */
function walletApi(walletPubkey: string, encryption: 'nip44_v2' | 'nip04', call: Call, close: () => void): Nwc {
  const optional = (description?: string) => (description === undefined ? {} : { description })
  return {
    walletPubkey,
    encryption,
    async payInvoice(bolt11) {
      const preimage = field(await call('pay_invoice', { invoice: bolt11 }), 'preimage', 'pay_invoice').toLowerCase()
      const hash = readInvoice(bolt11)?.paymentHash
      if (hash !== undefined && (!HEX64.test(preimage) || sha256hex(preimage) !== hash))
        throw new ClientError("wallet: its pay_invoice answer's preimage does not match the invoice's payment hash")
      return { preimage }
    },
    async makeInvoice(msats, description) {
      const r = await call('make_invoice', { amount: msats, ...optional(description) })
      return { bolt11: field(r, 'invoice', 'make_invoice'), paymentHash: field(r, 'payment_hash', 'make_invoice') }
    },
    async makeHoldInvoice(msats, paymentHash, description) {
      const r = await call('make_hold_invoice', { amount: msats, payment_hash: paymentHash, ...optional(description) })
      const bolt11 = field(r, 'invoice', 'make_hold_invoice')
      if (readInvoice(bolt11)?.paymentHash !== paymentHash)
        throw new ClientError('wallet: its hold invoice is not for the payment hash asked')
      return { bolt11 }
    },
    settleHoldInvoice: async preimage => void (await call('settle_hold_invoice', { preimage })),
    cancelHoldInvoice: async paymentHash => void (await call('cancel_hold_invoice', { payment_hash: paymentHash })),
    async lookupInvoice(paymentHash) {
      const r = await call('lookup_invoice', { payment_hash: paymentHash })
      const preimage = typeof r.preimage === 'string' && r.preimage !== '' ? r.preimage : undefined
      return { state: stateOf(r), ...(preimage ? { preimage } : {}) }
    },
    async getBalance() {
      const balance = (await call('get_balance', {})).balance
      if (typeof balance !== 'number') throw new ClientError('wallet: its get_balance answer has no balance')
      return balance
    },
    close,
  }
}

/** NIP-47's `state`, or for a wallet that leaves it out, what its other fields imply. */
function stateOf(r: Result): InvoiceState {
  if (typeof r.state === 'string' && STATES.includes(r.state)) return r.state as InvoiceState
  if (r.settled_at || r.preimage) return 'settled'
  return typeof r.expires_at === 'number' && r.expires_at * 1000 < Date.now() ? 'expired' : 'pending'
}
