// NIP-57 zap fixtures: a zap request signed by the sender (nostr-tools), a BOLT11 invoice committing to it
// (dev-only `bolt11`) and the receipt signed by the "LNURL server" key. Each option forges one part, so a
// test can break exactly one rule a receipt must satisfy (DESIGN §7.4).
import { createHash, randomBytes } from 'node:crypto'
import bolt11 from 'bolt11'
import { makeZapReceipt, makeZapRequest } from 'nostr-tools/nip57'
import { finalizeEvent } from 'nostr-tools/pure'
import type { NostrEvent } from '../../nips/nip01.js'
import { now, type Author } from './events.js'

export type ZapOptions = {
  /** Who the zap pays: the zap request's single `p` (the relay pubkey for the zap gate). */
  readonly relayPubkey: string
  /** The paying user; signs the zap request. */
  readonly sender: Author
  /** Key of the LNURL server; signs the receipt. */
  readonly lnurlSk: Uint8Array
  /** Amount in msats: the request's `amount` tag and the invoice amount. */
  readonly msats: bigint | number
  /** The zapped event: `e` tag of the request (copied into the receipt). */
  readonly e?: string
  /** Payment hash of the invoice; random by default. */
  readonly paymentHash?: string
  /** created_at of both events; now by default. */
  readonly createdAt?: number

  // Forgeries: each option breaks one thing.
  /** Kind of the zap request (9734 by default). */
  readonly requestKind?: number
  /** Tags appended to the zap request before it is signed (a second `p` or `e`). */
  readonly extraRequestTags?: string[][]
  /** The request's `amount` tag; String(msats) by default, null leaves it out. */
  readonly amountTag?: string | null
  /** Changes the signed zap request before it is embedded (tampered content, sig...). */
  readonly tamperRequest?: (request: NostrEvent) => NostrEvent
  /** The receipt's `description` tag; the JSON of the zap request by default, null leaves the tag out. */
  readonly description?: string | null
  /** Invoice amount in msats; `msats` by default, null makes an amountless invoice. */
  readonly invoiceMsats?: bigint | number | null
  /** The invoice's purpose_commit_hash; sha256 of the description by default. */
  readonly descriptionHash?: string
  /** The receipt's `bolt11` tag; the invoice by default, null leaves the tag out. */
  readonly bolt11?: string | null
  /** Kind of the receipt (9735 by default). */
  readonly receiptKind?: number
  /** Rewrites the receipt's tags before it is signed (another `p`, `e` or `P`). */
  readonly receiptTags?: (tags: string[][]) => string[][]
}

export type Zap = {
  /** The signed zap request (after tamperRequest). */
  readonly request: NostrEvent
  /** The receipt, signed by lnurlSk. */
  readonly receipt: NostrEvent
  /** The BOLT11 invoice (before any bolt11 override). */
  readonly invoice: string
  readonly paymentHash: string
  /** The receipt's description tag value, undefined when left out. */
  readonly description: string | undefined
}

export const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex')

/** A BOLT11 invoice signed by a throwaway node key; amountless when msats is null. */
export function makeInvoice(o: {
  msats: bigint | number | null
  paymentHash: string
  descriptionHash: string
  timestamp?: number
}): string {
  const tags = [
    { tagName: 'payment_hash', data: o.paymentHash },
    { tagName: 'purpose_commit_hash', data: o.descriptionHash },
  ]
  const amount = o.msats === null ? {} : { millisatoshis: String(o.msats) }
  const encoded = bolt11.encode({ ...amount, timestamp: o.timestamp ?? now(), tags })
  return bolt11.sign(encoded, randomBytes(32).toString('hex')).paymentRequest!
}

/** A zap request, invoice and receipt as an LNURL server would produce them, with optional forgeries. */
export function makeZap(o: ZapOptions): Zap {
  const createdAt = o.createdAt ?? now()
  const paymentHash = o.paymentHash ?? randomBytes(32).toString('hex')
  const template = makeZapRequest({ pubkey: o.relayPubkey, amount: Number(o.msats), relays: ['ws://127.0.0.1'] })
  let tags = template.tags
  if (o.amountTag === null) tags = tags.filter(t => t[0] !== 'amount')
  else if (o.amountTag !== undefined) tags = tags.map(t => (t[0] === 'amount' ? ['amount', o.amountTag!] : t))
  if (o.e) tags = [...tags, ['e', o.e]]
  tags = [...tags, ...(o.extraRequestTags ?? [])]
  const signed = o.sender.sign({ ...template, kind: o.requestKind ?? template.kind, created_at: createdAt, tags })
  const request = o.tamperRequest ? o.tamperRequest(signed) : signed
  const requestJson = JSON.stringify(request)
  const description = o.description === null ? undefined : (o.description ?? requestJson)
  const invoice = makeInvoice({
    msats: o.invoiceMsats === undefined ? o.msats : o.invoiceMsats,
    paymentHash,
    descriptionHash: o.descriptionHash ?? sha256hex(description ?? requestJson),
    timestamp: createdAt,
  })
  const receiptTemplate = makeZapReceipt({
    zapRequest: requestJson,
    bolt11: invoice,
    paidAt: new Date(createdAt * 1000),
  })
  let receiptTags = receiptTemplate.tags.flatMap((t): string[][] => {
    if (t[0] === 'description') return description === undefined ? [] : [['description', description]]
    if (t[0] === 'bolt11') return o.bolt11 === null ? [] : [['bolt11', o.bolt11 ?? invoice]]
    return [t]
  })
  if (o.receiptTags) receiptTags = o.receiptTags(receiptTags)
  const receipt = finalizeEvent(
    { ...receiptTemplate, kind: o.receiptKind ?? receiptTemplate.kind, tags: receiptTags },
    o.lnurlSk,
  )
  return { request, receipt, invoice, paymentHash, description }
}
