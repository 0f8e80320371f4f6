// The client's local Cashu wallet (cashu-ts): proofs per mint in a 0600 JSON file, minting through bolt11 quotes,
// tokens, nutzaps (NIP-61) and both sides of the market's escrow (docs/market-protocol.md, "Escrow"). No Nostr I/O:
// callers publish the events; the wallet gives them the values (the 10019 key, `proof` tags, packages).
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { getEncodedToken, getTokenMetadata, MintQuoteState, type ProofLike } from '@cashu/cashu-ts'
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { ClientError } from './errors.js'
import { cashuKey, parsePackage, signPackage } from './wallet/escrow.js'
import { lockEscrow, prepareSwap, redeem, type EscrowLock, type EscrowTerms } from './wallet/escrow-ops.js'
import { emptyWallet, readWalletFile, writeWalletFile, type WalletData } from './wallet/file.js'
import { withFileLock } from './wallet/lock.js'
import { atMint, mintConnections, normaliseMint } from './wallet/mint.js'
import { proofJson, proofsFromJson, sumSats } from './wallet/proofs.js'
import { addHoldings, checkSats, receiveProofs, spend, type WalletCtx } from './wallet/spend.js'

export { proofJson, proofsFromTags } from './wallet/proofs.js'
export type { LockParties } from './wallet/escrow.js'
export type { EscrowLock, EscrowTerms } from './wallet/escrow-ops.js'

export type WaitOptions = { readonly timeoutMs?: number; readonly pollMs?: number }

export type WalletOptions = {
  /** How long an operation waits for another process holding the wallet (60 s). */
  readonly lockTimeoutMs?: number
}

/** A local Cashu wallet backed by one file; every amount is in sats. */
export type LocalWallet = {
  readonly file: string
  /** The P2PK key for the provider's 10019 `pubkey` tag: "02" + x-only hex. */
  cashuPubkey(): string
  /** Sats held per mint URL, read from the file as it is now. */
  balance(): Record<string, number>
  /** Sats held at all mints. */
  total(): number
  /** A bolt11 invoice that, once paid, mints `sats` at `mint`. */
  mintQuote(mint: string, sats: number): Promise<{ quote: string; bolt11: string }>
  /** Waits until the quote is paid, mints its proofs into the wallet; returns the sats added. */
  waitMinted(mint: string, quote: string, sats: number, o?: WaitOptions): Promise<number>
  /** A cashuB token worth `sats` to its receiver (the sender pays the mint's fees); its proofs leave the wallet. */
  send(mint: string, sats: number): Promise<string>
  /** Swaps a token's proofs for fresh ones (signing those locked to this wallet's key); returns the sats added. */
  receive(token: string): Promise<number>
  /** Customer: locks `sats` as the escrow 2-of-3 [provider, customer, relay], SIG_ALL, refundable after locktime. */
  lockEscrow(terms: EscrowTerms): Promise<EscrowLock>
  /** Customer: its refund package (the escrow to this wallet's outputs, signed by its Nostr key), kept by job. */
  prepareRefund(
    job: string,
    mint: string,
    escrowProofs: readonly ProofLike[],
    customerSecretHex: string,
  ): Promise<string>
  /** Customer: the provider's claim package with the customer's signature added, for the `release` action. */
  coSignRelease(claimWire: string, customerSecretHex: string): string
  /** Provider: its claim package (the escrow to this wallet's outputs, signed with its P2PK key), kept by job. */
  prepareClaim(job: string, mint: string, escrowProofs: readonly ProofLike[]): Promise<string>
  /** Jobs whose escrow swap this wallet prepared and has not redeemed yet (to resume after a restart). */
  pendingJobs(): string[]
  /** Redeems the job's prepared swap with a package carrying the second signature; returns the sats added. */
  redeem(job: string, wire: string): Promise<number>
  /** Drops the job's prepared swap once its escrow went to the other side (it can never be redeemed). */
  forget(job: string): Promise<void>
  /** Nutzap proofs worth exactly `sats`, locked to `recipientCashuKey` alone, with DLEQs, as `proof` tag JSON. */
  nutzapProofs(mint: string, sats: number, recipientCashuKey: string): Promise<string[]>
  /** Swaps nutzap proofs locked to this wallet's key into its balance; returns the sats added. */
  receiveNutzap(mint: string, proofJsons: readonly string[]): Promise<number>
}

/** Opens the wallet in `file`, creating it (mode 0600, with a fresh P2PK key) on first use. */
export async function openWallet(file: string, o: WalletOptions = {}): Promise<LocalWallet> {
  const path = resolve(file)
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const exclusive = serialiser(`${path}.lock`, o.lockTimeoutMs ?? 60_000)
  // Read afresh under the lock: another process may have changed the file. A throw leaves the file untouched.
  const update = <T>(fn: (d: WalletData) => Promise<T>) =>
    exclusive(async () => {
      const data = readWalletFile(path)
      const out = await fn(data)
      writeWalletFile(path, data)
      return out
    })
  const secret = await exclusive(async () => {
    if (!existsSync(path)) writeWalletFile(path, emptyWallet(bytesToHex(generateSecretKey())))
    return readWalletFile(path).p2pk
  })
  return walletOps({ file: path, secret, update, connect: mintConnections() })
}

/** Runs operations one at a time in this process, each holding the lock file against other processes. */
function serialiser(lockFile: string, timeoutMs: number) {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(() => withFileLock(lockFile, timeoutMs, fn))
    tail = run.catch(() => undefined)
    return run
  }
}

function walletOps(ctx: WalletCtx): LocalWallet {
  const { secret } = ctx
  const balance = () =>
    Object.fromEntries(Object.entries(readWalletFile(ctx.file).proofs).map(([mint, ps]) => [mint, sumSats(ps)]))
  // Async arrows: a bad argument rejects the promise like any other failure.
  return {
    file: ctx.file,
    cashuPubkey: () => `02${getPublicKey(hexToBytes(secret))}`,
    balance,
    total: () => Object.values(balance()).reduce((a, b) => a + b, 0),
    mintQuote: async (mint, sats) => mintQuote(ctx, normaliseMint(mint), checkSats(sats)),
    waitMinted: async (mint, quote, sats, w = {}) => waitMinted(ctx, normaliseMint(mint), quote, checkSats(sats), w),
    send: async (mint, sats) => sendToken(ctx, normaliseMint(mint), checkSats(sats)),
    receive: async token => receiveToken(ctx, token),
    lockEscrow: async terms => lockEscrow(ctx, terms),
    prepareRefund: async (job, mint, proofs, customerSecretHex) =>
      prepareSwap(ctx, job, mint, proofs, customerSecretHex),
    coSignRelease: (wire, customerSecretHex) => signPackage(parsePackage(wire), customerSecretHex),
    prepareClaim: async (job, mint, proofs) => prepareSwap(ctx, job, mint, proofs, secret),
    pendingJobs: () => Object.keys(readWalletFile(ctx.file).swaps),
    redeem: async (job, wire) => redeem(ctx, job, wire),
    forget: job =>
      ctx.update(async d => {
        delete d.swaps[job]
      }),
    nutzapProofs: async (mint, sats, key) => nutzapProofs(ctx, normaliseMint(mint), checkSats(sats), key),
    receiveNutzap: async (mint, jsons) => receiveProofs(ctx, normaliseMint(mint), proofsFromJson(jsons)),
  }
}

function sendToken(ctx: WalletCtx, mint: string, sats: number): Promise<string> {
  return ctx.update(async d => {
    const proofs = await spend(ctx, d, mint, sats, true)
    return getEncodedToken({ mint, unit: 'sat', proofs })
  })
}

function mintQuote(ctx: WalletCtx, mint: string, sats: number) {
  return ctx.update(async d => {
    const w = await ctx.connect(mint)
    const q = await atMint(mint, () => w.createMintQuoteBolt11(sats))
    // Kept until minted, so that an invoice paid while the wallet was closed is not forgotten.
    d.quotes.push({ mint, quote: q.quote, sats })
    return { quote: q.quote, bolt11: q.request }
  })
}

async function waitMinted(ctx: WalletCtx, mint: string, quote: string, sats: number, o: WaitOptions): Promise<number> {
  const timeoutMs = o.timeoutMs ?? 600_000
  const deadline = Date.now() + timeoutMs
  const w = await ctx.connect(mint)
  // Polled without the lock: waiting for a payment must not block other users of the wallet.
  for (;;) {
    const { state } = await atMint(mint, () => w.checkMintQuoteBolt11(quote))
    if (state === MintQuoteState.PAID) break
    if (state === MintQuoteState.ISSUED) throw new ClientError(`quote ${quote} at ${mint} was already minted`)
    if (Date.now() >= deadline)
      throw new ClientError(`the invoice of quote ${quote} at ${mint} was not paid within ${timeoutMs / 1000} s`)
    await sleep(Math.min(o.pollMs ?? 2000, Math.max(0, deadline - Date.now())))
  }
  return ctx.update(async d => {
    const proofs = await atMint(mint, () => w.mintProofsBolt11(sats, quote))
    addHoldings(d, mint, proofs)
    d.quotes = d.quotes.filter(q => !(q.mint === mint && q.quote === quote))
    return sumSats(proofs)
  })
}

function receiveToken(ctx: WalletCtx, token: string): Promise<number> {
  let meta: ReturnType<typeof getTokenMetadata>
  try {
    meta = getTokenMetadata(token.trim())
  } catch (err) {
    throw new ClientError(`not a Cashu token (cashuA… or cashuB…): ${(err as Error).message}`)
  }
  if (meta.unit !== 'sat') throw new ClientError(`the token is in ${meta.unit}; this wallet holds sats`)
  return receiveProofs(ctx, normaliseMint(meta.mint), token.trim())
}

function nutzapProofs(ctx: WalletCtx, mint: string, sats: number, recipientCashuKey: string): Promise<string[]> {
  // Worth exactly `sats` (no fee on top): the relay counts a nutzap by the sum of its proofs (NIP-61).
  const options = { pubkey: cashuKey(recipientCashuKey, 'recipient’s Cashu') }
  return ctx.update(async d => (await spend(ctx, d, mint, sats, false, options)).map(proofJson))
}
