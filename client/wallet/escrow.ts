// The escrow's Cashu parts (docs/market-protocol.md, "Escrow"): the 2-of-3 SIG_ALL lock, SIG_ALL swap packages
// signed and co-signed by the parties, and prepared swaps kept in the wallet file until the second signature comes.
import {
  Amount,
  OutputData,
  P2PKBuilder,
  SigAll,
  type P2PKOptions,
  type ProofLike,
  type SigAllSigningPackage,
  type SwapPreview,
} from '@cashu/cashu-ts'
import { compressedKey } from '../../nips/nip61.js'
import { ClientError } from '../errors.js'
import type { StoredSwap } from './file.js'
import { fromStored, toStored } from './proofs.js'

/** Who a lock binds: the provider's 10019 Cashu key, the customer's and the relay's Nostr keys (x-only). */
export type LockParties = {
  readonly providerCashuKey: string
  readonly customer: string
  readonly relay: string
  /** Unix seconds after which the customer alone can take the refund. */
  readonly locktime: number
}

/** A P2PK key as 33-byte compressed hex (an x-only key gets "02"), or a ClientError naming whose it is. */
export const cashuKey = (key: string, whose: string): string => {
  const k = compressedKey(key)
  if (k === undefined) throw new ClientError(`the ${whose} key "${key}" is not a 64-hex or 02/03 66-hex pubkey`)
  return k
}

/** NUT-11 options of the escrow lock: 2 of [provider, customer, relay], SIG_ALL, refund [customer] after locktime. */
export function escrowLockOptions(p: LockParties): P2PKOptions {
  if (!Number.isSafeInteger(p.locktime) || p.locktime <= 0)
    throw new ClientError(`locktime ${p.locktime} is not unix seconds`)
  const customer = cashuKey(p.customer, 'customer')
  return new P2PKBuilder()
    .addLockPubkey([cashuKey(p.providerCashuKey, 'provider’s Cashu'), customer, cashuKey(p.relay, 'relay')])
    .requireLockSignatures(2)
    .sigAll()
    .lockUntil(p.locktime)
    .addRefundPubkey(customer)
    .toOptions()
}

/** A serialized package ("sigallA…"), or a ClientError saying it is not one. */
export function parsePackage(wire: string): SigAllSigningPackage {
  let pkg: SigAllSigningPackage
  try {
    pkg = SigAll.deserializePackage(wire.trim())
  } catch (err) {
    throw new ClientError(`not a SIG_ALL escrow package (${(err as Error).message})`)
  }
  if (pkg.type !== 'swap') throw new ClientError('the escrow package is not a swap')
  return pkg
}

/** `pkg` with one more signature by `secretHex`, serialized. */
export function signPackage(pkg: SigAllSigningPackage, secretHex: string): string {
  if (!/^[0-9a-f]{64}$/i.test(secretHex)) throw new ClientError('a signing key must be 64 hex characters')
  return SigAll.serializePackage(SigAll.signPackage(pkg, secretHex))
}

/** The package of a prepared swap, signed by `secretHex`, serialized. */
export const signPreview = (preview: SwapPreview, secretHex: string): string =>
  signPackage(SigAll.extractSwapPackage(preview), secretHex)

/** Whether `pkg` swaps the same inputs to the same outputs as `preview`: only then can its signatures redeem it. */
export function isPackageOf(pkg: SigAllSigningPackage, preview: SwapPreview): boolean {
  const mine = SigAll.extractSwapPackage(preview)
  return SigAll.computeDigests(pkg.inputs, pkg.outputs).v0 === SigAll.computeDigests(mine.inputs, mine.outputs).v0
}

/** Whether a stored swap spends exactly `proofs` (by secret), so that it can be prepared again unchanged. */
export function spendsExactly(swap: StoredSwap, proofs: readonly ProofLike[]): boolean {
  const secrets = new Set(proofs.map(p => p.secret))
  return swap.inputs.length === secrets.size && swap.inputs.every(p => secrets.has(p.secret))
}

/** A prepared swap as the wallet file keeps it (blinding factors included: only they unblind the outputs). */
export const storeSwap = (mint: string, preview: SwapPreview): StoredSwap => ({
  mint,
  keysetId: preview.keysetId,
  amount: preview.amount.toNumber(),
  fees: preview.fees.toNumber(),
  inputs: preview.inputs.map(toStored),
  outputs: (preview.keepOutputs ?? []).map(o => OutputData.serialize(o)),
})

/** A stored swap as cashu-ts completes it. */
export const restoreSwap = (s: StoredSwap): SwapPreview => ({
  keysetId: s.keysetId,
  amount: Amount.from(s.amount),
  fees: Amount.from(s.fees),
  inputs: s.inputs.map(fromStored),
  keepOutputs: s.outputs.map(o => OutputData.deserialize(o)),
})
