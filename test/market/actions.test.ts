// Escrow actions (market/actions.ts): how a kind-7118 action reads, who may take which action in which state of
// the escrow, and when a dispute comes too late. Packages are real SIG_ALL swaps of a lock at the fixture mint.
import t, { type Test } from 'tap'
import { SigAll, Wallet } from '@cashu/cashu-ts'
import {
  ESCROW_ACTION,
  actionRefusal,
  disputeTooLate,
  readEscrowAction,
  type EscrowAction,
  type EscrowState,
  type EscrowView,
} from '../../market/actions.js'
import { isRejection, type Rejection } from '../../nips/nip01.js'
import { signer } from '../helpers/events.js'
import { startFixtureMint } from '../fixtures/mint/index.js'
import { lockSats } from '../fixtures/mint/escrow.js'

// The provider's Nostr key (P) and its 10019 key (D), whose signature is the one the lock counts; customer, relay.
const [provider, data, customer, relay] = [signer(), signer(), signer(), signer()]
const [P, D, C, R, S] = [provider.pubkey, data.pubkey, customer.pubkey, relay.pubkey, signer().pubkey]
const job = 'ab'.repeat(32)

// One real package: a swap of a lock to D, signed by D. actionRefusal takes the signers from its caller (the fold
// checks the package), so this one package serves every action here.
const mint = await startFixtureMint()
t.teardown(mint.close)
const wallet = new Wallet(mint.url, { unit: 'sat' })
await wallet.loadMint()
const locked = await lockSats(wallet, 8, { data: D, customer: C, relay: R }, mint.now() + 3600)
const preview = await wallet.prepareSwapToReceive(locked)
const dataSk = Buffer.from(data.sk).toString('hex')
const wire = SigAll.serializePackage(SigAll.signPackage(SigAll.extractSwapPackage(preview), dataSk))

/** A 7118 event whose tags are given flat, name then value: ev('e', job, 'action', 'dispute'). */
const ev = (...flat: string[]) =>
  signer().sign({ kind: ESCROW_ACTION, tags: flat.flatMap((v, i) => (i % 2 ? [] : [[v, flat[i + 1]!]])) })

/** An action on `job` that must read. */
function action(name: string, ...flat: string[]): EscrowAction {
  const a = readEscrowAction(ev('e', job, 'action', name, ...flat))
  if (isRejection(a)) throw new Error(a.reason)
  return a
}

t.test('well-formed actions read with their job, action, package, ruling and spent record', async t => {
  t.match(wire, /^sigallA/, 'the fixture package is a serialized SIG_ALL package')
  for (const name of ['claim', 'release', 'refund']) {
    const a = action(name, 'package', wire)
    t.match(a, { job, action: name, wire, ruling: undefined, outcome: undefined, path: undefined }, `${name} reads`)
    t.equal(a.pkg?.inputs.length, locked.length, `${name}: its package is read, spending the locked proofs`)
  }
  t.match(action('dispute'), { job, action: 'dispute', wire: undefined, pkg: undefined }, 'a dispute needs no package')
  const ruling = action('ruling', 'ruling', 'refund', 'package', wire)
  t.match(ruling, { action: 'ruling', ruling: 'refund', wire }, 'a ruling reads with its side')
  t.equal(ruling.pkg?.inputs.length, locked.length, 'a ruling carries its package')
  t.match(action('ruling', 'ruling', 'claim', 'package', wire), { ruling: 'claim' }, 'a claim ruling reads')
  const spent = action('spent', 'outcome', 'refunded', 'path', 'refund', 'signer', C)
  t.match(spent, { action: 'spent', outcome: 'refunded', path: 'refund', pkg: undefined }, 'a spent record reads')
})

t.test('an action of the wrong shape is refused as invalid, with the first rule it breaks', async t => {
  const oneJob = 'escrow: an action needs exactly one e tag naming the job'
  const spentWhy = 'escrow: a spent record needs outcome settled|refunded and path main|refund'
  const sides = 'escrow: a ruling needs a ruling tag: claim or refund'
  const notSigAll = /^escrow: not a SIG_ALL package/
  const cases: [string, string[], string | RegExp][] = [
    ['no e tag', ['action', 'dispute'], oneJob],
    ['two e tags', ['e', job, 'e', 'cd'.repeat(32), 'action', 'dispute'], oneJob],
    ['an e tag that is not hex', ['e', 'zz'.repeat(32), 'action', 'dispute'], oneJob],
    ['an e tag too short', ['e', job.slice(2), 'action', 'dispute'], oneJob],
    ['an unknown action', ['e', job, 'action', 'steal'], /^escrow: the action tag must be one of claim, release, re/],
    [
      'no action tag',
      ['e', job],
      'escrow: the action tag must be one of claim, release, refund, dispute, ruling, spent',
    ],
    ['a claim without a package', ['e', job, 'action', 'claim'], 'escrow: a claim needs a package tag'],
    ['a release without a package', ['e', job, 'action', 'release'], 'escrow: a release needs a package tag'],
    ['a refund without a package', ['e', job, 'action', 'refund'], 'escrow: a refund needs a package tag'],
    [
      'a ruling without a package',
      ['e', job, 'action', 'ruling', 'ruling', 'claim'],
      'escrow: a ruling needs a package tag',
    ],
    ['a package not sigallA…', ['e', job, 'action', 'claim', 'package', 'cashuBnotapackage'], notSigAll],
    ['a dispute with a broken package', ['e', job, 'action', 'dispute', 'package', 'sigallA!!!'], notSigAll],
    ['a ruling without a side', ['e', job, 'action', 'ruling', 'package', wire], sides],
    ['a ruling for another side', ['e', job, 'action', 'ruling', 'ruling', 'split', 'package', wire], sides],
    ['a spent record without an outcome', ['e', job, 'action', 'spent', 'path', 'main'], spentWhy],
    ['a spent record without a path', ['e', job, 'action', 'spent', 'outcome', 'settled'], spentWhy],
    ['a spent record of another outcome', ['e', job, 'action', 'spent', 'outcome', 'paid', 'path', 'main'], spentWhy],
    ['a spent record by another path', ['e', job, 'action', 'spent', 'outcome', 'settled', 'path', 'anyone'], spentWhy],
  ]
  for (const [rule, flat, reason] of cases) {
    const got = readEscrowAction(ev(...flat))
    if (typeof reason === 'string') t.strictSame(got, { prefix: 'invalid', reason }, `${rule}: refused`)
    else t.match(got, { prefix: 'invalid', reason }, `${rule}: refused`)
  }
})

const view = (state: EscrowState, delivered = true): EscrowView => ({
  state,
  customer: C,
  provider: P,
  dataKey: D,
  relayKey: R,
  delivered,
})
const [held, undelivered, disputed] = [view('held'), view('held', false), view('disputed')]

const restricted = (reason: RegExp) => ({ prefix: 'restricted', reason })
const invalid = (reason: RegExp) => ({ prefix: 'invalid', reason })

/** A row: the rule, the action, its author, the escrow, the package's signers, and the refusal (none: allowed). */
type Row = [string, EscrowAction, string, EscrowView, string[], { prefix: string; reason: RegExp }?]

function check(t: Test, rows: readonly Row[]) {
  for (const [rule, a, author, x, signers, refused] of rows) {
    const got: Rejection | undefined = actionRefusal(a, author, x, signers)
    if (refused) t.match(got, refused, rule)
    else t.equal(got, undefined, rule)
  }
}

const claim = action('claim', 'package', wire)
const release = action('release', 'package', wire)
const refund = action('refund', 'package', wire)
const dispute = action('dispute')
const disputeWithPackage = action('dispute', 'package', wire)
const ruleClaim = action('ruling', 'ruling', 'claim', 'package', wire)
const ruleRefund = action('ruling', 'ruling', 'refund', 'package', wire)
const spent = action('spent', 'outcome', 'settled', 'path', 'main')

t.test('claim: only the escrowed provider, after delivering, with its 10019 key signing', async t => {
  check(t, [
    ['claim after delivery, signed by the 10019 key: allowed', claim, P, held, [D]],
    ['claim while disputed: allowed (the operator decides)', claim, P, disputed, [D]],
    ['claim before delivery: refused', claim, P, undelivered, [D], restricted(/^deliver job \w+ before claiming/)],
    ['claim by a stranger: refused', claim, S, held, [D], restricted(/^only the escrowed provider of job \w+ can/)],
    ['claim by the customer: refused', claim, C, held, [D], restricted(/^only the escrowed provider/)],
    [
      "claim signed by the provider's Nostr key, not its 10019 key: refused",
      claim,
      P,
      held,
      [P],
      invalid(/^escrow: a claim package must carry the provider's signature \(its 10019 key\)$/),
    ],
  ])
})

t.test('release: only the customer, of a delivered job, with the 10019 key and the customer signing', async t => {
  check(t, [
    ['release signed by the 10019 key and the customer: allowed', release, C, held, [D, C]],
    [
      'release signed by the customer alone: refused',
      release,
      C,
      held,
      [C],
      invalid(/^escrow: a release package must carry the provider's and the customer's signatures$/),
    ],
    [
      'release undelivered: refused',
      release,
      C,
      undelivered,
      [D, C],
      restricted(/is not delivered: nothing to release/),
    ],
    ['release by the provider: refused', release, P, held, [D, C], restricted(/^only the customer of job/)],
  ])
})

t.test('refund: the customer, before delivery or once disputed', async t => {
  const undisputed = restricted(/was delivered: dispute it within the window, or release$/)
  check(t, [
    ['refund of an undelivered escrow: allowed', refund, C, undelivered, [C]],
    ['refund of a delivered, undisputed escrow: refused', refund, C, held, [C], undisputed],
    ['refund of a delivered, disputed escrow: allowed', refund, C, disputed, [C]],
    ['refund without the customer signing: refused', refund, C, undelivered, [R], invalid(/must carry the customer's/)],
    ['refund by the relay: refused', refund, R, undelivered, [C], restricted(/^only the customer of job/)],
  ])
})

t.test('dispute: the customer, once, after delivery; a package it carries is signed by the customer', async t => {
  check(t, [
    ['dispute of a delivered escrow, no package: allowed', dispute, C, held, []],
    ['dispute with a package the customer signed: allowed', disputeWithPackage, C, held, [C]],
    ['dispute undelivered: refused', dispute, C, undelivered, [], restricted(/is not delivered: refund instead$/)],
    ['dispute of a disputed escrow: refused', dispute, C, disputed, [], restricted(/is already disputed$/)],
    [
      'dispute with a package the customer did not sign: refused',
      disputeWithPackage,
      C,
      held,
      [D],
      invalid(/^escrow: a dispute package must carry the customer's signature$/),
    ],
    ['dispute by the provider: refused', dispute, P, held, [], restricted(/^only the customer of job/)],
  ])
})

t.test('ruling: only the relay key, co-signing a claim (after delivery) or a refund', async t => {
  const claimSigners = invalid(/^escrow: a ruling package must carry the provider's and the relay's signatures$/)
  const refundSigners = invalid(/^escrow: a ruling package must carry the customer's and the relay's signatures$/)
  check(t, [
    ['claim ruling signed by the 10019 key and the relay: allowed', ruleClaim, R, held, [D, R]],
    ['refund ruling signed by the customer and the relay: allowed', ruleRefund, R, held, [C, R]],
    ['refund ruling on a dispute: allowed', ruleRefund, R, disputed, [C, R]],
    ['ruling by the customer: refused', ruleRefund, C, held, [C, R], restricted(/^only the relay of job/)],
    ['claim ruling without the relay signing: refused', ruleClaim, R, held, [D], claimSigners],
    ['claim ruling signed by the customer and the relay: refused', ruleClaim, R, held, [C, R], claimSigners],
    ['claim ruling undelivered: refused', ruleClaim, R, undelivered, [D, R], restricted(/no claim to rule for$/)],
    ['refund ruling without the customer signing: refused', ruleRefund, R, held, [D, R], refundSigners],
  ])
})

t.test('a decided escrow takes no more actions; only the relay records the spend, until it is settled', async t => {
  const takes: [EscrowAction, string, string[]][] = [
    [claim, P, [D]],
    [release, C, [D, C]],
    [refund, C, [C]],
    [dispute, C, []],
    [ruleClaim, R, [D, R]],
    [ruleRefund, R, [C, R]],
  ]
  const rows: Row[] = []
  for (const state of ['released', 'ruled', 'settled', 'refunded'] as const)
    for (const [a, author, signers] of takes) {
      const already = restricted(new RegExp(`^the escrow of job \\w+ is already ${state}$`))
      rows.push([
        `${a.action} ${a.ruling ?? ''} on a ${state} escrow: refused`,
        a,
        author,
        view(state),
        signers,
        already,
      ])
    }
  for (const state of ['held', 'disputed', 'released', 'ruled'] as const)
    rows.push([`spent by the relay on a ${state} escrow: allowed`, spent, R, view(state), []])
  for (const state of ['settled', 'refunded'] as const)
    rows.push([`spent on a ${state} escrow: refused`, spent, R, view(state), [], restricted(/is already/)])
  for (const author of [P, D, C])
    rows.push(['spent by another key than the relay: refused', spent, author, held, [], restricted(/^only the relay/)])
  check(t, rows)
})

t.test('refusals name the job by its short id', async t => {
  t.strictSame(
    actionRefusal(claim, P, undelivered, [D]),
    { prefix: 'restricted', reason: 'deliver job abababababab before claiming its escrow' },
    'the first 12 hex of the job id',
  )
})

t.test('a dispute is in time up to the end of the window, by the second', async t => {
  const deliveredAt = 1_700_000_000
  const day = 86_400
  t.equal(disputeTooLate(deliveredAt, day, deliveredAt, job), undefined, 'at the delivery: in time')
  t.equal(disputeTooLate(deliveredAt, day, deliveredAt + day, job), undefined, 'at the window’s last second: in time')
  t.strictSame(
    disputeTooLate(deliveredAt, day, deliveredAt + day + 1, job),
    { prefix: 'restricted', reason: 'the dispute window of job abababababab closed at 1700086400' },
    'one second later: refused, naming when the window closed',
  )
})
