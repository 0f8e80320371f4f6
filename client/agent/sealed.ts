// The provider's side of pay-to-decrypt: deliver a sealed result whose key is the preimage of a hold invoice,
// settle the invoice once the customer's payment is held (which hands the customer the key), and publish the
// key itself only when the customer has not within a grace period, so the job is recorded as delivered anyway.
import { tagOf, keyReveal, FEEDBACK, type JobRequest } from '../market.js'
import type { Nwc } from '../nwc.js'
import { refusals, type Pool } from '../pool.js'
import { sealingKey, sealResult } from '../sealed.js'
import { waitFor } from '../customer.js'

/** How long a finished result is re-sent across reconnects: the work is done, so it should outlast a relay restart. */
export const DELIVER_MS = 300_000

export type SealedSide = ReturnType<typeof makeSealedSide>

/** How often a held payment is looked for, and how long the customer has to publish the key itself. */
const POLL_MS = 1000
const GRACE_MS = 60_000

/** The sealed side of an agent: delivers sealed results and sells their keys through its Lightning wallet. */
export function makeSealedSide(pool: Pool, nwc: Nwc, log: (l: string) => void, saleMs = 3_600_000) {
  /** Sells the key: waits for the payment to be held, settles it, then makes sure the key is published. */
  async function sell(j: JobRequest, key: string, keyHash: string): Promise<void> {
    if (!(await held(j, keyHash))) return
    await nwc.settleHoldInvoice(key)
    log(`job ${j.id.slice(0, 8)}: key sold`)
    const revealed = await waitFor(
      pool,
      [{ kinds: [FEEDBACK], authors: [j.customer], '#e': [j.id] }],
      e => (tagOf(e, 'preimage') === key ? e : undefined),
      GRACE_MS,
      'key published by the customer',
    ).catch(() => undefined)
    if (revealed) return
    const r = await pool.publish(keyReveal(j, key))
    log(`job ${j.id.slice(0, 8)}: key published${r.ok ? '' : ` nowhere: ${refusals(r)}`}`)
  }

  /**
   * Whether a payment to the hold invoice is held (accepted) before the sale ends. A failed lookup is tried again
   * (one lost wallet answer must not lose the sale), and told once until one succeeds; an invoice that expired or
   * failed ends the sale.
   */
  async function held(j: JobRequest, keyHash: string): Promise<boolean> {
    const until = Date.now() + saleMs
    let failing = false
    for (;;) {
      let state = 'pending'
      try {
        state = (await nwc.lookupInvoice(keyHash)).state
        failing = false
      } catch (err) {
        if (!failing)
          log(`job ${j.id.slice(0, 8)}: the wallet's lookup of the key's invoice failed: ${(err as Error).message}`)
        failing = true
      }
      if (state === 'accepted') return true
      if (state !== 'pending' || Date.now() > until) {
        log(`job ${j.id.slice(0, 8)}: the sealed result was not bought (its invoice is ${state})`)
        return false
      }
      await new Promise(r => setTimeout(r, POLL_MS))
    }
  }

  return {
    /** Publishes the sealed result for `msats` and sells its key in the background. */
    async deliver(j: JobRequest, output: string, msats: number): Promise<void> {
      const { key, keyHash } = sealingKey()
      const { bolt11 } = await nwc.makeHoldInvoice(msats, keyHash, `key to the result of job ${j.id}`)
      const r = await pool.publish(sealResult(j, output, key, msats, bolt11), DELIVER_MS)
      if (!r.ok) throw new Error(`the sealed result was refused: ${r.answers.map(a => a.message).join('; ')}`)
      log(`job ${j.id.slice(0, 8)} delivered sealed ${r.event.id}`)
      void sell(j, key, keyHash).catch(err => log(`job ${j.id.slice(0, 8)}: selling the key failed: ${err.message}`))
    },
  }
}
