// Lightning address -> zap-receipt signer (DESIGN §7.4): the HTTP resolver against a loopback LNURL server,
// and the cache the relay's synchronous checks read.
import t from 'tap'
import { verifyEvent } from 'nostr-tools/pure'
import { cachedResolver, httpLnurlResolver, parseLud16, type LnurlResolver } from '../../market/lnurl.js'
import { checkZapReceipt } from '../../nips/nip57.js'
import { signer } from '../helpers/events.js'
import { startLnurlServer, type LnurlUser } from '../helpers/lnurl.js'

// Answers on loopback get a budget no busy machine exceeds; only the hanging endpoint meets the short one.
const TIMEOUT = 300
const KEY = 'a'.repeat(64)
const http = httpLnurlResolver({ timeoutMs: 30_000, allowLoopback: true })

async function serve(t: { teardown(fn: () => unknown): void }, users: Record<string, LnurlUser> = { alice: {} }) {
  const server = await startLnurlServer(users)
  t.teardown(() => server.close())
  return server
}

/** A resolver stub that counts its calls and answers from a queue (a function per call). */
function stub(...answers: (() => Promise<string | undefined>)[]) {
  const calls: string[] = []
  const resolver: LnurlResolver = lud16 => {
    calls.push(lud16)
    return (answers.shift() ?? (() => Promise.resolve(KEY)))()
  }
  return { calls, resolver }
}

/** A clock the test moves by hand. */
function clock() {
  const c = { t: 1_000, now: () => c.t }
  return c
}

t.test('parseLud16 maps an address to its well-known URL: https, http only on loopback', async t => {
  const vectors: [string, string][] = [
    ['alice@example.com', 'https://example.com/.well-known/lnurlp/alice'],
    ['bob+tips@pay.sub.example.com', 'https://pay.sub.example.com/.well-known/lnurlp/bob+tips'],
    ['a-b_c.d@Example.COM', 'https://example.com/.well-known/lnurlp/a-b_c.d'],
    ['carol@127.0.0.1:8080', 'http://127.0.0.1:8080/.well-known/lnurlp/carol'],
    ['carol@localhost', 'http://localhost/.well-known/lnurlp/carol'],
    ['carol@[::1]:9', 'http://[::1]:9/.well-known/lnurlp/carol'],
  ]
  for (const [address, url] of vectors) t.equal(parseLud16(address, true), url, address)
  // A public relay refuses loopback addresses: a provider could otherwise point it at its own ports.
  for (const [address, url] of vectors)
    t.equal(parseLud16(address), url.startsWith('http:') ? undefined : url, `${address} without loopback`)
})

const MALFORMED = [
  '',
  'alice',
  'alice@',
  '@example.com',
  'Alice@example.com',
  'al ice@example.com',
  'alice@@example.com',
  'alice@bob@example.com',
  'alice/../x@example.com',
  '..@example.com',
  '.@example.com',
  'alice%2f@example.com',
  'alice@example',
  'alice@exa_mple.com',
  'alice@-example.com',
  'alice@example..com',
  'alice@example.com:8080',
  'alice@example.com/path',
  'alice@example.com?x=1',
  'alice@1.2.3.4',
  'alice@10.0.0.1:80',
  'alice@[::2]',
  'alice@127.0.0.1:0',
  'alice@127.0.0.1:70000',
  'alice@127.0.0.1:',
  'alice@localhost.evil.com:80',
  `${'a'.repeat(65)}@example.com`,
]

t.test('parseLud16 refuses what is not a LUD-16 address', async t => {
  for (const address of MALFORMED) t.equal(parseLud16(address, true), undefined, JSON.stringify(address))
})

t.test('resolves a loopback address to the nostrPubkey its endpoint declares', async t => {
  const server = await serve(t)
  t.equal(await http(server.address('alice')), server.pubkey)
  t.equal(server.hits('alice'), 1)
})

t.test('a receipt signed by the resolved key passes the zap receipt check', async t => {
  const server = await serve(t)
  const key = await http(server.address('alice'))
  const zap = server.zapFor({ relayPubkey: signer().pubkey, sender: signer(), msats: 21_000 })
  const proof = checkZapReceipt(zap.receipt, { signers: new Set([key!]), verify: verifyEvent })
  t.equal('msats' in proof && proof.msats, 21_000n)
})

t.test('an endpoint that does not allow nostr resolves to undefined', async t => {
  const server = await serve(t, {
    missing: { allowsNostr: null },
    no: { allowsNostr: false },
    text: { allowsNostr: 'true' },
  })
  for (const name of ['missing', 'no', 'text']) t.equal(await http(server.address(name)), undefined, name)
})

t.test('an endpoint without a valid 64-lowercase-hex nostrPubkey resolves to undefined', async t => {
  const bad = { none: null, upper: KEY.toUpperCase(), short: KEY.slice(1), long: KEY + 'a', npub: 'npub1' + KEY }
  const server = await serve(
    t,
    Object.fromEntries(Object.entries(bad).map(([name, key]) => [name, { nostrPubkey: key }])),
  )
  for (const name of Object.keys(bad)) t.equal(await http(server.address(name)), undefined, name)
})

t.test('an answer that is not a pay request resolves to undefined', async t => {
  const server = await serve(t, { withdraw: { extra: { tag: 'withdrawRequest' } }, list: { body: '[1]' } })
  t.equal(await http(server.address('withdraw')), undefined)
  t.equal(await http(server.address('list')), undefined)
})

t.test('an HTTP 500 fails with the status in the message', async t => {
  const server = await serve(t, { broken: { status: 500 } })
  await t.rejects(
    http(server.address('broken')),
    /lnurl: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/lnurlp\/broken answered HTTP 500/,
  )
})

t.test('an unknown name (404) fails', async t => {
  const server = await serve(t)
  await t.rejects(http(server.address('nobody')), /answered HTTP 404/)
})

t.test('an LUD-06 ERROR answer fails with its reason', async t => {
  const server = await serve(t, { err: { extra: { status: 'ERROR', reason: 'account closed' } } })
  await t.rejects(http(server.address('err')), /answered ERROR: account closed/)
})

t.test('a body that is not JSON fails', async t => {
  const server = await serve(t, { html: { body: '<html>hi</html>' } })
  await t.rejects(http(server.address('html')), /did not answer JSON/)
})

t.test('an oversized body fails without being read whole', async t => {
  const server = await serve(t, { huge: { body: ' '.repeat(1024 * 1024) } })
  await t.rejects(http(server.address('huge')), /answered more than 65536 bytes/)
})

t.test('an endpoint that never answers fails within the timeout budget', async t => {
  const server = await serve(t, { sleepy: { hang: true } })
  const started = Date.now()
  const short = httpLnurlResolver({ timeoutMs: TIMEOUT, allowLoopback: true })
  await t.rejects(short(server.address('sleepy')), new RegExp(`did not answer within ${TIMEOUT} ms`))
  const took = Date.now() - started
  t.ok(took >= TIMEOUT - 50 && took < 30_000, `gave up after its budget, not at the hanging server's pace (${took} ms)`)
  t.equal(server.hits('sleepy'), 1)
})

t.test('an unreachable endpoint fails', async t => {
  const server = await startLnurlServer({ alice: {} })
  const address = server.address('alice')
  await server.close()
  await t.rejects(http(address), /unreachable/)
})

t.test('malformed addresses are refused without any request', async t => {
  const server = await serve(t)
  const port = server.url.split(':').pop()
  for (const address of [
    ...MALFORMED,
    `Alice@127.0.0.1:${port}`,
    `../x@127.0.0.1:${port}`,
    `alice@127.0.0.1:${port}/x`,
  ])
    await t.rejects(http(address), /is not a lightning address/, JSON.stringify(address))
  t.equal(server.hits(), 0)
})

t.test('cache: two resolves of one address make one request', async t => {
  const server = await serve(t)
  const cache = cachedResolver(http, { ttlMs: 60_000, failTtlMs: 5_000 })
  t.equal(await cache.resolve(server.address('alice')), server.pubkey)
  t.equal(await cache.resolve(server.address('alice')), server.pubkey)
  t.equal(server.hits('alice'), 1)
})

t.test('cache: concurrent resolves of one address share one request', async t => {
  const server = await serve(t)
  const cache = cachedResolver(http, { ttlMs: 60_000, failTtlMs: 5_000 })
  const keys = await Promise.all([1, 2, 3, 4, 5].map(() => cache.resolve(server.address('alice'))))
  t.strictSame(keys, Array(5).fill(server.pubkey))
  t.equal(server.hits('alice'), 1)
})

t.test('cache: different addresses are resolved separately', async t => {
  const { calls, resolver } = stub()
  const cache = cachedResolver(resolver, { ttlMs: 60_000, failTtlMs: 5_000 })
  await Promise.all([cache.resolve('a@example.com'), cache.resolve('b@example.com'), cache.resolve('a@example.com')])
  t.strictSame(calls, ['a@example.com', 'b@example.com'])
})

t.test('cache: an answer expires after ttlMs', async t => {
  const c = clock()
  const { calls, resolver } = stub()
  const cache = cachedResolver(resolver, { ttlMs: 60_000, failTtlMs: 5_000, now: c.now })
  await cache.resolve('a@example.com')
  c.t += 59_999
  await cache.resolve('a@example.com')
  t.equal(calls.length, 1, 'still fresh 1 ms before ttl')
  c.t += 1
  t.equal(cache.peek('a@example.com'), undefined, 'peek sees the expiry')
  await cache.resolve('a@example.com')
  t.equal(calls.length, 2, 'asked again at ttl')
})

t.test('cache: a failure is kept for failTtlMs, rethrown without a request, then retried', async t => {
  const c = clock()
  const server = await serve(t, { alice: { status: 500 } })
  const cache = cachedResolver(http, { ttlMs: 60_000, failTtlMs: 5_000, now: c.now })
  const address = server.address('alice')
  await t.rejects(cache.resolve(address), /HTTP 500/)
  server.setUser('alice', {})
  c.t += 4_999
  await t.rejects(cache.resolve(address), /HTTP 500/, 'the cached failure')
  t.equal(server.hits('alice'), 1)
  c.t += 1
  t.equal(await cache.resolve(address), server.pubkey)
  t.equal(server.hits('alice'), 2)
})

t.test('cache: a keyless answer is kept for failTtlMs, not ttlMs', async t => {
  const c = clock()
  const { calls, resolver } = stub(() => Promise.resolve(undefined))
  const cache = cachedResolver(resolver, { ttlMs: 60_000, failTtlMs: 5_000, now: c.now })
  t.equal(await cache.resolve('a@example.com'), undefined)
  c.t += 4_999
  t.equal(await cache.resolve('a@example.com'), undefined)
  t.equal(calls.length, 1)
  c.t += 1
  t.equal(await cache.resolve('a@example.com'), KEY)
  t.equal(calls.length, 2)
})

t.test('cache: a resolver that throws synchronously is a cached failure', async t => {
  let calls = 0
  const cache = cachedResolver(
    () => {
      calls++
      throw new Error('boom')
    },
    { ttlMs: 60_000, failTtlMs: 5_000 },
  )
  await t.rejects(cache.resolve('a@example.com'), /boom/)
  await t.rejects(cache.resolve('a@example.com'), /boom/)
  t.equal(calls, 1)
})

t.test('peek returns nothing before resolution and while in flight, and the key after', async t => {
  const server = await serve(t)
  const cache = cachedResolver(http, { ttlMs: 60_000, failTtlMs: 5_000 })
  const address = server.address('alice')
  t.equal(cache.peek(address), undefined, 'before')
  const pending = cache.resolve(address)
  t.equal(cache.peek(address), undefined, 'in flight')
  await pending
  t.equal(cache.peek(address), server.pubkey, 'after')
  t.equal(server.hits('alice'), 1, 'peek makes no request')
})

t.test('peek returns nothing for a cached failure', async t => {
  const { resolver } = stub(() => Promise.reject(new Error('down')))
  const cache = cachedResolver(resolver, { ttlMs: 60_000, failTtlMs: 5_000 })
  await t.rejects(cache.resolve('a@example.com'))
  t.equal(cache.peek('a@example.com'), undefined)
})

t.test('cache: past maxEntries the oldest address is dropped', async t => {
  const { calls, resolver } = stub()
  const cache = cachedResolver(resolver, { ttlMs: 60_000, failTtlMs: 5_000, maxEntries: 2 })
  for (const a of ['a@x.com', 'b@x.com', 'c@x.com']) await cache.resolve(a)
  t.strictSame(
    ['a@x.com', 'b@x.com', 'c@x.com'].map(a => cache.peek(a)),
    [undefined, KEY, KEY],
  )
  t.equal(calls.length, 3)
})
