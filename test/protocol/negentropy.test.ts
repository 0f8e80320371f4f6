// NIP-77 on the relay: nostr-tools' own sync client reconciles against it and learns exactly the difference, frames
// stay within the relay's message limit, sessions live on reader threads, and every refusal is a NEG-ERR with its
// prefix that leaves the session closed.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nip77 } from 'nostr-tools'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { connectFor, putAll, type Frame, type RawClient } from '../helpers/client.js'
import { fastSigner, now } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

const { Negentropy, NegentropyStorageVector, NegentropySync } = nip77
// Node 20 has no global WebSocket: nostr-tools is given `ws`.
useWebSocketImplementation(WebSocket)

type Pair = readonly [number, string]

function vector(pairs: readonly Pair[]) {
  const v = new NegentropyStorageVector()
  for (const [ts, id] of pairs) v.insert(ts, id)
  v.seal()
  return v
}

/** `n` events of one author over a few seconds, so many share a timestamp and their ids decide the order. */
function events(n: number, kind = 1) {
  const author = fastSigner()
  const t0 = now() - 1000
  return Array.from({ length: n }, (_, i) => author.sign({ kind, created_at: t0 + (i % 17), content: `event ${i}` }))
}

/** NEG-OPEN with nostr-tools' initiator; resolves with the first NEG-MSG or NEG-ERR frame for `subId`. */
function open(c: RawClient, subId: string, filter: unknown, hex: string): Promise<Frame> {
  c.send(['NEG-OPEN', subId, filter, hex])
  return c.expect(m => (m[0] === 'NEG-MSG' || m[0] === 'NEG-ERR') && m[1] === subId)
}

/** Runs a whole session over a raw client; returns have, need and the frames' largest length. */
async function reconcileRaw(c: RawClient, subId: string, filter: unknown, local: readonly Pair[], frameLimit = 60_000) {
  const neg = new Negentropy(vector(local), frameLimit)
  const have: string[] = []
  const need: string[] = []
  let largest = 0
  let rounds = 0
  let m = await open(c, subId, filter, neg.initiate())
  for (;;) {
    if (m[0] === 'NEG-ERR') throw new Error(`NEG-ERR ${String(m[2])}`)
    largest = Math.max(largest, JSON.stringify(m).length)
    rounds++
    const next = neg.reconcile(
      m[2] as string,
      id => have.push(id),
      id => need.push(id),
    )
    if (next === null) break
    c.send(['NEG-MSG', subId, next])
    m = await c.expect(f => (f[0] === 'NEG-MSG' || f[0] === 'NEG-ERR') && f[1] === subId)
  }
  c.send(['NEG-CLOSE', subId])
  return { have: have.sort(), need: need.sort(), largest, rounds }
}

const randomIds = (n: number, ts: number): Pair[] =>
  Array.from({ length: n }, () => [ts, randomBytes(32).toString('hex')] as const)

t.test('nostr-tools’ NegentropySync against the relay: have and need are exactly the difference', async t => {
  const { url } = await startTestRelay(t)
  const c = await connectFor(t, url)
  const stored = events(600)
  await putAll(c, ...stored)
  const info = (await (
    await fetch(url.replace('ws', 'http'), { headers: { Accept: 'application/nostr+json' } })
  ).json()) as {
    supported_nips: number[]
  }
  t.ok(info.supported_nips.includes(77), 'NIP-11 lists 77')
  // The client knows 500 of the relay's events and 40 of its own.
  const known = stored.slice(100).map(e => [e.created_at, e.id] as const)
  const mine = randomIds(40, now() - 5000)
  const have: string[] = []
  const need: string[] = []
  const ntRelay = await Relay.connect(url)
  t.teardown(() => ntRelay.close())
  let done!: (reason?: string) => void
  const finished = new Promise<string | undefined>(r => (done = r))
  const sync = new NegentropySync(
    ntRelay,
    vector([...known, ...mine]),
    { kinds: [1] },
    {
      onhave: id => have.push(id),
      onneed: id => need.push(id),
      onclose: reason => done(reason),
    },
  )
  await sync.start()
  t.equal(await finished, undefined, 'the session ended without an error')
  t.same(
    need.sort(),
    stored
      .slice(0, 100)
      .map(e => e.id)
      .sort(),
    'needs: the 100 events only the relay has',
  )
  t.same(have.sort(), mine.map(([, id]) => id).sort(), 'haves: the 40 ids only the client has')
})

t.test('small frames: many rounds, no frame past max_message_length, the same answer', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_message_length': 9000 })
  const c = await connectFor(t, url)
  const stored = events(3000)
  for (let i = 0; i < stored.length; i += 500) await putAll(c, ...stored.slice(i, i + 500))
  const known = stored.filter((_, i) => i % 10 !== 0).map(e => [e.created_at, e.id] as const)
  const mine = randomIds(150, now() - 3000)
  // The client's frames must fit too: 4 KB of binary (nostr-tools' least) is 8 KB of hex.
  const r = await reconcileRaw(c, 'small', { kinds: [1] }, [...known, ...mine], 4096)
  t.same(
    r.need,
    stored
      .filter((_, i) => i % 10 === 0)
      .map(e => e.id)
      .sort(),
  )
  t.same(r.have, mine.map(([, id]) => id).sort())
  t.ok(r.rounds > 2, `${r.rounds} rounds`)
  t.ok(r.largest <= 9000, `largest frame ${r.largest} bytes`)
})

t.test(
  'sessions on reader threads: two at once on one connection, each answered by the reader holding its set',
  async t => {
    const { url } = await startTestRelay(t, { 'store.reader_threads': 2 })
    const c = await connectFor(t, url)
    const ones = events(400, 1)
    const sevens = events(300, 7)
    await putAll(c, ...ones, ...sevens)
    const [a, b] = await Promise.all([
      reconcileRaw(
        c,
        'a',
        { kinds: [1] },
        ones.slice(50).map(e => [e.created_at, e.id] as const),
      ),
      reconcileRaw(
        c,
        'b',
        { kinds: [7] },
        sevens.slice(0, 250).map(e => [e.created_at, e.id] as const),
      ),
    ])
    t.same(
      a.need,
      ones
        .slice(0, 50)
        .map(e => e.id)
        .sort(),
    )
    t.same(
      b.need,
      sevens
        .slice(250)
        .map(e => e.id)
        .sort(),
    )
    t.same([a.have, b.have], [[], []])
  },
)

t.test('a list of filters (as NDK’s sync sends) is reconciled as their union', async t => {
  const { url } = await startTestRelay(t)
  const c = await connectFor(t, url)
  const ones = events(50, 1)
  const sevens = events(40, 7)
  const thirties = events(30, 30)
  await putAll(c, ...ones, ...sevens, ...thirties)
  const r = await reconcileRaw(c, 'union', [{ kinds: [1] }, { kinds: [7] }], [])
  t.same(r.need, [...ones, ...sevens].map(e => e.id).sort(), 'kinds 1 and 7, not 30')
  const none = await open(c, 'none', [], new Negentropy(vector([])).initiate())
  t.match(String(none[2]), /^invalid: NEG-OPEN takes one filter, or a list of 1 to 10/)
})

t.test('refusals are NEG-ERR with their prefix, and end the session', async t => {
  const { url } = await startTestRelay(t, {
    'limits.max_negentropy_sessions': 2,
    'limits.max_negentropy_records': 50,
    'limits.negentropy_idle_timeout': 1,
  })
  const c = await connectFor(t, url)
  const stored = events(60)
  await putAll(c, ...stored)
  const init = new Negentropy(vector([])).initiate()
  const reason = (m: Frame) => (m[0] === 'NEG-ERR' ? String(m[2]) : `not refused: ${JSON.stringify(m).slice(0, 80)}`)

  t.match(reason(await open(c, 'big', { kinds: [1] }, init)), /^blocked: more than 50 events match/)
  t.match(reason(await open(c, 'hex', { kinds: [1] }, 'zz')), /^invalid: NEG-OPEN takes/)
  t.match(reason(await open(c, 'filter', { kinds: 'one' }, init)), /^invalid: /)
  t.match(reason(await open(c, 'garbled', { kinds: [1], since: now() }, '61ffff')), /^invalid: negentropy message/)
  c.send(['NEG-MSG', 'nobody', init])
  t.match(reason(await c.expect(m => m[1] === 'nobody')), /^closed: no open negentropy session/)

  // Two sessions fit; a third is refused until one is closed.
  const small = { kinds: [1], since: stored[0]!.created_at + 16 }
  t.equal((await open(c, 's1', small, init))[0], 'NEG-MSG')
  t.equal((await open(c, 's2', small, init))[0], 'NEG-MSG')
  t.match(reason(await open(c, 's3', small, init)), /^blocked: too many open negentropy sessions \(limit 2\)/)
  c.send(['NEG-CLOSE', 's1'])
  c.send(['NEG-MSG', 's1', init])
  t.match(reason(await c.expect(m => m[1] === 's1')), /^closed: /, 'a closed session is gone')
  t.equal((await open(c, 's3', small, init))[0], 'NEG-MSG', 'room for a new one')
  // A session left waiting is closed by the relay.
  t.match(reason(await c.expect(m => m[0] === 'NEG-ERR' && m[1] === 's2', 30_000)), /^closed: no message for 1 s/)

  // A limit makes the set the newest matches, as a REQ would send them.
  const newest = await reconcileRaw(c, 'limit', { kinds: [1], limit: 5 }, [])
  t.same(newest.need, (await c.req('newest', { kinds: [1], limit: 5 })).events.map(e => e.id).sort())
  // Another protocol version gets our version alone (NIP-77), not an error.
  const v2 = await open(c, 'v2', small, '62')
  t.same(v2, ['NEG-MSG', 'v2', '61'])
  const count = await c.req('count', { kinds: [1] })
  t.equal(count.events.length, 60, 'nothing stored changed')
})

t.test('policies: private kinds and scrape filters are refused as with COUNT', async t => {
  const { url } = await startTestRelay(t, {
    'policies.private_reads.enabled': true,
    'policies.private_reads.kinds': ['4'],
    'limits.allow_scrape': false,
  })
  const c = await connectFor(t, url)
  const init = new Negentropy(vector([])).initiate()
  const closed = await open(c, 'all', {}, init)
  t.match(String(closed[2]), /^restricted: filters must name/)
  const dm = await open(c, 'dm', { kinds: [4] }, init)
  t.match(String(dm[2]), /^restricted: NEG-OPEN is not available for private kinds/)
  t.equal((await open(c, 'notes', { kinds: [1] }, init))[0], 'NEG-MSG')
})
