// client/nwc.ts against the NIP-47 wallet service fixture over a real relay on loopback, on the in-memory Lightning
// network: balances, payments, invoices, hold invoices, both encryptions, and the failures a user must understand.
import { createHash, randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { connectNwc, parseNwcUri } from '../../client/nwc.js'
import { createLightning } from '../fixtures/lightning/network.js'
import { startNwcService, type Scheme } from '../fixtures/lightning/nwc-service.js'
import { startTestRelay } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

const sha256hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')
const hex32 = () => randomBytes(32).toString('hex')

/** A relay and a network, and a way to open wallets on them (a service and a client connected to it). */
async function setup(t: Test) {
  const { url } = await startTestRelay(t)
  const network = createLightning()
  t.teardown(() => network.close())
  const wallet = async (balanceMsats: number, encryption?: Scheme[]) => {
    const service = await startNwcService({ relayUrl: url, network, balanceMsats, ...(encryption && { encryption }) })
    t.teardown(() => service.close())
    const nwc = await connectNwc(service.uri, { timeoutMs: 60_000 })
    t.teardown(() => nwc.close())
    return { service, nwc }
  }
  return { url, network, wallet }
}

t.test("get_balance reports the wallet's balance in msats", async t => {
  const { wallet } = await setup(t)
  const { nwc } = await wallet(50_000)
  t.equal(await nwc.getBalance(), 50_000)
})

t.test('pay_invoice pays: the balance drops and the preimage hashes to the payment hash', async t => {
  const { network, wallet } = await setup(t)
  const { nwc, service } = await wallet(50_000)
  const invoice = network.makeInvoice({ msats: 21_000, description: 'a summary' })
  const { preimage } = await nwc.payInvoice(invoice.bolt11)
  t.equal(sha256hex(preimage), invoice.paymentHash, 'the preimage is the invoice’s')
  t.equal(await nwc.getBalance(), 29_000, 'the balance dropped by the amount')
  t.equal(network.lookup(invoice.paymentHash)?.state, 'settled', 'the network settled the invoice')

  await t.rejects(
    nwc.payInvoice(invoice.bolt11),
    { name: 'ClientError', message: /^wallet: PAYMENT_FAILED: the invoice is settled: it pays once$/ },
    'a second payment of the same invoice fails',
  )
  t.equal(service.balanceMsats(), 29_000, 'and costs nothing')
})

t.test('a payment larger than the balance is refused with INSUFFICIENT_BALANCE', async t => {
  const { network, wallet } = await setup(t)
  const { nwc } = await wallet(1_000)
  const invoice = network.makeInvoice({ msats: 21_000 })
  await t.rejects(nwc.payInvoice(invoice.bolt11), {
    name: 'ClientError',
    message: /^wallet: INSUFFICIENT_BALANCE: the invoice asks 21000 msats, the balance is 1000$/,
  })
  t.equal(await nwc.getBalance(), 1_000, 'the balance is untouched')
  t.equal(network.lookup(invoice.paymentHash)?.state, 'pending', 'the invoice is still unpaid')
})

t.test('an invoice made with make_invoice and paid by another wallet raises the balance', async t => {
  const { wallet } = await setup(t)
  const [payee, payer] = [await wallet(0), await wallet(10_000)]
  const { bolt11, paymentHash } = await payee.nwc.makeInvoice(4_000, 'for tea')
  t.same(await payee.nwc.lookupInvoice(paymentHash), { state: 'pending' }, 'unpaid at first')
  const { preimage } = await payer.nwc.payInvoice(bolt11)
  t.equal(await payee.nwc.getBalance(), 4_000, "the payee's balance rose")
  t.equal(await payer.nwc.getBalance(), 6_000, "the payer's balance fell")
  t.same(await payee.nwc.lookupInvoice(paymentHash), { state: 'settled', preimage }, 'settled, with its preimage')
})

t.test("a hold invoice's payment completes only when its maker settles with the preimage", async t => {
  const { network, wallet } = await setup(t)
  const [maker, payer] = [await wallet(0), await wallet(10_000)]
  const preimage = hex32()
  const paymentHash = sha256hex(preimage)
  const { bolt11 } = await maker.nwc.makeHoldInvoice(5_000, paymentHash, 'the key to a sealed result')
  let settled = false
  const paying = payer.nwc.payInvoice(bolt11).finally(() => (settled = true))

  await waitFor(() => network.lookup(paymentHash)?.state === 'accepted', 'the payment to be accepted')
  t.same(await maker.nwc.lookupInvoice(paymentHash), { state: 'accepted' }, 'the maker sees it accepted')
  t.equal(settled, false, "the payer's payment is still in flight")
  t.equal(await maker.nwc.getBalance(), 0, 'an accepted payment is not yet the maker’s')

  await maker.nwc.settleHoldInvoice(preimage)
  t.same(await paying, { preimage }, "the payer's payInvoice resolves with the maker's preimage")
  t.same(await maker.nwc.lookupInvoice(paymentHash), { state: 'settled', preimage }, 'settled')
  t.equal(await maker.nwc.getBalance(), 5_000, 'the maker was paid')
  t.equal(await payer.nwc.getBalance(), 5_000, 'the payer paid')
})

t.test('a cancelled hold invoice fails its payment and gives the payer its money back', async t => {
  const { network, wallet } = await setup(t)
  const [maker, payer] = [await wallet(0), await wallet(10_000)]
  const paymentHash = sha256hex(hex32())
  const { bolt11 } = await maker.nwc.makeHoldInvoice(5_000, paymentHash)
  const paying = payer.nwc.payInvoice(bolt11)
  await waitFor(() => network.lookup(paymentHash)?.state === 'accepted', 'the payment to be accepted')
  await maker.nwc.cancelHoldInvoice(paymentHash)
  await t.rejects(paying, { name: 'ClientError', message: /^wallet: PAYMENT_FAILED: the payee cancelled/ })
  t.equal(await payer.nwc.getBalance(), 10_000, 'the payer has its money back')
  t.same(await maker.nwc.lookupInvoice(paymentHash), { state: 'failed' }, 'the invoice failed')
})

t.test('a wallet that offers NIP-44 is spoken to in NIP-44 v2, one from before NIP-44 in NIP-04', async t => {
  const { wallet } = await setup(t)
  const modern = await wallet(7_000)
  const legacy = await wallet(8_000, ['nip04'])
  t.equal(modern.nwc.encryption, 'nip44_v2')
  t.equal(legacy.nwc.encryption, 'nip04')
  t.equal(await modern.nwc.getBalance(), 7_000, 'NIP-44 v2 requests are answered')
  t.equal(await legacy.nwc.getBalance(), 8_000, 'NIP-04 requests are answered')
  const { bolt11 } = await legacy.nwc.makeInvoice(3_000)
  await modern.nwc.payInvoice(bolt11)
  t.equal(await legacy.nwc.getBalance(), 11_000, 'a payment crosses from one to the other')
  t.same(modern.service.requests(), [
    { method: 'get_balance', encryption: 'nip44_v2' },
    { method: 'pay_invoice', encryption: 'nip44_v2' },
  ])
  t.same(
    legacy.service.requests().map(r => r.encryption),
    ['nip04', 'nip04', 'nip04'],
    'the legacy wallet got NIP-04 only',
  )
})

t.test('a wallet that never answers gives a ClientError naming the relay it was asked on', async t => {
  const { url } = await startTestRelay(t)
  const uri = `nostr+walletconnect://${'ab'.repeat(32)}?relay=${encodeURIComponent(url)}&secret=${hex32()}`
  const nwc = await connectNwc(uri, { timeoutMs: 300 })
  t.teardown(() => nwc.close())
  await t.rejects(nwc.getBalance(), {
    name: 'ClientError',
    message: `the wallet did not answer get_balance within 0.3 s on ${url}`,
  })
})

t.test("a wallet whose relay is down gives a ClientError saying the relay can't be reached", async t => {
  const uri = `nostr+walletconnect://${'ab'.repeat(32)}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=${hex32()}`
  await t.rejects(connectNwc(uri, { timeoutMs: 2_000 }), {
    name: 'ClientError',
    message: /^cannot reach the wallet's relay: cannot reach ws:\/\/127\.0\.0\.1:1/,
  })
})

t.test('a malformed URI gives a ClientError that shows what a NWC URI looks like, without its secret', async t => {
  const secret = hex32()
  const pk = 'ab'.repeat(32)
  const cases: [string, string][] = [
    ['not a uri', 'it does not parse as a URI'],
    [`https://${pk}?relay=wss%3A%2F%2Fr.example&secret=${secret}`, 'it must start with nostr+walletconnect://'],
    [`nostr+walletconnect://abc?relay=wss%3A%2F%2Fr.example&secret=${secret}`, 'the wallet pubkey must be 64 hex'],
    [`nostr+walletconnect://${pk}?secret=${secret}`, 'it names no relay'],
    [`nostr+walletconnect://${pk}?relay=https%3A%2F%2Fr.example&secret=${secret}`, 'is not a ws:// or wss:// URL'],
    [`nostr+walletconnect://${pk}?relay=wss%3A%2F%2Fr.example&secret=12`, 'the secret must be 64 hex'],
  ]
  for (const [uri, why] of cases) {
    const err = t.throws(() => parseNwcUri(uri)) as Error
    t.equal(err.name, 'ClientError', why)
    t.ok(err.message.startsWith('not a Nostr Wallet Connect URI ('), `${why}: says what it is not`)
    t.ok(err.message.includes(why), `${why}: says why`)
    t.ok(err.message.includes('nostr+walletconnect://<wallet pubkey, 64 hex>?relay='), `${why}: shows the shape`)
    t.notOk(err.message.includes(secret), `${why}: never repeats the secret`)
  }
  t.same(parseNwcUri(`nostr+walletconnect://${pk}?relay=wss%3A%2F%2Fr.example&relay=ws%3A%2F%2Fb&secret=${secret}`), {
    walletPubkey: pk,
    relays: ['wss://r.example', 'ws://b'],
    secret,
  })
})
