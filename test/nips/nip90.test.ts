// NIP-90 reading (nips/nip90.ts): the spellings agents send, and the embedded request's id read the cheap
// way only when that gives the same answer as reading the whole JSON.
import t from 'tap'
import { amountMsats, embeddedRequestId, readJobRequest } from '../../nips/nip90.js'
import { signer } from '../helpers/events.js'
import { makeInvoice } from '../helpers/zaps.js'

const withRequest = (json: string) => ({ tags: [['request', json]] })

t.test('the embedded request id, whatever the JSON looks like', async t => {
  const req = signer().sign({ kind: 5100, tags: [['i', '"id":"' + 'f'.repeat(64) + '"', 'text']] })
  t.equal(embeddedRequestId(withRequest(JSON.stringify(req))), req.id, 'an id-like string in a tag is no key')
  t.equal(embeddedRequestId(withRequest(JSON.stringify(req, null, 1))), req.id, 'spaced JSON is read')
  const a = 'a'.repeat(64)
  const b = 'b'.repeat(64)
  // JSON.parse keeps the last of two keys: so does the market.
  t.equal(embeddedRequestId(withRequest(`{"id":"${a}","kind":5100,"id":"${b}"}`)), b, 'a repeated id key')
  t.equal(embeddedRequestId(withRequest(`{"id":"${a.slice(1)}Z"}`)), `${a.slice(1)}Z`, 'not hex: as parsed')
  t.equal(embeddedRequestId(withRequest('{"id":5}')), null, 'an id that is no string')
  t.equal(embeddedRequestId(withRequest('not json')), null)
  t.equal(embeddedRequestId({ tags: [] }), undefined)
})

t.test('amounts: the amount tag, else a bolt11 tag’s invoice amount', async t => {
  t.equal(amountMsats({ tags: [['amount', '5000', 'lnbc...']] }), 5000)
  const invoice = makeInvoice({ msats: 21_000, paymentHash: '1'.repeat(64), descriptionHash: '2'.repeat(64) })
  t.equal(amountMsats({ tags: [['bolt11', invoice]] }), 21_000)
  t.equal(amountMsats({ tags: [['bolt11', 'lnbc-garbage']] }), undefined)
  t.equal(amountMsats({ tags: [['amount', '-1']] }), undefined)
})

t.test('gates are read from their own tags or from params', async t => {
  const s = signer()
  const own = readJobRequest(
    s.sign({
      kind: 5100,
      tags: [
        ['min_reputation', '50'],
        ['min_zap_sats', '21'],
      ],
    }),
  )
  t.match(own, { minReputation: 50, minZapSats: 21 })
  const params = readJobRequest(
    s.sign({
      kind: 5100,
      tags: [
        ['param', 'min_reputation', '7'],
        ['param', 'min_zap_sats', '3'],
      ],
    }),
  )
  t.match(params, { minReputation: 7, minZapSats: 3 })
  t.match(readJobRequest(s.sign({ kind: 5100, tags: [['min_reputation', 'lots']] })), { minReputation: undefined })
})
