// The escrow from the wallet's side (docs/market-protocol.md, "Escrow"): the customer locks, either party prepares
// its swap of the escrowed proofs (kept in the file under the job until redeemed), and redeems it once a package
// carrying the second signature (the relay's ruling, the customer's release) comes back.
import { SigAll, type Proof, type ProofLike } from '@cashu/cashu-ts'
import { ClientError } from '../errors.js'
import {
  escrowLockOptions,
  isPackageOf,
  parsePackage,
  restoreSwap,
  signPreview,
  spendsExactly,
  storeSwap,
  type LockParties,
} from './escrow.js'
import { atMint, normaliseMint } from './mint.js'
import { proofJson, sumSats } from './proofs.js'
import { addHoldings, checkSats, spend, type WalletCtx } from './spend.js'

/** What the customer locks for a job: `sats` (worth that after the mint's input fee) at `mint`, to the parties. */
export type EscrowTerms = LockParties & { readonly mint: string; readonly sats: number }

/** An escrow lock: its proofs, and the `["proof", json]` tags a 7117 carries. */
export type EscrowLock = { readonly proofs: Proof[]; readonly tags: string[][] }

/** Locks `sats` of the wallet as the escrow the terms describe, keeping the change. */
export async function lockEscrow(ctx: WalletCtx, terms: EscrowTerms): Promise<EscrowLock> {
  const mint = normaliseMint(terms.mint)
  const sats = checkSats(terms.sats)
  const options = escrowLockOptions(terms)
  return ctx.update(async d => {
    const proofs = await spend(ctx, d, mint, sats, true, options)
    return { proofs, tags: proofs.map(p => ['proof', proofJson(p)]) }
  })
}

/** A swap of the escrowed proofs to this wallet's outputs, kept under the job; its package signed by `signer`. */
export async function prepareSwap(
  ctx: WalletCtx,
  job: string,
  mint: string,
  proofs: readonly ProofLike[],
  signer: string,
): Promise<string> {
  const m = normaliseMint(mint)
  if (proofs.length === 0) throw new ClientError(`no escrowed proofs given for job ${job}`)
  return ctx.update(async d => {
    const kept = d.swaps[job]
    // The same escrow prepared again (an agent restarted) keeps its outputs, so packages already out stay valid.
    const preview =
      kept && kept.mint === m && spendsExactly(kept, proofs)
        ? restoreSwap(kept)
        : await ctx.connect(m).then(w => atMint(m, () => w.prepareSwapToReceive([...proofs])))
    d.swaps[job] = storeSwap(m, preview)
    return signPreview(preview, signer)
  })
}

/** Completes the job's prepared swap with the signatures of `wire`; returns the sats added. */
export async function redeem(ctx: WalletCtx, job: string, wire: string): Promise<number> {
  const pkg = parsePackage(wire)
  if (!pkg.witness?.signatures.length) throw new ClientError('the escrow package carries no signature')
  return ctx.update(async d => {
    const kept = d.swaps[job]
    if (!kept) throw new ClientError(`this wallet prepared no escrow claim or refund for job ${job}`)
    const preview = restoreSwap(kept)
    if (!isPackageOf(pkg, preview))
      throw new ClientError(`the package does not pay job ${job}'s escrow to the outputs this wallet prepared`)
    const w = await ctx.connect(kept.mint)
    const { keep, send } = await atMint(kept.mint, () => w.completeSwap(SigAll.mergeSwapPackage(pkg, preview)))
    addHoldings(d, kept.mint, [...keep, ...send])
    delete d.swaps[job]
    return sumSats([...keep, ...send])
  })
}
