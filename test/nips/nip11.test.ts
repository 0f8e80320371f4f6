import t from 'tap'
import { loadConfig } from '../../config/load.js'
import { buildInfo, type InfoInputs } from '../../nips/nip11.js'
import { policyInfo } from '../../policies/index.js'

const PUBKEY = 'a'.repeat(64)
const inputs: InfoInputs = {
  pubkey: PUBKEY,
  supportedNips: [42, 1, 11, 9, 1, 40],
  version: '9.8.7',
  authRequired: false,
  minPow: 0,
  restrictedWrites: false,
}
const custom = loadConfig({
  env: {},
  flags: {
    'relay.name': 'my relay',
    'relay.description': 'for tests',
    'relay.contact': 'mailto:op@example.com',
    'relay.icon': 'https://example.com/icon.png',
    'limits.max_message_length': 65536,
    'limits.max_subscriptions': 7,
    'limits.max_filters': 3,
    'limits.max_limit': 99,
    'limits.default_limit': 11,
    'limits.max_subid_length': 32,
    'limits.max_event_tags': 50,
    'limits.max_content_length': 1000,
    'limits.created_at_lower_limit': 3600,
    'limits.created_at_upper_limit': 60,
  },
})

t.test('buildInfo reports the configured name, description, contact and icon', async t => {
  const info = buildInfo(custom, inputs)
  t.equal(info.name, 'my relay')
  t.equal(info.description, 'for tests')
  t.equal(info.contact, 'mailto:op@example.com')
  t.equal(info.icon, 'https://example.com/icon.png')
})

t.test('buildInfo leaves icon out when none is configured', async t => {
  const info = buildInfo(loadConfig({ env: {} }), inputs)
  t.notOk('icon' in info)
})

t.test('buildInfo names the /skill.md URL in its skill field, and leaves it out without one', async t => {
  t.equal(
    buildInfo(custom, { ...inputs, skill: 'https://relay.example.com/skill.md' }).skill,
    'https://relay.example.com/skill.md',
  )
  t.notOk('skill' in buildInfo(custom, inputs))
})

t.test('buildInfo gives the relay key as both pubkey and self', async t => {
  const info = buildInfo(custom, inputs)
  t.equal(info.pubkey, PUBKEY)
  t.equal(info.self, PUBKEY)
})

t.test('buildInfo lists supported_nips sorted and without duplicates', async t => {
  t.same(buildInfo(custom, inputs).supported_nips, [1, 9, 11, 40, 42])
})

t.test('buildInfo names the software and its version', async t => {
  const info = buildInfo(custom, inputs)
  t.equal(info.software, 'agora')
  t.equal(info.version, '9.8.7')
})

t.test('buildInfo limitation mirrors the configured limits', async t => {
  t.same(buildInfo(custom, inputs).limitation, {
    max_message_length: 65536,
    max_subscriptions: 7,
    max_filters: 3,
    max_limit: 99,
    default_limit: 11,
    max_subid_length: 32,
    max_event_tags: 50,
    max_content_length: 1000,
    min_pow_difficulty: 0,
    auth_required: false,
    payment_required: false,
    restricted_writes: false,
    created_at_lower_limit: 3600,
    created_at_upper_limit: 60,
  })
})

t.test('buildInfo limitation takes pow, auth and restricted-writes from the policy inputs', async t => {
  const L = buildInfo(custom, { ...inputs, minPow: 20, authRequired: true, restrictedWrites: true })
    .limitation as Record<string, unknown>
  t.equal(L.min_pow_difficulty, 20)
  t.equal(L.auth_required, true)
  t.equal(L.restricted_writes, true)
})

t.test('buildInfo states the per-kind PoW rules as pow_by_kind, beside min_pow_difficulty', async t => {
  const powByKind = [
    { kinds: '5000-5999', bits: 10 },
    { kinds: '0', bits: 20 },
  ]
  const info = buildInfo(custom, { ...inputs, minPow: 20, powByKind })
  t.same(info.pow_by_kind, powByKind)
  t.equal((info.limitation as Record<string, unknown>).min_pow_difficulty, 20, 'min_pow_difficulty is kept')
  t.notOk('pow_by_kind' in (info.limitation as object), 'the extension is top-level, not inside limitation')
})

t.test('buildInfo gives pow_by_kind as [] when no rules are passed', async t => {
  t.strictSame(buildInfo(custom, inputs).pow_by_kind, [])
})

t.test('buildInfo states the market terms as market when the market is on, mints normalised', async t => {
  const cfg = loadConfig({
    env: {},
    flags: {
      'market.enabled': true,
      'market.job_ttl': 100,
      'market.dispute_window': 20,
      'market.escrow_margin': 3,
      'market.mints': ['https://Mint.Example.com/'],
    },
  })
  t.match(buildInfo(cfg, inputs).market, {
    job_ttl: 100,
    dispute_window: 20,
    escrow_margin: 3,
    mints: ['https://mint.example.com'],
    escrow: true,
  })
})

t.test('buildInfo has no market field when the market is off', async t => {
  const cfg = loadConfig({ env: {}, flags: { 'market.enabled': false } })
  t.notOk('market' in buildInfo(cfg, inputs))
})

t.test(
  'the kinds accepted and the rate limits are stated as configured, and left out when those policies are off',
  async t => {
    const cfg = loadConfig({
      env: {},
      flags: {
        'policies.kind_whitelist.kinds': '1,5000-5999',
        'policies.rate_limit.events_per_pubkey': '5000-5999:7,*:70',
        'policies.rate_limit.reads_per_ip': 123,
        'policies.rate_limit.connections_per_ip': 9,
      },
    })
    const info = buildInfo(cfg, { ...inputs, ...policyInfo(cfg) })
    t.strictSame(info.accepted_kinds, ['1', '5000-5999'])
    t.strictSame(info.rate_limits, {
      events_per_pubkey: ['5000-5999:7', '*:70'],
      events_per_ip: ['*:600'],
      reads_per_ip: 123,
      connections_per_ip: 9,
    })
    const open = loadConfig({ env: {}, flags: { 'policies.open': true } })
    const openInfo = buildInfo(open, { ...inputs, ...policyInfo(open) })
    t.notOk('accepted_kinds' in openInfo, 'an open relay accepts every kind')
    t.notOk('rate_limits' in openInfo)
  },
)
