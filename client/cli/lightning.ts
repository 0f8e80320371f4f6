// The customer's Lightning payments from the CLI: a zap through its NIP-47 wallet to the provider's lightning
// address, and buying the key of a sealed result (pay-to-decrypt), which it then opens and publishes.
import type { NostrEvent } from '../../nips/nip01.js'
import { readInvoice } from '../../nips/nip57.js'
import { fetchEvent, ledgerOf, publishOrThrow } from '../customer.js'
import { ClientError } from '../errors.js'
import { HANDLER, keyReveal, tagOf } from '../market.js'
import { openResult } from '../sealed.js'
import { zap } from '../zap.js'
import { nwcOf, type Ctx } from './context.js'

/** The provider's lightning address: its 31990 content's lud16 (or lightning_address), else its kind 0's. */
async function addressOf(c: Ctx, provider: string): Promise<string> {
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

/** Zaps the result that delivered `job` (from the ledger, else the first result) by what its provider asked. */
export async function payJob(c: Ctx, job: string, known?: NostrEvent): Promise<number> {
  const entry = await ledgerOf(c.pool, job)
  const result = known ?? (await resultOf(c, job, entry && tagOf(entry, 'result')))
  const amount =
    result.tags.find(t => t[0] === 'amount')?.[1] ?? (entry && tagOf(entry, 'amount')) ?? (entry && tagOf(entry, 'bid'))
  if (!amount) throw new ClientError(`the result of job ${job} names no amount; nothing to pay`)
  const nwc = await nwcOf(c.v)
  try {
    const r = await zap({
      nwc,
      signer: c.pool.signer,
      recipient: result.pubkey,
      address: await addressOf(c, result.pubkey),
      msats: Number(amount),
      event: result,
      relays: c.pool.relays.map(x => x.url),
    })
    c.log(`paid ${amount} msats to ${result.pubkey.slice(0, 8)} (preimage ${r.preimage})`)
  } finally {
    nwc.close()
  }
  return 0
}

/** The result that delivered a job: the ledger's, else the first on the relays. */
async function resultOf(c: Ctx, job: string, id: string | undefined): Promise<NostrEvent> {
  if (id) return fetchEvent(c.pool, id, 'result')
  const request = await fetchEvent(c.pool, job, 'job')
  const [r] = await c.pool.query([{ kinds: [request.kind + 1000], '#e': [job] }])
  if (!r) throw new ClientError(`job ${job} has no result to pay yet`)
  return r
}

/** Buys the key of a sealed result through the Lightning wallet, opens it, prints it and publishes the key. */
export async function revealSealed(c: Ctx, request: NostrEvent, sealed: NostrEvent): Promise<number> {
  const [, amount, bolt11] = sealed.tags.find(t => t[0] === 'amount') ?? []
  const bid = Number(tagOf(request, 'bid') ?? 0)
  if (!bolt11 || readInvoice(bolt11)?.msats !== BigInt(amount ?? -1) || Number(amount) > bid)
    throw new ClientError(`sealed result ${sealed.id} asks ${amount} msats: not a valid price under the bid of ${bid}`)
  c.log(`buying the key of sealed result ${sealed.id} (${amount} msats)`)
  const nwc = await nwcOf(c.v)
  try {
    const { preimage } = await nwc.payInvoice(bolt11)
    console.log(openResult(sealed, preimage))
    await publishOrThrow(c.pool, keyReveal({ id: request.id, customer: sealed.pubkey }, preimage), 'key reveal')
  } finally {
    nwc.close()
  }
  return 0
}
