// Escrow locks (market/escrow.ts): a 7117 is read, then checked offline against the provider's 10019, the
// operator's mints, the mint's NUTs and keysets, and the price. Each rule the issue names has a case here.
import t from 'tap'
import {
  checkEscrowLock,
  ESCROW_LOCK,
  jobTermsRefusal,
  readEscrowLock,
  type EscrowLock,
  type LockTerms,
} from '../../market/escrow.js'
import { proofY, type CashuProof } from '../../nips/nip61.js'
import { issueProofs, makeMintKeys, p2pkSecret } from '../helpers/cashu.js'
import { signer } from '../helpers/events.js'

const MINT = 'https://mint.example.com'
const customer = signer()
const provider = signer()
const relay = signer().pubkey
// The provider's wallet key from its 10019 (not its Nostr key).
const WALLET = signer().pubkey
const JOB = 'a'.repeat(64)
const DEADLINE = 1_900_000_000
const sats = makeMintKeys()
const withFee = makeMintKeys(undefined, { inputFeePpk: 600 })

const escrowTags = (o: { locktime?: number; pubkeys?: string[]; refund?: string[]; nSigs?: string } = {}) => [
  ['sigflag', 'SIG_ALL'],
  ['n_sigs', o.nSigs ?? '2'],
  ['pubkeys', ...(o.pubkeys ?? [customer.pubkey, relay])],
  ['locktime', String(o.locktime ?? DEADLINE)],
  ['refund', ...(o.refund ?? [customer.pubkey])],
]
const locked = (amounts = [4, 16], tags = escrowTags(), key = WALLET, ks = sats) =>
  issueProofs(ks, amounts, () => p2pkSecret(key, tags))
const lockEvent = (
  proofs: unknown[],
  tags: string[][] = [
    ['e', JOB],
    ['p', provider.pubkey],
    ['u', MINT],
  ],
) =>
  customer.sign({
    kind: ESCROW_LOCK,
    tags: [...tags, ...proofs.map(p => ['proof', typeof p === 'string' ? p : JSON.stringify(p)])],
  })
const terms = (o: Partial<LockTerms> = {}): LockTerms => ({
  customer: customer.pubkey,
  relay,
  provider: { p2pk: `02${WALLET}`, mints: [MINT] },
  allowedMints: undefined,
  mintNuts: new Set([1, 2, 3, 4, 7, 10, 11, 12]),
  keyset: (mint, id) => (mint === MINT ? [sats, withFee].find(k => k.id === id) : undefined),
  ...o,
})
const read = (proofs: CashuProof[]) => readEscrowLock(lockEvent(proofs)) as EscrowLock
const check = (proofs: CashuProof[], o: Partial<LockTerms> = {}) => checkEscrowLock(read(proofs), terms(o))
const invalid = (reason: string) => ({ prefix: 'invalid', reason: `escrow: ${reason}` })

t.test('a lock of the right shape passes, with its value, locktime and the Ys it pledges', async t => {
  const proofs = locked()
  t.strictSame(check(proofs), { sats: 20, locktime: DEADLINE, ys: proofs.map(p => proofY(p.secret)) })
})

t.test('cosigners in any order and either key form are the same lock', async t => {
  const proofs = locked([4, 16], escrowTags({ pubkeys: [relay, `02${customer.pubkey}`] }))
  t.strictSame(check(proofs), { sats: 20, locktime: DEADLINE, ys: proofs.map(p => proofY(p.secret)) })
})

t.test('reading refuses a malformed lock, naming what is missing', async t => {
  const proofs = locked()
  const cases: [string[][], string][] = [
    [
      [
        ['p', provider.pubkey],
        ['u', MINT],
      ],
      'exactly one e tag naming the job request',
    ],
    [
      [
        ['e', JOB],
        ['e', JOB],
        ['p', provider.pubkey],
        ['u', MINT],
      ],
      'exactly one e tag naming the job request',
    ],
    [
      [
        ['e', JOB],
        ['u', MINT],
      ],
      'exactly one p tag naming the provider',
    ],
    [
      [
        ['e', 'nope'],
        ['p', provider.pubkey],
        ['u', MINT],
      ],
      'the e tag is not a 64-hex job request',
    ],
    [
      [
        ['e', JOB],
        ['p', provider.pubkey],
      ],
      'a u tag with the mint URL',
    ],
  ]
  for (const [tags, reason] of cases) t.strictSame(readEscrowLock(lockEvent(proofs, tags)), invalid(reason), reason)
  t.strictSame(readEscrowLock(lockEvent([])), invalid('no proof tag'))
  t.strictSame(
    readEscrowLock(lockEvent(['{"amount": 1}'])),
    invalid('proof 1 is not a JSON Cashu proof {id, amount, secret, C, dleq}'),
  )
  const read = readEscrowLock(lockEvent(proofs)) as EscrowLock
  t.strictSame([read.job, read.provider, read.mint, read.proofs.length], [JOB, provider.pubkey, MINT, 2])
})

t.test('each lock rule of the issue is refused with its reason', async t => {
  const cases: [string, CashuProof[], string][] = [
    [
      'to the wrong key',
      locked([4, 16], escrowTags(), provider.pubkey),
      'proof 1 is not locked to the provider’s 10019 key',
    ],
    ['with n_sigs 1', locked([4, 16], escrowTags({ nSigs: '1' })), 'proof 1 must need n_sigs 2'],
    [
      'without the relay as cosigner',
      locked([4, 16], escrowTags({ pubkeys: [customer.pubkey, signer().pubkey] })),
      'proof 1 must have pubkeys [customer, relay] beside the provider',
    ],
    [
      'without refund',
      locked(
        [4, 16],
        escrowTags().filter(x => x[0] !== 'refund'),
      ),
      'proof 1 must have refund [customer]',
    ],
    [
      'refunding to someone else',
      locked([4, 16], escrowTags({ refund: [relay] })),
      'proof 1 must have refund [customer]',
    ],
    [
      'without a locktime',
      locked(
        [4, 16],
        escrowTags().filter(x => x[0] !== 'locktime'),
      ),
      'proof 1 has no locktime (the customer could never get a refund)',
    ],
    [
      'with SIG_INPUTS',
      locked(
        [4, 16],
        escrowTags().filter(x => x[0] !== 'sigflag'),
      ),
      'proof 1 must have sigflag SIG_ALL (signatures bound to the outputs)',
    ],
    [
      'with a plain secret',
      issueProofs(sats, [4, 16], i => `plain-${i}-${Math.random()}`),
      'proof 1 is not a NUT-10 P2PK secret',
    ],
    [
      'with proofs whose lock tags differ',
      [...locked([4]), ...locked([16], escrowTags({ locktime: DEADLINE + 5 }))],
      'proof 2 has other lock tags than proof 1 (SIG_ALL needs the same on every proof)',
    ],
  ]
  for (const [what, proofs, reason] of cases) t.strictSame(check(proofs), invalid(reason), what)
})

t.test('a bad DLEQ, a missing one, or a repeated proof is refused', async t => {
  const [a, b] = locked()
  const tampered = { ...b!, dleq: { ...b!.dleq!, s: b!.dleq!.e } }
  t.strictSame(check([a!, tampered]), invalid('proof 2 has an invalid DLEQ'))
  t.strictSame(check([a!, { ...b!, dleq: undefined }]), invalid('proof 2 has no DLEQ'))
  t.strictSame(check([a!, a!]), invalid('proof 2 repeats an earlier proof’s secret'))
})

t.test('the mint must be the provider’s and the operator’s, and support NUT-7, 10, 11 and 12', async t => {
  const proofs = locked()
  t.strictSame(
    check(proofs, { provider: { p2pk: `02${WALLET}`, mints: ['https://other.example.com'] } }),
    invalid(`mint ${MINT} is not among the provider’s 10019 mints`),
  )
  t.strictSame(
    check(proofs, { allowedMints: ['https://other.example.com'] }),
    invalid(`mint ${MINT} is not allowed here`),
  )
  t.strictSame(
    check(proofs, { provider: undefined }),
    invalid('the provider has no 10019 (nutzap info) naming a key and mints to lock to'),
  )
  t.strictSame(check(proofs, { mintNuts: new Set([7, 10, 12]) }), invalid('the mint does not support NUT-11'))
  t.strictSame(check(proofs, { mintNuts: undefined }), { missingInfo: MINT }, "the mint's info is fetched first")
  t.equal('sats' in check(proofs, { allowedMints: [MINT] }), true, 'an allowed mint passes')
})

t.test('the value is counted after the mint’s input fees; an unknown keyset is fetched first', async t => {
  t.match(check(locked([4, 8])), { sats: 12 })
  // Two proofs at 600 ppk each: 1,200 ppk, rounded up to 2 sats.
  t.match(check(locked([4, 16], escrowTags(), WALLET, withFee)), { sats: 18 }, 'the fee is what the lock loses')
  const other = makeMintKeys()
  t.strictSame(check(locked([4, 16], escrowTags(), WALLET, other)), {
    missingKeyset: { mint: MINT, id: other.id },
  })
})

t.test("the job's terms: a locktime leaving room for the ruling, a value covering the price", async t => {
  const terms = { minLocktime: DEADLINE, priceSats: 20 }
  t.equal(jobTermsRefusal({ sats: 20, locktime: DEADLINE }, terms), undefined, 'exactly enough passes')
  t.strictSame(
    jobTermsRefusal({ sats: 20, locktime: DEADLINE - 1 }, terms),
    invalid(`locktime ${DEADLINE - 1} is before ${DEADLINE} (job deadline + dispute window + margin)`),
  )
  t.strictSame(
    jobTermsRefusal({ sats: 19, locktime: DEADLINE }, terms),
    invalid('the lock is worth 19 sats after the mint’s input fees, below the price of 20'),
  )
})
