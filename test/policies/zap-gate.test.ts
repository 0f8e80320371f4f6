import t from 'tap'
import { verifyEvent } from 'nostr-tools/pure'
import { ConfigError } from '../../config/fields.js'
import { loadConfig } from '../../config/load.js'
import type { NostrEvent } from '../../nips/nip01.js'
import type { StoreViews } from '../../policies/types.js'
import { zapGate } from '../../policies/zap-gate.js'
import { signer } from '../helpers/events.js'
import { policyCtx, testDeps } from '../helpers/policy.js'
import { makeZap, sha256hex, type ZapOptions } from '../helpers/zaps.js'

const RELAY = testDeps().relayPubkey
const lnurl = signer()
const sender = signer()
const AUTHOR = 'b'.repeat(64)
const ADDRESS = 'relay@example.com'
const GATE = {
  'policies.zap_gate.enabled': true,
  'policies.zap_gate.zapper_pubkeys': [lnurl.pubkey],
  'policies.zap_gate.lightning_address': ADDRESS,
}
const configWith = (flags: Record<string, string | number | boolean | readonly string[]> = {}) =>
  loadConfig({ env: {}, flags: { ...GATE, ...flags } })
const hooksWith = (flags: Record<string, string | number | boolean | readonly string[]> = {}) =>
  zapGate.make(configWith(flags), testDeps(verifyEvent))
const hooks = hooksWith()
const ev = (kind: number, pubkey = AUTHOR): NostrEvent => ({
  id: 'a'.repeat(64),
  pubkey,
  created_at: 1_700_000_000,
  kind,
  tags: [],
  content: '',
  sig: 'c'.repeat(128),
})
/** A context whose store says `pubkey` has zapped the relay `msats` at most (everyone else never). */
const zapped = (msats: bigint, pubkey = AUTHOR, authed: string[] = []) => {
  const views: StoreViews = {
    largestZapMsats: pk => (pk === pubkey ? msats : 0n),
    knownJob: () => false,
    lightningAddresses: () => [],
    wallet: () => undefined,
  }
  return policyCtx({ views, authed: new Set(authed) })
}
const BLOCKED = { prefix: 'blocked', reason: `zap ${ADDRESS} at least 21 sats to post job requests` }
const zap = (over: Partial<ZapOptions> = {}) =>
  makeZap({ relayPubkey: RELAY, sender, lnurlSk: lnurl.sk, msats: 21_000, ...over })

t.test('a job request from a pubkey that never zapped the relay is refused with blocked:', async t => {
  t.same(hooks.event!(ev(5100), policyCtx()), BLOCKED)
})

t.test('a job request from a pubkey whose largest zap is below min_sats is refused', async t => {
  t.same(hooks.event!(ev(5100), zapped(20_999n)), BLOCKED)
})

t.test('a job request from a pubkey whose largest zap is exactly min_sats is accepted', async t => {
  t.equal(hooks.event!(ev(5100), zapped(21_000n)), undefined)
})

t.test('a job request from a pubkey whose largest zap is above min_sats is accepted', async t => {
  t.equal(hooks.event!(ev(5100), zapped(1_000_000n)), undefined)
})

t.test('the gate asks the store about the event’s author, not another pubkey', async t => {
  t.same(hooks.event!(ev(5100, 'd'.repeat(64)), zapped(1_000_000n)), BLOCKED)
})

t.test('min_sats is counted in sats and compared in msats', async t => {
  const check = hooksWith({ 'policies.zap_gate.min_sats': 1000 }).event!
  const blocked = { prefix: 'blocked', reason: `zap ${ADDRESS} at least 1000 sats to post job requests` }
  t.same(check(ev(5100), zapped(999_999n)), blocked)
  t.equal(check(ev(5100), zapped(1_000_000n)), undefined)
})

t.test('the whole default range 5000-5999 is gated', async t => {
  t.same(hooks.event!(ev(5000), policyCtx()), BLOCKED)
  t.same(hooks.event!(ev(5999), policyCtx()), BLOCKED)
})

t.test('kinds outside the gate pass without a zap', async t => {
  for (const kind of [0, 1, 3, 4999, 6000, 6100, 7000, 9735, 30333])
    t.equal(hooks.event!(ev(kind), policyCtx()), undefined, `kind ${kind}`)
})

t.test('the gated kinds come from the config', async t => {
  const check = hooksWith({ 'policies.zap_gate.kinds': ['5100', '7000'] }).event!
  t.same(check(ev(7000), policyCtx()), BLOCKED)
  t.same(check(ev(5100), policyCtx()), BLOCKED)
  t.equal(check(ev(5200), policyCtx()), undefined)
})

t.test('an allowlisted pubkey authenticated on the connection bypasses the gate', async t => {
  const check = hooksWith({ 'policies.auth_allowlist': [AUTHOR] }).event!
  t.equal(check(ev(5100), policyCtx({ authed: new Set([AUTHOR]) })), undefined)
})

t.test('an allowlisted pubkey that has not authenticated is still gated', async t => {
  const check = hooksWith({ 'policies.auth_allowlist': [AUTHOR] }).event!
  t.same(check(ev(5100), policyCtx()), BLOCKED)
})

t.test('an authenticated pubkey that is not allowlisted is still gated', async t => {
  t.same(hooks.event!(ev(5100), policyCtx({ authed: new Set([AUTHOR]) })), BLOCKED)
})

t.test('a valid receipt paying the relay yields a zap unlock for the writer', async t => {
  const z = zap()
  t.strictSame(hooks.verified!(z.receipt, policyCtx()), {
    zapUnlock: { sender: sender.pubkey, recipient: RELAY, msats: 21_000n, paymentHash: z.paymentHash },
  })
})

t.test('a valid receipt below min_sats still yields its zap unlock (the gate compares later)', async t => {
  const z = zap({ msats: 1_000 })
  t.strictSame(hooks.verified!(z.receipt, policyCtx()), {
    zapUnlock: { sender: sender.pubkey, recipient: RELAY, msats: 1_000n, paymentHash: z.paymentHash },
  })
})

t.test('a forged receipt paying the relay is refused with invalid:', async t => {
  t.same(hooks.verified!(zap({ descriptionHash: sha256hex('something else') }).receipt, policyCtx()), {
    prefix: 'invalid',
    reason: 'zap receipt: invoice description hash is not the sha256 of the zap request',
  })
})

t.test('a receipt to the relay signed by an unlisted LNURL server is refused with invalid:', async t => {
  t.same(hooks.verified!(zap({ lnurlSk: signer().sk }).receipt, policyCtx()), {
    prefix: 'invalid',
    reason: 'zap receipt: not signed by the recipient’s LNURL server',
  })
})

t.test('a receipt to the relay whose zap request is badly signed is refused with invalid:', async t => {
  t.same(hooks.verified!(zap({ tamperRequest: r => ({ ...r, content: 'x' }) }).receipt, policyCtx()), {
    prefix: 'invalid',
    reason: 'zap receipt: zap request is not validly signed',
  })
})

t.test('receipts paying other pubkeys are left alone, valid or forged', async t => {
  const other = signer().pubkey
  t.equal(
    hooks.verified!(makeZap({ relayPubkey: other, sender, lnurlSk: lnurl.sk, msats: 21_000 }).receipt, policyCtx()),
    undefined,
  )
  const forged = makeZap({ relayPubkey: other, sender, lnurlSk: signer().sk, msats: 21_000, bolt11: 'junk' })
  t.equal(hooks.verified!(forged.receipt, policyCtx()), undefined)
})

t.test(
  'a receipt whose zap request pays another pubkey does not unlock, even if the receipt also p-tags the relay',
  async t => {
    // Only a payment to the relay may unlock. The receipt's first p matches its zap request (to another
    // pubkey) and a second p names the relay, so the gate looks at it.
    const other = signer().pubkey
    const z = makeZap({
      relayPubkey: other,
      sender,
      lnurlSk: lnurl.sk,
      msats: 21_000,
      receiptTags: tags => [...tags, ['p', RELAY]],
    })
    const r = hooks.verified!(z.receipt, policyCtx())
    t.notOk(r && 'zapUnlock' in r, 'no unlock for a zap to someone else')
  },
)

t.test('events of other kinds p-tagging the relay are left to other checks', async t => {
  const z = zap()
  t.equal(hooks.verified!({ ...z.receipt, kind: 9734 }, policyCtx()), undefined)
  t.equal(hooks.verified!({ ...ev(1), tags: [['p', RELAY]] }, policyCtx()), undefined)
})

const thrown = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (e) {
    return e
  }
  return undefined
}

t.test('make throws ConfigError when the gate is enabled without zapper_pubkeys', async t => {
  const err = thrown(() => hooksWith({ 'policies.zap_gate.zapper_pubkeys': [] }))
  t.type(err, ConfigError)
  t.match((err as Error).message, /^policies\.zap_gate\.zapper_pubkeys: /)
})

t.test('make throws ConfigError when the gate is enabled without lightning_address', async t => {
  const err = thrown(() => hooksWith({ 'policies.zap_gate.lightning_address': '' }))
  t.type(err, ConfigError)
  t.match((err as Error).message, /^policies\.zap_gate\.lightning_address: /)
})

t.test('info advertises the gated kinds and the fee in msats', async t => {
  const info = zapGate.info!(configWith())
  t.equal(info.restrictedWrites, true)
  t.equal(info.payment?.msats, 21_000)
  t.equal(info.payment?.kinds.length, 1000)
  t.equal(info.payment?.kinds[0], 5000)
  t.equal(info.payment?.kinds[999], 5999)
  t.match(info.payment?.description, ADDRESS)
})

t.test('zap-gate is an anti-spam policy declaring NIP-57, off by default', async t => {
  t.equal(zapGate.name, 'zap-gate')
  t.equal(zapGate.antiSpam, true)
  t.same(zapGate.nips, [57])
  t.equal(zapGate.enabled(loadConfig({ env: {} })), false)
  t.equal(zapGate.enabled(configWith()), true)
})
