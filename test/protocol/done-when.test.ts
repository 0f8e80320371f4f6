// The operator-policies issue's acceptance: a relay on the default config (only host, port and data dir set
// for the test) refuses a kind-1 note, a job request without proof of work and, with the zap gate switched on,
// a job request from a pubkey that has not zapped the relay; a valid zap receipt lets that pubkey in.
import t from 'tap'
import { loadConfig } from '../../config/load.js'
import { rawClient } from '../helpers/client.js'
import { signer, type Signer } from '../helpers/events.js'
import { mined } from '../helpers/pow.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { makeZap } from '../helpers/zaps.js'

type Teardown = Parameters<typeof startTestRelay>[0]

/** The default config; `policies.open` is named because the test helper would otherwise open the relay. */
const DEFAULTS = { 'policies.open': false }

/** The zap gate's required keys on top of the defaults (min_sats stays at its default of 21). */
const withGate = (lnurl: Signer) => ({
  ...DEFAULTS,
  'policies.zap_gate.enabled': true,
  'policies.zap_gate.lightning_address': 'relay@example.com',
  'policies.zap_gate.zapper_pubkeys': lnurl.pubkey,
})

async function connected(t: Teardown, flags: Record<string, string | number | boolean>) {
  const r = await startTestRelay(t, flags)
  const c = await rawClient(r.url)
  t.teardown(() => c.close())
  return { ...r, c }
}

t.test('the relay under test runs the default policies', async t => {
  const { cfg } = await startTestRelay(t, DEFAULTS)
  t.same(cfg.policies, loadConfig({ env: {} }).policies, 'same policies section as a bare default config')
})

t.test('the default config refuses a kind-1 note blocked:', async t => {
  const { url, c } = await connected(t, DEFAULTS)
  const ok = await c.publish(signer().sign({ kind: 1, content: 'gm' }))
  t.equal(ok[2], false)
  t.equal(ok[3], 'blocked: kind 1 is not accepted here')
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('the default config refuses a job request without proof of work pow:', async t => {
  const { url, c } = await connected(t, DEFAULTS)
  const ok = await c.publish(signer().sign({ kind: 5100, content: 'translate this' }))
  t.equal(ok[2], false)
  t.match(ok[3], /^pow: /)
  t.same(await storedIds(url), [], 'nothing stored')
})

t.test('the default config accepts a job request with proof of work while the zap gate is off', async t => {
  const { url, c } = await connected(t, DEFAULTS)
  const job = mined(signer(), { kind: 5100, content: 'translate this' }, 10)
  t.equal((await c.publish(job))[2], true)
  t.same(await storedIds(url), [job.id], 'stored')
})

t.test(
  'with the zap gate on, a PoW-valid job request from a pubkey without a zap receipt is refused blocked:',
  async t => {
    const { url, c } = await connected(t, withGate(signer()))
    const ok = await c.publish(mined(signer(), { kind: 5100, content: 'translate this' }, 10))
    t.equal(ok[2], false)
    t.match(ok[3], /^blocked: zap relay@example\.com at least 21 sats /)
    t.same(await storedIds(url), [], 'nothing stored')
  },
)

t.test('with the zap gate on, the job request is accepted after a valid zap receipt', async t => {
  const lnurl = signer()
  const { url, c, relay } = await connected(t, withGate(lnurl))
  const sender = signer()
  const job = mined(sender, { kind: 5100, content: 'translate this' }, 10)
  const before = await c.publish(job)
  t.equal(before[2], false, 'refused before the zap')
  t.match(before[3], /^blocked: /)
  const { receipt } = makeZap({ relayPubkey: relay.pubkey, sender, lnurlSk: lnurl.sk, msats: 21000n })
  t.equal((await c.publish(receipt))[2], true, 'the receipt is accepted')
  t.equal((await c.publish(job))[2], true, 'the job request is accepted after the zap')
  t.same((await storedIds(url)).sort(), [receipt.id, job.id].sort(), 'receipt and job stored')
})
