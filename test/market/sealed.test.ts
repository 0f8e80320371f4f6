import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { v2 as nip44 } from 'nostr-tools/nip44'
import {
  openSealedResult,
  readKeyReveal,
  readSealedResult,
  SEALED_RESULT,
  type SealedResult,
} from '../../market/sealed.js'
import { isRejection } from '../../nips/nip01.js'
import { signer } from '../helpers/events.js'
import { makeInvoice, sha256hex } from '../helpers/zaps.js'

const provider = signer()
const customer = signer()
const reviewer = signer()
const JOB = 'a'.repeat(64)
const PLAINTEXT = 'the translated text, in full'
const MSATS = 21_000
const key = randomBytes(32)
const KEY = key.toString('hex')
const KEY_HASH = createHash('sha256').update(key).digest('hex')
const HASH = sha256hex(PLAINTEXT)

const invoice = (o: { msats?: number | null; paymentHash?: string } = {}) =>
  makeInvoice({
    msats: o.msats === undefined ? MSATS : o.msats,
    paymentHash: o.paymentHash ?? KEY_HASH,
    descriptionHash: sha256hex('pay-to-decrypt'),
  })
const BOLT11 = invoice()

const honestTags = () => [
  ['e', JOB],
  ['p', customer.pubkey],
  ['hash', HASH],
  ['key_hash', KEY_HASH],
  ['preview', 'the translated…'],
  ['amount', String(MSATS), BOLT11],
]

/** A 21117 signed by the provider; `tags` rewrites the honest tags to break one rule. */
const sealedEvent = (o: { kind?: number; tags?: (tags: string[][]) => string[][]; content?: string } = {}) =>
  provider.sign({
    kind: o.kind ?? SEALED_RESULT,
    tags: (o.tags ?? (x => x))(honestTags()),
    content: o.content ?? nip44.encrypt(PLAINTEXT, key),
  })

const without = (name: string) => (tags: string[][]) => tags.filter(x => x[0] !== name)
const swap =
  (name: string, ...value: string[]) =>
  (tags: string[][]) =>
    tags.map(x => (x[0] === name ? [name, ...value] : x))
const add =
  (...tag: string[]) =>
  (tags: string[][]) => [...tags, tag]

const invalid = (rule: string) => ({ prefix: 'invalid', reason: `pay-to-decrypt: ${rule}` })

/** Reads an event that must be valid. */
function read(e = sealedEvent()): SealedResult {
  const r = readSealedResult(e)
  if (isRejection(r)) throw new Error(`unexpected rejection: ${r.reason}`)
  return r
}

t.test('an honest sealed result reads and opens to its plaintext', async t => {
  const e = sealedEvent()
  const sealed = read(e)
  t.strictSame(sealed, {
    job: JOB,
    customer: customer.pubkey,
    hash: HASH,
    keyHash: KEY_HASH,
    msats: MSATS,
    bolt11: BOLT11,
    preview: 'the translated…',
    ciphertext: e.content,
  })
  t.strictSame(openSealedResult(sealed, KEY), { ok: true, plaintext: PLAINTEXT })
})

t.test('the preview is optional', async t => {
  t.equal(read(sealedEvent({ tags: without('preview') })).preview, undefined)
})

t.test('each rule refuses with its own message', async t => {
  const E = 'needs exactly one e tag with the job request id (64 lowercase hex)'
  const P = 'needs exactly one p tag with the customer pubkey (64 lowercase hex)'
  const H = 'hash must be the sha256 of the plaintext (64 lowercase hex)'
  const K = 'key_hash must be the sha256 of the key (64 lowercase hex)'
  const A = 'amount must be a positive integer of msats'
  const cases: [string, Parameters<typeof sealedEvent>[0], string][] = [
    ['another kind', { kind: 6000 }, `must be kind ${SEALED_RESULT}`],
    ['no e', { tags: without('e') }, E],
    ['two e', { tags: add('e', 'b'.repeat(64)) }, E],
    ['uppercase e', { tags: swap('e', JOB.toUpperCase()) }, E],
    ['no p', { tags: without('p') }, P],
    ['two p', { tags: add('p', reviewer.pubkey) }, P],
    ['short p', { tags: swap('p', customer.pubkey.slice(1)) }, P],
    ['no hash', { tags: without('hash') }, H],
    ['uppercase hash', { tags: swap('hash', HASH.toUpperCase()) }, H],
    ['no key_hash', { tags: without('key_hash') }, K],
    ['non-hex key_hash', { tags: swap('key_hash', 'z'.repeat(64)) }, K],
    ['no amount', { tags: without('amount') }, A],
    ['zero msats', { tags: swap('amount', '0', BOLT11) }, A],
    ['negative msats', { tags: swap('amount', '-21000', BOLT11) }, A],
    ['fractional msats', { tags: swap('amount', '21000.5', BOLT11) }, A],
    ['no bolt11', { tags: swap('amount', String(MSATS)) }, 'the amount tag needs a bolt11 invoice'],
    [
      'bolt11 that is no invoice',
      { tags: swap('amount', String(MSATS), 'lnbc1notaninvoice') },
      'the bolt11 is not an invoice with an amount and a payment hash',
    ],
    [
      'amountless invoice',
      { tags: swap('amount', String(MSATS), invoice({ msats: null })) },
      'the bolt11 is not an invoice with an amount and a payment hash',
    ],
    [
      'invoice for another amount',
      { tags: swap('amount', String(MSATS), invoice({ msats: MSATS + 1000 })) },
      'the invoice amount differs from the amount tag',
    ],
    [
      'amount tag differing from the invoice',
      { tags: swap('amount', String(MSATS - 1), BOLT11) },
      'the invoice amount differs from the amount tag',
    ],
    [
      'invoice paying for another preimage',
      { tags: swap('amount', String(MSATS), invoice({ paymentHash: randomBytes(32).toString('hex') })) },
      "the invoice's payment hash is not key_hash",
    ],
    ['empty content', { content: '' }, 'content must be the NIP-44 v2 ciphertext'],
  ]
  for (const [name, over, rule] of cases) t.strictSame(readSealedResult(sealedEvent(over)), invalid(rule), name)
})

t.test('a key that is not the committed one proves nothing', async t => {
  const sealed = read()
  t.strictSame(openSealedResult(sealed, randomBytes(32).toString('hex')), { ok: false, why: 'key' }, 'another key')
  t.strictSame(openSealedResult(sealed, KEY.toUpperCase()), { ok: false, why: 'key' }, 'not lowercase hex')
  t.strictSame(openSealedResult(sealed, KEY.slice(2)), { ok: false, why: 'key' }, 'too short')
})

t.test('a ciphertext that the committed key does not decrypt is undecryptable', async t => {
  const other = nip44.encrypt(PLAINTEXT, randomBytes(32))
  t.strictSame(openSealedResult(read(sealedEvent({ content: other })), KEY), { ok: false, why: 'undecryptable' })
  t.strictSame(openSealedResult(read(sealedEvent({ content: 'not a payload' })), KEY), {
    ok: false,
    why: 'undecryptable',
  })
})

t.test('a ciphertext of another plaintext under the committed key is a mismatch', async t => {
  const swapped = nip44.encrypt('a cheaper text than the one committed to', key)
  t.strictSame(openSealedResult(read(sealedEvent({ content: swapped })), KEY), { ok: false, why: 'mismatch' })
})

t.test('keys are read from 7000 success feedback and 31117 reviews', async t => {
  const feedback = (tags: string[][]) => provider.sign({ kind: 7000, tags })
  const review = (tags: string[][]) => reviewer.sign({ kind: 31117, tags })
  t.strictSame(
    readKeyReveal(
      feedback([
        ['status', 'success'],
        ['e', JOB],
        ['preimage', KEY],
      ]),
    ),
    { job: JOB, key: KEY },
  )
  t.strictSame(
    readKeyReveal(
      review([
        ['d', JOB],
        ['rating', '5'],
        ['preimage', KEY],
      ]),
    ),
    { job: JOB, key: KEY },
  )

  const ignored: [string, ReturnType<typeof feedback>][] = [
    [
      'processing feedback',
      feedback([
        ['status', 'processing'],
        ['e', JOB],
        ['preimage', KEY],
      ]),
    ],
    [
      'feedback without status',
      feedback([
        ['e', JOB],
        ['preimage', KEY],
      ]),
    ],
    [
      'feedback without preimage',
      feedback([
        ['status', 'success'],
        ['e', JOB],
      ]),
    ],
    [
      'feedback without e',
      feedback([
        ['status', 'success'],
        ['preimage', KEY],
      ]),
    ],
    [
      'short preimage',
      feedback([
        ['status', 'success'],
        ['e', JOB],
        ['preimage', KEY.slice(2)],
      ]),
    ],
    [
      'uppercase preimage',
      feedback([
        ['status', 'success'],
        ['e', JOB],
        ['preimage', KEY.toUpperCase()],
      ]),
    ],
    [
      'review without preimage',
      review([
        ['d', JOB],
        ['rating', '5'],
      ]),
    ],
    [
      'review whose d is no job id',
      review([
        ['d', 'job'],
        ['preimage', KEY],
      ]),
    ],
    [
      'another kind',
      provider.sign({
        kind: 6000,
        tags: [
          ['e', JOB],
          ['preimage', KEY],
        ],
      }),
    ],
  ]
  for (const [name, e] of ignored) t.equal(readKeyReveal(e), undefined, name)
})

t.test('a revealed key opens the sealed result of its job', async t => {
  const sealed = read()
  const reveal = readKeyReveal(
    customer.sign({
      kind: 7000,
      tags: [
        ['status', 'success'],
        ['e', JOB],
        ['preimage', KEY],
      ],
    }),
  )
  t.equal(reveal?.job, sealed.job)
  t.strictSame(openSealedResult(sealed, reveal!.key), { ok: true, plaintext: PLAINTEXT })
})
