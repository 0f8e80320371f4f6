// Swarms, workflows and pipeline agents, each agent a separate `agora agent` process and the customer `agora`
// one-shot commands: the market's multi-provider shapes run end to end with nobody writing protocol by hand.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { customer, keyFile, startAgentCli } from '../../helpers/agents.js'
import { ledgerWhen, startMarket } from '../../helpers/market.js'

t.test('a 3-provider swarm collects three submissions and the customer picks the winner', async t => {
  const m = await startMarket(t)
  const agents = await Promise.all(
    ['one', 'two', 'three'].map(word =>
      startAgentCli(t, [m.url], ['--kind', '5100', '--processor', `exec:echo ${word}`, '--name', word]),
    ),
  )
  const me = keyFile(t)
  const posted = await customer([m.url], me.file, [
    'job',
    'post',
    '--kind',
    '5100',
    '--swarm',
    '3',
    '--bid',
    '30',
    'write a haiku',
    '--wait',
    '--timeout',
    '60',
  ])
  t.equal(posted.code, 0, posted.stderr)
  const subs = posted.stdout
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { provider: string; result: string; content: string })
  t.same(new Set(subs.map(s => s.content)), new Set(['one', 'two', 'three']), 'one submission from each agent')
  t.same(new Set(subs.map(s => s.provider)), new Set(agents.map(a => a.pubkey)))
  const swarm = /job ([0-9a-f]{64}) posted/.exec(posted.stderr)![1]!
  const winner = subs.find(s => s.content === 'two')!
  const pick = await customer([m.url], me.file, [
    'job',
    'pick',
    swarm,
    '--provider',
    winner.provider,
    '--result',
    winner.result,
  ])
  t.equal(pick.code, 0, pick.stderr)
  const ledger = await ledgerWhen(m, swarm, 'delivered')
  const marks = ledger.tags.filter(x => x[0] === 'submission').map(x => [x[1], x[3]])
  t.same(
    new Set(marks.map(x => x.join(' '))),
    new Set(agents.map(a => `${a.pubkey} ${a.pubkey === winner.provider ? 'winner' : 'rejected'}`)),
    'the ledger names the winner and rejects the others',
  )
})

t.test('a 2-step workflow runs across two agents and prints the last step’s result', async t => {
  const m = await startMarket(t)
  await startAgentCli(t, [m.url], ['--kind', '5100', '--processor', 'exec:tr a-z A-Z'])
  await startAgentCli(t, [m.url], ['--kind', '5200', '--processor', 'exec:rev'])
  const me = keyFile(t)
  const file = join(me.dir, 'workflow.json')
  writeFileSync(file, JSON.stringify({ input: 'relays', bid_sats: 20, steps: [{ kind: 5100 }, { kind: 5200 }] }))
  const r = await customer([m.url], me.file, ['workflow', 'post', file, '--wait', '--timeout', '90'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'SYALER\n', 'step 1 reversed what step 0 upper-cased')
  t.match(r.stderr, /workflow completed: 0:delivered 1:delivered/)
})

t.test('a pipeline agent delegates a sub-job first and processes its result', async t => {
  const m = await startMarket(t)
  const worker = await startAgentCli(t, [m.url], ['--kind', '5100', '--processor', 'exec:tr a-z A-Z'])
  const pipeline = await startAgentCli(t, [m.url], ['--kind', '5300', '--processor', 'exec:rev', '--sub-kind', '5100'])
  const me = keyFile(t)
  const r = await customer([m.url], me.file, ['job', 'post', '--kind', '5300', 'abc', '--wait', '--timeout', '90'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'CBA\n')
  await pipeline.waitForLine(/sub-job [0-9a-f]{8} \(kind 5100\) posted/, 0)
  t.ok(
    worker.lines().some(l => /delivered/.test(l)),
    'the sub-job was delivered by the other agent',
  )
})
