// Zaps (NIP-57) paid through a wallet: the recipient's lightning address resolves (LUD-16) to an LNURL-pay endpoint
// (LUD-06) that accepts nostr; its callback gets the signed 9734 zap request and answers an invoice, which is paid
// only if it is for the amount asked and commits to that zap request. The recipient's LNURL server then publishes
// the 9735 receipt to the request's relays.
import { createHash } from 'node:crypto'
import { makeZapRequest } from 'nostr-tools/nip57'
import type { NostrEvent } from '../nips/nip01.js'
import { readInvoice } from '../nips/nip57.js'
import { ClientError } from './errors.js'
import type { Signer } from './keys.js'
import type { Nwc } from './nwc.js'

/** What an LNURL-pay endpoint answered (LUD-06, with NIP-57's fields). */
export type PayEndpoint = {
  readonly callback: string
  /** Bounds of the amount, in msats. */
  readonly minSendable: number
  readonly maxSendable: number
  readonly allowsNostr: boolean
  /** The key that signs its zap receipts, when it allows nostr. */
  readonly nostrPubkey: string | undefined
}

/** A zap: who pays whom, through which address and wallet, for what. */
export type ZapOptions = {
  readonly nwc: Pick<Nwc, 'payInvoice'>
  /** The payer: signs the zap request. */
  readonly signer: Signer
  /** Who is paid: the zap request's `p`. */
  readonly recipient: string
  /** The recipient's lightning address (name@domain). */
  readonly address: string
  readonly msats: number
  /** The zapped event (a job's result or quote): the zap request's `e`. It must be the recipient's. */
  readonly event?: NostrEvent
  /** Where the receipt is to be published. */
  readonly relays: readonly string[]
  readonly comment?: string
  /** How long each HTTP request may take; 10 s by default. */
  readonly timeoutMs?: number
}

// LUD-16: a name is a-z0-9-_.+ ; the domain may carry a port only for loopback (tests and local development).
const ADDRESS = /^([a-z0-9\-_.+]+)@([a-z0-9\-.]+|\[::1\])(?::(\d{1,5}))?$/
const LOOPBACK = /^(?:127\.0\.0\.1|localhost|\[::1\])$/

/** The well-known URL of a lightning address: http for loopback hosts, https otherwise. */
export function lnurlpUrl(address: string): string {
  const m = ADDRESS.exec(address.trim().toLowerCase())
  if (!m) throw new ClientError(`"${address}" is not a lightning address (name@domain)`)
  const [, name, host, port] = m
  const scheme = LOOPBACK.test(host!) ? 'http' : 'https'
  return `${scheme}://${host}${port === undefined ? '' : `:${port}`}/.well-known/lnurlp/${name}`
}

/** GETs JSON from an LNURL endpoint; every failure is a ClientError that says what `what` is and what went wrong. */
async function getJson(url: string, what: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    throw new ClientError(`cannot reach ${what}: ${fetchFailure(err, timeoutMs)}`)
  }
  const text = await res.text().catch(() => '')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new ClientError(`${what} answered HTTP ${res.status} without JSON`)
  }
  if (typeof body !== 'object' || body === null) throw new ClientError(`${what} answered ${text.slice(0, 80)}`)
  const b = body as Record<string, unknown>
  // LUD-06: a refusal is {"status": "ERROR", "reason": ...}, whatever the HTTP status.
  if (b.status === 'ERROR') throw new ClientError(`${what} refused: ${String(b.reason ?? 'no reason given')}`)
  if (!res.ok) throw new ClientError(`${what} answered HTTP ${res.status}`)
  return b
}

function fetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err))
}

/** The LNURL-pay endpoint behind a lightning address (LUD-16). */
export async function resolveLightningAddress(address: string, o: { timeoutMs?: number } = {}): Promise<PayEndpoint> {
  const url = lnurlpUrl(address)
  const b = await getJson(url, `the lightning address ${address} (${url})`, o.timeoutMs ?? 10_000)
  if (b.tag !== 'payRequest' || typeof b.callback !== 'string')
    throw new ClientError(`the lightning address ${address} is not an LNURL payRequest (LUD-06)`)
  const nostrPubkey =
    typeof b.nostrPubkey === 'string' && /^[0-9a-f]{64}$/.test(b.nostrPubkey) ? b.nostrPubkey : undefined
  return {
    callback: b.callback,
    minSendable: Number(b.minSendable ?? 0),
    maxSendable: Number(b.maxSendable ?? Number.MAX_SAFE_INTEGER),
    allowsNostr: b.allowsNostr === true,
    nostrPubkey,
  }
}

/** The signed 9734 for these options (`e` = the zapped event when given). */
function zapRequest(o: ZapOptions): NostrEvent {
  if (o.event && o.event.pubkey !== o.recipient)
    throw new ClientError('the zapped event is not by the recipient: a zap pays the author of what it zaps')
  const base = { amount: o.msats, relays: [...o.relays], ...(o.comment ? { comment: o.comment } : {}) }
  return o.signer.sign(makeZapRequest(o.event ? { ...base, event: o.event } : { ...base, pubkey: o.recipient }))
}

/** Zaps the recipient through its lightning address and pays the invoice with the wallet. */
export async function zap(o: ZapOptions): Promise<{ bolt11: string; preimage: string; zapRequest: NostrEvent }> {
  const timeoutMs = o.timeoutMs ?? 10_000
  const endpoint = await resolveLightningAddress(o.address, { timeoutMs })
  if (!endpoint.allowsNostr || !endpoint.nostrPubkey)
    throw new ClientError(`the lightning address ${o.address} does not take zaps (no allowsNostr and nostrPubkey)`)
  if (o.msats < endpoint.minSendable || o.msats > endpoint.maxSendable)
    throw new ClientError(`${o.address} takes ${endpoint.minSendable} to ${endpoint.maxSendable} msats, not ${o.msats}`)
  const request = zapRequest(o)
  const json = JSON.stringify(request)
  const url = new URL(endpoint.callback)
  url.searchParams.set('amount', String(o.msats))
  url.searchParams.set('nostr', json)
  const answer = await getJson(url.href, `the zap callback of ${o.address}`, timeoutMs)
  const bolt11 = typeof answer.pr === 'string' ? answer.pr : ''
  const invoice = readInvoice(bolt11)
  if (!invoice) throw new ClientError(`the zap callback of ${o.address} answered no invoice with an amount`)
  if (invoice.msats !== BigInt(o.msats))
    throw new ClientError(
      `the invoice from ${o.address} asks ${invoice.msats} msats, not the zap's ${o.msats}: not paid`,
    )
  if (invoice.descriptionHash !== createHash('sha256').update(json).digest('hex'))
    throw new ClientError(`the invoice from ${o.address} does not commit to the zap request: not paid`)
  const { preimage } = await o.nwc.payInvoice(bolt11)
  return { bolt11, preimage, zapRequest: request }
}
