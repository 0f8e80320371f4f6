// client/zap.ts end to end: a customer zaps a provider's result through its lightning address (the LNURL zap
// fixture), paying with NIP-47 (the wallet fixture) on the in-memory Lightning network; the LNURL server's receipt
// reaches the market relay, which resolves the address itself and marks the job paid. And the refusals a user sees.
import { createHash } from 'node:crypto'
import { bytesToHex } from '@noble/curves/utils.js'
import t, { type Test } from 'tap'
import { signerFrom } from '../../client/keys.js'
import { connectNwc } from '../../client/nwc.js'
import { resolveLightningAddress, zap } from '../../client/zap.js'
import { startZapServer, type ZapUser } from '../fixtures/lightning/lnurl-zap.js'
import { createLightning } from '../fixtures/lightning/network.js'
import { startNwcService } from '../fixtures/lightning/nwc-service.js'
import { signer } from '../helpers/events.js'
import { startLnurlServer } from '../helpers/lnurl.js'
import { accepted, handler, outputWhen, request, result, startMarket, tag } from '../helpers/market.js'
import { waitFor } from '../helpers/wait.js'

/** A market relay, a network, a zap server whose `bob` is paid into the provider's wallet, and a paying customer. */
async function setup(t: Test, bob: Omit<ZapUser, 'nwc'> = {}) {
  const m = await startMarket(t)
  const network = createLightning()
  t.teardown(() => network.close())
  const zaps = await startZapServer({ network })
  t.teardown(() => zaps.close())
  const [providerWallet, customerWallet] = [
    await startNwcService({ relayUrl: m.url, network }),
    await startNwcService({ relayUrl: m.url, network, balanceMsats: 100_000 }),
  ]
  t.teardown(() => providerWallet.close())
  t.teardown(() => customerWallet.close())
  zaps.setUser('bob', { ...bob, nwc: providerWallet })
  const nwc = await connectNwc(customerWallet.uri, { timeoutMs: 60_000 })
  t.teardown(() => nwc.close())
  const [customer, provider] = [signer(), signer()]
  return { m, network, zaps, providerWallet, nwc, customer, provider, payer: signerFrom(bytesToHex(customer.sk)) }
}

t.test("a zap to a delivered job's result, paid through NWC, turns the job's ledger paid", async t => {
  const { m, zaps, providerWallet, nwc, customer, provider, payer } = await setup(t)
  await accepted(t, m.c, handler(provider, zaps.address('bob')), "the provider's 31990 names its lud16")
  const req = request(customer, { bid: 50_000 })
  await accepted(t, m.c, req, 'the request')
  const res = result(provider, req, { amount: 40_000 })
  await accepted(t, m.c, res, 'the result')

  const out = await zap({
    nwc,
    signer: payer,
    recipient: provider.pubkey,
    address: zaps.address('bob'),
    msats: 40_000,
    event: res,
    relays: [m.url],
    comment: 'thanks',
  })
  t.match(out.zapRequest, { kind: 9734, pubkey: customer.pubkey, content: 'thanks' }, 'the customer signed it')
  t.same(
    out.zapRequest.tags.filter(x => ['p', 'e', 'amount', 'relays'].includes(x[0]!)),
    [
      ['p', provider.pubkey],
      ['amount', '40000'],
      ['relays', m.url],
      ['e', res.id],
    ],
    'it names the provider, the amount, the relay and the result',
  )
  t.equal(await nwc.getBalance(), 60_000, 'the customer paid 40 sats')
  t.equal(providerWallet.balanceMsats(), 40_000, "into the provider's wallet")

  await waitFor(() => zaps.receipts().length === 1, 'the LNURL server to sign its receipt')
  const receipt = zaps.receipts()[0]!
  const ledger = await outputWhen(m.c, m.relay.pubkey, 31118, req.id, e => tag(e, 'state') === 'paid', 'paid')
  const hash = createHash('sha256').update(Buffer.from(out.preimage, 'hex')).digest('hex')
  t.same(
    ledger.tags.filter(x => ['paid', 'payment'].includes(x[0]!)),
    [
      ['paid', '40000'],
      ['payment', 'zap', receipt.id, '40000', hash],
    ],
    "the ledger counts the receipt, by the paid invoice's hash",
  )
})

t.test('an invoice that does not match the zap is not paid', async t => {
  for (const forge of ['amount', 'description'] as const) {
    const { zaps, nwc, provider, payer } = await setup(t, { forge })
    const err = await zap({
      nwc,
      signer: payer,
      recipient: provider.pubkey,
      address: zaps.address('bob'),
      msats: 21_000,
      relays: ['ws://127.0.0.1:1'],
    }).catch((e: Error) => e)
    t.equal(err instanceof Error && err.name, 'ClientError', `${forge}: a ClientError`)
    t.match(
      (err as Error).message,
      forge === 'amount' ? /asks 22000 msats, not the zap's 21000: not paid/ : /does not commit to the zap request/,
      `${forge}: says what is wrong`,
    )
    t.equal(await nwc.getBalance(), 100_000, `${forge}: the wallet paid nothing`)
  }
})

t.test('an address whose server is down gives a clear ClientError, and nothing is paid', async t => {
  const { zaps, nwc, provider, payer } = await setup(t)
  const address = zaps.address('bob')
  await zaps.close()
  await t.rejects(zap({ nwc, signer: payer, recipient: provider.pubkey, address, msats: 1_000, relays: [] }), {
    name: 'ClientError',
    message: `cannot reach the lightning address ${address} (http://${address.split('@')[1]}/.well-known/lnurlp/bob): ECONNREFUSED`,
  })
  t.equal(await nwc.getBalance(), 100_000, 'the wallet paid nothing')
})

t.test('an address that takes no zaps, or is no payRequest, or is no address, is refused by name', async t => {
  const lnurl = await startLnurlServer({
    plain: { allowsNostr: null, nostrPubkey: null },
    odd: { extra: { tag: 'withdrawRequest' } },
    gone: { status: 404, body: JSON.stringify({ status: 'ERROR', reason: 'no such user' }) },
  })
  t.teardown(() => lnurl.close())
  const plain = await resolveLightningAddress(lnurl.address('plain'))
  t.match(plain, { callback: `${lnurl.url}/lnurlp/plain/callback`, allowsNostr: false, nostrPubkey: undefined })
  const nwc = { payInvoice: () => Promise.reject(new Error('must not pay')) }
  const payer = signerFrom(bytesToHex(signer().sk))
  await t.rejects(
    zap({ nwc, signer: payer, recipient: payer.pubkey, address: lnurl.address('plain'), msats: 1_000, relays: [] }),
    { name: 'ClientError', message: /^the lightning address plain@127\.0\.0\.1:\d+ does not take zaps/ },
  )
  await t.rejects(resolveLightningAddress(lnurl.address('odd')), {
    name: 'ClientError',
    message: /is not an LNURL payRequest \(LUD-06\)$/,
  })
  await t.rejects(resolveLightningAddress(lnurl.address('gone')), {
    name: 'ClientError',
    message: /\(http:\/\/127\.0\.0\.1:\d+\/\.well-known\/lnurlp\/gone\) refused: no such user$/,
  })
  await t.rejects(resolveLightningAddress('bob'), {
    name: 'ClientError',
    message: '"bob" is not a lightning address (name@domain)',
  })
})
