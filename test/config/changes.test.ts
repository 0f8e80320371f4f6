import t from 'tap'
import { changedKeys, describeChanges, isSecret, redact, REDACTED } from '../../config/changes.js'
import { loadConfig, type ConfigSources } from '../../config/load.js'

const cfg = (flags: ConfigSources['flags'] = {}) => loadConfig({ env: {}, flags })
const SECRET = 'ab'.repeat(32)

t.test('two equal configs have no changed keys', async t => {
  t.same(changedKeys(cfg({ 'relay.port': 1 }), cfg({ 'relay.port': 1 })), [])
})

t.test('changed keys come in schema order with their old and new values', async t => {
  const before = cfg({ 'policies.pow.rules': ['1:8'], 'limits.max_subscriptions': 20 })
  const after = cfg({ 'policies.pow.rules': ['1:12'], 'limits.max_subscriptions': 40 })
  t.same(changedKeys(before, after), [
    { key: 'limits.max_subscriptions', from: 20, to: 40 },
    { key: 'policies.pow.rules', from: ['1:8'], to: ['1:12'] },
  ])
})

t.test('describeChanges writes each change as key old → new, separated by semicolons', async t => {
  const text = describeChanges([
    { key: 'policies.pow.rules', from: ['1:8'], to: ['1:12'] },
    { key: 'limits.max_subscriptions', from: 20, to: 40 },
    { key: 'relay.name', from: 'a', to: 'b' },
  ])
  t.equal(text, 'policies.pow.rules ["1:8"] → ["1:12"]; limits.max_subscriptions 20 → 40; relay.name "a" → "b"')
})

t.test('a changed secret is reported without its values', async t => {
  const changes = changedKeys(cfg(), cfg({ 'relay.secret_key': SECRET }))
  t.same(changes, [{ key: 'relay.secret_key', from: REDACTED, to: REDACTED }])
  const text = describeChanges(changes)
  t.equal(text, 'relay.secret_key (redacted) → (redacted)')
  t.notMatch(text, SECRET)
})

t.test('isSecret covers secrets, passwords, tokens and keys, not pubkeys', async t => {
  for (const k of ['relay.secret_key', 'x.api_key', 'x.key', 'x.admin_token', 'x.password']) t.ok(isSecret(k), k)
  for (const k of ['market.trust_roots', 'policies.zap_gate.zapper_pubkeys', 'policies.auth_allowlist', 'relay.url'])
    t.notOk(isSecret(k), k)
})

t.test('redact hides a secret that is set and leaves an empty one empty', async t => {
  const shown = redact(cfg({ 'relay.secret_key': SECRET, 'relay.port': 9 })) as { relay: Record<string, unknown> }
  t.equal(shown.relay.secret_key, REDACTED)
  t.equal(shown.relay.port, 9, 'other keys keep their values')
  t.equal((redact(cfg()) as { relay: Record<string, unknown> }).relay.secret_key, '', 'unset stays visible as unset')
})
