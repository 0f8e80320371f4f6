// The keyset cache (market/keysets.ts): which mints it asks, once per keyset, and a failure not retried
// at once. The mint client is the pluggable interface; the HTTP one has its own tests.
import t from 'tap'
import { cachedKeysets } from '../../market/keysets.js'
import type { MintClient } from '../../market/mint-client.js'

function counting(fail = false) {
  const asked: string[] = []
  const client: Pick<MintClient, 'keyset' | 'info'> = {
    keyset: (mint, id) => {
      asked.push(`${mint} ${id}`)
      return fail
        ? Promise.reject(new Error('down'))
        : Promise.resolve({ id, unit: 'sat', keys: { '1': '02'.padEnd(66, 'a') } })
    },
    info: mint => {
      asked.push(`${mint} info`)
      return fail ? Promise.reject(new Error('down')) : Promise.resolve({ nuts: [7, 10, 11, 12] })
    },
  }
  return { client, asked }
}

t.test('only public domain names are asked, loopback only when allowed', async t => {
  const { client, asked } = counting()
  const cache = cachedKeysets(client, { allowLoopback: false })
  for (const mint of [
    'http://127.0.0.1:3338',
    'http://localhost',
    'http://10.0.0.5',
    'http://[::1]:8',
    'http://intranet',
  ])
    await cache.fetch(mint, '00aa')
  t.same(asked, [], 'no loopback, private IP or single-label host')
  await cache.fetch('https://mint.example.com', '00aa')
  t.same(asked, ['https://mint.example.com 00aa'])
  t.equal(cache.peek('https://mint.example.com', '00aa')?.unit, 'sat')
  await cache.fetch('https://mint.example.com', '00aa')
  t.equal(asked.length, 1, 'a keyset is fetched once')
  const loop = counting()
  await cachedKeysets(loop.client, { allowLoopback: true }).fetch('http://127.0.0.1:3338', '00aa')
  t.equal(loop.asked.length, 1, 'loopback when allowed')
})

t.test('a failed fetch is not retried for a minute', async t => {
  let now = 0
  const { client, asked } = counting(true)
  const cache = cachedKeysets(client, { allowLoopback: false, now: () => now })
  await cache.fetch('https://mint.example.com', '00aa')
  await cache.fetch('https://mint.example.com', '00aa')
  t.equal(asked.length, 1)
  t.equal(cache.peek('https://mint.example.com', '00aa'), undefined)
  now = 60_001
  await cache.fetch('https://mint.example.com', '00aa')
  t.equal(asked.length, 2)
})

t.test(
  "a mint's info is fetched once per mint, kept apart from its keysets, and never from a private host",
  async t => {
    const { client, asked } = counting()
    const cache = cachedKeysets(client, { allowLoopback: false })
    await cache.fetchInfo('http://192.168.1.2')
    t.same(asked, [], 'a private address is not asked')
    await cache.fetchInfo('https://mint.example.com')
    await cache.fetchInfo('https://mint.example.com')
    t.same(asked, ['https://mint.example.com info'], 'once')
    t.same(cache.peekInfo('https://mint.example.com'), { nuts: [7, 10, 11, 12] })
    t.equal(cache.peek('https://mint.example.com', 'info'), undefined, 'not mistaken for a keyset')
    const down = counting(true)
    const failing = cachedKeysets(down.client, { allowLoopback: false })
    await failing.fetchInfo('https://mint.example.com')
    t.equal(failing.peekInfo('https://mint.example.com'), undefined, 'a failed fetch leaves nothing')
  },
)
