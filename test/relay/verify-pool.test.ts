import t from 'tap'
import { createVerifyPool } from '../../relay/verify-pool.js'
import { loadNative } from '../../relay/verifier.js'
import { rawClient } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

const native = loadNative()
const needsNative = native instanceof Error ? `native verifier not available: ${native.message}` : false
const s = signer()
const valid = Array.from({ length: 300 }, (_, i) => s.sign({ content: `pool ${i}` }))
const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1)
const forged = valid.slice(0, 50).map(e => ({ ...e, sig: flip(e.sig) }))

t.test('a pool of two workers accepts exactly the valid signatures of a mixed batch', async t => {
  const pool = await createVerifyPool('wasm', 2)
  t.teardown(() => pool.close())
  t.match(pool.name, /^wasm in 2 workers$/)
  const mixed = valid.flatMap((e, i) => (i < forged.length ? [e, forged[i]!] : [e]))
  const results = await Promise.all(mixed.map(e => pool.verify(e)))
  t.same(
    results,
    mixed.map(e => valid.includes(e)),
  )
})

t.test('the native backend runs in each of two workers', { skip: needsNative }, async t => {
  const pool = await createVerifyPool('native', 2)
  t.teardown(() => pool.close())
  t.equal(pool.name, 'native in 2 workers')
  const mixed = valid.flatMap((e, i) => (i < forged.length ? [forged[i]!, e] : [e]))
  t.same(
    await Promise.all(mixed.map(e => pool.verify(e))),
    mixed.map(e => valid.includes(e)),
  )
})

t.test('with no workers the pool checks inline and gives the same answers', async t => {
  const pool = await createVerifyPool('noble', 0)
  t.equal(pool.name, 'noble')
  t.same(await Promise.all([valid[0]!, forged[0]!].map(e => pool.verify(e))), [true, false])
})

t.test('a relay verifying in workers still writes one connection’s events in the order it sent them', async t => {
  const { url } = await startTestRelay(t, { 'verifier.workers': 2 })
  const c = await rawClient(url)
  t.teardown(() => c.close())
  // If the deletion reached the writer first, its tombstone would refuse the note it deletes.
  const pairs = Array.from({ length: 20 }, (_, i) => {
    const note = s.sign({ content: `to delete ${i}` })
    return [note, s.sign({ kind: 5, tags: [['e', note.id]] })] as const
  })
  for (const [note, del] of pairs) {
    c.send(['EVENT', note])
    c.send(['EVENT', del])
  }
  for (const [note, del] of pairs) {
    t.same(await c.ok(note.id), ['OK', note.id, true, ''])
    t.same(await c.ok(del.id), ['OK', del.id, true, ''])
  }
  const { events } = await c.req('gone', { ids: pairs.map(([note]) => note.id) })
  t.same(events, [], 'every note was stored, then deleted')
})
