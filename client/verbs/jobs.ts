// The customer's job verbs: post a job, follow it to its result (locking, paying or opening what it asks), cancel,
// pick a swarm's winner, and read the relay's ledger entry.
import type { NostrEvent } from '../../nips/nip01.js'
import { fetchEvent, ledgerOf, postJob, publishOrThrow, relayKeys, watchJob } from '../customer.js'
import { ClientError } from '../errors.js'
import { ESCROW_LOCK, jobRequest, readJobRequest, swarmPick, tagOf, type RequestOptions } from '../market.js'
import { lockFor, refund } from './escrow.js'
import { isGateRefusal, payGateAndPublish } from './gate.js'
import { payJob, revealSealed } from './lightning.js'
import type { Session } from './session.js'

/** How a delivered result is paid: at once (by zap, or nutzap from the Cashu wallet), or not (the default). */
export type PayOptions = { readonly pay?: boolean | undefined; readonly nutzap?: boolean | undefined }

/**
 * Posts a job request; with `payGate`, a refusal by the relay's zap gate is answered by paying the gate and posting
 * again. Refused before posting when the job could not be paid as asked (it would be done and left unpaid).
 */
export async function post(c: Session, o: RequestOptions & PayOptions & { payGate?: boolean }): Promise<NostrEvent> {
  if (o.escrow && o.bid === undefined) throw new ClientError('an escrowed job needs a bid', 2)
  if (o.sealed && o.bid === undefined) throw new ClientError('a sealed job needs a bid (the most its key costs)', 2)
  if (((o.pay && !o.nutzap) || o.sealed) && !c.lightning)
    throw new ClientError(
      `--${o.sealed ? 'sealed' : 'pay'} pays through a Lightning wallet: pass --nwc nostr+walletconnect://…` +
        (o.sealed ? '' : ' (or --nutzap to pay from the Cashu wallet)'),
      2,
    )
  const request = await postJob(c.pool, o).catch(err => {
    if (!(err instanceof ClientError) || !o.payGate || !isGateRefusal(err.message)) throw err
    return payGateAndPublish(c, jobRequest(o), 'job request')
  })
  c.log(`job ${request.id} posted`)
  return request
}

/**
 * Follows a posted job to its end: says its feedback as it comes, locks the quoted price when it asks for escrow,
 * buys a sealed result's key, answers the result (a swarm's submissions, one JSON line each) and pays it with
 * `pay`. Resolves with 0, or rejects when no result comes within the session's wait or every provider gave up.
 */
export async function follow(c: Session, request: NostrEvent, o: PayOptions = {}): Promise<number> {
  const { pool, log } = c
  const job = readJobRequest(request)
  const swarm = job.swarm?.size
  const keys = await relayKeys(pool)
  const submissions: NostrEvent[] = []
  let locking: Promise<unknown> | undefined
  const failed = new Set<string>()
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.close()
      if (swarm !== undefined && submissions.length) return resolve(0)
      reject(new ClientError(`no result for job ${request.id} within ${c.timeoutMs / 1000} s`, 3))
    }, c.timeoutMs)
    // Once: a second result (or sealed result) arriving before the subscription closes must not be paid too.
    let ended = false
    const end = (run: () => Promise<number>) => {
      if (ended) return
      ended = true
      clearTimeout(timer)
      sub.close()
      run().then(resolve, reject)
    }
    const sub = watchJob(pool, request, keys, {
      onFeedback: e => {
        const amount = tagOf(e, 'amount')
        if (tagOf(e, 'status') === 'error' && job.providers.includes(e.pubkey)) failed.add(e.pubkey)
        log(
          `feedback ${tagOf(e, 'status')} from ${e.pubkey.slice(0, 8)}${amount ? ` (${amount} msats)` : ''}${e.content ? `: ${e.content}` : ''}`,
        )
        // A direct request has no one else to deliver it once each of its providers gave up.
        if (job.providers.length && failed.size === job.providers.length)
          end(() => Promise.reject(new ClientError(`job ${request.id} failed: ${e.content || 'error'}`, 1)))
        if (job.escrow && !locking && tagOf(e, 'status') === 'payment-required' && amount)
          locking = lockFor(c, request, e).catch(err => end(() => Promise.reject(err)))
      },
      onSealed: e => {
        if (job.sealed) end(() => revealSealed(c, request, e))
      },
      onResult: e => {
        if (swarm !== undefined) {
          submissions.push(e)
          c.out(JSON.stringify({ provider: e.pubkey, result: e.id, content: e.content }))
          if (submissions.length >= swarm) end(() => Promise.resolve(0))
          return
        }
        if (job.sealed) return
        end(() => delivered(c, request.id, job.escrow, e, o))
      },
    })
  })
}

/** Answers a delivered result; pays it at once with `pay`, else says how to. */
async function delivered(c: Session, job: string, escrow: boolean, result: NostrEvent, o: PayOptions) {
  c.out(result.content)
  c.log(`result ${result.id} from ${result.pubkey}`)
  if (o.pay) return payJob(c, job, o, result)
  c.log(escrow ? `release the escrow with: agora job release ${job}` : `pay with: agora job pay ${job}`)
  return 0
}

/** Cancels a job: the refund of its escrow when it has one, else a deletion of the request. */
export async function cancel(c: Session, job: string, reason = 'cancelled'): Promise<number> {
  const [lock] = await c.pool.query([{ kinds: [ESCROW_LOCK], authors: [c.pool.signer.pubkey], '#e': [job] }])
  if (lock) return refund(c, job, 'refund', { reason })
  const request = await fetchEvent(c.pool, job, 'job')
  const e = await publishOrThrow(
    c.pool,
    {
      kind: 5,
      tags: [
        ['e', job],
        ['k', String(request.kind)],
      ],
      content: reason,
    },
    'cancel',
  )
  c.out(e.id)
  return 0
}

/** Picks a swarm's winner (and, optionally, which of its results). */
export async function pick(c: Session, swarm: string, provider: string, result?: string): Promise<number> {
  c.out((await publishOrThrow(c.pool, swarmPick(swarm, provider, result), 'pick')).id)
  return 0
}

/** The relay's ledger entry (31118) of a job or workflow, as one JSON object of its tags. */
export async function status(c: Session, job: string): Promise<number> {
  const entry = await ledgerOf(c.pool, job)
  if (!entry) throw new ClientError(`no ledger entry for ${job} (an open job has none; or the relay runs no market)`, 4)
  c.out(JSON.stringify(Object.fromEntries(entry.tags.filter(t => t[0] !== 'd').map(t => [t[0], t.slice(1).join(' ')]))))
  return 0
}
