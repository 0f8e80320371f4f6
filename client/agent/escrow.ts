// The provider's side of an escrowed job (docs/market-protocol.md, Escrow): wait for the customer's lock before
// working, claim right after delivering (a provider that never claims is never paid), and redeem at the mint
// whatever second signature comes: the customer's release or the relay's ruling.
import type { NostrEvent } from '../../nips/nip01.js'
import { waitFor } from '../customer.js'
import { ESCROW_ACTION, ESCROW_LOCK, escrowAction, tagOf, type JobRequest } from '../market.js'
import type { Pool } from '../pool.js'
import type { Subscription } from '../relay.js'
import { proofsFromTags, type LocalWallet } from '../wallet.js'

export type EscrowSide = ReturnType<typeof makeEscrowSide>

export function makeEscrowSide(pool: Pool, wallet: LocalWallet, log: (l: string) => void) {
  const me = pool.signer.pubkey
  const locks = new Map<string, NostrEvent>()
  const watching = new Map<string, Subscription>()

  /** Redeems the claim of `job` once a release or a ruling for it carries the second signature. */
  function watch(job: string): void {
    if (watching.has(job)) return
    const sub = pool.subscribe([{ kinds: [ESCROW_ACTION], '#e': [job] }], {
      onevent: e => {
        const action = tagOf(e, 'action')
        const pkg = tagOf(e, 'package')
        const forMe = action === 'release' || (action === 'ruling' && tagOf(e, 'ruling') === 'claim')
        if (action === 'ruling' && tagOf(e, 'ruling') === 'refund') {
          log(`job ${job.slice(0, 8)}: the escrow was ruled a refund to the customer`)
          return stopWatching(job)
        }
        if (!forMe || !pkg) return
        void wallet.redeem(job, pkg).then(
          sats => {
            log(`job ${job.slice(0, 8)}: redeemed ${sats} sats from the escrow (${action})`)
            stopWatching(job)
          },
          err => log(`job ${job.slice(0, 8)}: redeeming the ${action} failed: ${(err as Error).message}`),
        )
      },
    })
    watching.set(job, sub)
  }

  function stopWatching(job: string): void {
    watching.get(job)?.close()
    watching.delete(job)
  }

  return {
    /** Waits for the customer's lock of this job to this provider (the relay stores only valid locks). */
    async awaitLock(j: JobRequest, _msats: number, _signal: AbortSignal, ms: number): Promise<void> {
      const lock = await waitFor(
        pool,
        [{ kinds: [ESCROW_LOCK], authors: [j.customer], '#e': [j.id] }],
        e => (tagOf(e, 'p') === me ? e : undefined),
        ms,
        'escrow lock from the customer',
      )
      locks.set(j.id, lock)
      log(`job ${j.id.slice(0, 8)}: escrow locked at ${tagOf(lock, 'u')}`)
    },

    /** Claims the escrow of a delivered job, and redeems it when released or ruled. */
    async claim(j: JobRequest): Promise<void> {
      const lock = locks.get(j.id)
      if (!lock) throw new Error(`no escrow lock known for job ${j.id}`)
      const pkg = await wallet.prepareClaim(j.id, tagOf(lock, 'u')!, proofsFromTags(lock.tags))
      const r = await pool.publish(escrowAction(j.id, 'claim', pkg))
      if (!r.ok) throw new Error(`the escrow claim was refused: ${r.answers.map(a => a.message).join('; ')}`)
      log(`job ${j.id.slice(0, 8)}: escrow claimed`)
      locks.delete(j.id)
      watch(j.id)
    },

    /** After a restart: watches every claim the wallet still holds. */
    async resume(): Promise<void> {
      for (const job of wallet.pendingJobs()) watch(job)
    },

    close(): void {
      for (const job of [...watching.keys()]) stopWatching(job)
    },
  }
}
