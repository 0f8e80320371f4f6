import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { schnorr } from '@noble/curves/secp256k1.js'
import { verifyEvent } from 'nostr-tools/pure'
import t, { type Test } from 'tap'
import { loadIdentity } from '../../relay/identity.js'
import type { NostrEvent } from '../../nips/nip01.js'
import {
  loadNativeAddon,
  makeVerifier,
  nativeAddonPath,
  nobleVerifier,
  wasmVerifier,
  type Verifier,
} from '../../relay/verifier.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

const run = promisify(execFile)
const nativeDir = fileURLToPath(new URL('../../native/', import.meta.url))
const native = loadNativeAddon()
// The addon is optional (built at install when libsecp256k1-dev is present): its tests say why they skip.
const needsNative = native instanceof Error ? `native addon not built: ${native.message}` : false

type Case = { readonly name: string; readonly e: NostrEvent; readonly valid: boolean }

/** `hex` with bit `bit` (0 = the most significant bit of the first byte) flipped. */
function flipBit(hex: string, bit: number): string {
  const bytes = Buffer.from(hex, 'hex')
  bytes[bit >> 3]! ^= 0x80 >> (bit & 7)
  return bytes.toString('hex')
}

/**
 * Hex that parseInt-per-byte decoders read as `hex` but is not hex: a byte "0X" written "Xz"
 * (parseInt('az', 16) === 0x0a). Undefined when `hex` has no byte below 0x10.
 */
function parseIntTwin(hex: string): string | undefined {
  for (let i = 0; i < hex.length; i += 2)
    if (hex[i] === '0' && hex[i + 1] !== '0') return `${hex.slice(0, i)}${hex[i + 1]}z${hex.slice(i + 2)}`
  return undefined
}

/** Valid events from several keys, then every way we know to get a signature wrong. */
function corpus(): Case[] {
  const keys = [signer(), signer(), signer()]
  const events = keys.flatMap((k, i) =>
    [0, 1, 2].map(j => k.sign({ kind: [1, 0, 30023][j]!, content: `event ${j} of key ${i}`, tags: [['t', `${j}`]] })),
  )
  const [a, b] = events as [NostrEvent, NostrEvent]
  const other = events[3]!
  const cases: Case[] = events.map((e, i) => ({ name: `valid event ${i}`, e, valid: true }))
  const bad = (name: string, over: Partial<Record<keyof NostrEvent, unknown>>) =>
    cases.push({ name, e: { ...a, ...over } as NostrEvent, valid: false })
  // Each malformed case right after a valid check of the same event, so no backend can lean on leftovers.
  const afterValid = (name: string, over: Partial<Record<keyof NostrEvent, unknown>>) => {
    cases.push({ name: 'valid event 0 again', e: a, valid: true })
    bad(name, over)
  }
  bad('one bit of r flipped', { sig: flipBit(a.sig, 5) })
  bad('one bit of s flipped', { sig: flipBit(a.sig, 300) })
  bad('the last bit of the sig flipped', { sig: flipBit(a.sig, 511) })
  bad('the sig of another event by the same key', { sig: b.sig })
  bad('the sig of another key', { sig: other.sig })
  bad('another pubkey', { pubkey: other.pubkey })
  bad('the id of another event by the same key', { id: b.id })
  bad('one bit of the id flipped', { id: flipBit(a.id, 100) })
  bad('an all-zero sig', { sig: '0'.repeat(128) })
  bad('an all-ones sig', { sig: 'f'.repeat(128) })
  bad('s equal to or above the group order', { sig: a.sig.slice(0, 64) + 'f'.repeat(64) })
  bad('a pubkey x above the field prime', { pubkey: 'f'.repeat(64) })
  bad('a pubkey x equal to the field prime', {
    pubkey: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f',
  })
  bad('a pubkey x with no point on the curve', { pubkey: '5'.padStart(64, '0') })
  bad('an all-zero pubkey', { pubkey: '0'.repeat(64) })
  afterValid('an odd-length sig', { sig: a.sig.slice(0, -1) })
  afterValid('a short sig (64 hex)', { sig: a.sig.slice(0, 64) })
  afterValid('a long sig (130 hex)', { sig: a.sig + '00' })
  afterValid('an empty sig', { sig: '' })
  afterValid('a sig with a non-hex character', { sig: 'g' + a.sig.slice(1) })
  afterValid('an odd-length pubkey', { pubkey: a.pubkey.slice(0, -1) })
  afterValid('a short pubkey', { pubkey: a.pubkey.slice(0, 62) })
  afterValid('a pubkey with a non-hex character', { pubkey: a.pubkey.slice(0, -1) + 'x' })
  afterValid('an odd-length id', { id: a.id.slice(0, -1) })
  afterValid('an uppercase sig', { sig: a.sig.toUpperCase() })
  afterValid('an uppercase pubkey', { pubkey: a.pubkey.toUpperCase() })
  afterValid('a sig that is not a string', { sig: 7 })
  afterValid('a missing pubkey', { pubkey: undefined })
  const twin = events.map(e => ({ e, sig: parseIntTwin(e.sig) })).find(x => x.sig !== undefined)
  if (!twin) throw new Error('no corpus event has a signature byte below 0x10')
  cases.push({ name: 'a sig that parseInt reads as a valid one', e: { ...twin.e, sig: twin.sig! }, valid: false })
  return cases
}

const cases = corpus()

function acceptsExactlyTheValid(t: Test, v: Verifier) {
  for (const c of cases) {
    let got: unknown
    try {
      got = v.verify(c.e)
    } catch (err) {
      got = `threw ${String(err)}`
    }
    t.equal(got, c.valid, `${v.name}: ${c.name}`)
  }
}

t.test('the noble backend verifies exactly the valid signatures and never throws', async t => {
  acceptsExactlyTheValid(t, nobleVerifier())
})

t.test('the wasm backend verifies exactly the valid signatures and never throws', async t => {
  acceptsExactlyTheValid(t, await wasmVerifier())
})

t.test('the native backend verifies exactly the valid signatures and never throws', { skip: needsNative }, async t => {
  const v = await makeVerifier('native')
  t.equal(v.name, 'native')
  acceptsExactlyTheValid(t, v)
})

t.test('the native batch entry point returns one result per 128-byte item', { skip: needsNative }, async t => {
  const addon = loadNativeAddon()
  if (addon instanceof Error) throw addon
  const hex = (v: unknown, len: number) => typeof v === 'string' && new RegExp(`^[0-9a-f]{${len}}$`).test(v)
  const picked = cases.filter(c => hex(c.e.sig, 128) && hex(c.e.id, 64) && hex(c.e.pubkey, 64))
  const items = Buffer.concat(
    picked.map(c =>
      Buffer.concat([Buffer.from(c.e.sig, 'hex'), Buffer.from(c.e.id, 'hex'), Buffer.from(c.e.pubkey, 'hex')]),
    ),
  )
  t.ok(
    picked.some(c => !c.valid),
    'the batch holds invalid signatures too',
  )
  t.same(
    [...addon.verifyBatch(items)],
    picked.map(c => (c.valid ? 1 : 0)),
  )
  t.same([...addon.verifyBatch(new Uint8Array(0))], [])
  t.throws(() => addon.verifyBatch(new Uint8Array(127)), /N\*128 bytes/)
})

t.test('the native addon verifies in a worker thread', { skip: needsNative }, async t => {
  const [valid, invalid] = [cases.find(c => c.valid)!, cases.find(c => !c.valid && /^[0-9a-f]+$/.test(c.e.sig))!]
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads')
     const addon = require(workerData.path)
     const check = e => addon.verify(Buffer.from(e.sig, 'hex'), Buffer.from(e.id, 'hex'), Buffer.from(e.pubkey, 'hex'))
     parentPort.postMessage(workerData.events.map(check))`,
    { eval: true, workerData: { path: nativeAddonPath(), events: [valid.e, invalid.e] } },
  )
  t.teardown(() => worker.terminate())
  const results = await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  t.same(results, [true, false])
})

t.test('auto picks the native backend when the addon is built', { skip: needsNative }, async t => {
  t.equal((await makeVerifier('auto')).name, 'native')
})

t.test('auto falls back to wasm when the native addon is missing', async t => {
  const v = await makeVerifier('auto', { nativePath: join(tempDir(t), 'missing.node') })
  t.equal(v.name, 'wasm')
  t.equal(v.verify(cases[0]!.e), true)
})

t.test('the native backend refuses to start, naming the missing addon, when it is not built', async t => {
  const missing = join(tempDir(t), 'missing.node')
  await t.rejects(makeVerifier('native', { nativePath: missing }), {
    message: new RegExp(
      `^verifier.backend is "native" but the native verifier is not available: ${missing} does not exist`,
    ),
  })
  await t.rejects(makeVerifier('native', { nativePath: missing }), { message: /libsecp256k1-dev/ })
})

t.test("a file that is not agora's addon is refused by the native backend", async t => {
  const notAddon = join(tempDir(t), 'fake.node')
  copyFileSync(join(nativeDir, 'build.mjs'), notAddon)
  await t.rejects(makeVerifier('native', { nativePath: notAddon }), { message: /fake\.node did not load/ })
  t.equal((await makeVerifier('auto', { nativePath: notAddon })).name, 'wasm')
})

t.test('the install script skips in one line and exits 0 when the libsecp256k1 header is missing', async t => {
  const { stdout, stderr } = await run(process.execPath, [join(nativeDir, 'build.mjs')], {
    env: { ...process.env, SECP256K1_HEADER: join(tempDir(t), 'secp256k1_schnorrsig.h') },
    timeout: 30_000,
  })
  t.equal(stdout, 'agora: libsecp256k1 not found, native verifier skipped (install libsecp256k1-dev to enable it)\n')
  t.equal(stderr, '')
})

t.test('the install script warns in one line and exits 0 when the build fails', async t => {
  // A copy of native/ so the real build stays; the header override points at any existing file, and a
  // compiler that always fails stands in for a broken toolchain.
  const dir = tempDir(t)
  for (const f of ['binding.gyp', 'secp256k1.c', 'build.mjs']) copyFileSync(join(nativeDir, f), join(dir, f))
  const { stdout, stderr } = await run(process.execPath, [join(dir, 'build.mjs')], {
    env: { ...process.env, SECP256K1_HEADER: join(dir, 'secp256k1.c'), CC: 'false', CXX: 'false' },
    timeout: 120_000,
  })
  t.equal(stdout, '')
  t.match(stderr, /^agora: native verifier not built \(.*\); the relay will use nostr-wasm\n$/)
})

t.test(
  'the native addon signs: BIP-340 signatures other implementations accept, bad input refused',
  { skip: needsNative },
  async t => {
    const addon = loadNativeAddon()
    if (addon instanceof Error) throw addon
    const sk = randomBytes(32)
    const msg = randomBytes(32)
    const sig = addon.sign(msg, sk, randomBytes(32))
    t.equal(sig.length, 64)
    t.ok(schnorr.verify(sig, msg, schnorr.getPublicKey(sk)), 'noble accepts it')
    t.notOk(schnorr.verify(sig, randomBytes(32), schnorr.getPublicKey(sk)), 'and not for another message')
    t.throws(() => addon.sign(msg, new Uint8Array(32), randomBytes(32)), /valid 32-byte secret key/, 'a zero key')
    t.throws(() => addon.sign(msg.subarray(0, 31), sk, randomBytes(32)), /32-byte message/, 'a short message')
  },
)

t.test('the relay identity signs events that nostr-tools verifies', async t => {
  const dir = tempDir(t)
  const id = await loadIdentity('', dir)
  const e = id.sign({ kind: 31118, created_at: 1_700_000_000, tags: [['d', 'x']], content: '' })
  t.equal(e.pubkey, id.pubkey)
  t.ok(verifyEvent({ ...e }), 'valid id and signature')
  t.equal((await loadIdentity('', dir)).pubkey, id.pubkey, 'the key file is reused')
})
