// NIP-57 zap receipts, checked as DESIGN §7.4 demands: signer, embedded signed zap request, matching tags,
// invoice amount and description hash. Pure: the signature check is passed in.
import { createHash } from 'node:crypto'
import { decode } from 'light-bolt11-decoder'
import { checkEventShape, checkId, reject, tagValue, type NostrEvent, type Rejection } from './nip01.js'

export const ZapRequest = 9734
export const ZapReceipt = 9735

/** What a valid receipt proves. */
export type ZapProof = {
  /** Pubkey of the zap request's author: who paid. */
  readonly sender: string
  /** The zap request's single `p`: who was paid. */
  readonly recipient: string
  readonly msats: bigint
  readonly paymentHash: string
  /** The zapped event, when the request named one. */
  readonly e?: string
}

export type ReceiptExpect = {
  /** LNURL-server pubkeys allowed to sign receipts for this recipient. */
  readonly signers: ReadonlySet<string>
  /** BIP-340 check of an event whose id is already checked. */
  readonly verify: (e: NostrEvent) => boolean
}

const bad = (reason: string) => reject('invalid', `zap receipt: ${reason}`)
const values = (e: NostrEvent, name: string) => e.tags.filter(t => t[0] === name).map(t => t[1])

function parseRequest(description: string | undefined, x: ReceiptExpect): NostrEvent | Rejection {
  if (description === undefined) return bad('no description tag')
  let req: unknown
  try {
    req = JSON.parse(description)
  } catch {
    return bad('description is not JSON')
  }
  const shape = checkEventShape(req)
  if (shape) return bad(`zap request: ${shape.reason}`)
  const r = req as NostrEvent
  if (r.kind !== ZapRequest) return bad(`zap request must be kind ${ZapRequest}`)
  if (checkId(r) || !x.verify(r)) return bad('zap request is not validly signed')
  if (values(r, 'p').length !== 1) return bad('zap request must have exactly one p tag')
  if (values(r, 'e').length > 1) return bad('zap request must have at most one e tag')
  return r
}

type Invoice = { msats: bigint; paymentHash: string; descriptionHash: string | undefined }

/** The amount of a BOLT11 invoice in msats; undefined when it names none or is not an invoice. */
export const invoiceMsats = (bolt11: string): bigint | undefined => readInvoice(bolt11)?.msats

/**
 * A BOLT11 invoice's amount in msats, payment hash and description hash; undefined when it is not an
 * invoice or names no amount or no payment hash.
 */
export function readInvoice(bolt11: string): Invoice | undefined {
  const inv = parseInvoice(bolt11)
  return 'prefix' in inv ? undefined : inv
}

function parseInvoice(bolt11: string | undefined): Invoice | Rejection {
  if (bolt11 === undefined) return bad('no bolt11 tag')
  try {
    const d = decode(bolt11) as ReturnType<typeof decode> & { payment_hash?: string; description_hash?: string }
    const amount = d.sections.find(s => s.name === 'amount')?.value as string | undefined
    if (amount === undefined) return bad('invoice has no amount')
    if (!d.payment_hash) return bad('invoice has no payment hash')
    return { msats: BigInt(amount), paymentHash: d.payment_hash, descriptionHash: d.description_hash }
  } catch {
    return bad('bolt11 is not a valid invoice')
  }
}

/** Checks a signature-verified kind-9735 receipt; returns what it proves or why it proves nothing. */
export function checkZapReceipt(receipt: NostrEvent, x: ReceiptExpect): ZapProof | Rejection {
  if (receipt.kind !== ZapReceipt) return bad(`must be kind ${ZapReceipt}`)
  if (!x.signers.has(receipt.pubkey)) return bad('not signed by the recipient’s LNURL server')
  const description = tagValue(receipt, 'description')
  const req = parseRequest(description, x)
  if ('prefix' in req) return req
  for (const name of ['p', 'e', 'a'])
    if (tagValue(receipt, name) !== tagValue(req, name)) return bad(`${name} tag differs from the zap request’s`)
  const P = tagValue(receipt, 'P')
  if (P !== undefined && P !== req.pubkey) return bad('P tag is not the zap request’s author')
  const inv = parseInvoice(tagValue(receipt, 'bolt11'))
  if ('prefix' in inv) return inv
  const amount = tagValue(req, 'amount')
  if (amount !== undefined && (!/^\d+$/.test(amount) || BigInt(amount) !== inv.msats))
    return bad('invoice amount differs from the zap request’s amount')
  if (inv.descriptionHash !== createHash('sha256').update(description!).digest('hex'))
    return bad('invoice description hash is not the sha256 of the zap request')
  const e = tagValue(req, 'e')
  return {
    sender: req.pubkey,
    recipient: tagValue(req, 'p')!,
    msats: inv.msats,
    paymentHash: inv.paymentHash,
    ...(e ? { e } : {}),
  }
}
