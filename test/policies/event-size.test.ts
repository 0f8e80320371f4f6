import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { eventSize } from '../../policies/event-size.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const cfg = loadConfig({ env: {}, flags: { 'limits.max_event_tags': 3, 'limits.max_content_length': 5 } })
const check = eventSize.make(cfg, testDeps()).event!
const ctx = policyCtx()
const ev = (tags: number, content: string): NostrEvent => ({
  id: 'a'.repeat(64),
  pubkey: 'b'.repeat(64),
  created_at: ctx.now,
  kind: 1,
  tags: Array.from({ length: tags }, (_, i) => ['t', `${i}`]),
  content,
  sig: 'c'.repeat(128),
})

t.test('an event at exactly the tag and content limits is accepted', async t => {
  t.equal(check(ev(3, '12345'), ctx), undefined)
})

t.test('an event with no tags and empty content is accepted', async t => {
  t.equal(check(ev(0, ''), ctx), undefined)
})

t.test('one tag over max_event_tags is refused with invalid:', async t => {
  t.same(check(ev(4, ''), ctx), { prefix: 'invalid', reason: 'event has 4 tags, limit 3' })
})

t.test('one character over max_content_length is refused with invalid:', async t => {
  t.same(check(ev(0, '123456'), ctx), { prefix: 'invalid', reason: 'content is 6 characters, limit 5' })
})

t.test('content length counts characters, not UTF-16 code units', async t => {
  // Five characters outside the BMP are ten UTF-16 code units.
  t.equal(check(ev(0, '🌍🌍🌍🌍🌍'), ctx), undefined)
  t.equal(check(ev(0, '🌍🌍🌍🌍🌍🌍'), ctx)?.prefix, 'invalid')
})

t.test('the limits come from the config it is made with', async t => {
  const loose = eventSize.make(loadConfig({ env: {} }), testDeps()).event!
  t.equal(loose(ev(4, '123456'), ctx), undefined)
})

t.test('event-size is not an anti-spam policy and declares no NIP', async t => {
  t.equal(eventSize.name, 'event-size')
  t.equal(eventSize.antiSpam, false)
  t.same(eventSize.nips, [])
})
