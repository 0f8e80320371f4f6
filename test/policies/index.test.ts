import t from 'tap'
import { verifyEvent } from 'nostr-tools/pure'
import { ConfigError } from '../../config/fields.js'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { buildPolicies, isActive, policies } from '../../policies/index.js'
import { signer } from '../helpers/events.js'
import { policyCtx, testDeps } from '../helpers/policy.js'
import { makeZap, sha256hex } from '../helpers/zaps.js'

type Flags = Record<string, string | number | boolean | readonly string[]>
const AUTHOR = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)
const lnurl = signer()
const GATE: Flags = {
  'policies.zap_gate.enabled': true,
  'policies.zap_gate.zapper_pubkeys': [lnurl.pubkey],
  'policies.zap_gate.lightning_address': 'relay@example.com',
}
const ALL_ON: Flags = {
  ...GATE,
  'policies.auth_writes.enabled': true,
  'policies.private_reads.enabled': true,
  'policies.private_reads.kinds': ['7117'],
  'market.enabled': true,
}
const config = (flags: Flags = {}) => loadConfig({ env: {}, flags })
const build = (flags: Flags = {}) => buildPolicies(config(flags), testDeps(verifyEvent))
const ctx = policyCtx()
const authed = (...pubkeys: string[]) => policyCtx({ authed: new Set(pubkeys) })
const ev = (over: Partial<NostrEvent> = {}): NostrEvent => ({
  id: 'c'.repeat(64),
  pubkey: AUTHOR,
  created_at: ctx.now,
  kind: 7000,
  tags: [],
  content: '',
  sig: 'd'.repeat(128),
  ...over,
})
const filters = (...raw: object[]) => raw.map(f => compileFilter(f, { maxValues: 100 }) as CompiledFilter)

t.test('policies are listed cheapest first', async t => {
  t.same(
    policies.map(p => p.name),
    [
      'bans',
      'event-size',
      'created-at-window',
      'kind-whitelist',
      'rate-limit',
      'auth-writes',
      'protected-events',
      'pow-by-kind',
      'zap-gate',
      'market',
      'private-reads',
    ],
  )
})

t.test('exactly the kind whitelist, rate limit, PoW and zap gate are anti-spam', async t => {
  t.same(
    policies.filter(p => p.antiSpam).map(p => p.name),
    ['kind-whitelist', 'rate-limit', 'pow-by-kind', 'zap-gate'],
  )
})

t.test('exactly PoW, the zap gate, rate limits and auth-writes are door policies', async t => {
  t.same(
    policies.filter(p => p.door).map(p => p.name),
    ['rate-limit', 'auth-writes', 'pow-by-kind', 'zap-gate'],
  )
})

t.test('mirrored events skip the door policies and meet every other', async t => {
  const set = build({ ...ALL_ON, 'policies.open': false, 'policies.pow.rules': ['7000:8'] })
  const unmined = ev({ kind: 7000 })
  t.match(set.event(unmined, ctx), { prefix: 'auth-required' }, 'a local client meets auth-writes first')
  t.match(set.event(unmined, authed(AUTHOR)), { prefix: 'pow' }, 'then PoW')
  t.equal(set.mirror.event(unmined, ctx), undefined, 'a mirrored event meets neither')
  t.match(set.mirror.event(ev({ kind: 1 }), ctx), { prefix: 'blocked' }, 'but the kind whitelist still applies')
  t.match(
    set.mirror.event(ev({ created_at: ctx.now + 86_400 }), ctx),
    { prefix: 'invalid' },
    'and the created_at window',
  )
  t.match(
    set.mirror.event(ev({ tags: [['-']] }), ctx),
    { prefix: 'auth-required' },
    'and NIP-70: a protected event is never mirrored (no one authenticated as its author)',
  )
})

t.test('policies.open deactivates exactly the anti-spam policies', async t => {
  const cfg = config({ ...ALL_ON, 'policies.open': true })
  t.same(
    policies.filter(p => isActive(p, cfg)).map(p => p.name),
    ['bans', 'event-size', 'created-at-window', 'auth-writes', 'protected-events', 'market', 'private-reads'],
  )
})

t.test('with policies.open off every enabled policy is active', async t => {
  const cfg = config(ALL_ON)
  t.same(
    policies.filter(p => isActive(p, cfg)).map(p => p.name),
    policies.map(p => p.name),
  )
})

t.test('a policy switched off is inactive whether or not the relay is open', async t => {
  const cfg = config({ 'policies.pow.enabled': false })
  t.equal(
    isActive(
      policies.find(p => p.name === 'pow-by-kind')!,
      cfg,
    ),
    false,
  )
  t.equal(
    isActive(
      policies.find(p => p.name === 'auth-writes')!,
      config({ 'policies.open': true }),
    ),
    false,
  )
})

t.test('an open relay accepts kind 1 without work but keeps size, created_at and NIP-70 checks', async t => {
  const set = build({ 'policies.open': true, 'limits.max_event_tags': 2 })
  t.equal(set.event(ev({ kind: 1 }), ctx), undefined)
  t.equal(set.event(ev({ kind: 5100 }), ctx), undefined)
  t.same(
    set.event(
      ev({
        tags: [
          ['t', '1'],
          ['t', '2'],
          ['t', '3'],
        ],
      }),
      ctx,
    ),
    {
      prefix: 'invalid',
      reason: 'event has 3 tags, limit 2',
    },
  )
  t.equal(set.event(ev({ created_at: ctx.now - 10 * 365 * 86400 }), ctx)?.prefix, 'invalid')
  t.equal(set.event(ev({ tags: [['-']] }), ctx)?.prefix, 'auth-required')
})

t.test('an open relay does not build the zap gate, so its missing settings do not matter', async t => {
  const flags = { 'policies.zap_gate.enabled': true, 'policies.open': true }
  t.doesNotThrow(() => build(flags))
})

t.test('buildPolicies throws ConfigError when an active policy’s settings do not fit', async t => {
  let err: unknown
  try {
    build({ 'policies.zap_gate.enabled': true })
  } catch (e) {
    err = e
  }
  t.type(err, ConfigError)
})

t.test('event-size answers before created-at-window', async t => {
  const set = build({ 'limits.max_event_tags': 1 })
  t.same(
    set.event(
      ev({
        tags: [
          ['t', 'x'],
          ['t', 'y'],
        ],
        created_at: 1,
      }),
      ctx,
    ),
    {
      prefix: 'invalid',
      reason: 'event has 2 tags, limit 1',
    },
  )
})

t.test('created-at-window answers before kind-whitelist', async t => {
  const r = build().event(ev({ kind: 1, created_at: 1 }), ctx)
  t.equal(r?.prefix, 'invalid')
  t.match(r?.reason, /^created_at is more than \d+ seconds in the past$/)
})

t.test('kind-whitelist answers before rate-limit', async t => {
  const set = build({ 'policies.rate_limit.events_per_ip': ['*:1'] })
  t.equal(set.event(ev({ kind: 7000 }), ctx), undefined, 'drains the IP bucket')
  t.same(set.event(ev({ kind: 7000 }), ctx)?.prefix, 'rate-limited')
  t.same(set.event(ev({ kind: 1 }), ctx), { prefix: 'blocked', reason: 'kind 1 is not accepted here' })
})

t.test('rate-limit answers before auth-writes', async t => {
  const set = build({ 'policies.rate_limit.events_per_ip': ['*:1'], 'policies.auth_writes.enabled': true })
  t.equal(set.event(ev(), authed(AUTHOR)), undefined, 'drains the IP bucket')
  t.same(set.event(ev(), ctx), {
    prefix: 'rate-limited',
    reason: 'over 1 events per minute for kind 7000; slow down',
  })
})

t.test('auth-writes answers before protected-events', async t => {
  t.same(build({ 'policies.auth_writes.enabled': true }).event(ev({ tags: [['-']] }), ctx), {
    prefix: 'auth-required',
    reason: 'this relay accepts events only from authenticated authors',
  })
})

t.test('protected-events answers before pow-by-kind', async t => {
  t.same(build().event(ev({ kind: 5100, tags: [['-']] }), authed(OTHER)), {
    prefix: 'restricted',
    reason: 'this event is protected (NIP-70); only its author may publish it',
  })
})

t.test('pow-by-kind answers before zap-gate', async t => {
  t.same(build(GATE).event(ev({ kind: 5100 }), ctx), {
    prefix: 'pow',
    reason: 'kind 5100 needs 10 bits committed in a nonce tag, event has 0',
  })
})

t.test('the zap gate answers once the proof of work is enough', async t => {
  const mined = ev({ kind: 5100, id: '000' + 'f'.repeat(61), tags: [['nonce', '1', '10']] })
  t.same(build(GATE).event(mined, ctx), {
    prefix: 'blocked',
    reason: 'zap relay@example.com at least 21 sats to post job requests',
  })
})

t.test('verified passes on the zap gate’s unlock for a valid receipt to the relay', async t => {
  const sender = signer()
  const z = makeZap({ relayPubkey: testDeps().relayPubkey, sender, lnurlSk: lnurl.sk, msats: 21_000 })
  t.strictSame(build(GATE).verified(z.receipt, ctx), {
    zapUnlock: { sender: sender.pubkey, recipient: testDeps().relayPubkey, msats: 21_000n, paymentHash: z.paymentHash },
  })
})

t.test('verified refuses a forged receipt to the relay when the zap gate is active', async t => {
  const z = makeZap({
    relayPubkey: testDeps().relayPubkey,
    sender: signer(),
    lnurlSk: lnurl.sk,
    msats: 21_000,
    descriptionHash: sha256hex('x'),
  })
  t.same(build(GATE).verified(z.receipt, ctx), {
    prefix: 'invalid',
    reason: 'zap receipt: invoice description hash is not the sha256 of the zap request',
  })
})

t.test('verified lets every event through when the zap gate is off', async t => {
  const z = makeZap({ relayPubkey: testDeps().relayPubkey, sender: signer(), lnurlSk: lnurl.sk, msats: 1, bolt11: 'x' })
  t.equal(build().verified(z.receipt, ctx), undefined)
  t.equal(build({ ...GATE, 'policies.open': true }).verified(z.receipt, ctx), undefined)
})

t.test('visible is undefined unless a policy hides events', async t => {
  t.equal(build().visible, undefined)
  const visible = build({ 'policies.private_reads.enabled': true, 'policies.private_reads.kinds': ['7117'] }).visible
  t.equal(visible?.(ev({ kind: 7117 }), new Set()), false)
  t.equal(visible?.(ev({ kind: 7117 }), new Set([AUTHOR])), true)
  t.equal(visible?.(ev({ kind: 7000 }), new Set()), true)
})

t.test('read composes the rate limit and private reads', async t => {
  const set = build({
    'policies.rate_limit.reads_per_ip': 1,
    'policies.private_reads.enabled': true,
    'policies.private_reads.kinds': ['7117'],
  })
  t.equal(set.read('COUNT', filters({ kinds: [7000] }), ctx), undefined)
  t.equal(set.read('COUNT', filters({ kinds: [7000] }), ctx)?.prefix, 'rate-limited')
  t.same(set.read('COUNT', filters({ kinds: [7117] }), policyCtx({ ip: '10.0.0.9' })), {
    prefix: 'restricted',
    reason: 'COUNT is not available for private kinds; name only public kinds',
  })
})

t.test('the connection cap comes from the rate limit while it is active', async t => {
  t.equal(build().connectionsPerIp, 100)
  t.equal(build({ 'policies.rate_limit.connections_per_ip': 3 }).connectionsPerIp, 3)
  t.equal(build({ 'policies.open': true }).connectionsPerIp, undefined)
  t.equal(build({ 'policies.rate_limit.enabled': false }).connectionsPerIp, undefined)
})

t.test(
  'info by default: min_pow is the strictest PoW rule, the rules are listed and writes are restricted',
  async t => {
    t.strictSame(build().info, {
      minPow: 20,
      powByKind: [
        { kinds: '5000-5999', bits: 10 },
        { kinds: '0', bits: 20 },
        { kinds: '1', bits: 20 },
        { kinds: '3', bits: 20 },
      ],
      restrictedWrites: true,
      authRequired: false,
      acceptedKinds: loadConfig({ env: {} }).policies.kind_whitelist.kinds,
      rateLimits: {
        events_per_pubkey: ['5000-5999:30', '*:300'],
        events_per_ip: ['*:600'],
        reads_per_ip: 600,
        connections_per_ip: 100,
      },
    })
  },
)

t.test('info min_pow follows the configured rules and is 0 without PoW', async t => {
  t.equal(build({ 'policies.pow.rules': ['5000-5999:10', '7000:16', '*:4'] }).info.minPow, 16)
  t.equal(build({ 'policies.pow.enabled': false }).info.minPow, 0)
  t.equal(build({ 'policies.open': true }).info.minPow, 0)
})

t.test('info lists no PoW rules while PoW is disabled or the relay is open', async t => {
  t.strictSame(build({ 'policies.pow.enabled': false }).info.powByKind, [])
  t.strictSame(build({ 'policies.open': true }).info.powByKind, [])
})

t.test('info of an open relay without auth writes restricts nothing', async t => {
  t.strictSame(build({ 'policies.open': true }).info, {
    minPow: 0,
    powByKind: [],
    restrictedWrites: false,
    authRequired: false,
  })
})

t.test('info carries the payment with kinds and msats while the zap gate is on', async t => {
  const info = build({ ...GATE, 'policies.zap_gate.min_sats': 100, 'policies.zap_gate.kinds': ['5100-5101'] }).info
  t.same(info.payment?.kinds, [5100, 5101])
  t.equal(info.payment?.msats, 100_000)
  t.match(info.payment?.description, 'relay@example.com')
  t.equal(build().info.payment, undefined)
  t.equal(build({ ...GATE, 'policies.open': true }).info.payment, undefined)
})

t.test('info says auth is required while auth writes are on, even on an open relay', async t => {
  const info = build({ 'policies.auth_writes.enabled': true, 'policies.open': true }).info
  t.equal(info.authRequired, true)
  t.equal(info.restrictedWrites, true)
})

t.test('nips list NIP-13 only while PoW is active', async t => {
  t.ok(build().nips.includes(13))
  t.notOk(build({ 'policies.pow.enabled': false }).nips.includes(13))
  t.notOk(build({ 'policies.open': true }).nips.includes(13))
})

t.test('nips list NIP-57 while the zap gate or the market (which checks zap receipts) is active', async t => {
  const off = { 'market.enabled': false }
  t.ok(build({ ...GATE, ...off }).nips.includes(57))
  t.notOk(build(off).nips.includes(57))
  t.notOk(build({ ...GATE, ...off, 'policies.open': true }).nips.includes(57))
  // The market is not an anti-spam policy: an open relay still checks receipts for it.
  t.ok(build({ 'policies.open': true }).nips.includes(57))
})

t.test('nips list NIP-42 while auth writes or private reads are on, and NIP-70 always', async t => {
  t.notOk(build().nips.includes(42))
  t.ok(build({ 'policies.auth_writes.enabled': true }).nips.includes(42))
  t.ok(build({ 'policies.private_reads.enabled': true }).nips.includes(42))
  t.ok(build().nips.includes(70))
  t.ok(build({ 'policies.open': true }).nips.includes(70))
})

t.test('nips of the default config are exactly NIP-13, 57 and 90 (the market) and 70', async t => {
  t.same(
    [...build().nips].sort((a, b) => a - b),
    [13, 57, 70, 90],
  )
})
