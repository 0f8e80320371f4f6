import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ClientError } from '../../client/errors.js'
import { bitsFromRefusal, fetchRelayInfo, powRules, readRelayInfo } from '../../client/nip11.js'
import { freeLowPort } from '../helpers/ports.js'
import { startTestRelay } from '../helpers/relay.js'

const AGORA_DEFAULTS = {
  pow_by_kind: [
    { kinds: '5000-5999', bits: 10 },
    { kinds: '0', bits: 20 },
    { kinds: '1', bits: 20 },
    { kinds: '3', bits: 20 },
  ],
  limitation: { min_pow_difficulty: 20 },
}

t.test('powRules reads pow_by_kind in order and ignores entries it cannot read', async t => {
  t.same(powRules(AGORA_DEFAULTS), [
    { lo: 5000, hi: 5999, bits: 10 },
    { lo: 0, hi: 0, bits: 20 },
    { lo: 1, hi: 1, bits: 20 },
    { lo: 3, hi: 3, bits: 20 },
  ])
  const messy = { pow_by_kind: [{ kinds: '*', bits: 2 }, { kinds: 'abc', bits: 5 }, { kinds: '7', bits: 'x' }, 'junk'] }
  t.same(powRules(messy), [{ lo: 0, hi: 65535, bits: 2 }], '"*" is every kind; unreadable entries are skipped')
})

t.test('with pow_by_kind the first matching entry wins and a 0-bit entry exempts its kinds', async t => {
  const cases: [string, Record<string, unknown>, [number, number][]][] = [
    [
      'agora defaults',
      AGORA_DEFAULTS,
      [
        [5100, 10],
        [1, 20],
        [0, 20],
        [7000, 0],
        [6000, 0],
      ],
    ],
    [
      'a narrow rule before a wide one',
      {
        pow_by_kind: [
          { kinds: '5100', bits: 4 },
          { kinds: '5000-5999', bits: 8 },
          { kinds: '*', bits: 2 },
        ],
      },
      [
        [5100, 4],
        [5200, 8],
        [7000, 2],
      ],
    ],
    [
      'a 0-bit entry first',
      {
        pow_by_kind: [
          { kinds: '5050', bits: 0 },
          { kinds: '5000-5999', bits: 10 },
        ],
      },
      [
        [5050, 0],
        [5051, 10],
      ],
    ],
    [
      'an empty list overrides min_pow_difficulty',
      { pow_by_kind: [], limitation: { min_pow_difficulty: 20 } },
      [
        [1, 0],
        [5100, 0],
      ],
    ],
  ]
  for (const [name, doc, expect] of cases) {
    const info = readRelayInfo('ws://relay', doc)
    t.same(
      expect.map(([kind]) => [kind, info.powFor(kind)]),
      expect,
      name,
    )
  }
})

t.test('without pow_by_kind min_pow_difficulty applies to every kind, and with neither nothing is mined', async t => {
  const onlyMin = readRelayInfo('ws://relay', { limitation: { min_pow_difficulty: 16 } })
  t.same(
    [0, 1, 5100, 65535].map(k => onlyMin.powFor(k)),
    [16, 16, 16, 16],
    'only min_pow_difficulty',
  )
  t.same(powRules({ limitation: { min_pow_difficulty: 0 } }), [], 'a zero minimum is no rule')
  const neither = readRelayInfo('ws://relay', { name: 'plain' })
  t.same(
    [0, 1, 5100].map(k => neither.powFor(k)),
    [0, 0, 0],
    'neither field',
  )
})

t.test('readRelayInfo takes the key from self, else pubkey, and the supported NIPs', async t => {
  t.equal(readRelayInfo('ws://r', { self: 'a'.repeat(64), pubkey: 'b'.repeat(64) }).pubkey, 'a'.repeat(64))
  t.equal(readRelayInfo('ws://r', { pubkey: 'b'.repeat(64) }).pubkey, 'b'.repeat(64))
  t.equal(readRelayInfo('ws://r', { pubkey: 7 }).pubkey, undefined, 'a key that is no string is none')
  t.same(readRelayInfo('ws://r', { supported_nips: [1, 11, 42] }).supportedNips, [1, 11, 42])
  t.same(readRelayInfo('ws://r', { supported_nips: 'all' }).supportedNips, [])
})

t.test('bitsFromRefusal reads the bits a pow: refusal names, and nothing from other messages', async t => {
  const cases: [string, number | undefined][] = [
    ['pow: kind 5100 needs 10 bits committed in a nonce tag, event has 0', 10],
    ['pow: kind 1 needs 20 bits committed in a nonce tag, event has 19', 20],
    ['pow: difficulty too low', undefined],
    ['blocked: needs 10 bits', undefined],
    ['rate-limited: slow down', undefined],
    ['', undefined],
  ]
  for (const [message, bits] of cases) t.equal(bitsFromRefusal(message), bits, message || '(empty)')
})

t.test('fetchRelayInfo reads an agora relay over HTTP from its ws:// URL', async t => {
  const { url, relay } = await startTestRelay(t, { 'policies.open': false, 'policies.pow.rules': ['5000-5999:7'] })
  const info = await fetchRelayInfo(url)
  t.equal(info.url, url)
  t.equal(info.pubkey, relay.pubkey, 'the relay key from self')
  t.ok(info.supportedNips.includes(11))
  t.equal(info.powFor(5100), 7)
})

t.test('fetchRelayInfo says why a document cannot be read', async t => {
  const down = `ws://127.0.0.1:${await freeLowPort()}`
  await t.rejects(fetchRelayInfo(down), new ClientError(`cannot read ${down}'s NIP-11 document: ECONNREFUSED`))
  const bodies: Record<string, [number, string]> = {
    '/missing': [404, 'not found'],
    '/html': [200, '<html></html>'],
    '/list': [200, '[1, 2]'],
  }
  const server = createServer((req, res) => {
    const [status, body] = bodies[req.url ?? ''] ?? [500, '']
    res.writeHead(status).end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  await t.rejects(fetchRelayInfo(`${base}/missing`), { name: 'ClientError', message: /document: HTTP 404$/ })
  await t.rejects(fetchRelayInfo(`${base}/html`), { name: 'ClientError', message: /NIP-11 document: .*JSON/ })
  await t.rejects(fetchRelayInfo(`${base}/list`), { name: 'ClientError', message: /document: not a JSON object$/ })
})
