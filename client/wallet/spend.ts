// What every wallet operation shares: the open wallet's context, the proofs held per mint, and spending or receiving
// them at a mint inside one locked read-modify-write of the wallet file.
import { CTSError, type P2PKOptions, type Proof, type ProofLike, type Wallet } from '@cashu/cashu-ts'
import { ClientError } from '../errors.js'
import type { WalletData } from './file.js'
import { atMint } from './mint.js'
import { fromStored, sumSats, toStored } from './proofs.js'

/** An open wallet: its file, its P2PK secret, a locked update of its data, and its mints. */
export type WalletCtx = {
  readonly file: string
  readonly secret: string
  /** Runs `fn` on the file's data under the lock and writes it back; a throw leaves the file untouched. */
  update<T>(fn: (d: WalletData) => Promise<T>): Promise<T>
  connect(mint: string): Promise<Wallet>
}

/** `sats` when it is a whole number above 0, else a ClientError. */
export function checkSats(sats: number): number {
  if (!Number.isSafeInteger(sats) || sats <= 0) throw new ClientError(`${sats} is not a whole number of sats above 0`)
  return sats
}

const holdings = (d: WalletData, mint: string): Proof[] => (d.proofs[mint] ?? []).map(fromStored)

function setHoldings(d: WalletData, mint: string, proofs: readonly ProofLike[]): void {
  if (proofs.length > 0) d.proofs[mint] = proofs.map(toStored)
  else delete d.proofs[mint]
}

/** Adds proofs to those held at `mint`. */
export const addHoldings = (d: WalletData, mint: string, proofs: readonly ProofLike[]) =>
  setHoldings(d, mint, [...holdings(d, mint), ...proofs])

const insufficient = (mint: string, have: number, need: string) =>
  new ClientError(`the wallet holds ${have} sats at ${mint}; ${need} needed (run agora wallet mint)`)

/**
 * Takes `sats` out of the proofs held at `mint` as new proofs (locked by `p2pk` when given), keeping the change;
 * returns the new proofs. With `fees`, they are worth `sats` after the mint's input fee for spending them.
 */
export async function spend(
  ctx: WalletCtx,
  d: WalletData,
  mint: string,
  sats: number,
  fees: boolean,
  p2pk?: P2PKOptions,
): Promise<Proof[]> {
  const have = holdings(d, mint)
  const held = sumSats(have)
  // Checked before the mint is asked anything: a wallet with nothing there need not reach it to say so.
  if (held < sats) throw insufficient(mint, held, String(sats))
  const w = await ctx.connect(mint)
  const need = sats + (fees ? w.getFeesToInclude(sats).toNumber() : 0)
  if (held < need) throw insufficient(mint, held, `${need} with the mint’s fees`)
  let op = w.ops.send(sats, have).includeFees(fees)
  if (p2pk) op = op.asP2PK(p2pk)
  const { keep, send } = await atMint(mint, () =>
    op.run().catch(err => {
      // Selection can still fall short by the input fee of the proofs it picks.
      if (err instanceof CTSError && /not enough/i.test(err.message))
        throw insufficient(mint, held, `${need} and the input fee of the proofs spent`)
      throw err
    }),
  )
  setHoldings(d, mint, keep)
  return send
}

/** Swaps proofs (or a token) at `mint` for fresh proofs of this wallet, signing any locked to its key; the sats added. */
export function receiveProofs(ctx: WalletCtx, mint: string, what: string | Proof[]): Promise<number> {
  return ctx.update(async d => {
    const w = await ctx.connect(mint)
    const proofs = await atMint(mint, () => w.receive(what, { privkey: ctx.secret }))
    addHoldings(d, mint, proofs)
    return sumSats(proofs)
  })
}
