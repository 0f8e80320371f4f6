// What a user sees when something is wrong: one line naming the problem and a non-zero exit code, never a stack
// trace; and on the customer's side, a provider's failure shown with its reason.
import t, { type Test } from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { customer, keyFile, startAgentCli } from '../../helpers/agents.js'
import { runCli } from '../../helpers/cli.js'
import { startMarket } from '../../helpers/market.js'
import { startTestRelay } from '../../helpers/relay.js'
import { connectFor, queryIds } from '../../helpers/client.js'
import { startFixtureMint } from '../../fixtures/mint/index.js'

/** No stack trace: no "    at " frame lines and no Error class names in front of the message. */
const noStack = (t: Test, stderr: string) => t.notMatch(stderr, /^\s+at |TypeError|ReferenceError/m, 'no stack trace')

t.test('an unreachable relay is named with the reason, exit 1', async t => {
  const me = keyFile(t)
  const r = await runCli(['job', 'post', '--kind', '5100', 'x', '--relay', 'ws://127.0.0.1:1', '--key', me.file])
  t.equal(r.code, 1)
  t.match(r.stderr, /^agora job: cannot reach ws:\/\/127\.0\.0\.1:1: ECONNREFUSED$/m)
  noStack(t, r.stderr)
})

t.test('a bad key file is refused with what is wrong', async t => {
  const m = await startTestRelay(t)
  const dir = keyFile(t).dir
  const garbage = join(dir, 'garbage')
  writeFileSync(garbage, 'not a key\n', { mode: 0o600 })
  const r = await customer([m.url], garbage, ['job', 'post', '--kind', '5100', 'x'])
  t.equal(r.code, 1)
  t.match(r.stderr, /key file .*garbage: a key must be 64 hex characters or an nsec/)
  noStack(t, r.stderr)
  const open = join(dir, 'open')
  writeFileSync(open, 'a'.repeat(64) + '\n')
  chmodSync(open, 0o644)
  const r2 = await customer([m.url], open, ['job', 'post', '--kind', '5100', 'x'])
  t.equal(r2.code, 1)
  t.match(r2.stderr, /key file .*open is readable by others: chmod 600 it/)
})

t.test('a job refused by the relay shows the relay’s prefix and reason, and nothing is stored', async t => {
  const m = await startTestRelay(t, { 'policies.open': false, 'policies.kind_whitelist.kinds': ['1'] })
  const me = keyFile(t)
  const r = await customer([m.url], me.file, ['job', 'post', '--kind', '5100', 'not welcome'])
  t.equal(r.code, 1)
  t.match(r.stderr, /job request \(kind 5100\) refused: ws:\/\/\S+: blocked: kind 5100/)
  noStack(t, r.stderr)
  const c = await connectFor(t, m.url)
  t.same(await queryIds(c, { kinds: [5100] }), [], 'no job request was stored')
})

t.test('a processor that crashes sends error feedback the customer sees with its reason', async t => {
  const m = await startMarket(t)
  const agent = await startAgentCli(t, [m.url], ['--kind', '5100', '--processor', 'exec:echo broken >&2; exit 3'])
  const me = keyFile(t)
  const r = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    'x',
    '--provider',
    agent.pubkey,
    '--wait',
    '--timeout',
    '60',
  ])
  t.equal(r.code, 1, 'the customer exits 1: its only provider gave up')
  t.match(r.stderr, /feedback error from [0-9a-f]{8}: processor exited with code 3: broken/)
  t.match(r.stderr, /job [0-9a-f]{64} failed: processor exited with code 3/)
  noStack(t, r.stderr)
})

t.test('a processor that hangs is stopped at --timeout and the job errors', async t => {
  const m = await startMarket(t)
  const agent = await startAgentCli(t, [m.url], ['--kind', '5100', '--processor', 'exec:sleep 600', '--timeout', '2'])
  const me = keyFile(t)
  const r = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    'x',
    '--provider',
    agent.pubkey,
    '--wait',
    '--timeout',
    '60',
  ])
  t.equal(r.code, 1)
  t.match(r.stderr, /feedback error from [0-9a-f]{8}: processor timed out after 2 s/)
  await agent.waitForLine(/failed: processor timed out after 2 s/, 0, 90_000)
})

t.test('a bad processor spec or kind stops the agent at start with a usage error', async t => {
  const me = keyFile(t)
  const r = await runCli([
    'agent',
    '--relay',
    'ws://127.0.0.1:1',
    '--key',
    me.file,
    '--kind',
    '5100',
    '--processor',
    'ftp://x',
  ])
  t.equal(r.code, 1)
  t.match(r.stderr, /agora agent: .*processor.*ftp:\/\/x/)
  const r2 = await runCli(['agent', '--key', me.file, '--kind', '7000', '--processor', 'exec:cat'])
  t.equal(r2.code, 2)
  t.match(r2.stderr, /--kind 7000: a job kind is 5000-5999/)
  noStack(t, r2.stderr)
})

t.test('a mint that is down is named when minting', async t => {
  const mint = await startFixtureMint()
  t.teardown(mint.close)
  mint.setDown(true)
  const me = keyFile(t)
  const r = await runCli(['wallet', 'mint', '21', '--mint', mint.url, '--wallet', join(me.dir, 'wallet.json')])
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`mint ${mint.url.replace(/[.]/g, '\\.')} answered 503`))
  noStack(t, r.stderr)
})

t.test('sending more than the wallet holds says how much it holds and leaves it as it was', async t => {
  const mint = await startFixtureMint()
  t.teardown(mint.close)
  const me = keyFile(t)
  const wallet = join(me.dir, 'wallet.json')
  t.equal((await runCli(['wallet', 'mint', '10', '--mint', mint.url, '--wallet', wallet])).code, 0)
  const r = await runCli(['wallet', 'send', '50', '--mint', mint.url, '--wallet', wallet])
  t.equal(r.code, 1)
  t.match(r.stderr, /the wallet holds 10 sats at .*; 50 needed/)
  const b = await runCli(['wallet', 'balance', '--wallet', wallet])
  t.match(b.stdout, /^10\ttotal$/m, 'the balance is unchanged')
})
