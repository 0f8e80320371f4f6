// Paying a relay's zap gate (NIP-11 `zap_gate`): one zap of the relay's price from the customer's Lightning wallet
// to the relay's lightning address unlocks its gated kinds for that key for good.
import type { NostrEvent } from '../../nips/nip01.js'
import { ClientError } from '../errors.js'
import type { Template } from '../market.js'
import { refusals } from '../pool.js'
import { zap } from '../zap.js'
import type { Session } from './session.js'

/** True for the zap gate's refusal (`blocked: zap ADDRESS at least N sats to post …`). */
export const isGateRefusal = (message: string) => /blocked: zap \S+ at least \d+ sats/.test(message)

/** Zaps every relay whose NIP-11 states a zap gate, then publishes `t` again until the gate lets it through. */
export async function payGateAndPublish(c: Session, t: Template, what: string): Promise<NostrEvent> {
  const nwc = await c.nwc()
  try {
    for (const r of c.pool.relays) {
      const info = await c.pool.info(r.url)
      const gate = info?.doc['zap_gate'] as { lightning_address?: string; min_sats?: number } | undefined
      if (!gate?.lightning_address || !gate.min_sats || !info?.pubkey) continue
      c.log(`paying ${r.url}'s zap gate: ${gate.min_sats} sats to ${gate.lightning_address}`)
      await zap({
        nwc,
        signer: c.pool.signer,
        recipient: info.pubkey,
        address: gate.lightning_address,
        msats: gate.min_sats * 1000,
        relays: [r.url],
      })
    }
  } finally {
    nwc.close()
  }
  // The receipt reaches the relay through the LNURL server: try again until it has.
  const until = Date.now() + c.timeoutMs
  for (;;) {
    const p = await c.pool.publish(t)
    if (p.ok) return p.event
    if (Date.now() > until || !p.answers.some(a => isGateRefusal(a.message)))
      throw new ClientError(`${what} refused: ${refusals(p)}`)
    await new Promise(r => setTimeout(r, 500))
  }
}
