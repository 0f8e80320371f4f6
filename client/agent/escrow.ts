// The provider's side of an escrowed job (docs/market-protocol.md, Escrow): wait for the customer's lock before
// working, claim right after delivering (a provider that never claims is never paid), and redeem at the mint
// whatever second signature comes: the customer's release or the relay's ruling.
import { setTimeout as sleep } from 'node:timers/promises'
import type { NostrEvent } from '../../nips/nip01.js'
import { waitFor } from '../customer.js'
import { ESCROW_ACTION, ESCROW_LOCK, escrowAction, tagOf, type JobRequest } from '../market.js'
import { refusals, type Pool } from '../pool.js'
import type { Subscription } from '../relay.js'
import { proofsFromTags, type LocalWallet } from '../wallet.js'

export type EscrowSide = ReturnType<typeof makeEscrowSide>

// A claim or a redemption that fails (the mint or the relays down) is tried again after 5 s, doubling, for about
// ten minutes; after a restart, `resume` takes up what the wallet still holds.
const RETRY_FIRST_MS = 5000
const RETRIES = 7

/**
 * The escrow side of an agent: its pool publishes the claims, its wallet prepares and redeems them. `arbiters` are
 * the keys of the relays that arbitrate escrows (NIP-11 `market.escrow`): only their rulings, and only the job's
 * customer's release, are redeemed, so a stranger's action on another relay cannot make it stop watching.
 */
export function makeEscrowSide(pool: Pool, wallet: LocalWallet, arbiters: readonly string[], log: (l: string) => void) {
  const me = pool.signer.pubkey
  const locks = new Map<string, NostrEvent>()
  const watching = new Map<string, Subscription>()
  const redeeming = new Set<string>()
  const closing = new AbortController()
  const say = (job: string, line: string) => log(`job ${job.slice(0, 8)}: ${line}`)

  /** Runs `fn`, trying again with backoff while it fails and the job is watched. */
  async function retrying(job: string, what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; watching.has(job); attempt++) {
      try {
        return await fn()
      } catch (err) {
        const wait = RETRY_FIRST_MS * 2 ** attempt
        const again = attempt < RETRIES
        say(job, `${what} failed: ${(err as Error).message}${again ? `; trying again in ${wait / 1000} s` : ''}`)
        if (!again) return
        await sleep(wait, undefined, { signal: closing.signal }).catch(() => undefined)
      }
    }
  }

  /** Publishes the claim of `job` from its lock (the wallet keeps the prepared swap to redeem later). */
  async function claimOnce(job: string, lock: NostrEvent): Promise<void> {
    const pkg = await wallet.prepareClaim(job, tagOf(lock, 'u')!, proofsFromTags(lock.tags))
    const r = await pool.publish(escrowAction(job, 'claim', pkg))
    if (r.ok) return say(job, 'escrow claimed')
    // Only `error:` (no answer, or the relay failed) is worth trying again; another refusal is the relay's answer.
    if (r.answers.some(a => a.message.startsWith('error:'))) throw new Error(refusals(r))
    say(job, `the escrow claim was refused: ${refusals(r)}`)
  }

  /** Redeems the claim of `job` once its customer's release or an arbiter's ruling carries the second signature. */
  function watch(job: string, customer: string): void {
    if (watching.has(job)) return
    const sub = pool.subscribe([{ kinds: [ESCROW_ACTION], authors: [customer, ...arbiters], '#e': [job] }], {
      onevent: e => {
        const action = tagOf(e, 'action')
        const pkg = tagOf(e, 'package')
        if (action === 'release' ? e.pubkey !== customer : !arbiters.includes(e.pubkey)) return
        if (action === 'ruling' && tagOf(e, 'ruling') === 'refund') {
          say(job, 'the escrow was ruled a refund to the customer')
          stopWatching(job)
          // The prepared claim can never be redeemed now: dropped, or every restart would watch it again.
          return void wallet.forget(job).catch(err => say(job, (err as Error).message))
        }
        const forMe = action === 'release' || (action === 'ruling' && tagOf(e, 'ruling') === 'claim')
        if (forMe && pkg && !redeeming.has(job)) void redeem(job, action, pkg)
      },
    })
    watching.set(job, sub)
  }

  async function redeem(job: string, action: string, pkg: string): Promise<void> {
    redeeming.add(job)
    let done = false
    await retrying(job, `redeeming the ${action}`, async () => {
      say(job, `redeemed ${await wallet.redeem(job, pkg)} sats from the escrow (${action})`)
      done = true
    })
    redeeming.delete(job)
    // A redemption that never went through leaves the job watched: another release or ruling may still come.
    if (done) stopWatching(job)
  }

  /**
   * After a restart: watches a claim the wallet still holds, and claims again one prepared but never published
   * (the relay or the agent went down).
   */
  async function resumeJob(job: string): Promise<void> {
    const [lock] = await pool.query([{ kinds: [ESCROW_LOCK], '#e': [job], '#p': [me] }])
    if (!lock) return say(job, 'the lock of a claim in the wallet is not on the relays')
    watch(job, lock.pubkey)
    const mine = await pool.query([{ kinds: [ESCROW_ACTION], authors: [me], '#e': [job] }])
    if (!mine.some(e => tagOf(e, 'action') === 'claim'))
      await retrying(job, 'the escrow claim', () => claimOnce(job, lock))
  }

  function stopWatching(job: string): void {
    watching.get(job)?.close()
    watching.delete(job)
  }

  return {
    /** Waits for the customer's lock of this job to this provider (the relay stores only valid locks). */
    async awaitLock(j: JobRequest, signal: AbortSignal, ms: number): Promise<void> {
      const lock = await waitFor(
        pool,
        [{ kinds: [ESCROW_LOCK], authors: [j.customer], '#e': [j.id] }],
        e => (tagOf(e, 'p') === me ? e : undefined),
        ms,
        'escrow lock from the customer',
        signal,
      )
      locks.set(j.id, lock)
      say(j.id, `escrow locked at ${tagOf(lock, 'u')}`)
    },

    /** Claims the escrow of a delivered job (trying again while that fails), and redeems it when released or ruled. */
    async claim(j: JobRequest): Promise<void> {
      const lock = locks.get(j.id)
      if (!lock) throw new Error(`no escrow lock known for job ${j.id}`)
      locks.delete(j.id)
      // Watched first: a release that follows the claim at once is not missed.
      watch(j.id, j.customer)
      await retrying(j.id, 'the escrow claim', () => claimOnce(j.id, lock))
    },

    /** After a restart: watches every claim the wallet still holds, and claims those never claimed. */
    async resume(): Promise<void> {
      for (const job of wallet.pendingJobs())
        void resumeJob(job).catch(err => say(job, `resuming the escrow failed: ${(err as Error).message}`))
    },

    /** Stops watching and retrying. */
    close(): void {
      closing.abort()
      for (const job of [...watching.keys()]) stopWatching(job)
    },
  }
}
