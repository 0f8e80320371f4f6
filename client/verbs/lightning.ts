// The customer's payments for a delivered job: a zap through its NIP-47 wallet to the provider's
// lightning address (or, with --nutzap, Cashu proofs from its local wallet), and buying the key of a sealed result
// (pay-to-decrypt), which it then opens and publishes.
import type { NostrEvent } from '../../nips/nip01.js'
import { readInvoice, ZapReceipt } from '../../nips/nip57.js'
import { fetchEvent, ledgerOf, ledgerState, publishOrThrow } from '../customer.js'
import { ClientError } from '../errors.js'
import { FEEDBACK, HANDLER, keyReveal, SEALED_RESULT, tagOf } from '../market.js'
import { openResult } from '../sealed.js'
import { zap } from '../zap.js'
import type { Session } from './session.js'
import { nutzapResult } from './nutzap.js'

/** The provider's lightning address: its 31990 content's lud16 (or lightning_address), else its kind 0's. */
async function addressOf(c: Session, provider: string): Promise<string> {
  for (const e of await c.pool.query([{ kinds: [HANDLER, 0], authors: [provider] }])) {
    try {
      const content = JSON.parse(e.content) as Record<string, unknown>
      const a = content['lud16'] ?? content['lightning_address']
      if (typeof a === 'string' && a) return a
    } catch {
      // not JSON: nothing to read
    }
  }
  throw new ClientError(`provider ${provider} announces no lightning address (lud16)`)
}

/** Zaps the result (or buys the sealed result) that delivered `job`, unless it is paid or asks more than the bid. */
export async function payJob(
  c: Session,
  job: string,
  o: { nutzap?: boolean | undefined } = {},
  known?: NostrEvent,
): Promise<number> {
  const entry = await ledgerOf(c.pool, job)
  if (ledgerState(entry) === 'paid')
    throw new ClientError(`job ${job} is already paid (the relay's ledger records ${tagOf(entry!, 'paid')} msats)`)
  const [request] = await c.pool.query([{ ids: [job] }])
  const result = known ?? (await resultOf(c, job, request, entry && tagOf(entry, 'result')))
  if (result.kind === SEALED_RESULT) return revealSealed(c, request ?? (await fetchEvent(c.pool, job, 'job')), result)
  const msats = askedBy(result, entry, request)
  if (o.nutzap) return nutzapResult(c, result, msats)
  await refuseZapped(c, job, result, msats)
  const nwc = await c.nwc()
  try {
    const r = await zap({
      nwc,
      signer: c.pool.signer,
      recipient: result.pubkey,
      address: await addressOf(c, result.pubkey),
      msats,
      event: result,
      relays: c.pool.relays.map(x => x.url),
    })
    c.log(`paid ${msats} msats to ${result.pubkey.slice(0, 8)} (preimage ${r.preimage})`)
  } finally {
    nwc.close()
  }
  return 0
}

/** What the provider asks for a result (its amount, else the ledger's, else the bid), refused above the bid. */
function askedBy(result: NostrEvent, entry: NostrEvent | undefined, request: NostrEvent | undefined): number {
  const bidTag = (entry && tagOf(entry, 'bid')) ?? (request && tagOf(request, 'bid'))
  const amount = tagOf(result, 'amount') ?? (entry && tagOf(entry, 'amount')) ?? bidTag
  if (!amount || !/^\d+$/.test(amount) || amount === '0')
    throw new ClientError(`result ${result.id} names no amount to pay (${amount ?? 'none'})`)
  if (bidTag !== undefined && Number(amount) > Number(bidTag))
    throw new ClientError(`result ${result.id} asks ${amount} msats, more than the bid of ${bidTag}: not paid`)
  return Number(amount)
}

/** Refuses to zap a result again whose receipts on the relays already show this key paid what it asks. */
async function refuseZapped(c: Session, job: string, result: NostrEvent, msats: number): Promise<void> {
  const receipts = (await c.pool.query([{ kinds: [ZapReceipt], '#e': [result.id] }])).filter(
    r => payerOf(r) === c.pool.signer.pubkey,
  )
  const paid = receipts.reduce((sum, r) => sum + Number(readInvoice(tagOf(r, 'bolt11') ?? '')?.msats ?? 0), 0)
  if (receipts.length && paid >= msats)
    throw new ClientError(`job ${job} is already paid (zap receipt ${receipts[0]!.id} for ${paid} msats)`)
}

/** Who paid a zap receipt: the signer of the zap request in its description. */
function payerOf(receipt: NostrEvent): string | undefined {
  try {
    return (JSON.parse(tagOf(receipt, 'description') ?? '') as { pubkey?: string }).pubkey
  } catch {
    return undefined
  }
}

/** The result that delivered a job: the ledger's, else the first on the relays, else a sealed one to buy. */
async function resultOf(c: Session, job: string, request: NostrEvent | undefined, id: string | undefined) {
  if (id) return fetchEvent(c.pool, id, 'result')
  if (!request) throw new ClientError(`job ${job} is not on ${c.pool.relays.map(r => r.url).join(', ')}`)
  const [r] = await c.pool.query([{ kinds: [request.kind + 1000, SEALED_RESULT], '#e': [job] }])
  if (!r) throw new ClientError(`job ${job} has no result to pay yet`)
  return r
}

/**
 * Buys the key of a sealed result through the Lightning wallet, opens it, prints it and publishes the key. A key
 * that does not open the result is published too: it is the relay's proof of the provider's fraud.
 */
export async function revealSealed(c: Session, request: NostrEvent, sealed: NostrEvent): Promise<number> {
  const { bolt11, msats } = saleOf(request, sealed)
  // A job followed again after its key was bought: open it with the key we published, never pay twice.
  const [bought] = await c.pool.query([
    { kinds: [FEEDBACK], authors: [c.pool.signer.pubkey], '#e': [request.id], '#p': [sealed.pubkey] },
  ])
  const known = bought && tagOf(bought, 'preimage')
  if (known) {
    c.out(openResult(sealed, known))
    return 0
  }
  c.log(`buying the key of sealed result ${sealed.id} (${msats} msats)`)
  const nwc = await c.nwc()
  let key: string
  try {
    key = (await nwc.payInvoice(bolt11)).preimage
  } finally {
    nwc.close()
  }
  const reveal = () => publishOrThrow(c.pool, keyReveal({ id: request.id, customer: sealed.pubkey }, key), 'key reveal')
  let plaintext: string
  try {
    plaintext = openResult(sealed, key)
  } catch (err) {
    await reveal().catch(() => undefined)
    throw err
  }
  c.out(plaintext)
  await reveal()
  return 0
}

/** The invoice and price of a sealed result; refused unless it sells the committed key for at most the bid. */
function saleOf(request: NostrEvent, sealed: NostrEvent): { bolt11: string; msats: number } {
  const [, amount = '', bolt11 = ''] = sealed.tags.find(t => t[0] === 'amount') ?? []
  const bid = Number(tagOf(request, 'bid') ?? 0)
  const invoice = readInvoice(bolt11)
  if (!invoice || !/^\d+$/.test(amount) || invoice.msats !== BigInt(amount) || Number(amount) > bid)
    throw new ClientError(
      `sealed result ${sealed.id} asks ${amount || 'no'} msats: not a valid price under the bid of ${bid}`,
    )
  // Paying an invoice for another hash would not reveal the key (the relay refuses such a 21117; others may not).
  if (invoice.paymentHash !== tagOf(sealed, 'key_hash'))
    throw new ClientError(`sealed result ${sealed.id}: its invoice's payment hash is not its key_hash; not paid`)
  return { bolt11, msats: Number(amount) }
}
