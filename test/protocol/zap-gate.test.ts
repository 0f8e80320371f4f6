import t, { type Test } from 'tap'
import type { NostrEvent } from '../../nips/nip01.js'
import { rawClient, type Frame, type RawClient } from '../helpers/client.js'
import { signer, type Signer } from '../helpers/events.js'
import { mined } from '../helpers/pow.js'
import { startRelay } from '../../relay/app.js'
import { startTestRelay, tempDir, testConfig, type TestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { makeZap, sha256hex, type ZapOptions } from '../helpers/zaps.js'

const ADDRESS = 'relay@example.com'
const BLOCKED = `blocked: zap ${ADDRESS} at least 21 sats to post job requests`

/** A relay with the anti-spam policies and the zap gate on, trusting `lnurl` as the LNURL server. */
const gateFlags = (lnurl: Signer, extra: Record<string, string | number | boolean> = {}) => ({
  'policies.open': false,
  'policies.zap_gate.enabled': true,
  'policies.zap_gate.lightning_address': ADDRESS,
  'policies.zap_gate.zapper_pubkeys': lnurl.pubkey,
  'policies.zap_gate.min_sats': 21,
  ...extra,
})

type Gate = TestRelay & { lnurl: Signer; c: RawClient }

/** Starts a gated relay and opens a client on it, both closed at teardown. */
async function startGate(t: Test, extra: Record<string, string | number | boolean> = {}): Promise<Gate> {
  const lnurl = signer()
  const r = await startTestRelay(t, gateFlags(lnurl, extra))
  const c = await rawClient(r.url)
  t.teardown(() => c.close())
  return { ...r, lnurl, c }
}

/** A job request with the 10 bits of work the default rules ask of 5000-5999. */
const job = (s: Signer, content = 'job') => mined(s, { kind: 5100, content }, 10)

/** A zap of 21 sats from `sender` to the gate's relay, signed by its LNURL server, with overrides. */
const zapFrom = (g: Gate, sender: Signer, over: Partial<ZapOptions> = {}) =>
  makeZap({ relayPubkey: g.relay.pubkey, sender, lnurlSk: g.lnurl.sk, msats: 21000n, ...over })

function accepted(t: Test, ok: Frame, what: string): void {
  t.equal(ok[2], true, `${what}: OK true`)
  t.equal(ok[3], '', `${what}: no message`)
}

function refused(t: Test, ok: Frame, reason: string | RegExp, what: string): void {
  t.equal(ok[2], false, `${what}: OK false`)
  if (typeof reason === 'string') t.equal(ok[3], reason, `${what}: reason`)
  else t.match(ok[3], reason, `${what}: reason`)
}

t.test('a PoW-valid job request from a pubkey with no zap receipt is refused blocked: with the address', async t => {
  const g = await startGate(t)
  refused(t, await g.c.publish(job(signer())), BLOCKED, 'job request')
  t.same(await storedIds(g.url), [], 'nothing stored')
})

t.test('a valid zap receipt to the relay is accepted and unlocks its sender for job requests', async t => {
  const g = await startGate(t)
  const sender = signer()
  const request = job(sender)
  refused(t, await g.c.publish(request), BLOCKED, 'before the zap')
  const { receipt } = zapFrom(g, sender)
  accepted(t, await g.c.publish(receipt), 'receipt')
  accepted(t, await g.c.publish(request), 'the same job request after the zap')
  t.same((await storedIds(g.url)).sort(), [receipt.id, request.id].sort(), 'receipt and job stored')
})

t.test('a zap unlocks only its sender, not other pubkeys', async t => {
  const g = await startGate(t)
  accepted(t, await g.c.publish(zapFrom(g, signer()).receipt), 'receipt')
  const other = job(signer())
  refused(t, await g.c.publish(other), BLOCKED, 'someone else')
  t.notOk((await storedIds(g.url)).includes(other.id), 'their job is not stored')
})

t.test('an unlock survives a restart on the same data dir', async t => {
  const lnurl = signer()
  const dataDir = tempDir(t)
  // Started directly rather than with startTestRelay so it is closed exactly once: a second close() of a
  // relay crashes the process (see the report), and startTestRelay would close it again at teardown.
  const first = await startRelay(testConfig(dataDir, gateFlags(lnurl)))
  let running = true
  t.teardown(() => (running ? first.close() : undefined))
  const c1 = await rawClient(first.url)
  const sender = signer()
  const { receipt } = makeZap({ relayPubkey: first.pubkey, sender, lnurlSk: lnurl.sk, msats: 21000n })
  accepted(t, await c1.publish(receipt), 'receipt')
  c1.close()
  running = false
  await first.close()
  const again = await startTestRelay(t, gateFlags(lnurl), dataDir)
  t.equal(again.relay.pubkey, first.pubkey, 'same relay key')
  const c = await rawClient(again.url)
  t.teardown(() => c.close())
  const request = job(sender)
  accepted(t, await c.publish(request), 'job request after restart')
  t.same(await storedIds(again.url, { ids: [request.id] }), [request.id], 'stored')
})

t.test('an unlock survives the deletion of its receipt by the LNURL server', async t => {
  const g = await startGate(t)
  const sender = signer()
  const { receipt } = zapFrom(g, sender)
  accepted(t, await g.c.publish(receipt), 'receipt')
  const deletion = g.lnurl.sign({ kind: 5, tags: [['e', receipt.id]] })
  accepted(t, await g.c.publish(deletion), 'deletion')
  t.same(await storedIds(g.url, { ids: [receipt.id] }), [], 'the receipt is no longer served')
  const request = job(sender)
  accepted(t, await g.c.publish(request), 'job request after the deletion')
  t.same(await storedIds(g.url, { ids: [request.id] }), [request.id], 'stored')
})

t.test('an allowlisted pubkey that authenticated skips the zap gate', async t => {
  const vip = signer()
  const g = await startGate(t, { 'policies.auth_allowlist': vip.pubkey })
  const challenge = (await g.c.expect(m => m[0] === 'AUTH'))[1] as string
  const auth = vip.sign({
    kind: 22242,
    tags: [
      ['challenge', challenge],
      ['relay', g.url],
    ],
  })
  g.c.send(['AUTH', auth])
  t.equal((await g.c.ok(auth.id))[2], true, 'AUTH accepted')
  const request = vip.sign({ kind: 5100, content: 'no work, no zap' })
  accepted(t, await g.c.publish(request), 'job request')
  t.same(await storedIds(g.url), [request.id], 'stored')
})

t.test('a zap below min_sats is accepted as a receipt but does not unlock its sender', async t => {
  const g = await startGate(t)
  const sender = signer()
  const { receipt } = zapFrom(g, sender, { msats: 20000n })
  accepted(t, await g.c.publish(receipt), 'receipt of 20 sats')
  const request = job(sender)
  refused(t, await g.c.publish(request), BLOCKED, 'job request')
  t.same(await storedIds(g.url), [receipt.id], 'only the receipt is stored')
})

t.test('a receipt addressed to someone else is stored as an ordinary event and unlocks nothing', async t => {
  const g = await startGate(t)
  const sender = signer()
  const { receipt } = zapFrom(g, sender, { relayPubkey: signer().pubkey })
  accepted(t, await g.c.publish(receipt), 'receipt to another recipient')
  refused(t, await g.c.publish(job(sender)), BLOCKED, 'job request')
  t.same(await storedIds(g.url), [receipt.id], 'only the receipt is stored')
})

// Forged receipts: each is refused `invalid: zap receipt: ...`, stores nothing and unlocks nobody.
const forgeries: [string, (g: Gate) => Partial<ZapOptions>, RegExp][] = [
  ['a receipt signed by a key other than the LNURL server', () => ({ lnurlSk: signer().sk }), /LNURL server/],
  [
    'a receipt embedding an unsigned zap request',
    () => ({ tamperRequest: ({ sig: _sig, ...rest }) => rest as NostrEvent }),
    /zap request/,
  ],
  [
    'a receipt embedding a zap request with a bad signature',
    () => ({ tamperRequest: r => ({ ...r, sig: signer().sign({ kind: 9734 }).sig }) }),
    /not validly signed/,
  ],
  [
    'a receipt embedding a zap request altered after signing',
    () => ({ tamperRequest: r => ({ ...r, content: 'altered' }) }),
    /not validly signed/,
  ],
  ['a zap request with two p tags', () => ({ extraRequestTags: [['p', signer().pubkey]] }), /exactly one p tag/],
  [
    'a receipt whose p differs from the zap request’s',
    g => ({
      relayPubkey: signer().pubkey,
      receiptTags: tags => tags.map(tag => (tag[0] === 'p' ? ['p', g.relay.pubkey] : tag)),
    }),
    /p tag differs/,
  ],
  [
    'a receipt whose P is not the zap request’s author',
    () => ({ receiptTags: tags => tags.map(tag => (tag[0] === 'P' ? ['P', signer().pubkey] : tag)) }),
    /P tag/,
  ],
  ['an invoice amount different from the amount tag', () => ({ invoiceMsats: 1000n }), /amount differs/],
  [
    'an invoice whose description hash is not the zap request’s',
    () => ({ descriptionHash: sha256hex('other') }),
    /description hash/,
  ],
  ['an amountless invoice', () => ({ invoiceMsats: null }), /no amount/],
]

for (const [name, forge, why] of forgeries) {
  t.test(`${name} is refused invalid: and unlocks nobody`, async t => {
    const g = await startGate(t)
    const sender = signer()
    const { receipt } = zapFrom(g, sender, forge(g))
    const ok = await g.c.publish(receipt)
    refused(t, ok, /^invalid: zap receipt: /, 'receipt')
    t.match(ok[3], why, 'for the forged part')
    refused(t, await g.c.publish(job(sender)), BLOCKED, 'the sender’s job request')
    t.same(await storedIds(g.url), [], 'nothing stored')
  })
}

t.test('a second receipt reusing a recorded payment hash is refused and unlocks nobody', async t => {
  const g = await startGate(t)
  const first = zapFrom(g, signer())
  accepted(t, await g.c.publish(first.receipt), 'first receipt')
  const thief = signer()
  const second = zapFrom(g, thief, { paymentHash: first.paymentHash })
  refused(
    t,
    await g.c.publish(second.receipt),
    'invalid: zap receipt: this payment hash is already recorded',
    'second receipt',
  )
  refused(t, await g.c.publish(job(thief)), BLOCKED, 'the second sender’s job request')
  t.same(await storedIds(g.url), [first.receipt.id], 'only the first receipt is stored')
})

// NIP-11

type Info = {
  supported_nips: number[]
  limitation: Record<string, unknown>
  fees?: { publication: { kinds: number[]; amount: number; unit: string }[] }
  zap_gate?: { lightning_address: string; min_sats: number }
}

async function info(url: string): Promise<Info> {
  const res = await fetch(url.replace(/^ws/, 'http'), { headers: { Accept: 'application/nostr+json' } })
  return (await res.json()) as Info
}

t.test('NIP-11 shows the zap fee, restricted writes and the strictest PoW while the gate is on', async t => {
  const g = await startGate(t)
  const doc = await info(g.url)
  t.equal(doc.limitation.payment_required, true, 'payment_required')
  t.equal(doc.limitation.restricted_writes, true, 'restricted_writes')
  t.equal(doc.limitation.min_pow_difficulty, 20, 'min_pow_difficulty is the strictest default rule')
  const fee = doc.fees?.publication[0]
  t.equal(doc.fees?.publication.length, 1, 'one publication fee')
  t.equal(fee?.amount, 21000, 'amount in msats')
  t.equal(fee?.unit, 'msats')
  t.same(
    fee?.kinds,
    Array.from({ length: 1000 }, (_, i) => 5000 + i),
    'the gated kinds',
  )
  t.ok(doc.supported_nips.includes(13), 'NIP-13 listed')
  t.ok(doc.supported_nips.includes(57), 'NIP-57 listed')
  t.same(doc.zap_gate, { lightning_address: ADDRESS, min_sats: 21 }, 'where and how much to zap')
})

t.test('NIP-11 drops the fee, PoW and NIPs 13 and 57 when policies.open is on', async t => {
  // The market lists NIP-57 too (it checks receipts to providers); here only the zap gate is looked at.
  const { url } = await startTestRelay(t, { ...gateFlags(signer()), 'policies.open': true, 'market.enabled': false })
  const doc = await info(url)
  t.equal(doc.limitation.payment_required, false, 'payment_required')
  t.equal(doc.fees, undefined, 'no fees')
  t.equal(doc.zap_gate, undefined, 'no zap gate')
  t.equal(doc.limitation.min_pow_difficulty, 0, 'no PoW')
  t.equal(doc.limitation.restricted_writes, false, 'restricted_writes')
  t.notOk(doc.supported_nips.includes(13), 'NIP-13 not listed')
  t.notOk(doc.supported_nips.includes(57), 'NIP-57 not listed')
})
