// One relay per port: the relay listens with SO_REUSEPORT off, so a second one on the port fails at start with a
// message naming the port instead of sharing it.
import t from 'tap'
import { startRelay } from '../../relay/app.js'
import { runCli, startCli } from '../helpers/cli.js'
import { connectFor, putAll } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { START_MS } from '../helpers/instance.js'
import { freeLowPort } from '../helpers/ports.js'
import { startTestRelay, tempDir, testConfig } from '../helpers/relay.js'

t.setTimeout(300_000)

t.test('a second agora start on the same port fails naming the port, and the first keeps serving', async t => {
  const port = await freeLowPort()
  const first = await startCli(t, tempDir(t), START_MS, port)
  const second = await runCli(['start', '--port', String(port), '--data', tempDir(t), '--open'])
  t.equal(second.code, 1, 'the second exits with code 1')
  t.match(second.stderr, `agora: cannot listen on 127.0.0.1:${port}: the port is already in use (another relay?)`)
  t.notMatch(second.stdout, /listening/, 'it never says it listens')
  const c = await connectFor(t, first.url)
  await putAll(c, signer().sign({ content: 'the first relay still answers' }))
})

t.test('startRelay on a port in use rejects, and its data dir can be taken again at once', async t => {
  const { relay } = await startTestRelay(t)
  const dir = tempDir(t)
  await t.rejects(startRelay(testConfig(dir, { 'relay.port': relay.port })), {
    message: `cannot listen on 127.0.0.1:${relay.port}: the port is already in use (another relay?)`,
  })
  const again = await startTestRelay(t, {}, dir)
  t.not(again.relay.port, relay.port, 'a relay starts on the same data dir once the failed start gave it back')
})
