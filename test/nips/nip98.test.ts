import t from 'tap'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent } from 'nostr-tools/pure'
import { isRejection, type NostrEvent } from '../../nips/nip01.js'
import { normaliseRelayUrl } from '../../nips/nip42.js'
import { checkHttpAuth, HttpAuth, parseAuthHeader, payloadHash, type HttpAuthExpect } from '../../nips/nip98.js'
import { signer } from '../helpers/events.js'

const NOW = 1_700_000_000
const BODY = '{"method":"supportedmethods","params":[]}'
const alice = signer()
const expected: HttpAuthExpect = {
  urls: [normaliseRelayUrl('wss://relay.example.com')],
  method: 'POST',
  payload: payloadHash(BODY),
  now: NOW,
  window: 60,
}

/** A signed kind-27235 event for the expected request unless overridden. */
function token(p: { kind?: number; created_at?: number; tags?: string[][] } = {}): NostrEvent {
  return alice.sign({
    kind: HttpAuth,
    created_at: NOW,
    tags: [
      ['u', 'https://relay.example.com'],
      ['method', 'POST'],
      ['payload', payloadHash(BODY)],
    ],
    ...p,
  })
}
const header = (e: unknown) => `Nostr ${Buffer.from(JSON.stringify(e)).toString('base64')}`

t.test('payloadHash is the sha256 hex that nostr-tools puts in the payload tag', async t => {
  const tok = await getToken('https://x', 'post', e => finalizeEvent(e, alice.sk), false, JSON.parse(BODY))
  const e = JSON.parse(Buffer.from(tok, 'base64').toString()) as NostrEvent
  t.equal(e.tags.find(tag => tag[0] === 'payload')![1], payloadHash(BODY))
})

t.test('parseAuthHeader reads the event of a nostr-tools token', async t => {
  const tok = await getToken('https://x', 'post', e => finalizeEvent(e, alice.sk), true)
  const e = parseAuthHeader(tok)
  t.notOk(isRejection(e as object))
  t.equal((e as NostrEvent).pubkey, alice.pubkey)
})

t.test('parseAuthHeader refuses what is not a Nostr token', async t => {
  const cases: [string, string, RegExp][] = [
    ['no header', '', /^auth-required: send an Authorization header "Nostr /],
    ['another scheme', 'Bearer abc', /^auth-required: /],
    ['base64 of no JSON', 'Nostr bm90IGpzb24=', /^invalid: the Authorization token is not base64 of a JSON event$/],
    ['not an event', header({ hello: 1 }), /^invalid: the Authorization event is malformed: id must be/],
    ['a wrong id', header({ ...token(), content: 'changed' }), /^invalid: id is not the sha256/],
  ]
  for (const [name, h, re] of cases) {
    const r = parseAuthHeader(h)
    t.ok(isRejection(r as object), name)
    const { prefix, reason } = r as { prefix: string; reason: string }
    t.match(`${prefix}: ${reason}`, re, name)
  }
})

t.test('checkHttpAuth accepts the expected kind, time, URL in any scheme, method and payload', async t => {
  t.equal(checkHttpAuth(token(), expected), undefined)
  const alike = (u: string, method = 'post') =>
    token({
      tags: [
        ['u', u],
        ['method', method],
        ['payload', payloadHash(BODY)],
      ],
    })
  t.equal(checkHttpAuth(alike('wss://relay.example.com/'), expected), undefined, 'wss with a slash, lower-case post')
  t.equal(checkHttpAuth(alike('http://RELAY.example.com'), expected), undefined, 'http, host case')
})

t.test('checkHttpAuth refuses each wrong field with invalid: and a reason naming it', async t => {
  const tags = (over: Record<string, string | undefined>) =>
    (
      [
        ['u', 'https://relay.example.com'],
        ['method', 'POST'],
        ['payload', payloadHash(BODY)],
      ] as [string, string][]
    )
      .map(([k, v]) => [k, k in over ? over[k] : v])
      .filter((tag): tag is [string, string] => tag[1] !== undefined)
  const cases: [string, NostrEvent, RegExp][] = [
    ['another kind', token({ kind: 22242 }), /must be kind 27235$/],
    ['too old', token({ created_at: NOW - 61 }), /created_at must be within 60 seconds of now$/],
    ['too new', token({ created_at: NOW + 61 }), /created_at must be within 60 seconds of now$/],
    ['another URL', token({ tags: tags({ u: 'https://evil.example.com' }) }), /u tag must be this relay's URL/],
    ['another path', token({ tags: tags({ u: 'https://relay.example.com/x' }) }), /u tag must be/],
    ['no u', token({ tags: tags({ u: undefined }) }), /u tag must be/],
    ['another method', token({ tags: tags({ method: 'GET' }) }), /method tag must be POST$/],
    ['another payload', token({ tags: tags({ payload: payloadHash('{}') }) }), /payload tag must be the sha256/],
    ['no payload', token({ tags: tags({ payload: undefined }) }), /payload tag must be the sha256/],
  ]
  for (const [name, e, re] of cases) {
    const r = checkHttpAuth(e, expected)
    t.equal(r?.prefix, 'invalid', name)
    t.match(r?.reason, re, name)
  }
})

t.test('checkHttpAuth accepts created_at at either edge of the window', async t => {
  t.equal(checkHttpAuth(token({ created_at: NOW - 60 }), expected), undefined)
  t.equal(checkHttpAuth(token({ created_at: NOW + 60 }), expected), undefined)
})
