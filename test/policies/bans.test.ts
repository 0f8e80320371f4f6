import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { bans } from '../../policies/bans.js'
import type { ManagedView } from '../../policies/types.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const ctx = policyCtx()
const SPAMMER = 'b'.repeat(64)
const BAD_ID = 'a'.repeat(64)
const ev = (over: Partial<NostrEvent> = {}): NostrEvent => ({
  id: 'd'.repeat(64),
  pubkey: 'e'.repeat(64),
  created_at: ctx.now,
  kind: 1,
  tags: [],
  content: '',
  sig: 'c'.repeat(128),
  ...over,
})
const view: ManagedView = {
  pubkeyBanned: p => p === SPAMMER,
  eventBanned: id => id === BAD_ID,
  kindVerdict: k => (k === 7 ? false : k === 1 ? true : undefined),
}
const check = bans.make(loadConfig({ env: {} }), { ...testDeps(), managed: view }).event!

t.test('an event by a banned pubkey is refused with blocked:', async t => {
  t.same(check(ev({ pubkey: SPAMMER }), ctx), { prefix: 'blocked', reason: 'this pubkey is banned from this relay' })
})

t.test('a banned event is refused with blocked:', async t => {
  t.same(check(ev({ id: BAD_ID }), ctx), { prefix: 'blocked', reason: 'this event is banned from this relay' })
})

t.test('a disallowed kind is refused with blocked:', async t => {
  t.same(check(ev({ kind: 7 }), ctx), { prefix: 'blocked', reason: 'kind 7 is not accepted here' })
})

t.test('anything else passes, an allowed kind included', async t => {
  t.equal(check(ev(), ctx), undefined)
  t.equal(check(ev({ kind: 0 }), ctx), undefined)
})

t.test('the view is read per event: a ban made after the policy was built applies', async t => {
  const banned = new Set<string>()
  const live = bans.make(loadConfig({ env: {} }), {
    ...testDeps(),
    managed: { ...testDeps().managed, pubkeyBanned: p => banned.has(p) },
  }).event!
  t.equal(live(ev({ pubkey: SPAMMER }), ctx), undefined)
  banned.add(SPAMMER)
  t.equal(live(ev({ pubkey: SPAMMER }), ctx)?.prefix, 'blocked')
})

t.test('bans is always active and not switched off by policies.open', async t => {
  t.equal(bans.antiSpam, false)
  t.equal(bans.enabled(loadConfig({ env: {} })), true)
  t.same(bans.nips, [])
})
