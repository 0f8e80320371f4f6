// A customer on a relay with a zap gate: refused with the gate's price, or, with --pay-gate, zapping the relay's
// lightning address through its NWC wallet (the wallet's own relay, as in real life) and posting once unlocked.
import t from 'tap'
import { customer, keyFile } from '../../helpers/agents.js'
import { connectFor, queryIds } from '../../helpers/client.js'
import { startMarket } from '../../helpers/market.js'
import { startTestRelay } from '../../helpers/relay.js'
import { createLightning } from '../../fixtures/lightning/network.js'
import { startNwcService } from '../../fixtures/lightning/nwc-service.js'
import { startZapServer } from '../../fixtures/lightning/lnurl-zap.js'

t.test('job post --pay-gate zaps the relay’s gate once and the job goes in', async t => {
  const network = createLightning()
  t.teardown(() => network.close())
  const walletRelay = await startTestRelay(t)
  const wallet = await startNwcService({ relayUrl: walletRelay.url, network, balanceMsats: 100_000 })
  t.teardown(() => wallet.close())
  const zaps = await startZapServer({ network })
  t.teardown(() => zaps.close())
  zaps.setUser('gate', {})
  const m = await startMarket(t, {
    'policies.open': false,
    'policies.zap_gate.enabled': true,
    'policies.zap_gate.lightning_address': zaps.address('gate'),
    'policies.zap_gate.zapper_pubkeys': [zaps.pubkey],
    'policies.zap_gate.min_sats': 21,
  })
  const me = keyFile(t)
  const refused = await customer([m.url], me.file, ['job', 'post', '--kind', '5100', 'gated'])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /blocked: zap gate@127\.0\.0\.1:\d+ at least 21 sats to post job requests/)
  t.equal(wallet.balanceMsats(), 100_000, 'nothing was paid without --pay-gate')
  const paid = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    'gated',
    '--pay-gate',
    '--nwc',
    wallet.uri,
  ])
  t.equal(paid.code, 0, paid.stderr)
  t.match(paid.stderr, /paying ws:\/\/\S+'s zap gate: 21 sats to gate@/)
  t.equal(wallet.balanceMsats(), 79_000, 'the gate cost 21 sats, once')
  const c = await connectFor(t, m.url)
  t.same(await queryIds(c, { kinds: [5100], authors: [me.pubkey] }), [paid.stdout.trim()], 'the job is stored')
  const again = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    'again',
    '--pay-gate',
    '--nwc',
    wallet.uri,
  ])
  t.equal(again.code, 0, again.stderr)
  t.notMatch(again.stderr, /paying/, 'an unlocked key pays no more')
  t.equal(wallet.balanceMsats(), 79_000)
})
