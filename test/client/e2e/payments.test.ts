// Lightning payments end to end, with `agora agent` and the customer's `agora job` as separate processes: a result
// zapped through the customer's NIP-47 wallet to the agent's lightning address (the LNURL zap fixture, paying into
// the agent's wallet), a sealed result whose key the customer buys with a hold invoice, and the refusals a user sees.
import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { startMcp } from '../../helpers/mcp.js'
import type { NostrEvent } from '../../../nips/nip01.js'
import { customer, keyFile, startAgentCli } from '../../helpers/agents.js'
import { ledgerWhen, type Market, startMarket, tag } from '../../helpers/market.js'
import { connectFor, queryIds } from '../../helpers/client.js'
import { startTestRelay } from '../../helpers/relay.js'
import { sleep, waitFor } from '../../helpers/wait.js'
import { startZapServer } from '../../fixtures/lightning/lnurl-zap.js'
import { createLightning } from '../../fixtures/lightning/network.js'
import { startNwcService } from '../../fixtures/lightning/nwc-service.js'

const PRICE_MSATS = 21_000
const ECHO = ['--kind', '5100', '--processor', 'exec:tr a-z A-Z', '--price', String(PRICE_MSATS / 1000)]
const post = (input: string, ...extra: string[]) => [
  'job',
  'post',
  '--kind',
  '5100',
  '--bid',
  '30',
  input,
  '--wait',
  '--timeout',
  '120',
  ...extra,
]
const jobOf = (stderr: string) => /job ([0-9a-f]{64}) posted/.exec(stderr)![1]!
const sha256hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')

/**
 * On the relay at `url`: one Lightning network, the customer's wallet with `balance`, the agent's wallet (its zaps
 * land there through the zap server's `agent`; with `sealed` it is also the agent's --nwc), the agent and a customer.
 */
async function setup(t: Test, url: string, o: { balance?: number; sealed?: boolean } = {}) {
  const network = createLightning({ holdTimeoutMs: 120_000 })
  t.teardown(() => network.close())
  const zaps = await startZapServer({ network })
  t.teardown(() => zaps.close())
  const agentWallet = await startNwcService({ relayUrl: url, network })
  t.teardown(() => agentWallet.close())
  const wallet = await startNwcService({ relayUrl: url, network, balanceMsats: o.balance ?? 100_000 })
  t.teardown(() => wallet.close())
  zaps.setUser('agent', { nwc: agentWallet })
  const sealed = o.sealed ? ['--nwc', agentWallet.uri] : []
  const agent = await startAgentCli(t, [url], [...ECHO, '--lud16', zaps.address('agent'), ...sealed])
  const me = keyFile(t)
  const run = (args: string[]) => customer([url], me.file, args, 150_000)
  return { zaps, agentWallet, wallet, agent, me, run }
}

/** A stored event by id, read with an ordinary REQ. */
async function eventById(m: Market, id: string): Promise<NostrEvent | undefined> {
  const r = await m.c.req(`id-${id.slice(0, 8)}`, { ids: [id] })
  m.c.send(['CLOSE', `id-${id.slice(0, 8)}`])
  return r.events[0] as unknown as NostrEvent | undefined
}

t.test('a job posted with --wait --pay is zapped to the agent, and the ledger records the zap', async t => {
  const m = await startMarket(t)
  const s = await setup(t, m.url)
  const r = await s.run(post('pay me', '--pay', '--nwc', s.wallet.uri))
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'PAY ME\n', 'the result is printed')
  t.match(r.stderr, new RegExp(`paid ${PRICE_MSATS} msats to ${s.agent.pubkey.slice(0, 8)}`), 'the payment is told')
  const job = jobOf(r.stderr)
  const ledger = await ledgerWhen(m, job, 'paid')
  const [payment] = ledger.tags.filter(x => x[0] === 'payment')
  t.match(payment, ['payment', 'zap', /^[0-9a-f]{64}$/, String(PRICE_MSATS)], 'paid by a zap of the price')
  t.equal(tag(ledger, 'provider'), s.agent.pubkey)
  t.equal(s.wallet.balanceMsats(), 100_000 - PRICE_MSATS, "the customer's wallet paid the price")
  t.equal(s.agentWallet.balanceMsats(), PRICE_MSATS, "into the agent's wallet")
})

t.test('agora job pay pays a delivered job once, and refuses to pay it again', async t => {
  const m = await startMarket(t)
  const s = await setup(t, m.url)
  const r = await s.run(post('pay later'))
  t.equal(r.code, 0, r.stderr)
  const job = jobOf(r.stderr)
  t.match(r.stderr, `pay with: agora job pay ${job}`, 'the customer is told how to pay')
  await ledgerWhen(m, job, 'delivered')
  t.equal(s.wallet.balanceMsats(), 100_000, 'nothing is paid without --pay')

  const paid = await s.run(['job', 'pay', job, '--nwc', s.wallet.uri])
  t.equal(paid.code, 0, paid.stderr)
  const ledger = await ledgerWhen(m, job, 'paid')
  t.equal(ledger.tags.filter(x => x[0] === 'payment' && x[1] === 'zap').length, 1, 'one zap is recorded')
  t.equal(s.wallet.balanceMsats(), 100_000 - PRICE_MSATS)
  t.equal(s.agentWallet.balanceMsats(), PRICE_MSATS)

  const again = await s.run(['job', 'pay', job, '--nwc', s.wallet.uri])
  t.equal(again.code, 1, 'a second pay fails')
  t.match(again.stderr, `agora job: job ${job} is already paid`, 'and says the job is paid')
  t.notMatch(again.stderr, /\n\s+at /, 'without a stack trace')
  t.equal(s.wallet.balanceMsats(), 100_000 - PRICE_MSATS, 'the customer paid once')
  t.equal(s.agentWallet.balanceMsats(), PRICE_MSATS, 'the agent was paid once')
})

t.test('a sealed result is paid through a hold invoice, then opened, and the ledger records the key', async t => {
  const m = await startMarket(t)
  const s = await setup(t, m.url, { sealed: true })
  const r = await s.run(post('sealed secret', '--sealed', '--nwc', s.wallet.uri))
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'SEALED SECRET\n', 'the opened plaintext is printed')
  t.match(r.stderr, /buying the key of sealed result [0-9a-f]{64} \(21000 msats\)/, 'the purchase is told')
  const job = jobOf(r.stderr)
  const ledger = await ledgerWhen(m, job, 'paid')
  const payment = ledger.tags.find(x => x[0] === 'payment')!
  t.match(payment, ['payment', 'preimage', /^[0-9a-f]{64}$/, String(PRICE_MSATS), /^[0-9a-f]{64}$/])
  t.equal(tag(ledger, 'provider'), s.agent.pubkey)
  const [reveal, sealed] = await Promise.all([payment[2]!, tag(ledger, 'result')!].map(id => eventById(m, id)))
  t.equal(reveal!.pubkey, s.me.pubkey, 'the evidence is the customer’s reveal')
  t.equal(sha256hex(tag(reveal, 'preimage')!), payment[4], 'of the key whose hash the invoice carried')
  t.equal(sealed?.kind, 21117, 'the result is the sealed one')
  t.notMatch(JSON.stringify(sealed), /SEALED SECRET|sealed secret/, 'which does not give the plaintext away')
  t.equal(s.wallet.balanceMsats(), 100_000 - PRICE_MSATS, "the customer's wallet paid the price")
  t.equal(s.agentWallet.balanceMsats(), PRICE_MSATS, "the agent's wallet got it")
  await s.agent.waitForLine(new RegExp(`job ${job.slice(0, 8)}: key sold`), 0, 90_000)
  // Followed again (MCP's wait_for_result): opened with the key already bought, not paid a second time.
  const mcp = await startMcp(t, ['--relay', m.url, '--key', s.me.file, '--nwc', s.wallet.uri])
  const again = await mcp.call('wait_for_result', { job, timeout_seconds: 60 }, 90_000)
  t.equal(again.isError, false, again.text)
  t.match(again.text, /^SEALED SECRET$/m, 'the result opens again')
  t.notMatch(again.text, /buying the key/, 'without buying the key again')
  t.equal(s.wallet.balanceMsats(), 100_000 - PRICE_MSATS, 'the customer paid once')
})

t.test('a wallet short of the price says so, exits non-zero and pays nothing', async t => {
  const m = await startMarket(t)
  const s = await setup(t, m.url, { balance: 1_000 })
  const r = await s.run(post('too poor'))
  t.equal(r.code, 0, r.stderr)
  const job = jobOf(r.stderr)
  const paid = await s.run(['job', 'pay', job, '--nwc', s.wallet.uri])
  t.equal(paid.code, 1, 'the payment fails')
  t.match(
    paid.stderr,
    `agora job: wallet: INSUFFICIENT_BALANCE: the invoice asks ${PRICE_MSATS} msats, the balance is 1000`,
    'the wallet’s reason is shown',
  )
  t.notMatch(paid.stderr, /\n\s+at /, 'without a stack trace')
  t.equal(s.wallet.balanceMsats(), 1_000, 'the customer paid nothing')
  t.equal(s.agentWallet.balanceMsats(), 0, 'the agent got nothing')
  const ledger = await ledgerWhen(m, job, 'delivered')
  t.same(
    ledger.tags.filter(x => x[0] === 'payment'),
    [],
    'the ledger records no payment',
  )
})

t.test('on a relay with no market, a second job pay is refused by the zap receipt of the first', async t => {
  const r0 = await startTestRelay(t, { 'market.enabled': false })
  const s = await setup(t, r0.url)
  const r = await s.run(post('no ledger here'))
  t.equal(r.code, 0, r.stderr)
  const job = jobOf(r.stderr)
  const paid = await s.run(['job', 'pay', job, '--nwc', s.wallet.uri])
  t.equal(paid.code, 0, paid.stderr)
  t.equal(s.agentWallet.balanceMsats(), PRICE_MSATS, 'the agent is paid')
  await waitFor(() => s.zaps.receipts().length === 1, 'the zap receipt', 90_000)
  const receipt = s.zaps.receipts()[0]!
  // The LNURL server publishes its receipt after the payment: wait until the relay has it.
  const c = await connectFor(t, r0.url)
  const deadline = Date.now() + 30_000
  while ((await queryIds(c, { ids: [receipt.id] })).length === 0) {
    if (Date.now() > deadline) throw new Error('the zap receipt never reached the relay')
    await sleep(100)
  }
  const again = await s.run(['job', 'pay', job, '--nwc', s.wallet.uri])
  t.equal(again.code, 1, again.stderr)
  t.match(again.stderr, `agora job: job ${job} is already paid (zap receipt ${receipt.id} for ${PRICE_MSATS} msats)`)
  t.equal(s.wallet.balanceMsats(), 100_000 - PRICE_MSATS, 'the customer paid once')
})

t.test('--pay or --sealed without --nwc says how to give a wallet, before posting anything', async t => {
  const m = await startMarket(t)
  const me = keyFile(t)
  for (const flag of ['--pay', '--sealed']) {
    const r = await customer([m.url], me.file, post('no wallet', flag))
    t.equal(r.code, 2, r.stderr)
    t.match(r.stderr, `agora job: ${flag} pays through a Lightning wallet: pass --nwc nostr+walletconnect://`)
    t.equal(r.stdout, '', `${flag}: nothing printed`)
  }
  t.same(await queryIds(m.c, { kinds: [5100] }), [], 'no job was posted')
})
