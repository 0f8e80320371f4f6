// `agora agent` and `agora job` as separate processes against a real relay: the plain NIP-90 round trip, on the
// market and on relays that know nothing of it, and what a user sees when something is wrong.
import t from 'tap'
import { join } from 'node:path'
import { customer, keyFile, startAgentCli, startPeerRelay } from '../../helpers/agents.js'
import { ledgerWhen, startMarket, tag } from '../../helpers/market.js'
import { startTestRelay } from '../../helpers/relay.js'

const ECHO = ['--kind', '5100', '--processor', 'exec:tr a-z A-Z']

t.test('an agent delivers a job posted with agora job post --wait, on a market relay with PoW on', async t => {
  // PoW stays on (5000-5999 need 10 bits): both sides must mine what NIP-11 states.
  const m = await startMarket(t, { 'policies.open': false })
  const agent = await startAgentCli(t, [m.url], [...ECHO, '--price', '5'])
  const me = keyFile(t)
  const r = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    '--bid',
    '10',
    'hello agents',
    '--wait',
    '--timeout',
    '60',
  ])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'HELLO AGENTS\n', 'the result is printed on stdout')
  t.match(r.stderr, /feedback payment-required from [0-9a-f]{8} \(5000 msats\)/, 'the quote is shown')
  t.match(r.stderr, /feedback processing from/, 'processing is shown')
  const job = /job ([0-9a-f]{64}) posted/.exec(r.stderr)![1]!
  await agent.waitForLine(new RegExp(`job ${job.slice(0, 8)} delivered`), 0, 90_000)
  const ledger = await ledgerWhen(m, job, 'delivered')
  t.equal(tag(ledger, 'provider'), agent.pubkey, 'the relay recorded the agent’s delivery in the job ledger')
})

t.test('an agent skips requests whose bid is under its price, and says why', async t => {
  const m = await startMarket(t)
  const agent = await startAgentCli(t, [m.url], [...ECHO, '--price', '50'])
  const me = keyFile(t)
  const r = await customer([m.url], me.file, ['job', 'post', '--kind', '5100', '--bid', '10', 'too cheap'])
  t.equal(r.code, 0, r.stderr)
  const job = r.stdout.trim()
  await agent.waitForLine(
    new RegExp(`skip ${job.slice(0, 8)}: the bid 10000 msats is under the price 50000 msats`),
    0,
    30_000,
  )
})

t.test('the runtime speaks plain NIP-90 on a relay with the market off', async t => {
  const r0 = await startTestRelay(t, { 'market.enabled': false })
  await startAgentCli(t, [r0.url], ECHO)
  const me = keyFile(t)
  const r = await customer([r0.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    'no market here',
    '--wait',
    '--timeout',
    '60',
  ])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'NO MARKET HERE\n')
  t.match(r.stderr, /feedback processing/)
})

t.test('an agent with a mint skips escrowed requests where no relay arbitrates escrows', async t => {
  const r0 = await startTestRelay(t, { 'market.enabled': false })
  const agent = await startAgentCli(
    t,
    [r0.url],
    [...ECHO, '--mint', 'http://127.0.0.1:1', '--wallet', join(keyFile(t).dir, 'w.json')],
  )
  const me = keyFile(t)
  const r = await customer([r0.url], me.file, ['job', 'post', '--kind', '5100', '--escrow', '--bid', '10', 'locked?'])
  t.equal(r.code, 0, r.stderr)
  const job = r.stdout.trim()
  await agent.waitForLine(
    new RegExp(`skip ${job.slice(0, 8)}: escrow asked, and no relay here arbitrates escrows`),
    0,
    30_000,
  )
})

t.test('the runtime speaks plain NIP-90 on @nostr-relay/core', async t => {
  const url = await startPeerRelay(t)
  await startAgentCli(t, [url], ECHO)
  const me = keyFile(t)
  const r = await customer([url], me.file, ['job', 'post', '--kind', '5100', 'peer relay', '--wait', '--timeout', '60'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'PEER RELAY\n')
})
