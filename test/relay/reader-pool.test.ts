// Queries and counts on reader threads: the same answers as inline, the time budget enforced there, and
// over WebSocket a REQ that is live before its stored events are read, so events committed during the
// scan are neither lost nor sent twice.
import t from 'tap'
import { join } from 'node:path'
import WebSocket from 'ws'
import { bulkSigner } from '../../bench/bulk-sign.js'
import { idOfCanonical, isRejection } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { openQueries } from '../../relay/reader-pool.js'
import { QueryBudgetExceeded } from '../../relay/store/reader.js'
import { connectFor, putAll } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { openTestStore } from '../helpers/store.js'

const filter = (raw: Record<string, unknown>): CompiledFilter => {
  const f = compileFilter(raw, { maxValues: 500 })
  if (isRejection(f)) throw new Error(f.reason)
  return f
}

t.test('reader threads answer queries and counts as the inline reader does, and enforce the budget', async t => {
  const dir = tempDir(t)
  const store = openTestStore(dir)
  t.teardown(() => store.close())
  const at = now()
  const keys = Array.from({ length: 5 }, () => signer().pubkey)
  const events = bulkSigner().signAll(
    Array.from({ length: 300 }, (_, i) => ({
      kind: i % 3 === 0 ? 7000 : 1,
      created_at: at - (i % 50),
      tags: [['p', keys[i % 5]!]],
      content: `#${i}`,
    })),
  )
  for (const e of events) await store.save(e)
  const queries = await openQueries(join(dir, 'agora.sqlite'), 2, store.reader)
  t.teardown(() => queries.close())

  const shapes = [
    {},
    { kinds: [7000] },
    { '#p': [keys[0], keys[3]], kinds: [1] },
    { since: at - 10 },
    { ids: [events[7]!.id] },
  ]
  for (const raw of shapes) {
    const wanted = [{ filter: filter(raw), limit: 120 }]
    t.same(
      (await queries.query(wanted, at, 10_000)).map(idOfCanonical),
      store.reader.query(wanted, at, 10_000).map(r => r.id),
      `query ${JSON.stringify(raw)}`,
    )
    t.equal(
      await queries.count([filter(raw)], at),
      store.reader.count([filter(raw)], at),
      `count ${JSON.stringify(raw)}`,
    )
  }
  // With no time at all, a scan past its first rows gives up, and the caller can tell why.
  const over = await queries.query([{ filter: filter({}), limit: 300 }], at, 0).then(
    () => undefined,
    (err: unknown) => err,
  )
  t.ok(over instanceof QueryBudgetExceeded, 'a scan over budget rejects with QueryBudgetExceeded')
})

t.test('events committed while a REQ is being answered reach it exactly once, before or after EOSE', async t => {
  const { url } = await startTestRelay(t, { 'store.reader_threads': 2, 'store.writer_thread': true })
  const publisher = await connectFor(t, url)
  const at = now()
  const author = bulkSigner()
  // A stored base, so each REQ has a scan to do while the stream goes on.
  const base = author.signAll(
    Array.from({ length: 400 }, (_, i) => ({
      kind: 1,
      created_at: at - 1,
      tags: [['t', 'race']],
      content: `base ${i}`,
    })),
  )
  await putAll(publisher, ...base)
  const stream = author.signAll(
    Array.from({ length: 250 }, (_, i) => ({ kind: 1, created_at: at, tags: [['t', 'race']], content: `live ${i}` })),
  )

  const sub = new WebSocket(url)
  await new Promise(r => sub.once('open', r))
  t.teardown(() => sub.close())
  const seen = new Map<string, string[]>() // subscription id -> event ids in arrival order
  sub.on('message', data => {
    const m = JSON.parse(data.toString()) as unknown[]
    if (m[0] === 'EVENT') seen.get(m[1] as string)?.push((m[2] as { id: string }).id)
  })
  const subIds = Array.from({ length: 15 }, (_, i) => `race-${i}`)
  // REQs go out one every few milliseconds while the stream is published.
  const requests = (async () => {
    for (const id of subIds) {
      seen.set(id, [])
      sub.send(JSON.stringify(['REQ', id, { kinds: [1], '#t': ['race'], limit: 1000 }]))
      await new Promise(r => setTimeout(r, 5))
    }
  })()
  for (const e of stream) publisher.send(['EVENT', e])
  await Promise.all(stream.map(e => publisher.ok(e.id)))
  await requests

  const all = new Set([...base, ...stream].map(e => e.id))
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && subIds.some(id => new Set(seen.get(id)).size < all.size))
    await new Promise(r => setTimeout(r, 20))
  for (const id of subIds) {
    const got = seen.get(id)!
    t.equal(new Set(got).size, all.size, `${id}: every stored and streamed event arrived`)
    t.equal(got.length, new Set(got).size, `${id}: none arrived twice`)
  }
})
