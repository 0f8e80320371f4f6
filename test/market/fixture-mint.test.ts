// The fixture mint against the real cashu-ts Wallet over HTTP: minting with DLEQs, the escrow lock of DESIGN §7.5
// (2-of-3 {provider, customer, relay}, SIG_ALL, refund to the customer after the locktime), HTLC, NUT-07 witnesses.
import t, { type Test } from 'tap'
import {
  Amount,
  createHTLCHash,
  getHTLCWitnessPreimage,
  hashToCurve,
  hasValidDleq,
  Mint,
  OutputData,
  P2PKBuilder,
  parseSecret,
  schnorrVerifyDigest,
  SigAll,
  Wallet,
  type Proof,
  type SwapPreview,
} from '@cashu/cashu-ts'
import { invoiceMsats } from '../../nips/nip57.js'
import { signer } from '../helpers/events.js'
import { startFixtureMint, type FixtureMint, type FixtureMintOptions } from '../fixtures/mint/index.js'
import { fund, lockSats } from '../fixtures/mint/escrow.js'

/** A Nostr key and its Cashu form (NIP-61: "02" + x-only). */
type Party = { readonly sk: string; readonly xonly: string; readonly cashu: string }

function party(): Party {
  const s = signer()
  return { sk: Buffer.from(s.sk).toString('hex'), xonly: s.pubkey, cashu: `02${s.pubkey}` }
}

const total = (proofs: readonly Proof[]) => proofs.reduce((a, p) => a + p.amount.toNumber(), 0)
const Y = (p: Proof) => hashToCurve(new TextEncoder().encode(p.secret)).toHex(true)

/** A fixture mint closed at teardown, and a loaded wallet for it. */
async function openMint(t: Test, opts?: FixtureMintOptions): Promise<{ mint: FixtureMint; wallet: Wallet }> {
  const mint = await startFixtureMint(opts)
  t.teardown(mint.close)
  return { mint, wallet: await walletFor(mint) }
}

async function walletFor(mint: FixtureMint): Promise<Wallet> {
  const wallet = new Wallet(mint.url, { unit: 'sat' })
  await wallet.loadMint()
  return wallet
}

const LOCKED = 21

/** The escrow of DESIGN §7.5: the customer locks 21 sats to the provider, 2-of-3 with the relay, SIG_ALL. */
async function lockEscrow(t: Test) {
  const { mint, wallet: customerWallet } = await openMint(t)
  const [provider, customer, relay] = [party(), party(), party()]
  const locktime = mint.now() + 3600
  const keys = { data: provider.xonly, customer: customer.xonly, relay: relay.xonly }
  const locked = await lockSats(customerWallet, LOCKED, keys, locktime)
  const providerWallet = await walletFor(mint)
  return { mint, customerWallet, providerWallet, provider, customer, relay, locktime, locked }
}

/** A swap of `proofs` to fresh outputs of `wallet`, and its SIG_ALL signing package. */
async function prepareClaim(wallet: Wallet, proofs: Proof[]) {
  const preview = await wallet.prepareSwapToReceive(proofs)
  return { preview, pkg: SigAll.extractSwapPackage(preview) }
}

/** What a co-signer does with a serialized package it receives: sign it, send it back serialized. */
const coSign = (wire: string, sk: string) =>
  SigAll.serializePackage(SigAll.signPackage(SigAll.deserializePackage(wire), sk))

/** The preview with the package's signatures in its first input's witness (NUT-11 SIG_ALL). */
const merge = (wire: string, preview: SwapPreview) => SigAll.mergeSwapPackage(SigAll.deserializePackage(wire), preview)

/** The NUT-10 tags of a secret as {key: values}. */
function tagsOf(secret: string): Record<string, string[]> {
  const [, { tags }] = parseSecret(secret)
  return Object.fromEntries((tags ?? []).map(([k, ...v]) => [k!, v]))
}

t.test('mints proofs for a paid quote, each with a DLEQ the keyset verifies', async t => {
  const { mint, wallet } = await openMint(t)
  const quote = await wallet.createMintQuoteBolt11(64)
  t.equal(quote.state, 'PAID')
  t.equal(invoiceMsats(quote.request), 64_000n, 'the quote is a BOLT11 for 64 sats')
  const proofs = await wallet.mintProofsBolt11(64, quote)
  t.equal(total(proofs), 64)
  t.ok(
    proofs.every(p => hasValidDleq(p, mint.keyset, { require: true })),
    'every proof carries a DLEQ that verifies',
  )
  const forged = { ...proofs[0]!, amount: Amount.from(proofs[0]!.amount.toNumber() === 1 ? 2 : 1) }
  t.notOk(hasValidDleq(forged, mint.keyset), 'the DLEQ binds the amount key')
  t.equal((await wallet.checkMintQuoteBolt11(quote.quote)).state, 'ISSUED')
  await t.rejects(wallet.mintProofsBolt11(64, quote), { code: 20002 }, 'a quote mints once')
})

t.test('the escrow lock puts the provider in data, customer and relay in pubkeys, the customer in refund', async t => {
  const e = await lockEscrow(t)
  t.equal(total(e.locked), LOCKED)
  for (const p of e.locked) {
    const [kind, { data }] = parseSecret(p.secret)
    t.strictSame([kind, data], ['P2PK', e.provider.cashu])
    t.strictSame(tagsOf(p.secret), {
      pubkeys: [e.customer.cashu, e.relay.cashu],
      n_sigs: ['2'],
      sigflag: ['SIG_ALL'],
      locktime: [String(e.locktime)],
      refund: [e.customer.cashu],
    })
  }
})

t.test('the provider alone cannot redeem the escrow', async t => {
  const e = await lockEscrow(t)
  const { preview, pkg } = await prepareClaim(e.providerWallet, e.locked)
  const signed = SigAll.mergeSwapPackage(SigAll.signPackage(pkg, e.provider.sk), preview)
  await t.rejects(e.providerWallet.completeSwap(signed), { code: 10001 })
  const states = await e.providerWallet.checkProofsStates(e.locked)
  t.strictSame(
    states.map(s => s.state),
    e.locked.map(() => 'UNSPENT'),
  )
})

t.test('provider and relay redeem through a SIG_ALL package; checkstate shows both signatures', async t => {
  const e = await lockEscrow(t)
  const { preview, pkg } = await prepareClaim(e.providerWallet, e.locked)
  const byProvider = SigAll.serializePackage(SigAll.signPackage(pkg, e.provider.sk))
  const byBoth = coSign(byProvider, e.relay.sk)
  const { keep } = await e.providerWallet.completeSwap(merge(byBoth, preview))
  t.equal(total(keep), LOCKED)

  const states = await e.customerWallet.checkProofsStates(e.locked)
  t.strictSame(
    states.map(s => s.state),
    e.locked.map(() => 'SPENT'),
  )
  const signatures: string[] = JSON.parse(states[0]!.witness!).signatures
  const digest = SigAll.computeDigests(pkg.inputs, pkg.outputs).v0
  t.equal(signatures.length, 2)
  t.ok(schnorrVerifyDigest(signatures[0]!, digest, e.provider.cashu), 'the provider signed the claimed outputs')
  t.ok(schnorrVerifyDigest(signatures[1]!, digest, e.relay.cashu), 'the relay signed the claimed outputs')
  t.ok(
    states.slice(1).every(s => s.witness === null),
    'SIG_ALL: only the first input has a witness',
  )
})

t.test("the relay's signature does not carry over to the customer's outputs", async t => {
  const e = await lockEscrow(t)
  const claim = await prepareClaim(e.providerWallet, e.locked)
  const byBoth = coSign(SigAll.serializePackage(SigAll.signPackage(claim.pkg, e.provider.sk)), e.relay.sk)
  const relaySignature = SigAll.deserializePackage(byBoth).witness!.signatures[1]!

  const theft = await prepareClaim(e.customerWallet, e.locked)
  const byCustomer = SigAll.signPackage(theft.pkg, e.customer.sk)
  const withRelay = { ...byCustomer, witness: { signatures: [...byCustomer.witness!.signatures, relaySignature] } }
  const forged = SigAll.mergeSwapPackage(withRelay, theft.preview)
  await t.rejects(e.customerWallet.completeSwap(forged), { code: 10001 })

  const { keep } = await e.providerWallet.completeSwap(merge(byBoth, claim.preview))
  t.equal(total(keep), LOCKED, "the provider's claim still goes through")
})

t.test('the customer alone redeems through the refund path once the locktime has passed', async t => {
  const e = await lockEscrow(t)
  // The customer signs the package rather than completeSwap(preview, sk): the wallet picks its signing keys by
  // Date.now() (getP2PKExpectedWitnessPubkeys), and here only the mint's clock moves.
  const { preview, pkg } = await prepareClaim(e.customerWallet, e.locked)
  const refund = SigAll.mergeSwapPackage(SigAll.signPackage(pkg, e.customer.sk), preview)
  await t.rejects(e.customerWallet.completeSwap(refund), { code: 10001 }, 'refused before the locktime')

  e.mint.setNow(e.locktime + 1)
  const { keep } = await e.customerWallet.completeSwap(refund)
  t.equal(total(keep), LOCKED, 'the same swap goes through once the locktime has passed')
  t.ok(Date.now() < e.locktime * 1000, "the mint's clock did not leak into Date.now")
})

t.test('a double spend is refused with 11001: the customer cannot refund what the provider has claimed', async t => {
  const e = await lockEscrow(t)
  const claim = await prepareClaim(e.providerWallet, e.locked)
  const byBoth = coSign(SigAll.serializePackage(SigAll.signPackage(claim.pkg, e.provider.sk)), e.relay.sk)
  await e.providerWallet.completeSwap(merge(byBoth, claim.preview))

  e.mint.setNow(e.locktime + 1)
  const { preview, pkg } = await prepareClaim(e.customerWallet, e.locked)
  const refund = SigAll.mergeSwapPackage(SigAll.signPackage(pkg, e.customer.sk), preview)
  await t.rejects(e.customerWallet.completeSwap(refund), { code: 11001 })
})

t.test('checkstate answers in request order with the spending witness', async t => {
  const { mint, wallet } = await openMint(t)
  const [spent, unspent] = [await fund(wallet, 4), await fund(wallet, 2)]
  await wallet.ops.receive(spent).run()
  const Ys = [...unspent.map(Y), ...spent.map(Y)]
  const { states } = await new Mint(mint.url).check({ Ys })
  t.strictSame(
    states.map(s => [s.Y, s.state, s.witness]),
    Ys.map((y, i) => [y, i < unspent.length ? 'UNSPENT' : 'SPENT', null]),
  )
  t.equal(mint.requests.get('/v1/checkstate'), 1, 'the fixture counts requests by path')
})

t.test('HTLC: the provider redeems with preimage and signature, and checkstate reveals the preimage', async t => {
  const { mint, wallet: customerWallet } = await openMint(t)
  const [provider, customer] = [party(), party()]
  const { hash, preimage } = createHTLCHash()
  const lock = new P2PKBuilder()
    .addLockPubkey(provider.xonly)
    .addHashlock(hash)
    .lockUntil(mint.now() + 3600)
    .addRefundPubkey(customer.xonly)
    .toOptions()
  const { send: locked } = await customerWallet.ops
    .send(8, await fund(customerWallet, 8))
    .asP2PK(lock)
    .run()
  const [kind, { data }] = parseSecret(locked[0]!.secret)
  t.strictSame([kind, data, tagsOf(locked[0]!.secret).pubkeys], ['HTLC', hash, [provider.cashu]])

  const providerWallet = await walletFor(mint)
  const withPreimage = (proofs: Proof[]) => proofs.map(p => ({ ...p, witness: { preimage, signatures: [] } }))
  const noPreimage = await providerWallet.prepareSwapToReceive(locked)
  await t.rejects(providerWallet.completeSwap(noPreimage, provider.sk), { code: 10001 }, 'signature alone')
  const unsigned = await providerWallet.prepareSwapToReceive(locked)
  const preimageOnly = { ...unsigned, inputs: withPreimage(unsigned.inputs) }
  await t.rejects(providerWallet.completeSwap(preimageOnly), { code: 10001 }, 'preimage alone')

  const claim = await providerWallet.prepareSwapToReceive(locked)
  const { keep } = await providerWallet.completeSwap({ ...claim, inputs: withPreimage(claim.inputs) }, provider.sk)
  t.equal(total(keep), 8)
  const states = await customerWallet.checkProofsStates(locked)
  t.strictSame(
    states.map(s => getHTLCWitnessPreimage(s.witness ?? undefined)),
    locked.map(() => preimage),
  )
})

t.test('the mint charges its input fee: a swap that leaves no fee is refused with 11005', async t => {
  const { mint, wallet } = await openMint(t, { inputFeePpk: 1000 })
  t.equal(wallet.getKeyset().fee, 1000, 'the keyset lists its fee')
  const proofs = await fund(wallet, 7)
  const outputs = OutputData.createRandomData(7, mint.keyset).map(o => o.blindedMessage)
  await t.rejects(new Mint(mint.url).swap({ inputs: proofs, outputs }), { code: 11005 })
  const kept = await wallet.ops.receive(proofs).run()
  t.equal(total(kept), 7 - proofs.length, 'one sat per input')
})

t.test('a mint without NUT-11 says so in /v1/info and lets anyone spend a P2PK lock', async t => {
  const { mint, wallet } = await openMint(t, { without: [11] })
  t.equal(wallet.getMintInfo().isSupported(11).supported, false)
  t.equal(wallet.getMintInfo().isSupported(10).supported, true)
  const lock = new P2PKBuilder().addLockPubkey(party().xonly).toOptions()
  const { send: locked } = await wallet.ops
    .send(8, await fund(wallet, 8))
    .asP2PK(lock)
    .run()
  const stranger = await walletFor(mint)
  t.equal(total(await stranger.ops.receive(locked).run()), 8, 'spent without any signature')
})

t.test('a mint without NUT-07 and NUT-12 serves no checkstate and signs without DLEQs', async t => {
  const { wallet } = await openMint(t, { without: [7, 12] })
  t.equal(wallet.getMintInfo().isSupported(7).supported, false)
  t.equal(wallet.getMintInfo().isSupported(12).supported, false)
  const proofs = await fund(wallet, 4)
  t.ok(proofs.every(p => p.dleq === undefined))
  await t.rejects(wallet.checkProofsStates(proofs), { name: 'HttpResponseError', status: 404 })
})
