// A provider's verbs one at a time, for a provider driven by hand or by an AI agent rather than by `agora agent`:
// announce itself, find open jobs for its kinds, quote, deliver, and claim and redeem an escrow.
import type { NostrEvent } from '../../nips/nip01.js'
import { fetchEvent, publishOrThrow, relayKeys, waitFor } from '../customer.js'
import { ClientError } from '../errors.js'
import {
  ESCROW_ACTION,
  ESCROW_LOCK,
  escrowAction,
  feedback,
  handlerInfo,
  heartbeat,
  jobResult,
  LEDGER,
  nutzapInfo,
  readJobRequest,
  tagOf,
} from '../market.js'
import { proofsFromTags } from '../wallet.js'
import type { Session } from './session.js'

/** What a provider announces: the kinds it serves, its price per job, and the mints it takes escrow and nutzaps at. */
export type Announcement = {
  readonly kinds: readonly number[]
  readonly name: string
  readonly about: string
  readonly priceSats: number
  readonly mints: readonly string[]
  readonly lud16?: string | undefined
  readonly features?: readonly string[] | undefined
}

/** Publishes the provider's handler (31990), heartbeat (30333) and, with mints, its Cashu key and mints (10019). */
export async function announce(c: Session, a: Announcement): Promise<string[]> {
  const skill = { version: '1', features: a.features ?? [] }
  const content = JSON.stringify({ name: a.name, about: a.about, ...(a.lud16 ? { lud16: a.lud16 } : {}), skill })
  const ids = [
    (await publishOrThrow(c.pool, handlerInfo('agora-mcp', a.kinds, content), 'handler (31990)')).id,
    (await publishOrThrow(c.pool, heartbeat('agora-mcp', 1, new Map(a.kinds.map(k => [k, a.priceSats]))), 'heartbeat'))
      .id,
  ]
  if (a.mints.length) {
    const wallet = await c.wallet()
    ids.push((await publishOrThrow(c.pool, nutzapInfo(wallet.cashuPubkey(), a.mints), 'nutzap info (10019)')).id)
  }
  return ids
}

/** An open job as a provider sees it. */
export type OpenJob = {
  id: string
  kind: number
  customer: string
  created_at: number
  inputs: { value: string; type: string }[]
  params: Record<string, string>
  bid_msats: number | undefined
  escrow: boolean
  sealed: boolean
  /** For an escrowed job: the customer has locked the price to this provider, so the work will be paid. */
  locked_to_me: boolean
}

/**
 * Job requests of `kinds` from the last `sinceS` seconds that this provider may take: addressed to anyone or to it,
 * with no ledger entry yet (delivered, expired or cancelled jobs have one), or locked in escrow to it. Newest first.
 */
export async function openJobs(c: Session, kinds: readonly number[], sinceS: number, limit = 50): Promise<OpenJob[]> {
  const me = c.pool.signer.pubkey
  const since = Math.floor(Date.now() / 1000) - sinceS
  const requests = (await c.pool.query([{ kinds: [...kinds], since, limit }])).filter(e => {
    const to = readJobRequest(e).providers
    return to.length === 0 || to.includes(me)
  })
  if (!requests.length) return []
  const ids = requests.map(e => e.id)
  const keys = await relayKeys(c.pool)
  const [entries, locks] = await Promise.all([
    keys.length ? c.pool.query([{ kinds: [LEDGER], authors: keys, '#d': ids }]) : Promise.resolve([]),
    c.pool.query([{ kinds: [ESCROW_LOCK], '#e': ids, '#p': [me] }]),
  ])
  const lockedToMe = new Set(locks.map(l => tagOf(l, 'e')))
  return requests
    .filter(e => {
      const entry = entries.find(x => tagOf(x, 'd') === e.id)
      return !entry || (tagOf(entry, 'state') === 'locked' && lockedToMe.has(e.id))
    })
    .sort((a, b) => b.created_at - a.created_at)
    .map(e => {
      const j = readJobRequest(e)
      return {
        id: e.id,
        kind: e.kind,
        customer: j.customer,
        created_at: e.created_at,
        inputs: [...j.inputs],
        params: { ...j.params },
        bid_msats: j.bid,
        escrow: j.escrow,
        sealed: j.sealed,
        locked_to_me: lockedToMe.has(e.id),
      }
    })
}

/** Quotes a price for a job (7000 `payment-required`): an escrowed job's customer locks it, others pay on delivery. */
export async function quote(c: Session, job: string, sats: number, content = ''): Promise<NostrEvent> {
  const j = readJobRequest(await fetchEvent(c.pool, job, 'job'))
  if (j.bid !== undefined && sats * 1000 > j.bid)
    throw new ClientError(
      `a quote of ${sats} sats is over the job's bid of ${j.bid} msats: the customer would refuse it`,
    )
  return publishOrThrow(c.pool, feedback(j, 'payment-required', { msats: sats * 1000, content }), 'quote')
}

/** Delivers a job's result (request kind + 1000), asking `sats` for it when given. */
export async function deliver(c: Session, job: string, content: string, sats?: number): Promise<NostrEvent> {
  const j = readJobRequest(await fetchEvent(c.pool, job, 'job'))
  return publishOrThrow(c.pool, jobResult(j, content, sats === undefined ? undefined : sats * 1000), 'result')
}

/**
 * Claims the escrow of a delivered job (once: a claim already on the relays is not sent again), then waits up to the
 * session's wait for the customer's release or the relay's ruling and redeems it into the wallet. Answers what
 * happened; calling it again after a timeout picks up where it stopped.
 */
export async function claimEscrow(c: Session, job: string): Promise<number> {
  const me = c.pool.signer.pubkey
  const [lock] = await c.pool.query([{ kinds: [ESCROW_LOCK], '#e': [job], '#p': [me] }])
  if (!lock) throw new ClientError(`job ${job} has no escrow locked to this provider`)
  const wallet = await c.wallet()
  const mine = await c.pool.query([{ kinds: [ESCROW_ACTION], authors: [me], '#e': [job] }])
  if (!mine.some(e => tagOf(e, 'action') === 'claim')) {
    const pkg = await wallet.prepareClaim(job, tagOf(lock, 'u')!, proofsFromTags(lock.tags))
    await publishOrThrow(c.pool, escrowAction(job, 'claim', pkg), 'escrow claim')
    c.log(`claimed the escrow of job ${job}`)
  }
  if (!wallet.pendingJobs().includes(job)) {
    c.out(`job ${job}: nothing left to redeem (redeemed already, or ruled a refund)`)
    return 0
  }
  const arbiters = await relayKeys(c.pool)
  const second = await waitFor(
    c.pool,
    [{ kinds: [ESCROW_ACTION], authors: [lock.pubkey, ...arbiters], '#e': [job] }],
    e => {
      const action = tagOf(e, 'action')
      if (action === 'release' && e.pubkey === lock.pubkey) return e
      return action === 'ruling' && arbiters.includes(e.pubkey) ? e : undefined
    },
    c.timeoutMs,
    'release',
  ).catch((err: ClientError) => {
    if (err.exitCode !== 3) throw err
    return undefined
  })
  if (!second) {
    c.out(
      `job ${job}: claimed; neither the customer's release nor the relay's ruling came yet: ask again later to redeem`,
    )
    return 0
  }
  if (tagOf(second, 'ruling') === 'refund') {
    await wallet.forget(job)
    c.out(`job ${job}: the relay ruled a refund to the customer (${second.content})`)
    return 1
  }
  const sats = await wallet.redeem(job, tagOf(second, 'package')!)
  c.out(`job ${job}: redeemed ${sats} sats from the escrow (${tagOf(second, 'action')})`)
  return 0
}
