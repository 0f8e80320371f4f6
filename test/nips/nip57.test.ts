import t from 'tap'
import { verifyEvent } from 'nostr-tools/pure'
import { checkZapReceipt } from '../../nips/nip57.js'
import { signer } from '../helpers/events.js'
import { makeZap, sha256hex, type ZapOptions } from '../helpers/zaps.js'

const sender = signer()
const lnurl = signer()
const RECIPIENT = signer().pubkey
const OTHER = signer().pubkey
const ZAPPED = 'e'.repeat(64)
const expect = { signers: new Set([lnurl.pubkey]), verify: verifyEvent }
const zap = (over: Partial<ZapOptions> = {}) =>
  makeZap({ relayPubkey: RECIPIENT, sender, lnurlSk: lnurl.sk, msats: 21_000, ...over })
const check = (over: Partial<ZapOptions> = {}) => checkZapReceipt(zap(over).receipt, expect)
const invalid = (reason: string) => ({ prefix: 'invalid', reason: `zap receipt: ${reason}` })
const swap = (name: string, value: string) => (tags: string[][]) =>
  tags.map(tag => (tag[0] === name ? [name, value] : tag))

t.test('a valid receipt proves sender, recipient, amount in msats and payment hash', async t => {
  const z = zap()
  t.strictSame(checkZapReceipt(z.receipt, expect), {
    sender: sender.pubkey,
    recipient: RECIPIENT,
    msats: 21_000n,
    paymentHash: z.paymentHash,
  })
})

t.test('a valid receipt for a zapped event also proves the event id', async t => {
  const z = zap({ e: ZAPPED })
  t.strictSame(checkZapReceipt(z.receipt, expect), {
    sender: sender.pubkey,
    recipient: RECIPIENT,
    msats: 21_000n,
    paymentHash: z.paymentHash,
    e: ZAPPED,
  })
})

t.test('a valid receipt whose zap request has no amount tag proves the invoice amount', async t => {
  const proof = check({ amountTag: null, invoiceMsats: 5_000 })
  t.equal('msats' in proof && proof.msats, 5_000n)
})

t.test('amounts beyond 2^53 msats are kept exact as bigint', async t => {
  const proof = check({ msats: 9_007_199_254_740_993n, amountTag: '9007199254740993' })
  t.equal('msats' in proof && proof.msats, 9_007_199_254_740_993n)
})

t.test('a receipt of another kind is refused', async t => {
  t.same(check({ receiptKind: 9734 }), invalid('must be kind 9735'))
})

t.test('a receipt signed by a key outside the allowed LNURL servers is refused', async t => {
  t.same(check({ lnurlSk: signer().sk }), invalid('not signed by the recipient’s LNURL server'))
})

t.test('a receipt without a description tag is refused', async t => {
  t.same(check({ description: null }), invalid('no description tag'))
})

t.test('a receipt whose description is not JSON is refused', async t => {
  t.same(check({ description: '{"kind":9734,' }), invalid('description is not JSON'))
})

t.test('a receipt whose description is JSON but not an event is refused', async t => {
  t.same(check({ description: '[9734]' }), invalid('zap request: event must be a JSON object'))
})

t.test('a receipt whose zap request is not kind 9734 is refused', async t => {
  t.same(check({ requestKind: 1 }), invalid('zap request must be kind 9734'))
})

t.test('a receipt whose zap request has no signature is refused', async t => {
  const tamperRequest = ({ sig: _sig, ...unsigned }: ReturnType<typeof sender.sign>) =>
    unsigned as ReturnType<typeof sender.sign>
  t.same(check({ tamperRequest }), invalid('zap request: sig must be 128 lowercase hex characters'))
})

t.test('a receipt whose zap request content was changed after signing is refused', async t => {
  t.same(check({ tamperRequest: r => ({ ...r, content: 'changed' }) }), invalid('zap request is not validly signed'))
})

t.test('a receipt whose zap request signature was altered is refused', async t => {
  const flip = (sig: string) => (sig[0] === '0' ? '1' : '0') + sig.slice(1)
  t.same(check({ tamperRequest: r => ({ ...r, sig: flip(r.sig) }) }), invalid('zap request is not validly signed'))
})

t.test('a receipt whose zap request is signed by another key than its pubkey is refused', async t => {
  const impostor = signer()
  t.same(
    check({ tamperRequest: r => ({ ...r, sig: impostor.sign({ kind: 9734 }).sig }) }),
    invalid('zap request is not validly signed'),
  )
})

t.test('a receipt whose zap request has two p tags is refused', async t => {
  t.same(check({ extraRequestTags: [['p', OTHER]] }), invalid('zap request must have exactly one p tag'))
})

t.test('a receipt whose zap request has two e tags is refused', async t => {
  t.same(
    check({ e: ZAPPED, extraRequestTags: [['e', 'd'.repeat(64)]] }),
    invalid('zap request must have at most one e tag'),
  )
})

t.test('a receipt whose p differs from the zap request’s is refused', async t => {
  t.same(check({ receiptTags: swap('p', OTHER) }), invalid('p tag differs from the zap request’s'))
})

t.test('a receipt whose e differs from the zap request’s is refused', async t => {
  t.same(check({ e: ZAPPED, receiptTags: swap('e', 'd'.repeat(64)) }), invalid('e tag differs from the zap request’s'))
})

t.test('a receipt that drops the zap request’s e tag is refused', async t => {
  t.same(
    check({ e: ZAPPED, receiptTags: tags => tags.filter(tag => tag[0] !== 'e') }),
    invalid('e tag differs from the zap request’s'),
  )
})

t.test('a receipt that adds an e tag the zap request does not have is refused', async t => {
  t.same(check({ receiptTags: tags => [...tags, ['e', ZAPPED]] }), invalid('e tag differs from the zap request’s'))
})

t.test('a receipt that adds an a tag the zap request does not have is refused', async t => {
  t.same(
    check({ receiptTags: tags => [...tags, ['a', `30023:${RECIPIENT}:post`]] }),
    invalid('a tag differs from the zap request’s'),
  )
})

t.test('a receipt whose P is not the zap request’s author is refused', async t => {
  t.same(check({ receiptTags: swap('P', OTHER) }), invalid('P tag is not the zap request’s author'))
})

t.test('a receipt without a bolt11 tag is refused', async t => {
  t.same(check({ bolt11: null }), invalid('no bolt11 tag'))
})

t.test('a receipt whose bolt11 is garbage is refused', async t => {
  t.same(check({ bolt11: 'lnbc1notaninvoice' }), invalid('bolt11 is not a valid invoice'))
  t.same(check({ bolt11: '' }), invalid('bolt11 is not a valid invoice'))
})

t.test('a receipt whose invoice has no amount is refused', async t => {
  t.same(check({ invoiceMsats: null }), invalid('invoice has no amount'))
})

t.test('a receipt whose invoice amount differs from the zap request’s amount is refused', async t => {
  t.same(check({ invoiceMsats: 21_001 }), invalid('invoice amount differs from the zap request’s amount'))
  t.same(check({ invoiceMsats: 1_000 }), invalid('invoice amount differs from the zap request’s amount'))
})

t.test('a receipt whose zap request amount tag is not a number is refused', async t => {
  t.same(check({ amountTag: '21 sats' }), invalid('invoice amount differs from the zap request’s amount'))
})

t.test('a receipt whose invoice commits to another description is refused', async t => {
  t.same(
    check({ descriptionHash: sha256hex('another zap request') }),
    invalid('invoice description hash is not the sha256 of the zap request'),
  )
})

t.test(
  'a receipt shaped like the NIP-57 example, whose description is not what the invoice hashed, is refused',
  async t => {
    // The spec example embeds a re-serialised zap request (keys reordered), so sha256(description) does not
    // match the invoice's description hash. Model it: the invoice commits to the request as signed, the
    // description carries the same request with its keys in another order.
    const z = zap({ e: ZAPPED })
    const { pubkey, content, id, created_at, sig, kind, tags } = z.request
    const reordered = JSON.stringify({ pubkey, content, id, created_at, sig, kind, tags })
    t.not(reordered, JSON.stringify(z.request))
    t.same(
      check({ e: ZAPPED, description: reordered, descriptionHash: sha256hex(JSON.stringify(z.request)) }),
      invalid('invoice description hash is not the sha256 of the zap request'),
    )
  },
)
