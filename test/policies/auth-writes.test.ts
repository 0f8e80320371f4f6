import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { authWrites } from '../../policies/auth-writes.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const AUTHOR = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)
const on = loadConfig({ env: {}, flags: { 'policies.auth_writes.enabled': true } })
const check = authWrites.make(on, testDeps()).event!
const ctx = (...authed: string[]) => policyCtx({ authed: new Set(authed) })
const ev: NostrEvent = {
  id: 'c'.repeat(64),
  pubkey: AUTHOR,
  created_at: 1_700_000_000,
  kind: 7000,
  tags: [],
  content: '',
  sig: 'd'.repeat(128),
}

t.test('an event from a connection authenticated as its author is accepted', async t => {
  t.equal(check(ev, ctx(AUTHOR)), undefined)
})

t.test('an event is accepted when its author is one of several authenticated pubkeys', async t => {
  t.equal(check(ev, ctx(OTHER, AUTHOR)), undefined)
})

t.test('an event from an unauthenticated connection is refused with auth-required:', async t => {
  t.same(check(ev, ctx()), {
    prefix: 'auth-required',
    reason: 'this relay accepts events only from authenticated authors',
  })
})

t.test('an event from a connection authenticated as someone else is refused with restricted:', async t => {
  t.same(check(ev, ctx(OTHER)), { prefix: 'restricted', reason: 'authenticate as the event’s author to publish it' })
})

t.test('auth-writes is off by default and switched on by policies.auth_writes.enabled', async t => {
  t.equal(authWrites.enabled(loadConfig({ env: {} })), false)
  t.equal(authWrites.enabled(on), true)
})

t.test('auth-writes declares NIP-42, is not anti-spam, and advertises auth_required', async t => {
  t.equal(authWrites.name, 'auth-writes')
  t.same(authWrites.nips, [42])
  t.equal(authWrites.antiSpam, false)
  t.same(authWrites.info!(on), { authRequired: true, restrictedWrites: true })
})
