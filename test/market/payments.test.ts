// Payment evidence over WebSocket (DESIGN §7.2, §7.4, §7.7): a zap receipt to a provider counts only when
// its LNURL server (resolved from the provider's lightning address) signed it and it checks out in full;
// one payment hash counts once; a paid job feeds the provider's reputation, which the relay publishes.
import t from 'tap'
import { generateSecretKey } from 'nostr-tools/pure'
import { queryIds } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { makeInvoice, makeZap } from '../helpers/zaps.js'
import {
  accepted,
  feedback,
  handler,
  jobRow,
  outputWhen,
  refused,
  request,
  result,
  review,
  roots,
  startMarket,
  tag,
} from '../helpers/market.js'

t.test('happy path: request, processing, result, zap, paid, review, reputation published', async t => {
  // The customer is a trust root: its payment and review count at full weight (market/standing.ts).
  const [customer, provider] = [signer(), signer()]
  const m = await startMarket(t, roots(customer))
  const { c } = m
  m.lnurl.setUser('bob', {})
  await accepted(t, c, handler(provider, m.lnurl.address('bob')), "the provider's 31990 with its lud16")
  const req = request(customer, { bid: 50_000 })
  await accepted(t, c, req, 'the request')
  await accepted(t, c, feedback(provider, req, 'processing'), 'processing')
  const res = result(provider, req, { amount: 40_000 })
  await accepted(t, c, res, 'the result')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', provider: provider.pubkey, paid_msats: 0 })

  const zap = m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: customer, msats: 40_000, e: res.id })
  await accepted(t, c, zap.receipt, 'the zap receipt to the result')
  t.equal(m.lnurl.hits('bob'), 1, 'the relay asked the LNURL server for its key once')
  t.match(jobRow(m.dataDir, req.id), { state: 'paid', paid_msats: 40_000 }, 'the job is paid')

  const ledger = await outputWhen(c, m.relay.pubkey, 31118, req.id, e => tag(e, 'state') === 'paid', 'ledger: paid')
  t.same(
    ledger.tags.filter(x => ['state', 'provider', 'amount', 'paid', 'payment', 'result'].includes(x[0]!)),
    [
      ['state', 'paid'],
      ['provider', provider.pubkey],
      ['result', res.id],
      ['amount', '40000'],
      ['paid', '40000'],
      ['payment', 'zap', zap.receipt.id, '40000', zap.paymentHash],
    ],
    'the ledger names the provider, the result and the receipt that paid it',
  )

  await accepted(t, c, review(customer, req, provider.pubkey, 5), "the customer's review")
  const rep = await outputWhen(
    c,
    m.relay.pubkey,
    30382,
    provider.pubkey,
    e => tag(e, 'review_cnt') === '1',
    'reputation with the review',
  )
  // 40 sats: floor(log10(40) * 10) = 16; one paid job: 5; a 5-star review: (5 - 3) * 20 = 40.
  t.match(Object.fromEntries(rep.tags.map(x => [x[0], x[1]])), {
    score: '61',
    jobs_paid: '1',
    jobs_delivered: '1',
    avg_rating: '5.00',
    zap_amt_recd: '40',
    flagged: '0',
    rank: String(Math.round(100 * (1 - 2 ** (-61 / 200)))),
  })

  // A second result for the completed job is refused and changes nothing about who was paid.
  const other = signer()
  await refused(t, c, result(other, req, { amount: 1 }), 'restricted', /already delivered/, 'a second result')
  t.match(jobRow(m.dataDir, req.id), { state: 'paid', provider: provider.pubkey, result_id: res.id })
})

t.test('a forged zap receipt counts as neither payment nor reputation', async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, provider] = [signer(), signer()]
  m.lnurl.setUser('bob', {})
  await accepted(t, c, handler(provider, m.lnurl.address('bob')), 'the handler')
  const req = request(customer, { bid: 10_000 })
  await accepted(t, c, req, 'the request')
  const res = result(provider, req, { amount: 10_000 })
  await accepted(t, c, res, 'the result')

  // Signed by a key that is not the LNURL server's (the seed counted any receipt).
  const forged = makeZap({
    relayPubkey: provider.pubkey,
    sender: customer,
    msats: 10_000,
    e: res.id,
    lnurlSk: generateSecretKey(),
  })
  await refused(t, c, forged.receipt, 'invalid', /not signed by the recipient’s LNURL server/, 'a forged receipt')
  // Signed by the right server but for another amount than the invoice: one rule broken.
  const lying = m.lnurl.zapFor({
    relayPubkey: provider.pubkey,
    sender: customer,
    msats: 10_000,
    e: res.id,
    invoiceMsats: 10,
  })
  await refused(t, c, lying.receipt, 'invalid', /invoice amount differs/, 'an amount the invoice does not carry')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', paid_msats: 0 }, 'the job is not paid')
  const rep = await outputWhen(c, m.relay.pubkey, 30382, provider.pubkey, () => true, 'an assertion')
  t.equal(tag(rep, 'zap_amt_recd'), '0', 'no zap reputation')

  // One payment hash counts once: a second receipt for the same invoice is refused.
  const real = m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: customer, msats: 4_000, e: res.id })
  await accepted(t, c, real.receipt, 'a real receipt')
  const again = m.lnurl.zapFor({
    relayPubkey: provider.pubkey,
    sender: customer,
    msats: 4_000,
    e: res.id,
    paymentHash: real.paymentHash,
  })
  await refused(t, c, again.receipt, 'invalid', /payment hash is already recorded/, 'the same payment again')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', paid_msats: 4_000 }, 'counted once, short of the amount')
})

t.test(
  'a zap to a quote pays the job once that provider delivers; the seed spellings (bolt11, lightning_address) work',
  async t => {
    const m = await startMarket(t)
    const { c } = m
    const [customer, provider] = [signer(), signer()]
    m.lnurl.setUser('bob', {})
    // A kind 0 profile's lud16 is resolved like a 31990's.
    await accepted(
      t,
      c,
      provider.sign({ kind: 0, content: JSON.stringify({ name: 'bob', lud16: m.lnurl.address('bob') }) }),
      'a profile with lud16',
    )
    const req = request(customer, { bid: 9_000 })
    await accepted(t, c, req, 'the request')
    // Some agents send only a bolt11 tag: the invoice's amount is the quote.
    const invoice = makeInvoice({ msats: 7_000, paymentHash: 'a'.repeat(64), descriptionHash: 'b'.repeat(64) })
    const quote = feedback(provider, req, 'payment-required', [['bolt11', invoice]])
    await accepted(t, c, quote, 'a payment-required quote with a bolt11 tag')
    const zap = m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: customer, msats: 7_000, e: quote.id })
    await accepted(t, c, zap.receipt, 'the zap to the quote')
    t.match(jobRow(m.dataDir, req.id), { state: 'open', paid_msats: 0 }, 'an open job is not paid yet')
    await accepted(t, c, result(provider, req), 'the result, with no amount: the quote is what was asked')
    t.match(jobRow(m.dataDir, req.id), { state: 'paid', paid_msats: 7_000 })

    // A 31990 in the seed's spelling (`lightning_address`) is resolved too.
    const seedAgent = signer()
    m.lnurl.setUser('carol', {})
    await accepted(
      t,
      c,
      seedAgent.sign({
        kind: 31990,
        tags: [
          ['d', 'x'],
          ['k', '5100'],
        ],
        content: JSON.stringify({ name: 'carol', lightning_address: m.lnurl.address('carol') }),
      }),
      'a handler with lightning_address',
    )
    const req2 = request(customer, { bid: 3_000 })
    await accepted(t, c, req2, 'a second request')
    const res2 = result(seedAgent, req2, { amount: 3_000 })
    await accepted(t, c, res2, 'its result')
    const zap2 = m.lnurl.zapFor({ relayPubkey: seedAgent.pubkey, sender: customer, msats: 3_000, e: res2.id })
    await accepted(t, c, zap2.receipt, 'the zap')
    t.match(jobRow(m.dataDir, req2.id), { state: 'paid', paid_msats: 3_000 })
  },
)

t.test('receipts stay unchecked when the LNURL server cannot be reached, and count for nothing', async t => {
  const m = await startMarket(t, { 'market.fetch_timeout': 300 })
  const { c } = m
  const [customer, provider] = [signer(), signer()]
  m.lnurl.setUser('slow', { hang: true })
  await accepted(t, c, handler(provider, m.lnurl.address('slow')), 'the handler')
  const req = request(customer)
  await accepted(t, c, req, 'the request')
  const res = result(provider, req)
  await accepted(t, c, res, 'the result')
  const zap = m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: customer, msats: 1_000, e: res.id })
  await accepted(t, c, zap.receipt, 'stored after the lookup times out')
  t.same(await queryIds(c, { ids: [zap.receipt.id] }), [zap.receipt.id])
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', paid_msats: 0 }, 'but it proves nothing')
})
