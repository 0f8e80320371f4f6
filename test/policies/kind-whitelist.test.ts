import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { kindWhitelist } from '../../policies/kind-whitelist.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const ctx = policyCtx()
const ev = (kind: number): NostrEvent => ({
  id: 'a'.repeat(64),
  pubkey: 'b'.repeat(64),
  created_at: ctx.now,
  kind,
  tags: [],
  content: '',
  sig: 'c'.repeat(128),
})
const checkWith = (flags: Record<string, string | boolean | readonly string[]> = {}) =>
  kindWhitelist.make(loadConfig({ env: {}, flags }), testDeps()).event!
const byDefault = checkWith()

t.test('the default whitelist accepts profiles, contacts, deletions, relay lists and market kinds', async t => {
  const kinds = [0, 3, 5, 10002, 5000, 5100, 5999, 6000, 6100, 6999, 7000, 7117, 7118, 9321, 9735, 1984, 10019]
  for (const kind of [...kinds, 21117, 30085, 30333, 30382, 31117, 31118, 31990])
    t.equal(byDefault(ev(kind), ctx), undefined, `kind ${kind}`)
})

t.test('the default whitelist refuses kind 1 with blocked:', async t => {
  t.same(byDefault(ev(1), ctx), { prefix: 'blocked', reason: 'kind 1 is not accepted here' })
})

t.test('the default whitelist refuses kinds just outside its ranges', async t => {
  for (const kind of [4999, 7001, 9734, 10000, 30023, 65535])
    t.same(byDefault(ev(kind), ctx), { prefix: 'blocked', reason: `kind ${kind} is not accepted here` }, `kind ${kind}`)
})

t.test('the configured kinds replace the default list', async t => {
  const check = checkWith({ 'policies.kind_whitelist.kinds': ['1', '30000-30099'] })
  t.equal(check(ev(1), ctx), undefined)
  t.equal(check(ev(30000), ctx), undefined)
  t.equal(check(ev(30099), ctx), undefined)
  t.same(check(ev(30100), ctx), { prefix: 'blocked', reason: 'kind 30100 is not accepted here' })
  t.same(check(ev(0), ctx), { prefix: 'blocked', reason: 'kind 0 is not accepted here' })
})

t.test('kinds given as a comma-separated string are read as a list', async t => {
  const check = checkWith({ 'policies.kind_whitelist.kinds': '1, 7' })
  t.equal(check(ev(7), ctx), undefined)
  t.same(check(ev(6), ctx), { prefix: 'blocked', reason: 'kind 6 is not accepted here' })
})

t.test('an empty whitelist accepts nothing', async t => {
  t.same(checkWith({ 'policies.kind_whitelist.kinds': [] })(ev(0), ctx), {
    prefix: 'blocked',
    reason: 'kind 0 is not accepted here',
  })
})

t.test('kind-whitelist is an anti-spam policy, enabled by default, declaring restricted writes', async t => {
  t.equal(kindWhitelist.name, 'kind-whitelist')
  t.equal(kindWhitelist.antiSpam, true)
  t.same(kindWhitelist.nips, [])
  t.equal(kindWhitelist.enabled(loadConfig({ env: {} })), true)
  t.equal(kindWhitelist.enabled(loadConfig({ env: {}, flags: { 'policies.kind_whitelist.enabled': false } })), false)
  const cfg = loadConfig({ env: {} })
  t.same(kindWhitelist.info!(cfg), { restrictedWrites: true, acceptedKinds: cfg.policies.kind_whitelist.kinds })
})

t.test(
  'a kind allowed through the management API passes the whitelist; other verdicts leave it to the list',
  async t => {
    const managed = {
      ...testDeps().managed,
      kindVerdict: (k: number) => (k === 1 ? true : k === 0 ? false : undefined),
    }
    const check = kindWhitelist.make(loadConfig({ env: {} }), { ...testDeps(), managed }).event!
    t.equal(check(ev(1), ctx), undefined, 'allowkind 1')
    t.equal(check(ev(0), ctx), undefined, 'a disallowed kind is the bans policy’s to refuse')
    t.same(check(ev(2), ctx), { prefix: 'blocked', reason: 'kind 2 is not accepted here' })
  },
)
