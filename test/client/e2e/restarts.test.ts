// Restarts in the middle of a job: the provider's (its job ends delivered, never stuck) and the relay's (both
// sides reconnect and finish). Each side is a separate process; the relay keeps its port and data dir.
import t, { type Test } from 'tap'
import { customer, keyFile, startAgentCli } from '../../helpers/agents.js'
import { spawnCli, startCli } from '../../helpers/cli.js'
import { ledgerWhen, outputWhen, startMarket, tag } from '../../helpers/market.js'
import { tempDir } from '../../helpers/relay.js'
import { connectFor } from '../../helpers/client.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getPublicKey } from 'nostr-tools/pure'
import { hexToBytes } from '@noble/curves/utils.js'

// Slow enough to be interrupted: the agent says "processing" before it runs.
const SLOW = ['--kind', '5100', '--processor', 'exec:sleep 3; tr a-z A-Z', '--lookback', '600']

t.test('a provider killed in the middle of a job delivers it after its restart', async t => {
  const m = await startMarket(t)
  const first = await startAgentCli(t, [m.url], SLOW)
  const me = keyFile(t)
  const posted = await customer([m.url], me.file, ['job', 'post', '--kind', '5100', 'interrupted'])
  t.equal(posted.code, 0, posted.stderr)
  const job = posted.stdout.trim()
  await first.waitForLine(new RegExp(`job ${job.slice(0, 8)} \\(kind 5100\\) processing`), 0, 90_000)
  await first.stop('SIGKILL')
  const second = await startAgentCli(t, [m.url], SLOW, {
    key: { file: first.key, pubkey: first.pubkey, dir: first.dir },
  })
  await second.waitForLine(new RegExp(`job ${job.slice(0, 8)} delivered`), 0, 180_000)
  const ledger = await ledgerWhen(m, job, 'delivered')
  t.equal(tag(ledger, 'provider'), first.pubkey, 'the restarted agent delivered the job it had begun')
})

t.test('an agent stopped with SIGTERM finishes its job in flight and says so', async t => {
  const m = await startMarket(t)
  const agent = await startAgentCli(t, [m.url], SLOW)
  const me = keyFile(t)
  const posted = await customer([m.url], me.file, ['job', 'post', '--kind', '5100', 'finish me'])
  const job = posted.stdout.trim()
  await agent.waitForLine(new RegExp(`job ${job.slice(0, 8)} \\(kind 5100\\) processing`), 0, 90_000)
  const exit = await agent.stop('SIGTERM')
  t.equal(exit.code, 0, 'it exits 0 when every job in flight finished')
  t.match(agent.stderr(), /stopping: 1 job\(s\) in flight/)
  t.match(agent.stderr(), new RegExp(`job ${job.slice(0, 8)} delivered`))
  t.match(agent.stderr(), /stopped: 1 finished, 0 errored/)
})

t.test('both sides reconnect and finish the job when the relay restarts under them', async t => {
  const dir = tempDir(t)
  const { relay: first, port } = await startOnFixedPort(t, dir)
  const agent = await startAgentCli(t, [first.url], SLOW)
  const me = keyFile(t)
  const waiting = spawnCli(t, [
    'job',
    'post',
    '--kind',
    '5100',
    'across a restart',
    '--wait',
    '--timeout',
    '400',
    '--relay',
    first.url,
    '--key',
    me.file,
  ])
  const at = await agent.waitForLine(/\(kind 5100\) processing/, 0, 90_000)
  first.child.kill('SIGTERM')
  await first.exited
  const second = await startCli(t, dir, 120_000, port)
  const done = await waiting.exited
  t.equal(done.code, 0, waiting.stderr())
  t.equal(waiting.stdout(), 'ACROSS A RESTART\n', 'the customer got the result through the new relay process')
  t.ok(
    agent
      .lines()
      .slice(at)
      .some(l => /connected to/.test(l)),
    'the agent reconnected',
  )
  t.match(waiting.stderr(), /disconnected from .*retrying/, 'the customer saw the relay go and come back')
  const job = /job ([0-9a-f]{64}) posted/.exec(waiting.stderr())![1]!
  const c = await connectFor(t, second.url)
  const relayKey = readFileSync(join(dir, 'relay.key'), 'utf8').trim()
  await outputWhen(
    c,
    getPublicKey(hexToBytes(relayKey)),
    31118,
    job,
    e => tag(e, 'state') === 'delivered',
    'delivery',
    120_000,
  )
})

/**
 * A relay on a port below the ephemeral range, to start again on the same port: a port 0 picks is an ephemeral one,
 * which the clients' own reconnecting sockets can take (a TCP self-connect) while no relay listens on it.
 */
async function startOnFixedPort(t: Test, dir: string) {
  for (let tries = 0; ; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    try {
      return { relay: await startCli(t, dir, 120_000, port), port }
    } catch (err) {
      if (tries > 20 || !/cannot listen/.test((err as Error).message)) throw err
    }
  }
}
