// Escrow test parts (DESIGN §7.5): a market with a fixture mint, a provider whose 10019 names its Cashu key and
// the mint, a customer, and locks made by the real cashu-ts Wallet.
import type { Test } from 'tap'
import { Wallet, type Proof } from '@cashu/cashu-ts'
import { lockSats, type LockChanges, type LockKeys } from '../fixtures/mint/escrow.js'
import { startFixtureMint, type FixtureMint, type FixtureMintOptions } from '../fixtures/mint/index.js'
import { signer, now, type Signer } from './events.js'
import { accepted, roots, startMarket } from './market.js'

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
