// The market publisher on its own thread (the default when the relay runs threads): outputs are built
// and signed there, stored through the writer, and reach subscribers; a close publishes what is pending
// first. Standing is computed there too, and the writer only writes it.
import t from 'tap'
import { verifyEvent } from 'nostr-tools/pure'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { accepted, outputWhen, rebuildsTheSame, request, result, tag, trust } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'

t.test('a delivered job gets its ledger entry and the provider its assertion from the publisher thread', async t => {
  const { relay, url } = await startTestRelay(t, {
    'store.writer_thread': true,
    'market.publish_interval': 50,
    'market.assertion_interval': 0,
  })
  const c = await connectFor(t, url)
  const [customer, provider] = [signer(), signer()]
  const req = request(customer, { bid: 9_000 })
  await accepted(t, c, req, 'the request')
  await accepted(t, c, result(provider, req, { amount: 9_000 }), 'the result')
  const ledger = await outputWhen(c, relay.pubkey, 31118, req.id, e => tag(e, 'state') === 'delivered', 'ledger')
  t.ok(verifyEvent({ ...ledger }), 'signed by the relay key on the thread')
  t.equal(ledger.pubkey, relay.pubkey)
  t.equal(tag(ledger, 'provider'), provider.pubkey)
  const assertion = await outputWhen(
    c,
    relay.pubkey,
    30382,
    provider.pubkey,
    e => tag(e, 'jobs_delivered') === '1',
    'assertion',
  )
  t.ok(verifyEvent({ ...assertion }))
})

t.test("standing computed on the publisher's thread reaches the gates, the assertions and a rebuild", async t => {
  const [root, customer, provider] = [signer(), signer(), signer()]
  const m = await startTestRelay(t, {
    'store.writer_thread': true,
    'market.publish_interval': 50,
    'market.assertion_interval': 0,
    'market.standing_interval': 0,
    'market.trust_roots': [root.pubkey],
  })
  const c = await connectFor(t, m.url)
  const gated = request(signer(), { bid: 1_000, tags: [['min_reputation', '100']] })
  await accepted(t, c, gated, 'a request gated at 100')
  await accepted(t, c, trust(root, provider.pubkey), "the root's trust in the provider")
  await accepted(t, c, trust(customer, provider.pubkey), 'a trust declaration from a key without standing')
  // Both declarations folded, and standing computed after them: the assertion may first go out with only one.
  const trustInput = (e: NostrEvent) => e.tags.find(x => x[0] === 'input' && x[1] === 'trust')?.[3]
  const out = await outputWhen(
    c,
    m.relay.pubkey,
    30382,
    provider.pubkey,
    e => tag(e, 'score') === '100' && trustInput(e) === '2',
    'score 100 with both declarations',
  )
  t.same(
    out.tags.find(x => x[0] === 'input' && x[1] === 'trust'),
    ['input', 'trust', '1', '2'],
    'two declarations, one from a key with standing',
  )
  await accepted(t, c, result(provider, gated), 'the provider meets the gate, as the thread computed')
  await m.relay.close()
  rebuildsTheSame(t, m)
})

t.test('closing the relay publishes the outputs still waiting for their interval', async t => {
  const flags = { 'store.writer_thread': true, 'market.publish_interval': 60_000 }
  const first = await startTestRelay(t, flags)
  const c = await connectFor(t, first.url)
  const [customer, provider] = [signer(), signer()]
  const req = request(customer)
  await accepted(t, c, req, 'the request')
  await accepted(t, c, result(provider, req), 'the result')
  c.close()
  await first.relay.close()
  const again = await startTestRelay(t, flags, first.dataDir)
  const c2 = await connectFor(t, again.url)
  const ledger = await outputWhen(c2, first.relay.pubkey, 31118, req.id, () => true, 'the ledger stored at close')
  t.equal(tag(ledger, 'state'), 'delivered')
})
