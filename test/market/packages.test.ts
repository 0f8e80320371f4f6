// SIG_ALL escrow packages (market/packages.ts) against the loopback fixture mint and the real cashu-ts Wallet: the
// escrow of DESIGN §7.5 (2-of-3 {provider, customer, relay}, SIG_ALL, refund to the customer after the locktime).
import t, { type Test } from 'tap'
import { Amount, SigAll, Wallet, type Proof, type SigAllSigningPackage } from '@cashu/cashu-ts'
import { checkPackage, coSign, readPackage, spendPath, type Escrowed } from '../../market/packages.js'
import { isRejection, type Rejection } from '../../nips/nip01.js'
import { inputFeeSats, type CashuProof } from '../../nips/nip61.js'
import { p2pkSecret } from '../helpers/cashu.js'
import { signer } from '../helpers/events.js'
import { startFixtureMint, type FixtureMintOptions } from '../fixtures/mint/index.js'
import { lockSats } from '../fixtures/mint/escrow.js'

type Party = { readonly sk: string; readonly xonly: string }

function party(): Party {
  const s = signer()
  return { sk: Buffer.from(s.sk).toString('hex'), xonly: s.pubkey }
}

const total = (proofs: readonly Proof[]) => proofs.reduce((a, p) => a + p.amount.toNumber(), 0)
const asCashu = (p: Proof): CashuProof => ({ id: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C })

async function walletFor(url: string): Promise<Wallet> {
  const wallet = new Wallet(url, { unit: 'sat' })
  await wallet.loadMint()
  return wallet
}

const LOCKED = 21

/** The customer locks 21 sats (16 + 4 + 1) to the provider, 2-of-3 with the relay, SIG_ALL, refundable after 1 h. */
async function lockEscrow(t: Test, opts?: FixtureMintOptions) {
  const mint = await startFixtureMint(opts)
  t.teardown(mint.close)
  const customerWallet = await walletFor(mint.url)
  const [provider, customer, relay] = [party(), party(), party()]
  const locktime = mint.now() + 3600
  const keys = { data: provider.xonly, customer: customer.xonly, relay: relay.xonly }
  const locked = await lockSats(customerWallet, LOCKED, keys, locktime)
  const fee = opts?.inputFeePpk ?? 0
  const proofs = locked.map(asCashu)
  const escrow: Escrowed = { proofs, feeSats: inputFeeSats(proofs, () => fee) }
  const providerWallet = await walletFor(mint.url)
  return { mint, customerWallet, providerWallet, provider, customer, relay, locktime, locked, escrow }
}

/** A swap of `proofs` to fresh outputs of `wallet`, and its SIG_ALL package, signed by `sk` and serialized. */
async function prepareSigned(wallet: Wallet, proofs: Proof[], sk: string) {
  const preview = await wallet.prepareSwapToReceive(proofs)
  return { preview, wire: SigAll.serializePackage(SigAll.signPackage(SigAll.extractSwapPackage(preview), sk)) }
}

/** The package behind a wire string the test built itself. */
function read(wire: string): SigAllSigningPackage {
  const pkg = readPackage(wire)
  if (isRejection(pkg)) throw new Error(pkg.reason)
  return pkg
}

const refused = (t: Test, got: object, rule: RegExp, msg: string) => {
  t.ok(isRejection(got as Rejection), `${msg}: refused`)
  t.match(got, { prefix: 'invalid', reason: rule }, msg)
}

t.test("the provider's claim reads and checks, naming the provider as its only signer", async t => {
  const e = await lockEscrow(t)
  const { wire } = await prepareSigned(e.providerWallet, e.locked, e.provider.sk)
  t.match(wire, /^sigallA/)
  t.strictSame(checkPackage(read(wire), e.escrow), { signers: [e.provider.xonly] })
  t.strictSame(checkPackage({ ...read(wire), witness: undefined }, e.escrow), { signers: [] }, 'unsigned: no signer')
})

t.test("the relay's co-signature makes the claim redeemable at the mint", async t => {
  const e = await lockEscrow(t)
  const { preview, wire } = await prepareSigned(e.providerWallet, e.locked, e.provider.sk)
  const ruled = coSign(read(wire), e.relay.sk)
  t.match(ruled, /^sigallA/)
  const pkg = read(ruled)
  t.strictSame(checkPackage(pkg, e.escrow), { signers: [e.provider.xonly, e.relay.xonly] })

  const { keep } = await e.providerWallet.completeSwap(SigAll.mergeSwapPackage(pkg, preview))
  t.equal(total(keep), LOCKED, 'the provider redeemed the escrow')
  const states = await e.customerWallet.checkProofsStates(e.locked)
  t.strictSame(
    states.map(s => s.state),
    e.locked.map(() => 'SPENT'),
  )
})

t.test('what is not a SIG_ALL swap package is refused', async t => {
  const e = await lockEscrow(t)
  refused(t, readPackage('cashuBnotapackage'), /^escrow: not a SIG_ALL package/, 'another prefix')
  refused(t, readPackage('sigallA!!!'), /^escrow: not a SIG_ALL package/, 'not base64url JSON')
  const { wire } = await prepareSigned(e.providerWallet, e.locked, e.provider.sk)
  const melt = SigAll.serializePackage({ ...read(wire), type: 'melt', quote: 'q1' })
  refused(t, readPackage(melt), /^escrow: the package must be a swap$/, 'a melt package')
})

t.test('a package whose inputs are not the escrowed proofs is refused', async t => {
  const e = await lockEscrow(t)
  t.equal(e.locked.length, 3, 'the escrow is three proofs')
  const subset = await prepareSigned(e.providerWallet, e.locked.slice(1), e.provider.sk)
  refused(t, checkPackage(read(subset.wire), e.escrow), /every escrowed proof/, 'a subset')

  const [extra] = await e.providerWallet.mintProofsBolt11(2, await e.providerWallet.createMintQuoteBolt11(2))
  const more = await prepareSigned(e.providerWallet, [...e.locked, extra!], e.provider.sk)
  refused(
    t,
    checkPackage(read(more.wire), e.escrow),
    /^escrow: the package spends 4 inputs; the escrow holds 3$/,
    'an extra proof (counted before anything is hashed)',
  )
  const foreign = read(more.wire)
  const swapped = { ...foreign, inputs: [...foreign.inputs.slice(0, 2), foreign.inputs[3]!] }
  refused(t, checkPackage(swapped, e.escrow), /input 3 is not an escrowed proof/, 'a foreign proof for an escrowed one')

  const pkg = read((await prepareSigned(e.providerWallet, e.locked, e.provider.sk)).wire)
  const otherC = { ...pkg, inputs: [{ ...pkg.inputs[0]!, C: e.locked[1]!.C }, ...pkg.inputs.slice(1)] }
  refused(t, checkPackage(otherC, e.escrow), /input 1 is not an escrowed proof/, 'an escrowed secret with another C')
  const twice = { ...pkg, inputs: [...pkg.inputs.slice(0, 2), pkg.inputs[0]!] }
  refused(t, checkPackage(twice, e.escrow), /input 3 repeats/, 'an escrowed proof twice')
  const none = { ...pkg, inputs: [], outputs: [] }
  refused(t, checkPackage(none, { ...e.escrow, proofs: [] }), /spends nothing/, 'an empty swap of an empty escrow')
})

t.test('outputs that do not balance the inputs less the fee are refused', async t => {
  const e = await lockEscrow(t)
  const pkg = read((await prepareSigned(e.providerWallet, e.locked, e.provider.sk)).wire)
  refused(
    t,
    checkPackage({ ...pkg, outputs: pkg.outputs.slice(1) }, e.escrow),
    /outputs sum \d+ but must be 21/,
    'short',
  )
  const extra = { ...pkg.outputs[0]!, B_: pkg.outputs[1]!.B_ }
  refused(t, checkPackage({ ...pkg, outputs: [...pkg.outputs, extra] }, e.escrow), /but must be 21/, 'over')
  const zero = { ...pkg.outputs[0]!, amount: Amount.zero() }
  refused(t, checkPackage({ ...pkg, outputs: [...pkg.outputs, zero] }, e.escrow), /amount 0/, 'a zero output')
})

t.test('the fee is the keysets’ input fees rounded up (NUT-02), and a fee-paying claim redeems', async t => {
  const e = await lockEscrow(t, { inputFeePpk: 400 })
  const { preview, wire } = await prepareSigned(e.providerWallet, e.locked, e.provider.sk)
  const pkg = read(wire)
  // The customer's wallet chose the locked proofs, so count them: ceil(400 * n / 1000).
  const fee = Math.ceil((400 * e.locked.length) / 1000)
  t.equal(
    pkg.outputs.reduce((a, o) => a + o.amount.toNumber(), 0),
    LOCKED - fee,
  )
  t.strictSame(checkPackage(pkg, e.escrow), { signers: [e.provider.xonly] })
  refused(t, checkPackage(pkg, { ...e.escrow, feeSats: 0 }), /but must be 21/, 'without the fee')
  const ruled = read(coSign(pkg, e.relay.sk))
  const { keep } = await e.providerWallet.completeSwap(SigAll.mergeSwapPackage(ruled, preview))
  t.equal(total(keep), LOCKED - fee)
})

t.test('a forged or tampered signature is refused', async t => {
  const e = await lockEscrow(t)
  const pkg = read((await prepareSigned(e.providerWallet, e.locked, e.provider.sk)).wire)
  const sig = pkg.witness!.signatures[0]!
  const flipped = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0')
  const withSigs = (...signatures: string[]) => ({ ...pkg, witness: { signatures } })
  refused(t, checkPackage(withSigs(flipped), e.escrow), /signature 1 is not a lock key/, 'a flipped bit')
  refused(t, checkPackage(withSigs(sig, 'zz'), e.escrow), /signature 2 is not a lock key/, 'not hex')
  const stranger = SigAll.signPackage({ ...pkg, witness: undefined }, party().sk).witness!.signatures[0]!
  refused(t, checkPackage(withSigs(sig, stranger), e.escrow), /signature 2/, 'a valid signature by a stranger')
  const other = read((await prepareSigned(e.providerWallet, e.locked, e.customer.sk)).wire)
  const elsewhere = other.witness!.signatures[0]!
  refused(t, checkPackage(withSigs(elsewhere), e.escrow), /signature 1/, "the customer's signature on another swap")
  refused(
    t,
    checkPackage(withSigs(sig, sig, sig, sig), e.escrow),
    /^escrow: the package carries 4 signatures; the lock has 3 keys$/,
    'more signatures than lock keys (padding), refused before any is checked',
  )
})

t.test("the relay's signature moved onto someone else's outputs is refused, here and at the mint", async t => {
  const e = await lockEscrow(t)
  const claim = read(coSign(read((await prepareSigned(e.providerWallet, e.locked, e.provider.sk)).wire), e.relay.sk))
  const theft = await prepareSigned(e.customerWallet, e.locked, e.customer.sk)
  const stolen = { ...claim, outputs: read(theft.wire).outputs }
  refused(t, checkPackage(stolen, e.escrow), /signature 1 is not a lock key/, 'outputs swapped under the signatures')

  const relaySig = claim.witness!.signatures[1]!
  const withRelay = {
    ...read(theft.wire),
    witness: { signatures: [...read(theft.wire).witness!.signatures, relaySig] },
  }
  refused(t, checkPackage(withRelay, e.escrow), /signature 2 is not a lock key/, "the relay's signature copied over")
  await t.rejects(e.customerWallet.completeSwap(SigAll.mergeSwapPackage(withRelay, theft.preview)), { code: 10001 })
})

t.test('spendPath: two of provider, customer and relay at any time; the customer alone after the locktime', async t => {
  const e = await lockEscrow(t)
  const secret = e.locked[0]!.secret
  const [before, at] = [e.locktime - 1, e.locktime]
  const [p, c, r] = [e.provider.xonly, e.customer.xonly, e.relay.xonly]
  t.equal(spendPath(secret, [p, r], before), 'main', 'provider + relay')
  t.equal(spendPath(secret, [c, r], before), 'main', 'customer + relay')
  t.equal(spendPath(secret, [p, c], at), 'main', 'provider + customer, after the locktime too')
  t.equal(spendPath(secret, [p], before), undefined, 'the provider alone')
  t.equal(spendPath(secret, [p, p], before), undefined, 'one key counts once')
  t.equal(spendPath(secret, [c], before), undefined, 'the customer alone before the locktime')
  t.equal(spendPath(secret, [c], at), 'refund', 'the customer alone at the locktime')
  t.equal(spendPath(secret, [r], at), undefined, 'the relay alone, even after the locktime')
  t.equal(spendPath(secret, [party().xonly, r], before), undefined, 'a stranger and the relay')
  t.equal(spendPath('not a secret', [p, r], before), undefined, 'not a P2PK secret')
  t.equal(spendPath(p2pkSecret(`02${p}`, [['locktime', '100']]), [], 100), 'anyone', 'expired with no refund key')
  t.equal(spendPath(p2pkSecret(`02${p}`, [['locktime', '100']]), [], 99), undefined, 'not before')

  // The refund path, end to end: the customer's own package checks with the customer as signer, then redeems.
  const { preview, wire } = await prepareSigned(e.customerWallet, e.locked, e.customer.sk)
  const checked = checkPackage(read(wire), e.escrow)
  t.strictSame(checked, { signers: [c] })
  const signers = isRejection(checked) ? [] : checked.signers
  t.equal(spendPath(secret, signers, e.mint.now()), undefined, 'not yet redeemable')
  await t.rejects(e.customerWallet.completeSwap(SigAll.mergeSwapPackage(read(wire), preview)), { code: 10001 })
  e.mint.setNow(e.locktime)
  t.equal(spendPath(secret, signers, e.mint.now()), 'refund')
  const { keep } = await e.customerWallet.completeSwap(SigAll.mergeSwapPackage(read(wire), preview))
  t.equal(total(keep), LOCKED, 'the mint agrees at the locktime')
})
