import t from 'tap'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { privateReads } from '../../policies/private-reads.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const AUTHOR = 'a'.repeat(64)
const PARTY = 'b'.repeat(64)
const STRANGER = 'c'.repeat(64)
const cfg = loadConfig({
  env: {},
  flags: { 'policies.private_reads.enabled': true, 'policies.private_reads.kinds': ['7117-7118', '21117'] },
})
const hooks = privateReads.make(cfg, testDeps())
const visible = hooks.visible!
const read = hooks.read!
const ctx = policyCtx()
const ev = (kind: number, tags: string[][] = [['p', PARTY]]): NostrEvent => ({
  id: 'd'.repeat(64),
  pubkey: AUTHOR,
  created_at: 1_700_000_000,
  kind,
  tags,
  content: '',
  sig: 'e'.repeat(128),
})
const authed = (...pubkeys: string[]) => new Set(pubkeys)
const filters = (...raw: object[]) => raw.map(f => compileFilter(f, { maxValues: 100 }) as CompiledFilter)
const REFUSED = { prefix: 'restricted', reason: 'COUNT is not available for private kinds; name only public kinds' }

t.test('a private event is visible to its authenticated author', async t => {
  t.equal(visible(ev(7117), authed(AUTHOR)), true)
})

t.test('a private event is visible to an authenticated pubkey it p-tags', async t => {
  t.equal(visible(ev(7118), authed(PARTY)), true)
  t.equal(
    visible(
      ev(7117, [
        ['p', STRANGER],
        ['p', PARTY],
      ]),
      authed(PARTY),
    ),
    true,
    'any of its p tags',
  )
})

t.test('a private event is hidden from an unauthenticated connection', async t => {
  t.equal(visible(ev(7117), authed()), false)
})

t.test('a private event is hidden from an authenticated stranger', async t => {
  t.equal(visible(ev(7117), authed(STRANGER)), false)
  t.equal(visible(ev(21117), authed(STRANGER)), false)
})

t.test('a pubkey named in another tag than p does not see a private event', async t => {
  t.equal(
    visible(
      ev(7117, [
        ['e', STRANGER],
        ['P', STRANGER],
      ]),
      authed(STRANGER),
    ),
    false,
  )
})

t.test('a p tag without a value does not make a private event visible', async t => {
  t.equal(visible(ev(7117, [['p']]), authed(STRANGER)), false)
})

t.test('events of public kinds are visible to everyone', async t => {
  for (const kind of [1, 7000, 7116, 7119, 21116]) t.equal(visible(ev(kind), authed()), true, `kind ${kind}`)
})

t.test('COUNT naming only public kinds is allowed', async t => {
  t.equal(read('COUNT', filters({ kinds: [1, 7000] }), ctx), undefined)
  t.equal(read('COUNT', filters({ kinds: [7000] }, { kinds: [5100], authors: [AUTHOR] }), ctx), undefined)
})

t.test('COUNT naming a private kind is refused with restricted:', async t => {
  t.same(read('COUNT', filters({ kinds: [1, 7117] }), ctx), REFUSED)
  t.same(read('COUNT', filters({ kinds: [21117] }), ctx), REFUSED)
})

t.test('COUNT without a kinds list could match private kinds and is refused', async t => {
  t.same(read('COUNT', filters({ authors: [AUTHOR] }), ctx), REFUSED)
})

t.test('COUNT is refused when any one of its filters could match a private kind', async t => {
  t.same(read('COUNT', filters({ kinds: [1] }, { '#p': [PARTY] }), ctx), REFUSED)
})

t.test('COUNT is refused even for the authenticated parties', async t => {
  t.same(read('COUNT', filters({ kinds: [7117] }), policyCtx({ authed: authed(AUTHOR) })), REFUSED)
})

t.test('REQ for private kinds is allowed (visibility filters what it returns)', async t => {
  t.equal(read('REQ', filters({ kinds: [7117] }), ctx), undefined)
  t.equal(read('REQ', filters({}), ctx), undefined)
})

t.test('private-reads is off by default, declares NIP-42 and is not anti-spam', async t => {
  t.equal(privateReads.enabled(loadConfig({ env: {} })), false)
  t.equal(privateReads.enabled(cfg), true)
  t.equal(privateReads.name, 'private-reads')
  t.same(privateReads.nips, [42])
  t.equal(privateReads.antiSpam, false)
})
