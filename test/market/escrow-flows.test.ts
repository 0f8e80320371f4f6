// Escrowed jobs end to end over WebSocket (DESIGN §7.5): the real cashu-ts Wallet at the fixture mint locks,
// claims, co-signs and redeems; the relay takes the actions (7118), rules on its own clock with its co-signature,
// and its reconciler sees at the mint (NUT-07) how the proofs were spent and records it as a relay-signed event
// that moves the job, the ledger and the provider's reputation.
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { SigAll, Wallet, type Proof } from '@cashu/cashu-ts'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile } from '../../relay/app.js'
import { runCli } from '../helpers/cli.js'
import type { RawClient } from '../helpers/client.js'
import { escrowMarket, lockJob, packageFor, redeem, relayAction } from '../helpers/escrow.js'
import { signer, type Signer } from '../helpers/events.js'
import {
  accepted,
  jobRow,
  outputWhen,
  rebuildsTheSame,
  refused,
  restartMarket,
  result,
  tag,
} from '../helpers/market.js'
import { sleep } from '../helpers/wait.js'

const hex = (sk: Uint8Array) => Buffer.from(sk).toString('hex')
const total = (proofs: readonly Proof[]) => proofs.reduce((a, p) => a + p.amount.toNumber(), 0)

/** Adds a party's signature to a package it was sent. */
const coSign = (wire: string, sk: string) =>
  SigAll.serializePackage(SigAll.signPackage(SigAll.deserializePackage(wire), sk))

const action = (who: Signer, job: string, name: string, tags: string[][] = [], content = '') =>
  who.sign({ kind: 7118, tags: [['e', job], ['action', name], ...tags], content })

/** The market's escrow row for a job. */
function escrowRow(dataDir: string, job: string): Record<string, unknown> | undefined {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return db
      .prepare('SELECT x.* FROM market_escrows x JOIN market_jobs j ON j.seq = x.job_seq WHERE j.id = ?')
      .get(job) as Record<string, unknown> | undefined
  } finally {
    db.close()
  }
}

/** A market whose dispute window and reconciler turn fast, a job, and 21 sats locked to the provider for it. */
async function lockedJob(t: Test, flags: Record<string, number> = {}) {
  const m = await escrowMarket(t, { 'market.dispute_window': 1, 'market.reconcile_interval': 1, ...flags })
  const { req, proofs, lock } = await lockJob(t, m, 21)
  const providerWallet = new Wallet(m.mint.url, { unit: 'sat' })
  await providerWallet.loadMint()
  return { ...m, req, proofs, lock, providerWallet, providerSk: hex(m.wallet10019.sk), customerSk: hex(m.customer.sk) }
}

t.test('full release: deliver, claim, the window closes, the relay rules, the provider redeems, settled', async t => {
  const m = await lockedJob(t)
  const { c, req } = m
  const claim = await packageFor(m.providerWallet, m.proofs, m.providerSk)
  await refused(
    t,
    c,
    action(m.provider, req.id, 'claim', [['package', claim.wire]]),
    'restricted',
    /deliver job \w+ before claiming its escrow/,
    'a claim before delivery',
  )
  await accepted(t, c, result(m.provider, req, { amount: 21_000 }), 'the result')
  await refused(
    t,
    c,
    action(signer(), req.id, 'claim', [['package', claim.wire]]),
    'restricted',
    /only the escrowed provider of job \w+ can claim its escrow/,
    "a stranger's claim with the provider's package",
  )
  const unsigned = SigAll.serializePackage(SigAll.extractSwapPackage(claim.preview))
  await refused(
    t,
    c,
    action(m.provider, req.id, 'claim', [['package', unsigned]]),
    'invalid',
    /^invalid: escrow: a claim package must carry the provider's signature \(its 10019 key\)$/,
    'a claim its provider did not sign',
  )
  await t.rejects(
    redeem(m.providerWallet, claim.wire, claim.preview),
    { code: 10001 },
    'the provider alone cannot redeem',
  )
  const claimEvent = action(m.provider, req.id, 'claim', [['package', claim.wire]])
  await accepted(t, c, claimEvent, 'the claim')

  const ruling = await relayAction(c, m.relay.pubkey, req.id, 'ruling')
  t.equal(tag(ruling, 'ruling'), 'claim', 'the relay ruled for the claim once the window closed')
  t.match(ruling.content, /dispute window closed without a dispute/)
  const ruled = tag(ruling, 'package')!

  // The relay's signature is bound to the provider's outputs: with the customer's own package it is refused.
  const theft = await packageFor(m.wallet, m.proofs, m.customerSk)
  const relaySig = SigAll.deserializePackage(ruled).witness!.signatures.at(-1)!
  const stolen = SigAll.deserializePackage(theft.wire)
  const withRelay = { ...stolen, witness: { signatures: [...stolen.witness!.signatures, relaySig] } }
  await t.rejects(
    m.wallet.completeSwap(SigAll.mergeSwapPackage(withRelay, theft.preview)),
    { code: 10001 },
    "the relay's co-signature reused for other outputs is refused by the mint",
  )

  const { keep } = await redeem(m.providerWallet, ruled, claim.preview)
  t.equal(total(keep), 21, 'the provider redeemed the escrow with the ruling')
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent')
  t.equal(tag(spent, 'outcome'), 'settled')
  t.equal(tag(spent, 'path'), 'main')
  t.strictSame(
    spent.tags
      .filter(x => x[0] === 'signer')
      .map(x => x[1])
      .sort(),
    [m.keys.data, m.relay.pubkey].sort(),
    'the provider’s and the relay’s signatures spent it',
  )
  t.match(jobRow(m.dataDir, req.id), { state: 'paid', paid_msats: 21_000 })
  t.match(escrowRow(m.dataDir, req.id), { state: 'settled', ruling: 'claim', ruling_id: ruling.id, path: 'main' })
  const ledger = await outputWhen(c, m.relay.pubkey, 31118, req.id, e => tag(e, 'escrow_state') === 'settled', 'ledger')
  t.equal(tag(ledger, 'state'), 'paid')
  t.strictSame(
    ledger.tags.find(x => x[0] === 'ruling'),
    ['ruling', 'claim', ruling.id],
  )
  t.strictSame(ledger.tags.find(x => x[0] === 'payment')?.slice(0, 4), ['payment', 'escrow', spent.id, '21000'])
  const assertion = await outputWhen(
    c,
    m.relay.pubkey,
    30382,
    m.provider.pubkey,
    e => tag(e, 'jobs_paid') === '1',
    'the provider’s assertion counts the settled job',
  )
  t.equal(tag(assertion, 'score'), '18', 'paid job 5 + log10(21 sats) * 10 = 13')
  await refused(
    t,
    c,
    action(m.customer, req.id, 'dispute', [], 'too late'),
    'restricted',
    /already settled/,
    'a dispute after settlement',
  )
  await refused(
    t,
    c,
    m.provider.sign({ kind: 5, tags: [['e', claimEvent.id]] }),
    'restricted',
    /stays as the record/,
    'deleting the claim',
  )
  rebuildsTheSame(t, m)
})

t.test('refund on no delivery: the job expires, the customer asks, the relay co-signs its refund', async t => {
  // Long enough for the lock to arrive first on a loaded machine; then the sweep expires the job.
  const m = await lockedJob(t, { 'market.job_ttl': 20, 'store.sweep_interval': 1 })
  const { c, req } = m
  await outputWhen(c, m.relay.pubkey, 31118, req.id, e => tag(e, 'state') === 'expired', 'the job expired locked')
  await refused(t, c, result(m.provider, req), 'restricted', /expired before delivery/, 'a late result')
  await refused(
    t,
    c,
    m.customer.sign({ kind: 5, tags: [['e', req.id]] }),
    'restricted',
    /is paid in escrow: its request stays as the record/,
    'deleting the expired escrowed job’s request',
  )
  const refund = await packageFor(m.wallet, m.proofs, m.customerSk)
  await refused(
    t,
    c,
    action(m.provider, req.id, 'refund', [['package', refund.wire]]),
    'restricted',
    /only the customer of job \w+ can refund its escrow/,
    'the provider asking for the refund',
  )
  await accepted(t, c, action(m.customer, req.id, 'refund', [['package', refund.wire]]), 'the refund')
  const ruling = await relayAction(c, m.relay.pubkey, req.id, 'ruling')
  t.equal(tag(ruling, 'ruling'), 'refund')
  t.match(ruling.content, /no delivery by the deadline/)
  const { keep } = await redeem(m.wallet, tag(ruling, 'package')!, refund.preview)
  t.equal(total(keep), 21, 'the customer has its sats back')
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent')
  t.equal(tag(spent, 'outcome'), 'refunded')
  t.equal(tag(spent, 'path'), 'main', 'customer and relay: two of three')
  t.match(escrowRow(m.dataDir, req.id), { state: 'refunded', ruling: 'refund' })
  t.match(jobRow(m.dataDir, req.id), { state: 'cancelled' }, 'the refund closed the job')
  rebuildsTheSame(t, m)
})

t.test('refund on cancel: before delivery the customer takes its refund, and the job is closed', async t => {
  const m = await lockedJob(t)
  const { c, req } = m
  const refund = await packageFor(m.wallet, m.proofs, m.customerSk)
  await accepted(t, c, action(m.customer, req.id, 'refund', [['package', refund.wire]]), 'the refund (a cancel)')
  t.match(jobRow(m.dataDir, req.id), { state: 'cancelled' })
  await refused(
    t,
    c,
    result(m.provider, req),
    'restricted',
    /was cancelled by its customer/,
    'a result after the cancel',
  )
  const ruling = await relayAction(c, m.relay.pubkey, req.id, 'ruling')
  t.equal(tag(ruling, 'ruling'), 'refund')
  t.match(ruling.content, /cancelled by the customer before delivery/)
  await redeem(m.wallet, tag(ruling, 'package')!, refund.preview)
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent')
  t.equal(tag(spent, 'outcome'), 'refunded')
  const ledger = await outputWhen(
    c,
    m.relay.pubkey,
    31118,
    req.id,
    e => tag(e, 'escrow_state') === 'refunded',
    'ledger',
  )
  t.equal(tag(ledger, 'state'), 'cancelled')
})

t.test('the customer releases before the window closes: no ruling is needed', async t => {
  const m = await lockedJob(t, { 'market.dispute_window': 600 })
  const { c, req } = m
  await accepted(t, c, result(m.provider, req), 'the result')
  const claim = await packageFor(m.providerWallet, m.proofs, m.providerSk)
  await accepted(t, c, action(m.provider, req.id, 'claim', [['package', claim.wire]]), 'the claim')
  await refused(
    t,
    c,
    action(m.customer, req.id, 'release', [['package', claim.wire]]),
    'invalid',
    /a release package must carry the provider's and the customer's signatures/,
    'a release the customer did not sign',
  )
  const released = coSign(claim.wire, m.customerSk)
  await accepted(t, c, action(m.customer, req.id, 'release', [['package', released]]), 'the release')
  t.match(escrowRow(m.dataDir, req.id), { state: 'released' })
  await redeem(m.providerWallet, released, claim.preview)
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent')
  t.equal(tag(spent, 'outcome'), 'settled')
  t.strictSame(
    spent.tags
      .filter(x => x[0] === 'signer')
      .map(x => x[1])
      .sort(),
    [m.keys.data, m.customer.pubkey].sort(),
    'the provider’s and the customer’s signatures spent it',
  )
  const rulings = await c.req('rulings', { kinds: [7118], authors: [m.relay.pubkey], '#e': [req.id] })
  t.strictSame(
    (rulings.events as unknown as NostrEvent[]).map(e => tag(e, 'action')),
    ['spent'],
    'the relay published no ruling',
  )
  t.match(jobRow(m.dataDir, req.id), { state: 'paid' })
})

t.test('a dispute inside the window goes to the operator, who rules with agora escrow rule', async t => {
  const m = await lockedJob(t, { 'market.dispute_window': 600 })
  const { c, req } = m
  await accepted(t, c, result(m.provider, req), 'the result')
  const claim = await packageFor(m.providerWallet, m.proofs, m.providerSk)
  await accepted(t, c, action(m.provider, req.id, 'claim', [['package', claim.wire]]), 'the claim')
  await refused(
    t,
    c,
    action(m.customer, req.id, 'refund', [['package', (await packageFor(m.wallet, m.proofs, m.customerSk)).wire]]),
    'restricted',
    /was delivered: dispute it within the window, or release/,
    'a refund of a delivered job without a dispute',
  )
  const refund = await packageFor(m.wallet, m.proofs, m.customerSk)
  await refused(
    t,
    c,
    action(m.provider, req.id, 'dispute', [], 'I dispute my own work'),
    'restricted',
    /only the customer/,
    'a dispute by the provider',
  )
  const dispute = action(m.customer, req.id, 'dispute', [['package', refund.wire]], 'the summary is of another text')
  await accepted(t, c, dispute, 'the dispute, with the refund the customer asks for')
  t.match(escrowRow(m.dataDir, req.id), { state: 'disputed', dispute_id: dispute.id })
  await refused(t, c, action(m.customer, req.id, 'dispute'), 'restricted', /already disputed/, 'a second dispute')

  const noSide = await runCli(['escrow', 'rule', req.id, '--data', m.dataDir, '--url', m.url])
  t.equal(noSide.code, 2, 'rule needs --release or --refund')
  const r = await runCli(['escrow', 'rule', req.id, '--refund', '--data', m.dataDir, '--url', m.url])
  t.equal(r.code, 0, r.stderr)
  const ruled = JSON.parse(r.stdout) as { id: string; ok: boolean }
  t.match(ruled, { ok: true })
  const ruling = await relayAction(c, m.relay.pubkey, req.id, 'ruling')
  t.equal(ruling.id, ruled.id)
  t.equal(tag(ruling, 'ruling'), 'refund')
  t.match(ruling.content, /operator decision: refund to the customer/)
  const again = await runCli(['escrow', 'rule', req.id, '--release', '--data', m.dataDir, '--url', m.url])
  t.equal(again.code, 1)
  t.match(again.stdout, /already ruled/, 'a second ruling is refused')

  const { keep } = await redeem(m.wallet, tag(ruling, 'package')!, refund.preview)
  t.equal(total(keep), 21)
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent')
  t.equal(tag(spent, 'outcome'), 'refunded')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered' })
  const assertion = await outputWhen(
    c,
    m.relay.pubkey,
    30382,
    m.provider.pubkey,
    e => tag(e, 'jobs_refunded') === '1',
    'the provider’s assertion counts the dispute lost',
  )
  t.equal(tag(assertion, 'score'), '-10', 'a refunded delivery costs 10')
  rebuildsTheSame(t, m)
})

t.test('a dispute after the window is refused', async t => {
  const m = await lockedJob(t)
  const { c, req } = m
  await accepted(t, c, result(m.provider, req), 'the result')
  await sleep(2100)
  await refused(
    t,
    c,
    action(m.customer, req.id, 'dispute', [], 'late'),
    'restricted',
    /the dispute window of job \w+ closed at \d+/,
    'a dispute after the window',
  )
  t.match(escrowRow(m.dataDir, req.id), { state: 'held', dispute_id: null })
})

t.test('the customer refunding alone after the locktime is seen at the mint and recorded', async t => {
  const m = await lockedJob(t)
  const { c, req } = m
  const locktime = Number(escrowRow(m.dataDir, req.id)!.locktime)
  const alone = await packageFor(m.wallet, m.proofs, m.customerSk)
  await t.rejects(redeem(m.wallet, alone.wire, alone.preview), { code: 10001 }, 'not before the locktime')
  m.mint.setNow(locktime + 1)
  const { keep } = await redeem(m.wallet, alone.wire, alone.preview)
  t.equal(total(keep), 21, 'the customer took the refund alone')
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent', 40_000)
  t.equal(tag(spent, 'outcome'), 'refunded')
  t.equal(tag(spent, 'path'), 'refund', 'one signature: only the refund path spends with one')
  t.match(escrowRow(m.dataDir, req.id), { state: 'refunded', path: 'refund', ruling: null })
})

/** The relay's 7118s for a job, by action. */
async function relayActions(c: RawClient, relay: string, job: string): Promise<(string | undefined)[]> {
  const r = await c.req(`all-${job.slice(0, 8)}`, { kinds: [7118], authors: [relay], '#e': [job] })
  return (r.events as unknown as NostrEvent[]).map(e => tag(e, 'action')).sort()
}

t.test('a relay restarted between the claim and the ruling rules once, and records the spend once', async t => {
  const first = await lockedJob(t, { 'market.dispute_window': 2 })
  const { req } = first
  await accepted(t, first.c, result(first.provider, req), 'the result')
  const claim = await packageFor(first.providerWallet, first.proofs, first.providerSk)
  await accepted(t, first.c, action(first.provider, req.id, 'claim', [['package', claim.wire]]), 'the claim')
  const m = await restartMarket(t, first)
  const ruling = await relayAction(m.c, m.relay.pubkey, req.id, 'ruling')
  await redeem(m.providerWallet, tag(ruling, 'package')!, claim.preview)
  await relayAction(m.c, m.relay.pubkey, req.id, 'spent')
  // Two more turns of the arbiter: nothing is published again.
  await sleep(2500)
  t.strictSame(await relayActions(m.c, m.relay.pubkey, req.id), ['ruling', 'spent'], 'one ruling, one spent record')
  t.match(jobRow(m.dataDir, req.id), { state: 'paid' })
})

t.test('a mint outage: the reconciler backs off, retries, and records the spend once the mint answers', async t => {
  const m = await lockedJob(t)
  const { c, req } = m
  await accepted(t, c, result(m.provider, req), 'the result')
  const claim = await packageFor(m.providerWallet, m.proofs, m.providerSk)
  await accepted(t, c, action(m.provider, req.id, 'claim', [['package', claim.wire]]), 'the claim')
  const ruling = await relayAction(c, m.relay.pubkey, req.id, 'ruling')
  const checks = () => m.mint.requests.get('/v1/checkstate') ?? 0
  m.mint.setDown(true)
  const before = checks()
  await sleep(7000)
  const during = checks() - before
  t.ok(during >= 1, `the reconciler kept asking during the outage (${during} times)`)
  t.ok(during <= 4, `backing off: ${during} questions in 7 s, where one a second would be 7`)
  m.mint.setDown(false)
  await redeem(m.providerWallet, tag(ruling, 'package')!, claim.preview)
  const spent = await relayAction(c, m.relay.pubkey, req.id, 'spent', 40_000)
  t.equal(tag(spent, 'outcome'), 'settled', 'recorded once the mint answers again')
})
