// The provider's side of nutzaps (NIP-61): proofs locked to its 10019 key, at a mint it lists, are swapped into its
// wallet as they arrive, so a customer can pay without Lightning. Anyone may publish a 9321; the mint decides
// whether its proofs are good (a bad or spent one is logged and left).
import { mintUrl } from '../../nips/nip61.js'
import { NUTZAP, tagOf, tagsOf } from '../market.js'
import type { Pool } from '../pool.js'
import type { Subscription } from '../relay.js'
import type { LocalWallet } from '../wallet.js'

/** Redeems the nutzaps to this agent at its mints from `since` on; close the subscription to stop. */
export function receiveNutzaps(
  pool: Pool,
  wallet: LocalWallet,
  mints: readonly string[],
  since: number,
  log: (l: string) => void,
): Subscription {
  const accepted = new Set(mints.map(m => mintUrl(m)))
  return pool.subscribe([{ kinds: [NUTZAP], '#p': [pool.signer.pubkey], since }], {
    onevent: e => {
      const mint = mintUrl(tagOf(e, 'u'))
      if (!mint || !accepted.has(mint)) return log(`nutzap ${e.id.slice(0, 8)} at a mint this agent does not take`)
      const proofs = tagsOf(e, 'proof').map(t => t[1] ?? '')
      void wallet.receiveNutzap(mint, proofs).then(
        sats => log(`received ${sats} sats by nutzap ${e.id.slice(0, 8)} from ${e.pubkey.slice(0, 8)}`),
        err => log(`nutzap ${e.id.slice(0, 8)} not redeemed: ${(err as Error).message}`),
      )
    },
  })
}
