// Escrowed jobs with `agora agent` and the customer's commands as separate processes, against a market relay and the
// fixture mint: released by the customer, ruled for the provider when the dispute window closes, refunded by the
// operator after a dispute, and refused before anything is locked when the customer's wallet is empty.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { customer, keyFile, startAgentCli, type AgentProcess } from '../../helpers/agents.js'
import { runCli, spawnCli } from '../../helpers/cli.js'
import { queryIds } from '../../helpers/client.js'
import { ledgerWhen, type Market, startMarket, tag } from '../../helpers/market.js'
import { startFixtureMint } from '../../fixtures/mint/index.js'

const ECHO = ['--kind', '5100', '--processor', 'exec:tr a-z A-Z']
const PRICE = 21
const FUNDS = 50

/**
 * A market whose windows are short (a lock then needs only a few minutes of locktime) and whose reconciler looks at
 * the mint every second, the fixture mint, an agent pricing kind 5100 at PRICE with a wallet there, and a customer
 * whose wallet holds `funds` sats at the mint.
 */
async function escrowSetup(t: Test, disputeWindow: number, funds = FUNDS) {
  const m = await startMarket(t, {
    'market.job_ttl': 120,
    'market.dispute_window': disputeWindow,
    'market.escrow_margin': 5,
    'market.reconcile_interval': 1,
  })
  const mint = await startFixtureMint()
  t.teardown(mint.close)
  const providerKey = keyFile(t)
  const providerWallet = join(providerKey.dir, 'wallet.json')
  const agent = await startAgentCli(
    t,
    [m.url],
    [...ECHO, '--price', String(PRICE), '--mint', mint.url, '--wallet', providerWallet],
    { key: providerKey },
  )
  const me = keyFile(t)
  const wallet = join(me.dir, 'wallet.json')
  if (funds > 0) {
    const minted = await runCli(['wallet', 'mint', String(funds), '--mint', mint.url, '--wallet', wallet])
    t.equal(minted.code, 0, `the customer minted ${funds} sats: ${minted.stderr}`)
  }
  return { m, mint, agent, providerWallet, me, wallet }
}

/** `agora job post --escrow --wait` of `input` (the agent uppercases it); resolves with the job id. */
async function postEscrowed(t: Test, m: Market, me: { file: string }, wallet: string, input: string): Promise<string> {
  const r = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    '--bid',
    '30',
    '--escrow',
    '--wallet',
    wallet,
    input,
    '--wait',
    '--timeout',
    '60',
  ])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, `${input.toUpperCase()}\n`, 'the result is printed on stdout')
  t.match(r.stderr, new RegExp(`locked ${PRICE} sats for [0-9a-f]{8} at `), 'the customer locked the quoted price')
  return /job ([0-9a-f]{64}) posted/.exec(r.stderr)![1]!
}

/** The sats a wallet file holds, from `agora wallet balance`. */
async function balance(t: Test, wallet: string): Promise<number> {
  const r = await runCli(['wallet', 'balance', '--wallet', wallet])
  t.equal(r.code, 0, r.stderr)
  return Number(/^(\d+)\ttotal$/m.exec(r.stdout)![1])
}

/** The job's ledger entry once its escrow is in `state` (the reconciler may take a few seconds). */
const escrowState = (m: Market, job: string, state: string) => ledgerWhen(m, job, state, { name: 'escrow_state' })

/** Stops the agent (its wallet file is then free) and reads the provider's balance. */
async function providerBalance(t: Test, agent: AgentProcess, wallet: string): Promise<number> {
  const exit = await agent.stop('SIGTERM')
  t.equal(exit.code, 0, 'the agent stops cleanly')
  return balance(t, wallet)
}

t.test('an escrowed job released by the customer pays the agent, which redeems it into its wallet', async t => {
  const { m, agent, providerWallet, me, wallet } = await escrowSetup(t, 600)
  const job = await postEscrowed(t, m, me, wallet, 'pay on release')
  t.equal(await balance(t, wallet), FUNDS - PRICE, 'the locked sats left the customer’s wallet')
  const released = await customer([m.url], me.file, ['job', 'release', job, '--wallet', wallet])
  t.equal(released.code, 0, released.stderr)
  t.match(released.stdout, /^[0-9a-f]{64}\n$/, 'the release event id is printed')
  await agent.waitForLine(
    new RegExp(`job ${job.slice(0, 8)}: redeemed ${PRICE} sats from the escrow \\(release\\)`),
    0,
    60_000,
  )
  const settled = await escrowState(m, job, 'settled')
  t.equal(tag(settled, 'state'), 'paid', 'the ledger records the job paid')
  t.equal(tag(settled, 'provider'), agent.pubkey, 'by the agent')
  t.equal(await providerBalance(t, agent, providerWallet), PRICE, 'the agent’s wallet rose by the price')
})

t.test('an escrowed job the customer leaves alone is ruled for the agent when the dispute window closes', async t => {
  const { m, agent, providerWallet, me, wallet } = await escrowSetup(t, 2)
  const job = await postEscrowed(t, m, me, wallet, 'pay on ruling')
  await agent.waitForLine(
    new RegExp(`job ${job.slice(0, 8)}: redeemed ${PRICE} sats from the escrow \\(ruling\\)`),
    0,
    60_000,
  )
  const settled = await escrowState(m, job, 'settled')
  t.equal(tag(settled, 'ruling'), 'claim', 'the relay ruled for the provider')
  t.equal(tag(settled, 'state'), 'paid', 'the ledger records the job paid')
  t.equal(await providerBalance(t, agent, providerWallet), PRICE, 'the agent’s wallet rose by the price')
  t.equal(await balance(t, wallet), FUNDS - PRICE, 'the customer paid the price')
})

t.test('a disputed job refunded by agora escrow rule goes back to the customer’s wallet', async t => {
  const { m, agent, providerWallet, me, wallet } = await escrowSetup(t, 600)
  const job = await postEscrowed(t, m, me, wallet, 'not what I asked')
  await agent.waitForLine(new RegExp(`job ${job.slice(0, 8)}: escrow claimed`), 0, 60_000)
  // `job dispute --wait` publishes the dispute with the refund it asks for, then waits for the ruling and redeems it.
  const dispute = spawnCli(t, [
    'job',
    'dispute',
    job,
    '--reason',
    'wrong language',
    '--wait',
    '--timeout',
    '60',
    '--wallet',
    wallet,
    '--relay',
    m.url,
    '--key',
    me.file,
  ])
  const disputed = await escrowState(m, job, 'disputed')
  t.equal(tag(disputed, 'state'), 'delivered', 'the disputed job stays delivered, unpaid')
  const ruled = await runCli(['escrow', 'rule', job, '--refund', '--data', m.dataDir, '--url', m.url])
  t.equal(ruled.code, 0, ruled.stderr)
  t.match(JSON.parse(ruled.stdout), { ok: true }, 'the relay took the operator’s ruling')
  const done = await dispute.exited
  t.equal(done.code, 0, dispute.stderr())
  t.match(dispute.stderr(), new RegExp(`refunded ${PRICE} sats into the wallet`), 'the customer redeemed the refund')
  t.equal(await balance(t, wallet), FUNDS, 'the customer holds what it minted again (the fixture mint takes no fee)')
  await agent.waitForLine(
    new RegExp(`job ${job.slice(0, 8)}: the escrow was ruled a refund to the customer`),
    0,
    30_000,
  )
  const refunded = await escrowState(m, job, 'refunded')
  t.equal(tag(refunded, 'ruling'), 'refund', 'the ledger records the refund ruling')
  t.equal(await providerBalance(t, agent, providerWallet), 0, 'the agent’s wallet did not gain')
  const { swaps } = JSON.parse(readFileSync(providerWallet, 'utf8')) as { swaps: Record<string, unknown> }
  t.same(Object.keys(swaps), [], 'the agent dropped its claim, which can never be redeemed now')
})

t.test(
  'an escrowed job posted from an empty wallet is refused with a clear message, and nothing is locked',
  async t => {
    const { m, me, wallet } = await escrowSetup(t, 600, 0)
    const r = await customer([m.url], me.file, [
      'job',
      'post',
      '--kind',
      '5100',
      '--bid',
      '30',
      '--escrow',
      '--wallet',
      wallet,
      'no funds',
      '--wait',
      '--timeout',
      '60',
    ])
    t.not(r.code, 0, 'the command fails')
    t.match(
      r.stderr,
      /^agora job: .*holds 0 sats.*agora wallet mint/m,
      'it says the wallet is short and how to fill it',
    )
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
    t.same(await queryIds(m.c, { kinds: [7117], authors: [me.pubkey] }), [], 'no lock was stored')
  },
)

t.test(
  'a job paid by nutzap from the customer’s Cashu wallet: the agent redeems it and the ledger says paid',
  async t => {
    const { m, agent, providerWallet, me, wallet } = await escrowSetup(t, 600)
    const r = await customer([m.url], me.file, [
      'job',
      'post',
      '--kind',
      '5100',
      '--bid',
      '30',
      'cashu only',
      '--wait',
      '--pay',
      '--nutzap',
      '--wallet',
      wallet,
      '--timeout',
      '60',
    ])
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'CASHU ONLY\n')
    t.match(r.stderr, new RegExp(`nutzapped ${PRICE} sats to ${agent.pubkey.slice(0, 8)}`))
    const job = /job ([0-9a-f]{64}) posted/.exec(r.stderr)![1]!
    await agent.waitForLine(new RegExp(`received ${PRICE} sats by nutzap`), 0, 90_000)
    const ledger = await ledgerWhen(m, job, 'paid')
    t.equal(ledger.tags.find(x => x[0] === 'payment')?.[1], 'nutzap', 'paid by the nutzap')
    const again = await customer([m.url], me.file, ['job', 'pay', job, '--nutzap', '--wallet', wallet])
    t.equal(again.code, 1, 'a paid job is not paid twice')
    t.match(again.stderr, /is already paid/)
    t.equal(await balance(t, wallet), FUNDS - PRICE)
    await agent.stop()
    t.equal(await balance(t, providerWallet), PRICE)
  },
)
