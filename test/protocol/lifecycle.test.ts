import t from 'tap'
import { startRelay } from '../../relay/app.js'
import { rawClient } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { startTestRelay, tempDir, testConfig } from '../helpers/relay.js'

t.test('closing a relay twice is harmless and its data dir can be reopened', async t => {
  const dir = tempDir(t)
  const first = await startRelay(testConfig(dir))
  const c = await rawClient(first.url)
  const e = signer().sign({ content: 'kept' })
  t.equal((await c.publish(e))[2], true)
  await Promise.all([first.close(), first.close()])
  await first.close()
  const { url } = await startTestRelay(t, {}, dir)
  const again = await rawClient(url)
  t.teardown(() => again.close())
  t.same(
    (await again.req('s', { ids: [e.id] })).events.map(x => x.id),
    [e.id],
  )
})
