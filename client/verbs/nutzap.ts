// Paying a job by nutzap (NIP-61): Cashu proofs locked to the provider's 10019 key alone, at a mint it
// lists, published as a 9321 on its result. No Lightning wallet needed: the proofs are the payment.
import type { NostrEvent } from '../../nips/nip01.js'
import { readNutzapInfo } from '../../nips/nip61.js'
import { publishOrThrow } from '../customer.js'
import { ClientError } from '../errors.js'
import { nutzap, NUTZAP_INFO } from '../market.js'
import type { Session } from './session.js'
import { pickMint } from './escrow.js'

/** Nutzaps `msats` (rounded up to whole sats) to the provider of `result`, from the local Cashu wallet. */
export async function nutzapResult(c: Session, result: NostrEvent, msats: number): Promise<number> {
  const [e] = await c.pool.query([{ kinds: [NUTZAP_INFO], authors: [result.pubkey] }])
  const info = e && readNutzapInfo(e)
  if (!info) throw new ClientError(`provider ${result.pubkey} publishes no 10019: it takes no nutzaps`)
  const sats = Math.ceil(msats / 1000)
  const wallet = await c.wallet()
  const mint = pickMint(c, info.mints, wallet.balance(), sats)
  const proofs = await wallet.nutzapProofs(mint, sats, info.p2pk)
  const sent = await publishOrThrow(c.pool, nutzap(result, mint, proofs), 'nutzap')
  c.log(`nutzapped ${sats} sats to ${result.pubkey.slice(0, 8)} at ${mint} (${sent.id})`)
  return 0
}
