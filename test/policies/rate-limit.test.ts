import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { rateLimit } from '../../policies/rate-limit.js'
import { signer } from '../helpers/events.js'
import { policyCtx, testDeps } from '../helpers/policy.js'
import { rawClient } from '../helpers/client.js'
import { startTestRelay } from '../helpers/relay.js'

type Flags = Record<string, string | number | boolean | readonly string[]>
const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const T0 = 1_700_000_000_000
const at = (ms: number, ip = '10.0.0.1') => policyCtx({ nowMs: T0 + ms, now: Math.floor((T0 + ms) / 1000), ip })
const ev = (kind: number, pubkey = A): NostrEvent => ({
  id: 'c'.repeat(64),
  pubkey,
  created_at: 1_700_000_000,
  kind,
  tags: [],
  content: '',
  sig: 'd'.repeat(128),
})
/** Hooks with roomy defaults, so only the bucket under test can run dry. */
const hooksWith = (flags: Flags) =>
  rateLimit.make(
    loadConfig({
      env: {},
      flags: {
        'policies.rate_limit.events_per_pubkey': ['*:1000'],
        'policies.rate_limit.events_per_ip': ['*:1000'],
        'policies.rate_limit.reads_per_ip': 1000,
        ...flags,
      },
    }),
    testDeps(),
  )
/** The checks in pipeline order: per IP before the signature check, per author after it. */
const pipeline = (h: ReturnType<typeof hooksWith>) => (e: NostrEvent, ctx: ReturnType<typeof at>) =>
  h.event!(e, ctx) ?? h.verified!(e, ctx)
const limited = (perMinute: number, kind: number) => ({
  prefix: 'rate-limited',
  reason: `over ${perMinute} events per minute for kind ${kind}; slow down`,
})
const readsLimited = (perMinute: number) => ({
  prefix: 'rate-limited',
  reason: `over ${perMinute} reads (REQ, COUNT, NEG-OPEN) per minute from this address; slow down`,
})
const filters = (...raw: object[]) => raw.map(f => compileFilter(f, { maxValues: 100 }) as CompiledFilter)

t.test('a burst up to the per-pubkey budget is accepted and the next event is refused with rate-limited:', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_pubkey': ['*:5'] }))
  for (let i = 0; i < 5; i++) t.equal(check(ev(1), at(0)), undefined, `event ${i + 1}`)
  t.same(check(ev(1), at(0)), limited(5, 1))
})

t.test('a drained per-pubkey bucket refills continuously as time passes', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_pubkey': ['*:5'] }))
  for (let i = 0; i < 5; i++) check(ev(1), at(0))
  // 5 per minute: one token every 12 seconds.
  t.same(check(ev(1), at(11_000)), limited(5, 1), 'not yet refilled after 11 s')
  t.equal(check(ev(1), at(13_000)), undefined, 'one token after 13 s')
  t.same(check(ev(1), at(13_000)), limited(5, 1), 'and only one')
  for (let i = 0; i < 5; i++)
    t.equal(check(ev(1), at(120_000)), undefined, `full burst again after two minutes, ${i + 1}`)
  t.same(check(ev(1), at(120_000)), limited(5, 1), 'capped at the bucket size')
})

t.test('refused events do not stop the refill', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_pubkey': ['*:60'] }))
  for (let i = 0; i < 60; i++) check(ev(1), at(0))
  for (let ms = 0; ms < 900; ms += 100) t.same(check(ev(1), at(ms)), limited(60, 1))
  t.equal(check(ev(1), at(1_100)), undefined)
})

t.test('each pubkey has its own bucket', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_pubkey': ['*:2'] }))
  check(ev(1, A), at(0))
  check(ev(1, A), at(0))
  t.same(check(ev(1, A), at(0)), limited(2, 1))
  t.equal(check(ev(1, B), at(0)), undefined)
  t.equal(check(ev(1, B), at(0)), undefined)
  t.same(check(ev(1, B), at(0)), limited(2, 1))
})

t.test('a per-pubkey bucket follows the pubkey across IPs', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_pubkey': ['*:2'] }))
  check(ev(1), at(0, '10.0.0.1'))
  check(ev(1), at(0, '10.0.0.2'))
  t.same(check(ev(1), at(0, '10.0.0.3')), limited(2, 1))
})

t.test('the per-IP budget is shared by all pubkeys on one IP and separate per IP', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_ip': ['*:3'] }))
  t.equal(check(ev(1, A), at(0)), undefined)
  t.equal(check(ev(1, B), at(0)), undefined)
  t.equal(check(ev(1, 'e'.repeat(64)), at(0)), undefined)
  t.same(check(ev(1, 'f'.repeat(64)), at(0)), limited(3, 1))
  t.equal(check(ev(1, 'f'.repeat(64)), at(0, '10.0.0.2')), undefined)
})

t.test('kind classes have separate budgets', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_pubkey': ['5000-5999:2', '*:3'] }))
  t.equal(check(ev(5100), at(0)), undefined)
  t.equal(check(ev(5200), at(0)), undefined)
  t.same(check(ev(5300), at(0)), limited(2, 5300), 'job requests share one budget')
  for (let i = 0; i < 3; i++) t.equal(check(ev(7000), at(0)), undefined, `other kinds still have theirs, ${i + 1}`)
  t.same(check(ev(1), at(0)), limited(3, 1))
})

t.test('the first matching rule sets the budget', async t => {
  const check = pipeline(hooksWith({ 'policies.rate_limit.events_per_ip': ['5100:1', '5000-5999:5'] }))
  t.equal(check(ev(5100), at(0)), undefined)
  t.same(check(ev(5100), at(0)), limited(1, 5100))
  t.equal(check(ev(5200), at(0)), undefined)
})

t.test('kinds no rule matches are not limited', async t => {
  const check = pipeline(
    hooksWith({
      'policies.rate_limit.events_per_pubkey': ['5000-5999:1'],
      'policies.rate_limit.events_per_ip': ['5000-5999:1'],
    }),
  )
  for (let i = 0; i < 50; i++) t.equal(check(ev(1), at(0)), undefined)
})

t.test('REQ and COUNT share the per-IP read budget and the next read is refused with rate-limited:', async t => {
  const read = hooksWith({ 'policies.rate_limit.reads_per_ip': 4 }).read!
  const f = filters({ kinds: [1] })
  t.equal(read('REQ', f, at(0)), undefined)
  t.equal(read('COUNT', f, at(0)), undefined)
  t.equal(read('REQ', f, at(0)), undefined)
  t.equal(read('COUNT', f, at(0)), undefined)
  t.same(read('REQ', f, at(0)), readsLimited(4))
  t.same(read('COUNT', f, at(0)), readsLimited(4))
})

t.test('the read budget is per IP and refills with time', async t => {
  const read = hooksWith({ 'policies.rate_limit.reads_per_ip': 2 }).read!
  const f = filters({})
  read('REQ', f, at(0))
  read('REQ', f, at(0))
  t.same(read('REQ', f, at(0)), readsLimited(2))
  t.equal(read('REQ', f, at(0, '10.0.0.2')), undefined, 'another IP')
  t.same(read('REQ', f, at(29_000)), readsLimited(2), 'not yet refilled')
  t.equal(read('REQ', f, at(31_000)), undefined, 'refilled after 30 s')
})

t.test('events and reads have separate budgets', async t => {
  const hooks = hooksWith({ 'policies.rate_limit.events_per_ip': ['*:1'], 'policies.rate_limit.reads_per_ip': 1 })
  t.equal(hooks.event!(ev(1), at(0)), undefined)
  t.equal(hooks.read!('REQ', filters({}), at(0)), undefined)
})

t.test('the connection cap comes from connections_per_ip', async t => {
  t.equal(hooksWith({ 'policies.rate_limit.connections_per_ip': 7 }).connectionsPerIp, 7)
  t.equal(hooksWith({}).connectionsPerIp, 100)
})

t.test('each make starts with fresh buckets', async t => {
  const flags = { 'policies.rate_limit.events_per_pubkey': ['*:1'] }
  const first = pipeline(hooksWith(flags))
  first(ev(1), at(0))
  t.same(first(ev(1), at(0)), limited(1, 1))
  t.equal(pipeline(hooksWith(flags))(ev(1), at(0)), undefined)
})

t.test('rate-limit is an anti-spam policy, enabled by default, with no NIP', async t => {
  t.equal(rateLimit.name, 'rate-limit')
  t.equal(rateLimit.antiSpam, true)
  t.same(rateLimit.nips, [])
  t.equal(rateLimit.enabled(loadConfig({ env: {} })), true)
})

t.test("events with a forged signature do not spend their claimed author's budget", async t => {
  // Anyone can put a victim's pubkey on junk; only events that prove their author may cost that author.
  const { url } = await startTestRelay(t, {
    'policies.open': false,
    'policies.rate_limit.events_per_pubkey': '*:2',
    'policies.rate_limit.events_per_ip': '*:100',
  })
  const victim = signer()
  const attacker = await rawClient(url)
  t.teardown(() => attacker.close())
  const junk = [0, 1, 2].map(i => ({ ...victim.sign({ kind: 7000, content: `junk ${i}` }), sig: 'e'.repeat(128) }))
  for (const e of junk) t.same(await attacker.publish(e), ['OK', e.id, false, 'invalid: signature does not verify'])
  t.same((await attacker.req('junk', { ids: junk.map(e => e.id) })).events, [], 'no junk stored')
  const own = await rawClient(url)
  t.teardown(() => own.close())
  const real = victim.sign({ kind: 7000, content: 'my feedback' })
  t.same(await own.publish(real), ['OK', real.id, true, ''])
  const { events } = await own.req('q', { ids: [real.id] })
  t.same(
    events.map(e => e.id),
    [real.id],
  )
})
