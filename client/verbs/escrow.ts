// The customer's side of an escrowed job: lock the quoted price at a mint both sides accept, with a
// locktime outlasting the relay's windows; co-sign the provider's claim to release it; or ask for the refund (a
// cancel before delivery, a dispute after) and redeem the relay's ruling.
import type { NostrEvent } from '../../nips/nip01.js'
import { mintUrl, readNutzapInfo } from '../../nips/nip61.js'
import { publishOrThrow, relayKeys, waitFor } from '../customer.js'
import { ClientError } from '../errors.js'
import { ESCROW_ACTION, ESCROW_LOCK, escrowAction, escrowLock, NUTZAP_INFO, tagOf } from '../market.js'
import { refusals } from '../pool.js'
import { proofsFromTags } from '../wallet.js'
import type { Session } from './session.js'

/** The relay that arbitrates the escrow: its key, the room a locktime must leave, and the mints it allows ([] = any). */
type Arbiter = { readonly pubkey: string; readonly room: number; readonly mints: readonly string[] }

/**
 * The first relay whose NIP-11 `market` says it arbitrates escrows, read before locking: a refused lock's proofs
 * stay locked, so its key, windows and mints must all come from the relay that will check the lock.
 */
async function arbiter(c: Session): Promise<Arbiter> {
  for (const r of c.pool.relays) {
    const info = await c.pool.info(r.url)
    const m = info?.doc['market'] as Record<string, unknown> | undefined
    if (!info?.pubkey || m?.['escrow'] !== true) continue
    const secs = (k: string, fallback: number) => (typeof m[k] === 'number' ? m[k] : fallback)
    const room = secs('job_ttl', 86_400) + secs('dispute_window', 86_400) + secs('escrow_margin', 3600)
    const mints = Array.isArray(m['mints']) ? m['mints'].flatMap(u => mintUrl(String(u)) ?? []) : []
    return { pubkey: info.pubkey, room, mints }
  }
  throw new ClientError(
    `no relay among ${c.pool.relays.map(r => r.url).join(', ')} arbitrates escrows (NIP-11 market.escrow): post without --escrow`,
  )
}

/**
 * The mint to pay or lock `sats` at: --mint, else the first of those both sides take where the wallet holds enough;
 * a ClientError saying what to mint where otherwise (checked before anything is spent).
 */
export function pickMint(c: Session, usable: readonly string[], held: Record<string, number>, sats: number): string {
  const wanted = c.mint
  if (wanted !== undefined) {
    const mint = mintUrl(wanted)
    if (mint && usable.includes(mint)) return mint
    throw new ClientError(`--mint ${wanted} is not among the mints the provider takes: ${usable.join(', ')}`, 2)
  }
  const mint = usable.find(u => (held[u] ?? 0) >= sats)
  if (mint) return mint
  const most = Math.max(0, ...usable.map(u => held[u] ?? 0))
  throw new ClientError(
    `the wallet holds ${most} sats at the provider's mints (${usable.join(', ')}); ${sats} needed: ` +
      `run agora wallet mint ${sats} --mint ${usable[0]}`,
  )
}

/**
 * Locks the quoted price of `quote`'s provider at a mint both accept, and publishes the 7117; nothing when the job
 * has a lock of ours already (a job followed a second time sees its stored quote again).
 */
export async function lockFor(c: Session, request: NostrEvent, quote: NostrEvent): Promise<void> {
  const [mine] = await c.pool.query([{ kinds: [ESCROW_LOCK], authors: [c.pool.signer.pubkey], '#e': [request.id] }])
  if (mine) return c.log(`job ${request.id} is locked already (lock ${mine.id})`)
  const msats = Number(tagOf(quote, 'amount'))
  const bid = Number(tagOf(request, 'bid') ?? 0)
  if (!(msats <= bid))
    throw new ClientError(`the quote of ${tagOf(quote, 'amount')} msats is over the bid of ${bid} msats`)
  const provider = quote.pubkey
  const [e] = await c.pool.query([{ kinds: [NUTZAP_INFO], authors: [provider] }])
  const info = e && readNutzapInfo(e)
  if (!info) throw new ClientError(`provider ${provider} publishes no 10019 with a Cashu key: it cannot take an escrow`)
  const relay = await arbiter(c)
  const usable = relay.mints.length ? info.mints.filter(u => relay.mints.includes(u)) : info.mints
  if (!usable.length)
    throw new ClientError(`the provider's mints (${info.mints.join(', ') || 'none'}) are not allowed by the relay`)
  const sats = Math.ceil(msats / 1000)
  const wallet = await c.wallet()
  const mint = pickMint(c, usable, wallet.balance(), sats)
  // "Received" is the relay's clock: leave ten minutes for skew and delay.
  const locktime = Math.max(request.created_at, Math.floor(Date.now() / 1000)) + relay.room + 600
  const { tags } = await wallet.lockEscrow({
    mint,
    sats,
    providerCashuKey: info.p2pk,
    customer: c.pool.signer.pubkey,
    relay: relay.pubkey,
    locktime,
  })
  const p = await c.pool.publish(escrowLock(request.id, provider, mint, tags))
  if (!p.ok)
    throw new ClientError(
      `escrow lock refused: ${refusals(p)}; its ${sats} sats stay locked until ${locktime}, then refundable by you alone`,
    )
  c.log(`locked ${sats} sats for ${provider.slice(0, 8)} at ${mint} until ${locktime}`)
}

/** The customer's lock of a job, from the relays. */
async function lockOf(c: Session, job: string): Promise<NostrEvent> {
  const [lock] = await c.pool.query([{ kinds: [ESCROW_LOCK], authors: [c.pool.signer.pubkey], '#e': [job] }])
  if (!lock) throw new ClientError(`job ${job} has no escrow lock of yours`)
  return lock
}

/** Co-signs the provider's claim (its newest, waited for up to --timeout: it comes just after the result). */
export async function release(c: Session, job: string): Promise<number> {
  const lock = await lockOf(c, job)
  const provider = tagOf(lock, 'p')!
  const claim = await waitFor(
    c.pool,
    [{ kinds: [ESCROW_ACTION], authors: [provider], '#e': [job] }],
    e => (tagOf(e, 'action') === 'claim' ? tagOf(e, 'package') : undefined),
    c.timeoutMs,
    `claim of job ${job}'s escrow from its provider`,
  )
  const wallet = await c.wallet()
  const pkg = wallet.coSignRelease(claim, c.pool.signer.secretHex)
  const e = await publishOrThrow(c.pool, escrowAction(job, 'release', pkg), 'release')
  c.out(e.id)
  return 0
}

/** Disputes a delivered job (or, via cancel, refunds an undelivered one) with a refund package; with `wait`, redeems the ruling. */
export async function refund(
  c: Session,
  job: string,
  action: 'dispute' | 'refund',
  o: { reason?: string | undefined; wait?: boolean | undefined } = {},
): Promise<number> {
  const lock = await lockOf(c, job)
  const wallet = await c.wallet()
  const pkg = await wallet.prepareRefund(job, tagOf(lock, 'u')!, proofsFromTags(lock.tags), c.pool.signer.secretHex)
  const e = await publishOrThrow(c.pool, escrowAction(job, action, pkg, o.reason ?? ''), action)
  c.out(e.id)
  if (!o.wait) return 0
  return redeemRuling(c, job)
}

/** Waits for the relay's ruling of a job and redeems a refund into the wallet (1 when it ruled for the provider). */
export async function redeemRuling(c: Session, job: string): Promise<number> {
  const keys = await relayKeys(c.pool)
  if (!keys.length) throw new ClientError('no relay states its key (NIP-11 self): none can have ruled on an escrow')
  const ruling = await waitFor(
    c.pool,
    [{ kinds: [ESCROW_ACTION], authors: keys, '#e': [job] }],
    e => (tagOf(e, 'action') === 'ruling' ? e : undefined),
    c.timeoutMs,
    `ruling on job ${job}`,
  )
  const wallet = await c.wallet()
  if (tagOf(ruling, 'ruling') !== 'refund') {
    // The refund this wallet prepared can never be redeemed now.
    await wallet.forget(job)
    c.log(`the relay ruled for the provider: ${ruling.content}`)
    return 1
  }
  const sats = await wallet.redeem(job, tagOf(ruling, 'package')!)
  c.log(`refunded ${sats} sats into the wallet`)
  return 0
}
