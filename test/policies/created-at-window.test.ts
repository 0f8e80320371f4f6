import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { createdAtWindow } from '../../policies/created-at-window.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const cfg = loadConfig({
  env: {},
  flags: { 'limits.created_at_lower_limit': 100, 'limits.created_at_upper_limit': 10 },
})
const check = createdAtWindow.make(cfg, testDeps()).event!
const ctx = policyCtx()
const at = (created_at: number): NostrEvent => ({
  id: 'a'.repeat(64),
  pubkey: 'b'.repeat(64),
  created_at,
  kind: 1,
  tags: [],
  content: '',
  sig: 'c'.repeat(128),
})

t.test('created_at now is accepted', async t => {
  t.equal(check(at(ctx.now), ctx), undefined)
})

t.test('created_at exactly at either edge of the window is accepted', async t => {
  t.equal(check(at(ctx.now - 100), ctx), undefined)
  t.equal(check(at(ctx.now + 10), ctx), undefined)
})

t.test('created_at one second before the window is refused with invalid:', async t => {
  t.same(check(at(ctx.now - 101), ctx), {
    prefix: 'invalid',
    reason: 'created_at is more than 100 seconds in the past',
  })
})

t.test('created_at one second after the window is refused with invalid:', async t => {
  t.same(check(at(ctx.now + 11), ctx), {
    prefix: 'invalid',
    reason: 'created_at is more than 10 seconds in the future',
  })
})

t.test('created_at 0 is refused as too old', async t => {
  t.equal(check(at(0), ctx)?.prefix, 'invalid')
})

t.test('the window moves with the clock in the context', async t => {
  t.equal(check(at(ctx.now - 101), { ...ctx, now: ctx.now - 1 }), undefined)
})

t.test('created-at-window is not an anti-spam policy and declares no NIP', async t => {
  t.equal(createdAtWindow.name, 'created-at-window')
  t.equal(createdAtWindow.antiSpam, false)
  t.same(createdAtWindow.nips, [])
})
