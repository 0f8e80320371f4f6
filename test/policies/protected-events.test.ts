import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { protectedEvents } from '../../policies/protected-events.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const check = protectedEvents.make(loadConfig({ env: {} }), testDeps()).event!
const AUTHOR = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)
const ctx = (...authed: string[]) => policyCtx({ authed: new Set(authed) })
const ev = (tags: string[][]): NostrEvent => ({
  id: 'c'.repeat(64),
  pubkey: AUTHOR,
  created_at: 1_700_000_000,
  kind: 1,
  tags,
  content: '',
  sig: 'd'.repeat(128),
})
const PROTECTED = ev([['-']])

t.test('an unprotected event is accepted without AUTH', async t => {
  t.equal(check(ev([['t', '-']]), ctx()), undefined)
})

t.test('a protected event is accepted from a connection authenticated as its author', async t => {
  t.equal(check(PROTECTED, ctx(AUTHOR)), undefined)
})

t.test('a protected event is accepted when the author is one of several authenticated pubkeys', async t => {
  t.equal(check(PROTECTED, ctx(OTHER, AUTHOR)), undefined)
})

t.test('a protected event from an unauthenticated connection is refused with auth-required:', async t => {
  t.same(check(PROTECTED, ctx()), {
    prefix: 'auth-required',
    reason: 'this event is protected (NIP-70); authenticate as its author',
  })
})

t.test('a protected event republished by another authenticated pubkey is refused with restricted:', async t => {
  t.same(check(PROTECTED, ctx(OTHER)), {
    prefix: 'restricted',
    reason: 'this event is protected (NIP-70); only its author may publish it',
  })
})

t.test('protected-events declares NIP-70 and is not switched off by policies.open', async t => {
  t.equal(protectedEvents.name, 'protected-events')
  t.same(protectedEvents.nips, [70])
  t.equal(protectedEvents.antiSpam, false)
})
