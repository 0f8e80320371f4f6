import t from 'tap'
import { connectFor, putAll } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

// Duplicates are found by the writer, after the signature check (relay/protocol/on-event.ts): a burst mixing stored
// and new events must still answer each one right, in the order sent, and store each once.
const relay = await startTestRelay(t)
const a = signer()

t.test('a burst of stored and new events: each OK in send order, stored ones as duplicates', async t => {
  const c = await connectFor(t, relay.url)
  const old = Array.from({ length: 30 }, (_, i) => a.sign({ content: `old ${i}` }))
  await putAll(c, ...old)
  const fresh = Array.from({ length: 30 }, (_, i) => a.sign({ content: `new ${i}` }))
  const burst = old.flatMap((o, i) => [o, fresh[i]!])
  const oks: unknown[][] = []
  const all = Promise.all(burst.map(e => c.ok(e.id).then(m => oks.push(m))))
  for (const e of burst) c.send(['EVENT', e])
  await all
  t.same(
    oks.map(m => m[1]),
    burst.map(e => e.id),
    'answered in the order sent',
  )
  t.same(
    oks.map(m => [m[2], String(m[3]).split(':')[0]]),
    burst.map((_, i) => (i % 2 === 0 ? [true, 'duplicate'] : [true, ''])),
  )
  const { events } = await c.req('all', { authors: [a.pubkey], limit: 500 })
  t.equal(events.length, 60, 'each event stored once')
})

t.test('a stored id with a broken signature is refused as invalid and changes nothing', async t => {
  const c = await connectFor(t, relay.url)
  const e = a.sign({ content: 'signed once' })
  await putAll(c, e)
  const forged = { ...e, sig: e.sig.replace(/^./, e.sig[0] === '0' ? '1' : '0') }
  const ok = await c.publish(forged)
  t.same(ok.slice(2), [false, 'invalid: signature does not verify'])
  const { events } = await c.req('one', { ids: [e.id] })
  t.same(
    events.map(x => x.sig),
    [e.sig],
    'the stored copy is the original',
  )
})

t.test('one new event sent on two connections in the same turn is stored once', async t => {
  const [c1, c2] = await Promise.all([connectFor(t, relay.url), connectFor(t, relay.url)])
  const e = a.sign({ content: 'raced' })
  const [o1, o2] = await Promise.all([c1.publish(e), c2.publish(e)])
  t.same([o1[2], o2[2]], [true, true])
  const { events } = await c1.req('raced', { ids: [e.id] })
  t.equal(events.length, 1)
})
