import t from 'tap'
import type { NostrEvent } from '../../nips/nip01.js'
import { checkAuthEvent, ClientAuth, normaliseRelayUrl, type AuthExpect } from '../../nips/nip42.js'
import { signer } from '../helpers/events.js'

const NOW = 1_700_000_000
const alice = signer()
const expected: AuthExpect = {
  challenge: 'c0ffee',
  relayUrls: [normaliseRelayUrl('wss://relay.example.com')],
  now: NOW,
  window: 600,
}

/** A signed AUTH event with the expected challenge and relay unless overridden. */
function auth(p: { kind?: number; created_at?: number; tags?: string[][] } = {}): NostrEvent {
  return alice.sign({
    kind: ClientAuth,
    created_at: NOW,
    tags: [
      ['relay', 'wss://relay.example.com'],
      ['challenge', 'c0ffee'],
    ],
    ...p,
  })
}

t.test(
  'checkAuthEvent accepts a kind-22242 event with the challenge, the relay URL and a fresh created_at',
  async t => {
    t.equal(checkAuthEvent(auth(), expected), undefined)
  },
)

t.test('checkAuthEvent refuses each wrong field with invalid: and a reason naming it', async t => {
  const cases: [string, NostrEvent, RegExp][] = [
    ['wrong kind', auth({ kind: 1 }), /^AUTH event must be kind 22242$/],
    ['missing challenge', auth({ tags: [['relay', 'wss://relay.example.com']] }), /challenge does not match/],
    [
      'wrong challenge',
      auth({
        tags: [
          ['relay', 'wss://relay.example.com'],
          ['challenge', 'c0ffef'],
        ],
      }),
      /challenge does not match/,
    ],
    [
      'missing relay',
      auth({ tags: [['challenge', 'c0ffee']] }),
      /relay tag must name this relay \(relay\.example\.com\)/,
    ],
    [
      'another relay',
      auth({
        tags: [
          ['relay', 'wss://other.example.com'],
          ['challenge', 'c0ffee'],
        ],
      }),
      /relay tag must name this relay/,
    ],
    [
      'unparseable relay',
      auth({
        tags: [
          ['relay', 'relay.example.com'],
          ['challenge', 'c0ffee'],
        ],
      }),
      /relay tag must name this relay/,
    ],
    ['created_at too old', auth({ created_at: NOW - 601 }), /created_at must be within 600 seconds of now/],
    ['created_at too new', auth({ created_at: NOW + 601 }), /created_at must be within 600 seconds of now/],
  ]
  for (const [name, e, re] of cases) {
    const r = checkAuthEvent(e, expected)
    t.equal(r?.prefix, 'invalid', name)
    t.match(r?.reason, re, name)
  }
})

t.test('checkAuthEvent accepts created_at exactly at either edge of the window', async t => {
  t.equal(checkAuthEvent(auth({ created_at: NOW - 600 }), expected), undefined)
  t.equal(checkAuthEvent(auth({ created_at: NOW + 600 }), expected), undefined)
})

t.test('checkAuthEvent accepts the relay URL spelled with ws, a trailing slash or upper case', async t => {
  for (const url of [
    'ws://relay.example.com',
    'wss://relay.example.com/',
    'WSS://Relay.Example.COM',
    ' wss://relay.example.com ',
  ]) {
    const e = auth({
      tags: [
        ['relay', url],
        ['challenge', 'c0ffee'],
      ],
    })
    t.equal(checkAuthEvent(e, expected), undefined, url)
  }
})

t.test('checkAuthEvent accepts any of several relay URLs', async t => {
  const e = auth({
    tags: [
      ['relay', 'ws://127.0.0.1:7777'],
      ['challenge', 'c0ffee'],
    ],
  })
  t.equal(checkAuthEvent(e, { ...expected, relayUrls: ['relay.example.com', '127.0.0.1:7777'] }), undefined)
})

t.test('normaliseRelayUrl drops the scheme, lowercases the host and strips trailing slashes', async t => {
  const cases: [string, string][] = [
    ['wss://relay.example.com', 'relay.example.com'],
    ['ws://relay.example.com', 'relay.example.com'],
    ['wss://relay.example.com/', 'relay.example.com'],
    ['wss://relay.example.com///', 'relay.example.com'],
    ['WSS://RELAY.Example.com', 'relay.example.com'],
    ['ws://127.0.0.1:7777', '127.0.0.1:7777'],
    ['ws://127.0.0.1:7777/', '127.0.0.1:7777'],
    ['wss://relay.example.com/nostr/', 'relay.example.com/nostr'],
    ['wss://relay.example.com/Nostr', 'relay.example.com/Nostr'],
    ['  wss://relay.example.com  ', 'relay.example.com'],
  ]
  for (const [url, want] of cases) t.equal(normaliseRelayUrl(url), want, url)
})

t.test('normaliseRelayUrl gives "" for text that is not a URL', async t => {
  for (const url of ['', 'relay.example.com', '://x', 'wss://']) t.equal(normaliseRelayUrl(url), '', url)
})
