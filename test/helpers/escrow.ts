// Escrow test parts (DESIGN §7.5): a market with a fixture mint, a provider whose 10019 names its Cashu key and
// the mint, a customer, and locks made by the real cashu-ts Wallet.
import type { Test } from 'tap'
import { SigAll, Wallet, type Proof, type SwapPreview } from '@cashu/cashu-ts'
import type { NostrEvent } from '../../nips/nip01.js'
import { lockSats, type LockChanges, type LockKeys } from '../fixtures/mint/escrow.js'
import { startFixtureMint, type FixtureMint, type FixtureMintOptions } from '../fixtures/mint/index.js'
import type { RawClient } from './client.js'
import { signer, now, type Signer } from './events.js'
import { accepted, request, roots, startMarket, tag } from './market.js'
import { sleep } from './wait.js'

export type { FixtureMint }

// The market's windows in these tests: a lock must leave job_ttl + dispute_window + escrow_margin.
export const RULES = { 'market.job_ttl': 3600, 'market.dispute_window': 600, 'market.escrow_margin': 60 }
export const ROOM = 3600 + 600 + 60

/** A proof as a `proof` tag carries it (amount as a number, the DLEQ with its r). */
export const proofJson = (p: Proof) =>
  JSON.stringify({
    id: p.id,
    amount: p.amount.toNumber(),
    secret: p.secret,
    C: p.C,
    ...(p.dleq ? { dleq: { e: p.dleq.e, s: p.dleq.s, r: p.dleq.r } } : {}),
  })

export async function openMint(t: Test, opts?: FixtureMintOptions): Promise<{ mint: FixtureMint; wallet: Wallet }> {
  const mint = await startFixtureMint(opts)
  t.teardown(mint.close)
  const wallet = new Wallet(mint.url, { unit: 'sat' })
  await wallet.loadMint()
  return { mint, wallet }
}

/** Sats locked as the escrow, with a locktime leaving the room the market asks for, or one rule changed. */
export type Changes = LockChanges & { locktime?: number; data?: string }
export const lockProofs = (wallet: Wallet, sats: number, keys: LockKeys, o: Changes = {}) =>
  lockSats(wallet, sats, { ...keys, data: o.data ?? keys.data }, o.locktime ?? now() + ROOM + 600, o)

export const lockEvent = (
  customer: Signer,
  job: string,
  provider: string,
  mint: string,
  proofs: readonly (Proof | string)[],
) =>
  customer.sign({
    kind: 7117,
    tags: [
      ['e', job],
      ['p', provider],
      ['u', mint],
      ...proofs.map(p => ['proof', typeof p === 'string' ? p : proofJson(p)]),
    ],
  })

/**
 * A market, a fixture mint, a provider with a 10019 naming its Cashu key and the mint, and a customer with standing
 * (a trust root), whose settled and refunded escrows count for the provider's reputation.
 */
export async function escrowMarket(t: Test, flags: Record<string, string | number | boolean | readonly string[]> = {}) {
  const [customer, provider, wallet10019] = [signer(), signer(), signer()]
  const m = await startMarket(t, { ...RULES, ...roots(customer), ...flags })
  const { mint, wallet } = await openMint(t)
  let version = 0
  const publish10019 = (mints: string[]) =>
    accepted(
      t,
      m.c,
      provider.sign({
        kind: 10019,
        // Each a second newer, so that a replacement replaces.
        created_at: now() + version++,
        tags: [...mints.map(u => ['mint', u, 'sat']), ['pubkey', `02${wallet10019.pubkey}`]],
      }),
      'the provider’s 10019',
    )
  await publish10019([mint.url])
  const keys = { data: wallet10019.pubkey, customer: customer.pubkey, relay: m.relay.pubkey }
  // wallet10019 holds the provider's Cashu key: it signs the provider's packages.
  return { ...m, mint, wallet, customer, provider, wallet10019, keys, publish10019 }
}

export type EscrowMarket = Awaited<ReturnType<typeof escrowMarket>>

/** A job of the escrow market's customer, and `sats` locked to its provider for it (bid: the same sats). */
export async function lockJob(t: Test, m: EscrowMarket, sats: number) {
  const req = request(m.customer, { bid: sats * 1000 })
  await accepted(t, m.c, req, 'the request')
  const proofs = await lockProofs(m.wallet, sats, m.keys)
  const lock = lockEvent(m.customer, req.id, m.provider.pubkey, m.mint.url, proofs)
  await accepted(t, m.c, lock, 'the lock')
  return { req, proofs, lock }
}

/** A swap of the escrowed proofs to fresh outputs of `wallet`, as a SIG_ALL package signed by `sk`. */
export async function packageFor(
  wallet: Wallet,
  proofs: Proof[],
  sk: string,
): Promise<{ preview: SwapPreview; wire: string }> {
  const preview = await wallet.prepareSwapToReceive(proofs)
  return { preview, wire: SigAll.serializePackage(SigAll.signPackage(SigAll.extractSwapPackage(preview), sk)) }
}

/** Redeems a package at the mint: the swap goes through only with the signatures the lock needs. */
export const redeem = (wallet: Wallet, wire: string, preview: SwapPreview) =>
  wallet.completeSwap(SigAll.mergeSwapPackage(SigAll.deserializePackage(wire), preview))

/** The relay's 7118 of this action for the job, once it is stored (polled: the arbiter turns each second). */
export async function relayAction(c: RawClient, relay: string, job: string, name: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (let n = 0; ; n++) {
    const sub = `act-${n}`
    const r = await c.req(sub, { kinds: [7118], authors: [relay], '#e': [job] })
    c.send(['CLOSE', sub])
    const found = (r.events as unknown as NostrEvent[]).find(e => tag(e, 'action') === name)
    if (found) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for the relay's ${name} on job ${job}`)
    await sleep(200)
  }
}
