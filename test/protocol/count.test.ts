import t from 'tap'
import { randomBytes } from 'node:crypto'
import { connectFor, putAll as put, type Frame, type RawClient, type Teardown } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const { url } = await startTestRelay(t)

const connect = (tt: Teardown, to = url) => connectFor(tt, to)

/** Sends COUNT and returns the reply frame (COUNT or CLOSED) for its id. */
async function countFrame(c: RawClient, id: string, ...filters: unknown[]): Promise<Frame> {
  c.send(['COUNT', id, ...filters])
  return c.expect(m => (m[0] === 'COUNT' || m[0] === 'CLOSED') && m[1] === id)
}

async function count(c: RawClient, ...filters: unknown[]): Promise<unknown> {
  const m = await countFrame(c, `n-${randomBytes(4).toString('hex')}`, ...filters)
  if (m[0] === 'CLOSED') throw new Error(`COUNT refused: ${JSON.stringify(m)}`)
  return m[2]
}

const word = () => randomBytes(6).toString('hex')

t.test('COUNT with one filter returns {"count": n}', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  await put(c, ...[0, 1, 2].map(i => a.sign({ created_at: base + i })), signer().sign({ created_at: base }))
  const m = await countFrame(c, 'one', { authors: [a.pubkey] })
  t.same(m, ['COUNT', 'one', { count: 3 }])
})

t.test('COUNT of a filter nothing matches is 0', async t => {
  const c = await connect(t)
  t.same(await count(c, { authors: [signer().pubkey] }), { count: 0 })
})

t.test('COUNT ignores limit', async t => {
  const c = await connect(t)
  const a = signer()
  const base = now() - 100
  await put(c, ...[0, 1, 2].map(i => a.sign({ created_at: base + i })))
  t.same(await count(c, { authors: [a.pubkey], limit: 1 }), { count: 3 })
})

t.test('COUNT with several filters returns the distinct union', async t => {
  const c = await connect(t)
  const a = signer()
  const b = signer()
  const base = now() - 100
  const a1 = a.sign({ created_at: base + 3 })
  const a7 = a.sign({ kind: 7, created_at: base + 2 })
  const b1 = b.sign({ created_at: base + 1 })
  await put(c, a1, a7, b1, signer().sign({ created_at: base }))
  // a1 matches both filters and counts once: {a1, a7} ∪ {a1, b1} = 3.
  t.same(await count(c, { authors: [a.pubkey] }, { ids: [a1.id, b1.id] }), { count: 3 })
})

t.test('COUNT with an invalid filter is refused with CLOSED invalid:', async t => {
  const c = await connect(t)
  const a = signer()
  await put(c, a.sign())
  const bad = [{ kinds: ['1'] }, { ids: ['abc'] }, { '#e': ['not-hex'] }, { since: -1 }, { foo: 1 }, 'not an object']
  for (const f of bad) {
    const m = await countFrame(c, 'bad', { authors: [a.pubkey] }, f)
    t.equal(m[0], 'CLOSED', `${JSON.stringify(f)}: CLOSED`)
    t.match(m[2], /^invalid: /, `${JSON.stringify(f)}: invalid:`)
  }
  t.same(await count(c, { authors: [a.pubkey] }), { count: 1 }, 'the connection still answers COUNT')
})

t.test('COUNT honours tag filters', async t => {
  const c = await connect(t)
  const tag = word()
  const a = signer()
  await put(
    c,
    a.sign({ content: '1', tags: [['t', tag]] }),
    a.sign({ content: '2', tags: [['t', tag]] }),
    a.sign({ content: 'other tag', tags: [['t', word()]] }),
    a.sign({ content: 'second value only', tags: [['t', word(), tag]] }),
  )
  t.same(await count(c, { '#t': [tag] }), { count: 2 })
  t.same(await count(c, { '#t': [tag], kinds: [7] }), { count: 0 }, 'AND with kinds')
})

t.test('COUNT counts an event matching two values of one tag filter once', async t => {
  const c = await connect(t)
  const x = word()
  const y = word()
  await put(
    c,
    signer().sign({
      tags: [
        ['t', x],
        ['t', y],
      ],
    }),
  )
  t.same(await count(c, { '#t': [x, y] }), { count: 1 })
})

t.test('COUNT excludes expired events', async t => {
  const c = await connect(t)
  const a = signer()
  await put(
    c,
    a.sign({ content: 'stays', created_at: now() - 5 }),
    a.sign({ tags: [['expiration', String(now() + 2)]] }),
  )
  t.same(await count(c, { authors: [a.pubkey] }), { count: 2 }, 'counted before it expires')
  await sleep(3000)
  t.same(await count(c, { authors: [a.pubkey] }), { count: 1 }, 'not counted after')
})
