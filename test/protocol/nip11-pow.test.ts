import t from 'tap'
import type { PowRule } from '../../nips/nip11.js'
import { connectFor } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { bitsFor, mined } from '../helpers/pow.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { startPowFileRelay } from '../helpers/config-file.js'

type Info = { pow_by_kind: PowRule[]; limitation: { min_pow_difficulty: number } }

const DEFAULT_RULES = [
  { kinds: '5000-5999', bits: 10 },
  { kinds: '0', bits: 20 },
  { kinds: '1', bits: 20 },
  { kinds: '3', bits: 20 },
]

/** The NIP-11 document of the relay at a ws:// URL. */
async function info(url: string): Promise<Info> {
  const res = await fetch(url.replace(/^ws:/, 'http:'), { headers: { Accept: 'application/nostr+json' } })
  return (await res.json()) as Info
}

t.test('NIP-11 pow_by_kind lists the default rules in order, and min_pow_difficulty stays the strictest', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': false })
  const doc = await info(url)
  t.strictSame(doc.pow_by_kind, DEFAULT_RULES)
  t.equal(doc.limitation.min_pow_difficulty, 20)
  t.equal(bitsFor(doc.pow_by_kind, 5100), 10, 'a job request needs 10 bits, not min_pow_difficulty')
})

t.test('NIP-11 pow_by_kind lists configured rules in their configured order', async t => {
  const rules = ['5100:4', '5000-5999:8', '*:2']
  const { url } = await startTestRelay(t, { 'policies.open': false, 'policies.pow.rules': rules })
  t.strictSame((await info(url)).pow_by_kind, [
    { kinds: '5100', bits: 4 },
    { kinds: '5000-5999', bits: 8 },
    { kinds: '*', bits: 2 },
  ])
})

t.test('NIP-11 pow_by_kind is [] when the PoW policy is disabled', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': false, 'policies.pow.enabled': false })
  const doc = await info(url)
  t.strictSame(doc.pow_by_kind, [])
  t.equal(doc.limitation.min_pow_difficulty, 0)
})

t.test('NIP-11 pow_by_kind is [] when the relay is open (--open sets policies.open)', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': true })
  const doc = await info(url)
  t.strictSame(doc.pow_by_kind, [])
  t.equal(doc.limitation.min_pow_difficulty, 0)
})

t.test('NIP-11 pow_by_kind and the refusal follow a config reload', async t => {
  const { relay, write } = await startPowFileRelay(t, 'rules = ["5000-5999:3"]')
  t.strictSame((await info(relay.url)).pow_by_kind, [{ kinds: '5000-5999', bits: 3 }], 'before the reload')

  write('rules = ["5100:6", "*:1"]')
  const rules = { key: 'policies.pow.rules', from: ['5000-5999:3'], to: ['5100:6', '*:1'] }
  t.same(relay.reload(), { ok: true, changes: [rules], pending: [] })
  t.strictSame(
    (await info(relay.url)).pow_by_kind,
    [
      { kinds: '5100', bits: 6 },
      { kinds: '*', bits: 1 },
    ],
    'after the reload',
  )
  const c = await connectFor(t, relay.url)
  const job = mined(signer(), { kind: 5100, content: 'job' }, 5)
  const ok = await c.publish(job)
  t.equal(ok[3], 'pow: kind 5100 needs 6 bits committed in a nonce tag, event has 5', 'the relay enforces the new rule')

  write('enabled = false')
  t.same(relay.reload(), {
    ok: true,
    changes: [
      { key: 'policies.pow.enabled', from: true, to: false },
      { key: 'policies.pow.rules', from: ['5100:6', '*:1'], to: ['5000-5999:10', '0:20', '1:20', '3:20'] },
    ],
    pending: [],
  })
  t.strictSame((await info(relay.url)).pow_by_kind, [], 'after turning the policy off')
})

t.test('a job mined to exactly the advertised bits is accepted, one bit less is refused naming both', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': false })
  const bits = bitsFor((await info(url)).pow_by_kind, 5100)
  const c = await connectFor(t, url)
  const s = signer()
  const short = mined(s, { kind: 5100, content: 'short' }, bits - 1)
  const ok = await c.publish(short)
  t.equal(ok[2], false, 'one bit less is refused')
  t.equal(ok[3], `pow: kind 5100 needs ${bits} bits committed in a nonce tag, event has ${bits - 1}`)
  t.equal(Number(/needs (\d+) bits/.exec(String(ok[3]))?.[1]), bits, 'a client parses the advertised bits back')

  const exact = mined(s, { kind: 5100, content: 'exact' }, bits)
  t.same(await c.publish(exact), ['OK', exact.id, true, ''], 'exactly the advertised bits is accepted')
  t.same(await storedIds(url), [exact.id], 'only the exact one is stored')
})

t.test('mining each kind to its first matching pow_by_kind entry is enough', async t => {
  const rules = ['5100:4', '5000-5999:8', '*:2']
  const { url } = await startTestRelay(t, { 'policies.open': false, 'policies.pow.rules': rules })
  const advertised = (await info(url)).pow_by_kind
  const c = await connectFor(t, url)
  const s = signer()
  for (const kind of [5100, 5200, 7000]) {
    const bits = bitsFor(advertised, kind)
    const short = mined(s, { kind, content: 'short' }, bits - 1)
    t.equal(
      (await c.publish(short))[3],
      `pow: kind ${kind} needs ${bits} bits committed in a nonce tag, event has ${bits - 1}`,
    )
    const exact = mined(s, { kind, content: 'exact' }, bits)
    t.equal((await c.publish(exact))[2], true, `kind ${kind} with ${bits} bits is accepted`)
  }
})
