// One relay per data dir (relay/datadir-lock.ts): a second relay is refused naming the data dir and the pid that
// holds it, racing starts leave exactly one relay, and neither a SIGKILL nor a clean stop leaves the dir locked.
import t from 'tap'
import Database from 'better-sqlite3'
import { startRelay } from '../../relay/app.js'
import { lockDataDir, lockFile } from '../../relay/datadir-lock.js'
import { runCli, spawnCli, startCli } from '../helpers/cli.js'
import { connectFor, putAll } from '../helpers/client.js'
import { heldBy, inUse, START_MS } from '../helpers/instance.js'
import { signer } from '../helpers/events.js'
import { startTestRelay, tempDir, testConfig } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

t.setTimeout(300_000)

t.test('a second agora start on the same data dir is refused naming the data dir and the pid', async t => {
  const dir = tempDir(t)
  const first = await startCli(t, dir, START_MS)
  const second = await runCli(['start', '--port', '0', '--data', dir, '--open'])
  t.equal(second.code, 1, 'the second exits with code 1')
  t.match(second.stderr, heldBy(dir, first.child.pid!))
  t.notMatch(second.stdout, /listening/)
})

t.test('a second relay in the same process on the same data dir is refused', async t => {
  const { dataDir } = await startTestRelay(t)
  await t.rejects(startRelay(testConfig(dataDir)), { message: heldBy(dataDir, process.pid) })
})

t.test('relays started together on one data dir: exactly one listens, the others are refused', async t => {
  const dir = tempDir(t)
  const starts = [0, 1, 2].map(() => spawnCli(t, ['start', '--port', '0', '--data', dir, '--open']))
  let exited = 0
  for (const p of starts) void p.exited.then(() => exited++)
  const listening = () => starts.filter(p => /^listening /m.test(p.stdout()))
  await waitFor(() => listening().length + exited === starts.length, 'every start to listen or exit', START_MS)
  t.equal(listening().length, 1, 'one relay listens')
  for (const p of starts.filter(p => !listening().includes(p))) {
    t.equal((await p.exited).code, 1)
    t.match(p.stderr(), inUse(dir))
  }
})

t.test('a relay killed with SIGKILL does not block the next start on its data dir', async t => {
  const dir = tempDir(t)
  const first = await startCli(t, dir, START_MS)
  const e = signer().sign({ content: 'before the kill' })
  await putAll(await connectFor(t, first.url), e)
  first.child.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL')
  const second = await startCli(t, dir, START_MS)
  const c = await connectFor(t, second.url)
  t.same(
    (await c.req('s', { ids: [e.id] })).events.map(x => x.id),
    [e.id],
    'the second relay serves the store',
  )
})

t.test('a relay stopped cleanly frees its data dir and its lock names no holder', async t => {
  const dir = tempDir(t)
  const relay = await startCli(t, dir, START_MS)
  relay.child.kill('SIGTERM')
  t.equal((await relay.exited).code, 0)
  const db = new Database(lockFile(dir), { readonly: true })
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT pid FROM holder').all(), [], 'no holder row is left')
  const lock = lockDataDir(dir, 'test')
  lock.release()
  t.pass('the data dir can be taken')
})

t.test('relay.close() frees the data dir for the next relay in the same process', async t => {
  const dir = tempDir(t)
  const first = await startRelay(testConfig(dir))
  await first.close()
  const lock = lockDataDir(dir, 'test')
  lock.release()
  const again = await startTestRelay(t, {}, dir)
  t.ok(again.relay.port > 0, 'a relay starts on it again')
})
