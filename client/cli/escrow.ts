// The customer's side of an escrowed job from the CLI: lock the quoted price at a mint both sides accept, with a
// locktime outlasting the relay's windows; co-sign the provider's claim to release it; or ask for the refund (a
// cancel before delivery, a dispute after) and redeem the relay's ruling.
import type { NostrEvent } from '../../nips/nip01.js'
import { publishOrThrow, relayKeys, waitFor } from '../customer.js'
import { ClientError } from '../errors.js'
import { ESCROW_ACTION, ESCROW_LOCK, escrowAction, escrowLock, NUTZAP_INFO, tagOf, tagsOf } from '../market.js'
import { proofsFromTags } from '../wallet.js'
import { walletOf, type Ctx } from './context.js'
import { str } from './options.js'

/** The market's windows a lock must outlast, from the relay's NIP-11 `market` (the defaults otherwise). */
async function lockRoom(c: Ctx): Promise<number> {
  const infos = await Promise.all(c.pool.relays.map(r => c.pool.info(r.url)))
  const m = (infos.find(i => i?.doc['market'])?.doc['market'] ?? {}) as Record<string, number>
  return (m['job_ttl'] ?? 86_400) + (m['dispute_window'] ?? 86_400) + (m['escrow_margin'] ?? 3600)
}

/** Locks the quoted price of `quote`'s provider at a mint both accept, and publishes the 7117. */
export async function lockFor(c: Ctx, request: NostrEvent, quote: NostrEvent): Promise<void> {
  const msats = Number(quote.tags.find(t => t[0] === 'amount')![1])
  const bid = Number(tagOf(request, 'bid') ?? 0)
  if (msats > bid) throw new ClientError(`the quote of ${msats} msats is over the bid of ${bid} msats`)
  const provider = quote.pubkey
  const [info] = await c.pool.query([{ kinds: [NUTZAP_INFO], authors: [provider] }])
  if (!info) throw new ClientError(`provider ${provider} publishes no 10019: it cannot take an escrow`)
  const theirs = tagsOf(info, 'mint').map(t => t[1]!)
  const wanted = str(c.v, 'mint')
  const wallet = await walletOf(c.v)
  const held = wallet.balance()
  const mint = wanted ?? theirs.find(u => (held[u] ?? 0) > 0)
  if (!mint || !theirs.includes(mint))
    throw new ClientError(
      `no mint both you and the provider use: it accepts ${theirs.join(', ')}; you hold ${Object.keys(held).join(', ') || 'nothing'}`,
    )
  const relay = (await c.pool.info(c.pool.relays[0]!.url))?.pubkey
  if (!relay) throw new ClientError('the relay states no key (NIP-11 self): it cannot arbitrate an escrow')
  const sats = Math.ceil(msats / 1000)
  const locktime = Math.max(request.created_at, Math.floor(Date.now() / 1000)) + (await lockRoom(c)) + 600
  const { tags } = await wallet.lockEscrow({
    mint,
    sats,
    providerCashuKey: tagOf(info, 'pubkey')!,
    customer: c.pool.signer.pubkey,
    relay,
    locktime,
  })
  await publishOrThrow(c.pool, escrowLock(request.id, provider, mint, tags), 'escrow lock')
  c.log(`locked ${sats} sats for ${provider.slice(0, 8)} at ${mint} until ${locktime}`)
}

/** The customer's lock of a job, from the relays. */
export async function lockOf(c: Ctx, job: string): Promise<NostrEvent> {
  const [lock] = await c.pool.query([{ kinds: [ESCROW_LOCK], authors: [c.pool.signer.pubkey], '#e': [job] }])
  if (!lock) throw new ClientError(`job ${job} has no escrow lock of yours`)
  return lock
}

export async function release(c: Ctx, job: string): Promise<number> {
  const lock = await lockOf(c, job)
  const provider = tagOf(lock, 'p')!
  const claims = await c.pool.query([{ kinds: [ESCROW_ACTION], authors: [provider], '#e': [job] }])
  const claim = claims.find(e => tagOf(e, 'action') === 'claim' && tagOf(e, 'package'))
  if (!claim) throw new ClientError(`the provider of job ${job} has not claimed its escrow yet`)
  const wallet = await walletOf(c.v)
  const pkg = await wallet.coSignRelease(tagOf(claim, 'package')!, c.pool.signer.secretHex)
  const e = await publishOrThrow(c.pool, escrowAction(job, 'release', pkg), 'release')
  console.log(e.id)
  return 0
}

/** Disputes a delivered job (or, via cancel, refunds an undelivered one) with a refund package, and with --wait redeems the ruling. */
export async function refund(c: Ctx, job: string, action: 'dispute' | 'refund'): Promise<number> {
  const lock = await lockOf(c, job)
  const wallet = await walletOf(c.v)
  const pkg = await wallet.prepareRefund(job, tagOf(lock, 'u')!, proofsFromTags(lock.tags), c.pool.signer.secretHex)
  const e = await publishOrThrow(c.pool, escrowAction(job, action, pkg, str(c.v, 'reason') ?? ''), action)
  console.log(e.id)
  if (!c.v['wait']) return 0
  return redeemRuling(c, job)
}

/** Waits for the relay's refund ruling of a job and redeems it into the wallet. */
export async function redeemRuling(c: Ctx, job: string): Promise<number> {
  const keys = await relayKeys(c.pool)
  const ruling = await waitFor(
    c.pool,
    [{ kinds: [ESCROW_ACTION], authors: keys, '#e': [job] }],
    e => (tagOf(e, 'action') === 'ruling' ? e : undefined),
    c.timeoutMs,
    `ruling on job ${job}`,
  )
  if (tagOf(ruling, 'ruling') !== 'refund') {
    c.log(`the relay ruled for the provider: ${ruling.content}`)
    return 1
  }
  const sats = await (await walletOf(c.v)).redeem(job, tagOf(ruling, 'package')!)
  c.log(`refunded ${sats} sats into the wallet`)
  return 0
}
