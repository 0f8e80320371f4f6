import t from 'tap'
import { hashToCurve } from '@cashu/cashu-ts'
import { isRejection } from '../../nips/nip01.js'
import {
  checkNutzap,
  NUTZAP,
  NUTZAP_INFO,
  readNutzap,
  readNutzapInfo,
  type CashuProof,
  type Keyset,
  type Nutzap,
  type NutzapInfo,
} from '../../nips/nip61.js'
import { issueProofs, makeMintKeys, p2pkSecret, type MintKeyset } from '../helpers/cashu.js'
import { signer } from '../helpers/events.js'

const MINT = 'https://mint.example.com'
const recipient = signer()
const sender = signer()
// The wallet key the recipient's 10019 names (NIP-61: not the user's Nostr key), and a stranger's.
const WALLET = signer().pubkey
const OTHER = signer().pubkey
const ZAPPED = 'e'.repeat(64)
const sats = makeMintKeys()

const info = (p2pk = WALLET, mints = [MINT]) =>
  readNutzapInfo(
    recipient.sign({ kind: NUTZAP_INFO, tags: [['pubkey', p2pk], ...mints.map(m => ['mint', m, 'sat'])] }),
  )!
const lockedTo = (key: string, amounts = [1, 4, 16], ks = sats, tags: string[][] = []) =>
  issueProofs(ks, amounts, () => p2pkSecret(key, tags))
const nutzapEvent = (
  proofs: unknown[],
  tags: string[][] = [
    ['u', MINT],
    ['p', recipient.pubkey],
    ['e', ZAPPED],
  ],
) =>
  sender.sign({
    kind: NUTZAP,
    tags: [...proofs.map(p => ['proof', typeof p === 'string' ? p : JSON.stringify(p)]), ['unit', 'sat'], ...tags],
  })
const read = (proofs: unknown[], tags?: string[][]) => readNutzap(nutzapEvent(proofs, tags)) as Nutzap
const known =
  (...keysets: MintKeyset[]) =>
  (mint: string, id: string): Keyset | undefined =>
    mint === MINT ? keysets.find(k => k.id === id) : undefined
const check = (proofs: CashuProof[], i: NutzapInfo = info(), keysets = known(sats)) =>
  checkNutzap(read(proofs), i, keysets)
const invalid = (reason: string) => ({ prefix: 'invalid', reason: `nutzap: ${reason}` })
const y = (secret: string) => hashToCurve(new TextEncoder().encode(secret)).toHex(true)

t.test('readNutzapInfo', async t => {
  t.test('reads the P2PK key with the 02 prefix NIP-61 lockers add, and the mints normalised', async t => {
    t.strictSame(info(WALLET, ['https://Mint.Example.COM/', 'http://127.0.0.1:3338/']), {
      p2pk: `02${WALLET}`,
      mints: [MINT, 'http://127.0.0.1:3338'],
    })
  })

  t.test('keeps a key already in 33-byte compressed form, 02 or 03', async t => {
    t.equal(info(`03${WALLET}`).p2pk, `03${WALLET}`)
    t.equal(info(`02${WALLET}`).p2pk, `02${WALLET}`)
  })

  t.test('skips mint tags whose URL is not a mint URL', async t => {
    t.strictSame(info(WALLET, [MINT, 'ftp://mint.example.com', 'not a url']).mints, [MINT])
  })

  t.test('is undefined without a usable pubkey tag', async t => {
    t.equal(readNutzapInfo(recipient.sign({ kind: NUTZAP_INFO, tags: [['mint', MINT]] })), undefined)
    t.equal(readNutzapInfo(recipient.sign({ kind: NUTZAP_INFO, tags: [['pubkey', 'abcd']] })), undefined)
    t.equal(readNutzapInfo(recipient.sign({ kind: NUTZAP_INFO, tags: [['pubkey', `04${WALLET}`]] })), undefined)
  })

  t.test('is undefined for another kind', async t => {
    t.equal(readNutzapInfo(recipient.sign({ kind: 10002, tags: [['pubkey', WALLET]] })), undefined)
  })
})

t.test('readNutzap', async t => {
  const proofs = lockedTo(WALLET)

  t.test('reads the mint (normalised), the recipient, the zapped event and the proofs', async t => {
    const tags = [
      ['u', 'https://MINT.example.com/'],
      ['p', recipient.pubkey],
      ['e', ZAPPED],
    ]
    t.strictSame(readNutzap(nutzapEvent(proofs, tags)), { mint: MINT, recipient: recipient.pubkey, e: ZAPPED, proofs })
  })

  t.test('a nutzap of no event has no e', async t => {
    t.notOk(
      'e' in
        read(proofs, [
          ['u', MINT],
          ['p', recipient.pubkey],
        ]),
    )
  })

  const refusals: [string, unknown[], string[][] | undefined, string][] = [
    ['no proof tag', [], undefined, 'no proof tag'],
    [
      'a proof that is not JSON',
      ['{"id":'],
      undefined,
      'proof 1 is not a JSON Cashu proof {id, amount, secret, C, dleq}',
    ],
    [
      'a proof without C',
      [proofs[0], { ...proofs[1], C: undefined }],
      undefined,
      'proof 2 is not a JSON Cashu proof {id, amount, secret, C, dleq}',
    ],
    [
      'a proof with a fractional amount',
      [{ ...proofs[0], amount: 1.5 }],
      undefined,
      'proof 1 is not a JSON Cashu proof {id, amount, secret, C, dleq}',
    ],
    [
      'a proof whose DLEQ is not hex',
      [{ ...proofs[0], dleq: { e: 'x', s: 'y' } }],
      undefined,
      'proof 1 is not a JSON Cashu proof {id, amount, secret, C, dleq}',
    ],
    ['no u tag', proofs, [['p', recipient.pubkey]], 'no u tag naming the mint'],
    [
      'a u tag that is not a mint URL',
      proofs,
      [
        ['u', 'mint'],
        ['p', recipient.pubkey],
      ],
      'u tag is not a valid mint URL',
    ],
    ['no p tag', proofs, [['u', MINT]], 'no p tag naming the recipient'],
    [
      'two p tags',
      proofs,
      [
        ['u', MINT],
        ['p', recipient.pubkey],
        ['p', sender.pubkey],
      ],
      'more than one p tag',
    ],
  ]
  for (const [name, ps, tags, reason] of refusals)
    t.test(`refuses ${name}`, async t => {
      t.same(readNutzap(nutzapEvent(ps, tags)), invalid(reason))
    })

  t.test('refuses another kind', async t => {
    t.same(readNutzap(recipient.sign({ kind: 9735 })), invalid('must be kind 9321'))
  })
})

t.test('checkNutzap', async t => {
  t.test('a valid nutzap proves its sats and the Y of each proof', async t => {
    const proofs = lockedTo(WALLET, [1, 4, 16])
    t.strictSame(check(proofs), { sats: 21, ys: proofs.map(p => y(p.secret)) })
  })

  t.test('a lock to the 02-prefixed key matches a 10019 that names the x-only key', async t => {
    t.match(check(lockedTo(`02${WALLET}`), info(WALLET)), { sats: 21 })
  })

  t.test('a lock to the x-only key matches a 10019 that names the 02-prefixed key', async t => {
    t.match(check(lockedTo(WALLET), info(`02${WALLET}`)), { sats: 21 })
  })

  t.test('02 and 03 prefixes name the same x-only key', async t => {
    t.match(check(lockedTo(`03${WALLET}`), info(`02${WALLET}`)), { sats: 21 })
  })

  t.test('a mint missing from the 10019 is refused', async t => {
    t.same(
      check(lockedTo(WALLET), info(WALLET, ['https://other.example.com'])),
      invalid(`mint ${MINT} is not among the recipient’s 10019 mints`),
    )
  })

  t.test('proofs locked to another key are refused', async t => {
    const proofs = [...lockedTo(WALLET, [1]), ...lockedTo(OTHER, [4])]
    t.same(check(proofs), invalid('proof 2 is locked to another key than the recipient’s 10019 pubkey'))
  })

  t.test("proofs locked to the recipient's Nostr key instead of the 10019 key are refused", async t => {
    t.same(
      check(lockedTo(recipient.pubkey)),
      invalid('proof 1 is locked to another key than the recipient’s 10019 pubkey'),
    )
  })

  t.test('a plain (unlocked) secret is refused', async t => {
    t.same(check(issueProofs(sats, [1], () => 'a'.repeat(64))), invalid('proof 1 is not a NUT-10 P2PK secret'))
  })

  t.test('an HTLC secret is refused', async t => {
    const htlc = JSON.stringify(['HTLC', { nonce: '00', data: 'a'.repeat(64), tags: [['pubkeys', `02${WALLET}`]] }])
    t.same(check(issueProofs(sats, [1], () => htlc)), invalid('proof 1 is not a NUT-10 P2PK secret'))
  })

  t.test('a lock that another key may also spend is refused', async t => {
    const tags = [['pubkeys', `02${sender.pubkey}`]]
    t.same(
      check(lockedTo(WALLET, [1], sats, tags)),
      invalid('proof 1 lock has a pubkeys tag: the recipient’s key alone must spend it'),
    )
  })

  t.test('a lock the sender can take back after a locktime is refused', async t => {
    const tags = [
      ['locktime', '1'],
      ['refund', `02${sender.pubkey}`],
    ]
    t.same(
      check(lockedTo(WALLET, [1], sats, tags)),
      invalid('proof 1 lock has a locktime tag: the recipient’s key alone must spend it'),
    )
  })

  t.test('a lock with an unknown sigflag is refused as malformed', async t => {
    t.same(
      check(lockedTo(WALLET, [1], sats, [['sigflag', 'SIG_SOME']])),
      invalid('proof 1 is not a NUT-10 P2PK secret'),
    )
  })

  t.test('a SIG_ALL lock to the recipient alone counts', async t => {
    t.match(check(lockedTo(WALLET, [2], sats, [['sigflag', 'SIG_ALL']])), { sats: 2 })
  })

  t.test('a proof without a DLEQ is refused', async t => {
    const [a, b] = lockedTo(WALLET, [1, 4])
    t.same(check([a!, { ...b!, dleq: undefined }]), invalid('proof 2 has no DLEQ'))
  })

  t.test('a tampered DLEQ is refused', async t => {
    const [p] = lockedTo(WALLET, [1])
    const s = (BigInt(`0x${p!.dleq!.s}`) + 1n).toString(16).padStart(64, '0')
    t.same(check([{ ...p!, dleq: { ...p!.dleq!, s } }]), invalid('proof 1 has an invalid DLEQ'))
  })

  t.test('a DLEQ without its blinding factor r is refused', async t => {
    const [p] = lockedTo(WALLET, [1])
    const { e, s } = p!.dleq!
    t.same(check([{ ...p!, dleq: { e, s } }]), invalid('proof 1 has an invalid DLEQ'))
  })

  t.test('a proof claiming a larger amount than its signature is refused', async t => {
    const [p] = lockedTo(WALLET, [1])
    t.same(check([{ ...p!, amount: 128 }]), invalid('proof 1 has an invalid DLEQ'))
  })

  t.test('a proof signed by keys other than the keyset the relay knows under its id is refused', async t => {
    const impostor = { ...makeMintKeys(), id: sats.id }
    t.same(check(lockedTo(WALLET, [1], impostor)), invalid('proof 1 has an invalid DLEQ'))
  })

  t.test('an amount the keyset has no key for is refused', async t => {
    const [p] = lockedTo(WALLET, [1])
    t.same(check([{ ...p!, amount: 3 }]), invalid('proof 1 amount 3 has no key in its keyset'))
  })

  t.test('a keyset in another unit is refused', async t => {
    const usd = makeMintKeys([1, 2, 4], { unit: 'usd' })
    t.same(check(lockedTo(WALLET, [4], usd), info(), known(usd)), invalid('proof 1 is from a usd keyset, not sat'))
  })

  t.test('the same proof twice is refused rather than counted twice', async t => {
    const [p] = lockedTo(WALLET, [8])
    t.same(check([p!, p!]), invalid('proof 2 repeats an earlier proof’s secret'))
  })

  t.test('an unknown keyset is reported as missing, not invalid', async t => {
    const fresh = makeMintKeys()
    const proofs = [...lockedTo(WALLET, [1]), ...lockedTo(WALLET, [2], fresh)]
    const outcome = check(proofs)
    t.strictSame(outcome, { missingKeyset: { mint: MINT, id: fresh.id } })
    t.notOk(isRejection(outcome))
    t.match(check(proofs, info(), known(sats, fresh)), { sats: 3 })
  })

  t.test('an invalid lock is refused before any keyset is looked up', async t => {
    let lookups = 0
    const outcome = checkNutzap(read(lockedTo(OTHER, [1], makeMintKeys())), info(), () => (lookups++, undefined))
    t.ok(isRejection(outcome))
    t.equal(lookups, 0)
  })

  t.test('proofs of a keyset with a 00 (NUT-02 V1) id verify the same way', async t => {
    const v0 = makeMintKeys([1, 2, 4, 8], { idPrefix: '00' })
    t.match(v0.id, /^00[0-9a-f]{14}$/)
    t.match(check(lockedTo(WALLET, [8, 2], v0), info(), known(v0)), { sats: 10 })
  })
})
