// The relay as escrow arbiter (market/arbiter.ts): when a ruling is due, the relay's 7118 templates, and how the
// witnesses the mint reports are matched to the packages the relay knows. Packages are real SIG_ALL swaps of an
// escrow at the loopback fixture mint (2-of-3 {provider, customer, relay}, refund to the customer), as in
// packages.test.ts.
import t, { type Test } from 'tap'
import { SigAll, Wallet, type SigAllSigningPackage } from '@cashu/cashu-ts'
import { finalizeEvent } from 'nostr-tools/pure'
import { readEscrowAction } from '../../market/actions.js'
import { readSpent, rulingDue, rulingTemplate, spentTemplate, type LiveEscrow } from '../../market/arbiter.js'
import { httpMintClient } from '../../market/mint-client.js'
import { coSign, readPackage } from '../../market/packages.js'
import { isRejection } from '../../nips/nip01.js'
import { proofY } from '../../nips/nip61.js'
import { signer } from '../helpers/events.js'
import { startFixtureMint } from '../fixtures/mint/index.js'
import { lockSats } from '../fixtures/mint/escrow.js'

type Party = { readonly sk: string; readonly xonly: string }

function party(): Party {
  const s = signer()
  return { sk: Buffer.from(s.sk).toString('hex'), xonly: s.pubkey }
}

// The provider's Nostr key is also its lock key here, as in packages.test.ts.
const [provider, customer, relay] = [party(), party(), party()]
const [P, C, R] = [provider.xonly, customer.xonly, relay.xonly]

const rules = { jobTtl: 3_600, disputeWindow: 86_400, escrowMargin: 600 }
const requestedAt = 1_000_000
const deliveredAt = 1_000_100
// The first second after the window: its last second still belongs to a dispute.
const windowCloses = deliveredAt + rules.disputeWindow + 1

/** A held escrow whose provider delivered and claimed; the packages are opaque to rulingDue. */
const escrow = (x: Partial<LiveEscrow> = {}): LiveEscrow => ({
  job: 'ab'.repeat(32),
  customer: C,
  jobState: 'delivered',
  jobProvider: P,
  requestedAt,
  provider: P,
  mint: 'http://127.0.0.1:1',
  locktime: 2_000_000,
  state: 'held',
  deliveredAt,
  claim: 'the claim',
  refund: null,
  spend: null,
  ruling: null,
  secrets: [],
  ...x,
})

t.test("the provider's claim is due once the dispute window after delivery closes", async t => {
  const due = { side: 'claim', wire: 'the claim', reason: /dispute window closed/ }
  t.match(rulingDue(escrow(), windowCloses, rules), due, 'delivered, claimed, window closed: claim due')
  t.match(rulingDue(escrow({ jobState: 'paid' }), windowCloses, rules), due, 'a paid job counts as delivered')
  t.equal(
    rulingDue(escrow(), windowCloses - 1, rules),
    undefined,
    "the window's last second, when a dispute is still on time: nothing",
  )
  t.equal(rulingDue(escrow({ claim: null }), windowCloses, rules), undefined, 'delivered but not claimed: nothing')
  t.equal(rulingDue(escrow({ deliveredAt: null }), windowCloses, rules), undefined, 'no delivery time: nothing')
  t.equal(rulingDue(escrow({ jobProvider: C }), windowCloses, rules), undefined, 'delivered by another: nothing')
  t.equal(rulingDue(escrow({ jobState: 'open' }), windowCloses, rules), undefined, 'a job not delivered: nothing')
  for (const state of ['disputed', 'released', 'ruled', 'settled', 'refunded'] as const)
    t.equal(rulingDue(escrow({ state }), windowCloses, rules), undefined, `a ${state} escrow: nothing`)
})

t.test("the customer's refund is due once it cancelled the job undelivered", async t => {
  const deadline = requestedAt + rules.jobTtl
  const cancelled = escrow({ jobState: 'cancelled', jobProvider: null, deliveredAt: null, refund: 'the refund' })
  t.strictSame(
    rulingDue(cancelled, deadline - 1, rules),
    { side: 'refund', wire: 'the refund', reason: 'cancelled by the customer before delivery' },
    'cancelled before the deadline: refund, as a cancel',
  )
  t.strictSame(
    rulingDue(cancelled, deadline, rules),
    { side: 'refund', wire: 'the refund', reason: 'no delivery by the deadline' },
    'at the deadline: refund, for no delivery',
  )
  t.equal(rulingDue({ ...cancelled, refund: null }, deadline, rules), undefined, 'cancelled without a refund: nothing')
  t.equal(rulingDue({ ...cancelled, jobState: 'open' }, deadline, rules), undefined, 'a refund of a live job: nothing')
  t.equal(rulingDue({ ...cancelled, state: 'disputed' }, deadline, rules), undefined, 'not held: nothing')
})

t.test('a ruling due within the margin before the locktime is late: the relay no longer rules', async t => {
  const locktime = windowCloses + 10_000
  const lastChance = locktime - rules.escrowMargin
  t.match(rulingDue(escrow({ locktime }), lastChance, rules), { side: 'claim' }, 'at locktime - margin: still due')
  t.strictSame(rulingDue(escrow({ locktime }), lastChance + 1, rules), { late: 'claim' }, 'a second later: late')
  const cancelled = escrow({ locktime, jobState: 'cancelled', deliveredAt: null, refund: 'the refund' })
  t.strictSame(rulingDue(cancelled, lastChance + 1, rules), { late: 'refund' }, 'a late refund too')
})

t.test("the relay's ruling and spent record: 7118, the job, the action, then both parties", async t => {
  const x = escrow()
  const ruling = rulingTemplate(x, 'claim', 'sigallAcosigned', 'the reason', 1_234)
  t.strictSame(
    ruling,
    {
      kind: 7118,
      created_at: 1_234,
      tags: [
        ['e', x.job],
        ['action', 'ruling'],
        ['ruling', 'claim'],
        ['package', 'sigallAcosigned'],
        ['p', P],
        ['p', C],
      ],
      content: 'the reason',
    },
    'a ruling: e, action, ruling, package, p provider, p customer; the reason as content',
  )
  const spent = spentTemplate(x, { outcome: 'refunded', path: 'main', signers: [C, R] }, 1_235)
  t.strictSame(
    spent,
    {
      kind: 7118,
      created_at: 1_235,
      tags: [
        ['e', x.job],
        ['action', 'spent'],
        ['outcome', 'refunded'],
        ['path', 'main'],
        ['signer', C],
        ['signer', R],
        ['p', P],
        ['p', C],
      ],
      content: '',
    },
    'a spent record: e, action, outcome, path, each signer, p provider, p customer; no content',
  )
  // What the relay writes is what the market reads back.
  const relaySk = Buffer.from(relay.sk, 'hex')
  const read = readEscrowAction(finalizeEvent(spent, relaySk))
  t.match(read, { job: x.job, action: 'spent', outcome: 'refunded', path: 'main' }, 'the spent record reads back')
})

/** The escrow of 21 sats, the wallets of both parties, and the LiveEscrow of it with the packages in `x`. */
async function lockEscrow(t: Test) {
  const mint = await startFixtureMint()
  t.teardown(mint.close)
  const wallet = async () => {
    const w = new Wallet(mint.url, { unit: 'sat' })
    await w.loadMint()
    return w
  }
  const [customerWallet, providerWallet] = [await wallet(), await wallet()]
  const locktime = mint.now() + 3600
  const locked = await lockSats(customerWallet, 21, { data: P, customer: C, relay: R }, locktime)
  const live = (x: Partial<LiveEscrow>) =>
    escrow({
      mint: mint.url,
      locktime,
      secrets: locked.map(p => p.secret),
      ...x,
    })
  /** A swap of the escrow to `w`'s outputs, signed by each of `sks` in turn. */
  const swap = async (w: Wallet, ...sks: string[]) => {
    const preview = await w.prepareSwapToReceive(locked)
    const pkg = sks.reduce((p, sk) => SigAll.signPackage(p, sk), SigAll.extractSwapPackage(preview))
    return { preview, wire: SigAll.serializePackage(pkg) }
  }
  return { mint, locked, locktime, customerWallet, providerWallet, live, swap }
}

function read(wire: string): SigAllSigningPackage {
  const pkg = readPackage(wire)
  if (isRejection(pkg)) throw new Error(pkg.reason)
  return pkg
}

const sigs = (wire: string) => read(wire).witness?.signatures ?? []

t.test('readSpent: the witnesses matched to the packages the relay knows', async t => {
  const e = await lockEscrow(t)
  const now = e.mint.now()
  /** Witnesses as a SIG_ALL spend leaves them: the signatures on the first input, none on the others. */
  const witnesses = (signatures: string[]) => e.locked.map((_, i) => (i ? undefined : JSON.stringify({ signatures })))

  const claim = (await e.swap(e.providerWallet, provider.sk)).wire
  const ruledClaim = coSign(read(claim), relay.sk)
  const refund = (await e.swap(e.customerWallet, customer.sk)).wire
  const ruledRefund = coSign(read(refund), relay.sk)
  t.equal(sigs(ruledClaim).length, 2, 'the ruled claim carries two signatures')

  const known = { claim, refund, state: 'ruled' } as const
  t.strictSame(
    readSpent(e.live({ ...known, spend: ruledClaim }), witnesses(sigs(ruledClaim)), now),
    { outcome: 'settled', path: 'main', signers: [P, R] },
    'the ruled claim: settled by the main path, provider then relay',
  )
  t.strictSame(
    readSpent(e.live({ ...known, spend: ruledRefund }), witnesses(sigs(ruledRefund)), now),
    { outcome: 'refunded', path: 'main', signers: [C, R] },
    'the ruled refund: refunded by the main path, customer then relay',
  )
  t.strictSame(
    readSpent(e.live({ claim, spend: null }), witnesses(sigs(ruledClaim)), now),
    { outcome: 'settled', path: 'main', signers: [P, R] },
    "the relay's co-signature on the claim matches the claim itself, with no spend recorded",
  )
  const released = coSign(read(claim), customer.sk)
  t.strictSame(
    readSpent(e.live({ ...known, state: 'released', spend: released }), witnesses(sigs(released)), now),
    { outcome: 'settled', path: 'main', signers: [P, C] },
    "the customer's release: settled, provider then customer",
  )
  t.strictSame(
    readSpent(e.live({ refund }), witnesses(sigs(refund)), e.locktime),
    { outcome: 'refunded', path: 'refund', signers: [C] },
    "the customer's known refund, alone at the locktime: the refund path",
  )

  // Spends the relay never saw: told apart by how many signatures they carry.
  const alone = sigs((await e.swap(e.customerWallet, customer.sk)).wire)
  const both = sigs((await e.swap(e.providerWallet, provider.sk, customer.sk)).wire)
  t.equal(both.length, 2, 'the unknown release carries two signatures')
  t.strictSame(
    readSpent(e.live({ ...known, spend: ruledClaim }), witnesses(alone), now),
    { outcome: 'refunded', path: 'refund', signers: [] },
    'one unknown signature: the customer alone, after the locktime',
  )
  t.strictSame(
    readSpent(e.live({ ...known, spend: ruledClaim }), witnesses(both), now),
    { outcome: 'settled', path: 'main', signers: [] },
    "two unknown signatures: the provider's and customer's own release",
  )
  t.strictSame(
    readSpent(e.live({ refund, spend: null }), witnesses(sigs(refund)), now),
    { outcome: 'refunded', path: 'refund', signers: [C] },
    "the customer's refund alone, read before the locktime by this clock: the mint accepted it, so the refund path",
  )
  const broken = [JSON.stringify({ signatures: alone }), 'not json', 'null', '{"signatures":"x"}']
  t.strictSame(
    readSpent(e.live(known), broken, now),
    { outcome: 'refunded', path: 'refund', signers: [] },
    'a witness that is not NUT-11 JSON adds no signature',
  )
})

t.test('readSpent with no witness (NUT-07 makes it optional): what the escrow made spendable', async t => {
  const e = await lockEscrow(t)
  const none = e.locked.map(() => undefined)
  const before = e.locktime - 1
  t.strictSame(
    readSpent(e.live({ state: 'ruled', ruling: 'claim' }), none, before),
    { outcome: 'settled', path: 'main', signers: [] },
    'a claim ruled: the provider spent it',
  )
  t.strictSame(
    readSpent(e.live({ state: 'released' }), none, e.locktime + 1),
    { outcome: 'settled', path: 'main', signers: [] },
    'released: the provider spent it, even after the locktime',
  )
  t.strictSame(
    readSpent(e.live({ state: 'ruled', ruling: 'refund' }), none, before),
    { outcome: 'refunded', path: 'main', signers: [] },
    'a refund ruled: the customer spent it with the relay',
  )
  t.strictSame(
    readSpent(e.live({ state: 'held' }), none, before),
    { outcome: 'settled', path: 'main', signers: [] },
    'nothing decided, before the locktime: only provider and customer together could spend it',
  )
  t.strictSame(
    readSpent(e.live({ state: 'held' }), none, e.locktime),
    { outcome: 'refunded', path: 'refund', signers: [] },
    'nothing decided, at the locktime: the customer alone',
  )
})

t.test('readSpent reads the witnesses the mint reports for a redeemed claim', async t => {
  const e = await lockEscrow(t)
  const { preview, wire } = await e.swap(e.providerWallet, provider.sk)
  const ruled = coSign(read(wire), relay.sk)
  await e.providerWallet.completeSwap(SigAll.mergeSwapPackage(read(ruled), preview))
  const x = e.live({ claim: wire, spend: ruled, state: 'ruled' })
  const states = await httpMintClient({ timeoutMs: 2_000 }).checkstate(e.mint.url, x.secrets.map(proofY))
  t.strictSame(
    states.map(s => s.state),
    x.secrets.map(() => 'SPENT'),
    'the mint reports every escrowed proof spent',
  )
  t.strictSame(
    readSpent(
      x,
      states.map(s => s.witness),
      e.mint.now(),
    ),
    { outcome: 'settled', path: 'main', signers: [P, R] },
    "the mint's witnesses match the ruled claim",
  )
})
