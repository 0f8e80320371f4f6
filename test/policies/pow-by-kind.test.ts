import t from 'tap'
import { minePow } from 'nostr-tools/nip13'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { powByKind } from '../../policies/pow-by-kind.js'
import { signer } from '../helpers/events.js'
import { policyCtx, testDeps } from '../helpers/policy.js'

const AUTHOR = 'b'.repeat(64)
const ctx = policyCtx()
/** An id with exactly `bits` leading zero bits (the check reads the id; the signature is checked later). */
const idWithBits = (bits: number) => {
  const bin = '0'.repeat(bits) + '1' + '0'.repeat(255 - bits)
  return BigInt('0b' + bin)
    .toString(16)
    .padStart(64, '0')
}
const ev = (kind: number, bits: number, target?: number, pubkey = AUTHOR): NostrEvent => ({
  id: idWithBits(bits),
  pubkey,
  created_at: ctx.now,
  kind,
  tags: target === undefined ? [] : [['nonce', '12345', String(target)]],
  content: '',
  sig: 'c'.repeat(128),
})
const checkWith = (flags: Record<string, string | boolean | readonly string[]> = {}) =>
  powByKind.make(loadConfig({ env: {}, flags }), testDeps()).event!
const byDefault = checkWith()
const pow = (kind: number, need: number, have: number) => ({
  prefix: 'pow',
  reason: `kind ${kind} needs ${need} bits committed in a nonce tag, event has ${have}`,
})

t.test('idWithBits builds ids with the requested leading zero bits', async t => {
  t.equal(idWithBits(0)[0], '8')
  t.equal(idWithBits(10).slice(0, 3), '002')
})

t.test('a job request mined with nostr-tools for 10 bits is accepted', async t => {
  const s = signer()
  const mined = minePow({ kind: 5100, created_at: ctx.now, tags: [], content: '', pubkey: s.pubkey }, 10)
  t.equal(byDefault({ ...mined, sig: 'c'.repeat(128) }, ctx), undefined)
})

t.test('a job request with exactly the required bits and target is accepted', async t => {
  t.equal(byDefault(ev(5100, 10, 10), ctx), undefined)
})

t.test('a job request with more bits than its committed target, and target >= requirement, is accepted', async t => {
  t.equal(byDefault(ev(5100, 30, 12), ctx), undefined)
})

t.test('a job request with enough bits but a lower committed target is refused with pow:', async t => {
  t.same(byDefault(ev(5100, 16, 8), ctx), pow(5100, 10, 8))
})

t.test('a job request committing to the target but one bit short is refused with pow:', async t => {
  t.same(byDefault(ev(5100, 9, 10), ctx), pow(5100, 10, 9))
})

t.test('a job request without a nonce tag is refused with 0 bits, even with a zero-heavy id', async t => {
  t.same(byDefault(ev(5100, 40), ctx), pow(5100, 10, 0))
  t.same(byDefault({ ...ev(5100, 0), id: '0'.repeat(64) }, ctx), pow(5100, 10, 0))
})

t.test('a nonce tag without a readable target proves 0 bits', async t => {
  t.same(byDefault({ ...ev(5100, 20), tags: [['nonce', '1']] }, ctx), pow(5100, 10, 0))
})

t.test('the default rules require 10 bits for the whole 5000-5999 range', async t => {
  t.same(byDefault(ev(5000, 0), ctx), pow(5000, 10, 0))
  t.same(byDefault(ev(5999, 0), ctx), pow(5999, 10, 0))
  t.equal(byDefault(ev(5999, 10, 10), ctx), undefined)
})

t.test('the default rules require 20 bits for kinds 0, 1 and 3', async t => {
  for (const kind of [0, 1, 3]) {
    t.same(byDefault(ev(kind, 19, 20), ctx), pow(kind, 20, 19), `kind ${kind} with 19 bits`)
    t.same(byDefault(ev(kind, 25, 19), ctx), pow(kind, 20, 19), `kind ${kind} committing to 19`)
    t.equal(byDefault(ev(kind, 20, 20), ctx), undefined, `kind ${kind} with 20 bits`)
  }
})

t.test('results, feedback, zap receipts and other kinds need no work by default', async t => {
  for (const kind of [2, 4, 5, 4999, 6000, 6100, 7000, 9735, 10002, 30333])
    t.equal(byDefault(ev(kind, 0), ctx), undefined, `kind ${kind}`)
})

t.test('an allowlisted pubkey authenticated on the connection skips proof of work', async t => {
  const check = checkWith({ 'policies.auth_allowlist': [AUTHOR] })
  t.equal(check(ev(5100, 0), policyCtx({ authed: new Set([AUTHOR]) })), undefined)
  t.equal(check(ev(1, 0), policyCtx({ authed: new Set(['d'.repeat(64), AUTHOR]) })), undefined)
})

t.test('an allowlisted pubkey that has not authenticated must still do the work', async t => {
  const check = checkWith({ 'policies.auth_allowlist': [AUTHOR] })
  t.same(check(ev(5100, 0), ctx), pow(5100, 10, 0))
})

t.test('an allowlisted pubkey cannot lend its bypass to events of another author', async t => {
  const OTHER = 'd'.repeat(64)
  const check = checkWith({ 'policies.auth_allowlist': [AUTHOR] })
  t.same(check(ev(5100, 0, undefined, OTHER), policyCtx({ authed: new Set([AUTHOR]) })), pow(5100, 10, 0))
})

t.test('an authenticated pubkey that is not allowlisted must still do the work', async t => {
  t.same(byDefault(ev(5100, 0), policyCtx({ authed: new Set([AUTHOR]) })), pow(5100, 10, 0))
})

t.test('the first matching rule wins', async t => {
  const check = checkWith({ 'policies.pow.rules': ['5100:4', '5000-5999:12', '*:2'] })
  t.equal(check(ev(5100, 4, 4), ctx), undefined)
  t.same(check(ev(5200, 11, 12), ctx), pow(5200, 12, 11))
  t.same(check(ev(1, 1, 2), ctx), pow(1, 2, 1))
  t.equal(check(ev(1, 2, 2), ctx), undefined)
})

t.test('a rule of 0 bits exempts its kinds from a later catch-all', async t => {
  const check = checkWith({ 'policies.pow.rules': ['7000:0', '*:8'] })
  t.equal(check(ev(7000, 0), ctx), undefined)
  t.same(check(ev(7001, 0), ctx), pow(7001, 8, 0))
})

const infoWith = (rules?: string[]) =>
  powByKind.info!(loadConfig({ env: {}, flags: rules === undefined ? {} : { 'policies.pow.rules': rules } }))

t.test('info advertises the strictest rule as min_pow_difficulty', async t => {
  t.equal(infoWith().minPow, 20)
  t.equal(infoWith(['5000-5999:10', '*:3']).minPow, 10)
  t.equal(infoWith([]).minPow, 0)
  t.equal(infoWith().restrictedWrites, true)
})

t.test('info lists the default rules as pow_by_kind in configured order', async t => {
  t.strictSame(infoWith().powByKind, [
    { kinds: '5000-5999', bits: 10 },
    { kinds: '0', bits: 20 },
    { kinds: '1', bits: 20 },
    { kinds: '3', bits: 20 },
  ])
})

t.test('info keeps "*" and single kinds as written, and lists nothing without rules', async t => {
  t.strictSame(infoWith(['5100:4', '*:2']).powByKind, [
    { kinds: '5100', bits: 4 },
    { kinds: '*', bits: 2 },
  ])
  t.strictSame(infoWith([]).powByKind, [])
})

t.test('info leaves out rules of 0 bits that no later rule overrides', async t => {
  t.strictSame(infoWith(['7000:0', '5000-5999:10', '6000-6999:0']).powByKind, [
    { kinds: '7000', bits: 0 },
    { kinds: '5000-5999', bits: 10 },
  ])
  t.strictSame(infoWith(['1:0', '7:0']).powByKind, [], 'all zero: nothing to mine')
})

t.test('a 0-bit rule listed before a catch-all is kept, so first match still exempts its kind', async t => {
  const rules = ['7000:0', '*:8']
  const listed = infoWith(rules).powByKind!
  t.strictSame(listed, [
    { kinds: '7000', bits: 0 },
    { kinds: '*', bits: 8 },
  ])
  t.equal(checkWith({ 'policies.pow.rules': rules })(ev(7000, 0), ctx), undefined, 'the relay agrees: 7000 is free')
})

t.test('pow-by-kind is an anti-spam policy declaring NIP-13, enabled by default', async t => {
  t.equal(powByKind.name, 'pow-by-kind')
  t.equal(powByKind.antiSpam, true)
  t.same(powByKind.nips, [13])
  t.equal(powByKind.enabled(loadConfig({ env: {} })), true)
  t.equal(powByKind.enabled(loadConfig({ env: {}, flags: { 'policies.pow.enabled': false } })), false)
})
