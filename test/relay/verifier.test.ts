import { randomBytes } from 'node:crypto'
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { schnorr } from '@noble/curves/secp256k1.js'
import sdk from '@rust-nostr/nostr-sdk'
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey, verifyEvent } from 'nostr-tools/pure'
import t, { type Test } from 'tap'
import { loadIdentity } from '../../relay/identity.js'
import type { NostrEvent } from '../../nips/nip01.js'
import {
  loadNative,
  makeVerifier,
  nativeModule,
  nobleVerifier,
  wasmVerifier,
  type Verifier,
} from '../../relay/verifier.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

const require = createRequire(import.meta.url)
const native = loadNative()
// The native backend is bcrypto's C build, made by npm at install when a C compiler is there: tests that need it
// say why they skip. The first test below fails instead, because this repo's machines have the compiler.
const needsNative = native instanceof Error ? `native verifier not available: ${native.message}` : false
const N = schnorr.Point.CURVE().n
const P = schnorr.Point.CURVE().p

/** Every backend present on this machine: noble, wasm, and native when it was built. */
async function backends(): Promise<Verifier[]> {
  return [nobleVerifier(), await wasmVerifier(), ...(needsNative ? [] : [await makeVerifier('native')])]
}

type Case = { readonly name: string; readonly e: NostrEvent; readonly valid: boolean }

/** `hex` with bit `bit` (0 = the most significant bit of the first byte) flipped. */
function flipBit(hex: string, bit: number): string {
  const bytes = Buffer.from(hex, 'hex')
  bytes[bit >> 3]! ^= 0x80 >> (bit & 7)
  return bytes.toString('hex')
}

const hex32 = (x: bigint) => x.toString(16).padStart(64, '0')

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
  const r = a.sig.slice(0, 64)
  const s = BigInt(`0x${a.sig.slice(64)}`)
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
  bad('s equal to the group order', { sig: r + hex32(N) })
  bad('s one above the group order', { sig: r + hex32(N + 1n) })
  bad('the negated s (n - s; BIP-340 has no low-s form, so high s is no malleability)', { sig: r + hex32(N - s) })
  bad('s all ones', { sig: r + 'f'.repeat(64) })
  bad('r equal to the field prime', { sig: hex32(P) + a.sig.slice(64) })
  bad('r above the field prime', { sig: hex32(P + 1n) + a.sig.slice(64) })
  bad('a pubkey x above the field prime', { pubkey: 'f'.repeat(64) })
  bad('a pubkey x equal to the field prime', { pubkey: hex32(P) })
  bad('a pubkey x with no point on the curve', { pubkey: '5'.padStart(64, '0') })
  bad('an all-zero pubkey', { pubkey: '0'.repeat(64) })
  afterValid('an odd-length sig', { sig: a.sig.slice(0, -1) })
  afterValid('a short sig (64 hex)', { sig: a.sig.slice(0, 64) })
  afterValid('a long sig (130 hex)', { sig: a.sig + '00' })
  afterValid('an empty sig', { sig: '' })
  afterValid('a sig with a non-hex character', { sig: 'g' + a.sig.slice(1) })
  afterValid('an odd-length pubkey', { pubkey: a.pubkey.slice(0, -1) })
  afterValid('a short pubkey', { pubkey: a.pubkey.slice(0, 62) })
  afterValid('a long pubkey', { pubkey: a.pubkey + '00' })
  afterValid('a pubkey with a non-hex character', { pubkey: a.pubkey.slice(0, -1) + 'x' })
  afterValid('an odd-length id', { id: a.id.slice(0, -1) })
  afterValid('a short id (31 bytes)', { id: a.id.slice(0, 62) })
  afterValid('an uppercase sig', { sig: a.sig.toUpperCase() })
  afterValid('an uppercase pubkey', { pubkey: a.pubkey.toUpperCase() })
  afterValid('a sig that is not a string', { sig: 7 })
  afterValid('a missing pubkey', { pubkey: undefined })
  afterValid('a null id', { id: null })
  const twin = events.map(e => ({ e, sig: parseIntTwin(e.sig) })).find(x => x.sig !== undefined)
  if (!twin) throw new Error('no corpus event has a signature byte below 0x10')
  cases.push({ name: 'a sig that parseInt reads as a valid one', e: { ...twin.e, sig: twin.sig! }, valid: false })
  return cases
}

const cases = corpus()

/** What `v` answers, or what it threw: a backend must answer true or false and never throw. */
function answer(v: Verifier, e: NostrEvent): unknown {
  try {
    return v.verify(e)
  } catch (err) {
    return `threw ${String(err)}`
  }
}

function acceptsExactlyTheValid(t: Test, v: Verifier) {
  for (const c of cases) t.equal(answer(v, c.e), c.valid, `${v.name}: ${c.name}`)
}

type Vector = {
  index: number
  seckey: string
  pubkey: string
  aux: string
  msg: string
  sig: string
  valid: boolean
  comment: string
}

/** BIP-340's official test vectors (bip-0340/test-vectors.csv), lowercased. */
const vectors: Vector[] = readFileSync(
  fileURLToPath(new URL('../fixtures/bip340-vectors.csv', import.meta.url)),
  'utf8',
)
  .trim()
  .split('\n')
  .slice(1)
  .map(line => {
    const [index, seckey, pubkey, aux, msg, sig, result, ...comment] = line.split(',')
    return {
      index: Number(index),
      seckey: seckey!.toLowerCase(),
      pubkey: pubkey!.toLowerCase(),
      aux: aux!.toLowerCase(),
      msg: msg!.toLowerCase(),
      sig: sig!.toLowerCase(),
      valid: result === 'TRUE',
      comment: comment.join(','),
    }
  })
const hex = (s: string) => Buffer.from(s, 'hex')
/** A vector as an event: the id is the signed message (the caller has checked it against the content). */
const asEvent = (v: Vector) => ({ id: v.msg, pubkey: v.pubkey, sig: v.sig }) as NostrEvent
const label = (v: Vector) => `vector ${v.index}${v.comment ? ` (${v.comment})` : ''}`

t.test('npm ci built the native verifier: bcrypto compiled with its bundled libsecp256k1', async t => {
  if (native instanceof Error) throw native
  t.equal(native.native, 2, "bcrypto's C build, not its JS")
  t.equal((await makeVerifier('native')).name, 'native')
})

t.test('the vector file holds BIP-340’s 19 vectors and noble, an independent implementation, agrees', async t => {
  t.equal(vectors.length, 19)
  t.same(
    vectors.map(v => v.index),
    [...Array(19).keys()],
  )
  t.ok(vectors.some(v => !v.valid) && vectors.some(v => v.valid), 'valid and invalid vectors')
  for (const v of vectors) {
    let ok: boolean
    try {
      ok = schnorr.verify(hex(v.sig), hex(v.msg), hex(v.pubkey))
    } catch {
      ok = false
    }
    t.equal(ok, v.valid, `noble verifies ${label(v)}`)
    if (v.seckey) {
      t.equal(Buffer.from(schnorr.getPublicKey(hex(v.seckey))).toString('hex'), v.pubkey, `noble derives ${label(v)}`)
      t.equal(Buffer.from(schnorr.sign(hex(v.msg), hex(v.seckey), hex(v.aux))).toString('hex'), v.sig)
    }
  }
})

t.test('the noble and native backends give each 32-byte-message BIP-340 vector its listed result', async t => {
  const fixed = vectors.filter(v => v.msg.length === 64)
  t.equal(fixed.length, 15, 'vectors 0-14 sign 32-byte messages, as event ids are')
  // nostr-wasm checks an event whole: it hashes the content again and compares the id first, so a bare vector
  // (a message that is no event's hash) is not something it can take. Events and the random agreement cover it.
  const bySignature = (await backends()).filter(b => b.name !== 'wasm')
  if (needsNative) t.comment(`native skipped: ${needsNative}`)
  for (const b of bySignature) for (const v of fixed) t.equal(answer(b, asEvent(v)), v.valid, `${b.name}: ${label(v)}`)
})

t.test('vectors with other message sizes cannot be events, and every backend refuses them', async t => {
  const other = vectors.filter(v => v.msg.length !== 64)
  t.same(
    other.map(v => v.msg.length / 2),
    [0, 1, 17, 100],
  )
  for (const b of await backends())
    for (const v of other) t.equal(answer(b, asEvent(v)), false, `${b.name}: ${label(v)}`)
})

t.test('the native library signs the BIP-340 vectors byte for byte', { skip: needsNative }, async t => {
  if (native instanceof Error) throw native
  const signing = vectors.filter(v => v.seckey && v.msg.length === 64)
  t.equal(signing.length, 4)
  for (const v of signing)
    t.equal(native.sign(hex(v.msg), hex(v.seckey), hex(v.aux)).toString('hex'), v.sig, `sign ${label(v)}`)
  // bcrypto signs 32-byte messages only: the sizes BIP-340 added later are refused, not signed some other way.
  for (const v of vectors.filter(v => v.seckey && v.msg.length !== 64))
    t.throws(() => native.sign(hex(v.msg), hex(v.seckey), hex(v.aux)), /message size/, `refuses ${label(v)}`)
  t.throws(() => native.sign(randomBytes(32), Buffer.alloc(32), randomBytes(32)), /private key/, 'a zero key')
  t.throws(() => native.sign(randomBytes(32), hex(hex32(N)), randomBytes(32)), /private key/, 'a key equal to n')
  const sk = randomBytes(32)
  const msg = randomBytes(32)
  const sig = native.sign(msg, sk, randomBytes(32))
  t.ok(schnorr.verify(sig, msg, schnorr.getPublicKey(sk)), 'noble accepts a fresh signature')
  t.notOk(schnorr.verify(sig, randomBytes(32), schnorr.getPublicKey(sk)), 'and not for another message')
})

for (const name of ['noble', 'wasm', 'native'] as const)
  t.test(
    `the ${name} backend verifies exactly the valid signatures and never throws`,
    { skip: name === 'native' && needsNative },
    async t => {
      const v = await makeVerifier(name)
      t.equal(v.name, name)
      acceptsExactlyTheValid(t, v)
    },
  )

t.test('events signed by nostr-tools and by rust-nostr verify in every backend', async t => {
  await sdk.loadWasmAsync()
  const { EventBuilder, Keys, Kind, Tag } = sdk
  const sk = generateSecretKey()
  const fromTools = [1, 0, 5100, 30023].map(kind =>
    finalizeEvent({ kind, created_at: 1_700_000_000 + kind, tags: [['d', `x${kind}`]], content: `tools ${kind}` }, sk),
  )
  const keys = Keys.generate()
  const fromSdk = [
    EventBuilder.textNote('rust-nostr note').signWithKeys(keys),
    new EventBuilder(new Kind(5100), 'a job').tags([Tag.parse(['i', 'hello', 'text'])]).signWithKeys(keys),
    new EventBuilder(new Kind(30023), 'long form').tags([Tag.identifier('article')]).signWithKeys(keys),
  ].map(e => JSON.parse(e.asJson()) as NostrEvent)
  const all = [...fromTools, ...fromSdk]
  t.ok(
    all.every(e => verifyEvent({ ...e })),
    'nostr-tools agrees they are valid',
  )
  for (const b of await backends()) {
    t.same(
      all.map(e => b.verify(e)),
      all.map(() => true),
      `${b.name} accepts them`,
    )
    t.same(
      all.map(e => b.verify({ ...e, sig: flipBit(e.sig, 200) })),
      all.map(() => false),
      `${b.name} refuses them with a bit flipped`,
    )
  }
})

t.test('every backend agrees with noble on thousands of random valid and corrupted events', async t => {
  const keys = Array.from({ length: 8 }, () => generateSecretKey())
  const pool = Array.from({ length: 64 }, (_, i) =>
    finalizeEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `pool ${i}` }, keys[i % 8]!),
  )
  const others = (await backends()).filter(b => b.name !== 'noble')
  const noble = nobleVerifier()
  type Field = 'sig' | 'id' | 'pubkey'
  type Corruption =
    | { kind: 'none' }
    | { kind: 'flip'; field: Field; bit: number }
    | { kind: 'swap'; field: Field; from: number }
    | { kind: 'replace'; field: Field; bytes: Uint8Array; half: number }
  const field = fc.constantFrom<Field>('sig', 'id', 'pubkey')
  const corruption: fc.Arbitrary<Corruption> = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
    fc.record({ kind: fc.constant('flip' as const), field, bit: fc.nat(511) }),
    fc.record({ kind: fc.constant('swap' as const), field, from: fc.nat(63) }),
    fc.record({
      kind: fc.constant('replace' as const),
      field,
      bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      half: fc.constantFrom(0, 1),
    }),
  )
  const corrupt = (e: NostrEvent, c: Corruption): NostrEvent => {
    if (c.kind === 'none') return e
    if (c.kind === 'swap') return { ...e, [c.field]: pool[c.from]![c.field] }
    if (c.kind === 'flip') return { ...e, [c.field]: flipBit(e[c.field], c.bit % (e[c.field].length * 4)) }
    const fresh = Buffer.from(c.bytes).toString('hex')
    // A sig gets a random r or a random s; an id or a pubkey 32 random bytes.
    if (c.field !== 'sig') return { ...e, [c.field]: fresh.slice(0, 64) }
    return { ...e, sig: c.half ? e.sig.slice(0, 64) + fresh.slice(64) : fresh.slice(0, 64) + e.sig.slice(64) }
  }
  let valid = 0
  let invalid = 0
  fc.assert(
    fc.property(fc.nat(63), corruption, (i, c) => {
      const e = corrupt(pool[i]!, c)
      const expected = noble.verify(e)
      if (expected) valid++
      else invalid++
      return others.every(b => b.verify(e) === expected)
    }),
    { numRuns: 3000 },
  )
  t.ok(
    valid > 500 && invalid > 1000,
    `${valid} valid and ${invalid} invalid events, each answered alike by noble, ${others.map(b => b.name).join(' and ')}`,
  )
})

t.test('auto picks the native backend when it is built', { skip: needsNative }, async t => {
  const v = await makeVerifier('auto')
  t.equal(v.name, 'native')
  t.equal(v.fallback, undefined)
})

t.test('without bcrypto (its build failed at install), auto falls back to wasm and says why', async t => {
  const missing = join(tempDir(t), 'node_modules', 'bcrypto', 'lib', 'native', 'schnorr.js')
  const v = await makeVerifier('auto', { nativeFrom: missing })
  t.equal(v.name, 'wasm')
  t.equal(v.verify(cases[0]!.e), true)
  t.match(v.fallback, new RegExp(`^native verifier not available: ${missing} is not installed .*C compiler`))
})

t.test('the native backend refuses to start, naming what is missing, when it is not built', async t => {
  const missing = join(tempDir(t), 'missing.js')
  await t.rejects(makeVerifier('native', { nativeFrom: missing }), {
    message: new RegExp(
      `^verifier.backend is "native" but the native verifier is not available: ${missing} is not installed`,
    ),
  })
})

t.test('bcrypto installed without its C build (npm --ignore-scripts): wasm, not bcrypto’s pure JS', async t => {
  // A copy of the package without build/, beside its real dependencies, as `npm ci --ignore-scripts` leaves it.
  const root = dirname(require.resolve('bcrypto/package.json'))
  const modules = join(tempDir(t), 'node_modules')
  cpSync(join(root, 'lib'), join(modules, 'bcrypto', 'lib'), { recursive: true })
  cpSync(join(root, 'package.json'), join(modules, 'bcrypto', 'package.json'))
  for (const dep of ['bufio', 'loady'])
    symlinkSync(dirname(require.resolve(`${dep}/package.json`)), join(modules, dep), 'dir')
  const from = join(modules, 'bcrypto', 'lib', 'native', 'schnorr.js')
  const lib = loadNative(from)
  t.match(lib, Error)
  t.match(
    (lib as Error).message,
    /did not load \(Cannot find module 'bcrypto.node'\); rebuild it with npm rebuild bcrypto/,
  )
  const v = await makeVerifier('auto', { nativeFrom: from })
  t.equal(v.name, 'wasm')
  t.match(v.fallback, /npm rebuild bcrypto/)
  await t.rejects(makeVerifier('native', { nativeFrom: from }), { message: /npm rebuild bcrypto/ })
})

t.test('a module that is not bcrypto’s C build is refused by the native backend', async t => {
  const dir = tempDir(t)
  const jsTwin = join(dir, 'js-schnorr.cjs')
  // bcrypto's own pure-JS schnorr, as its entry point hands it out under NODE_BACKEND=js.
  writeFileSync(jsTwin, `module.exports = require(${JSON.stringify(require.resolve('bcrypto/lib/js/schnorr'))})\n`)
  t.match(loadNative(jsTwin), { message: /is not bcrypto's C build \(native = 0\)/ })
  t.equal((await makeVerifier('auto', { nativeFrom: jsTwin })).name, 'wasm')
  const notIt = join(dir, 'other.cjs')
  writeFileSync(notIt, 'module.exports = { verify: () => true, sign: () => Buffer.alloc(64), native: 2 }\n')
  t.match(loadNative(notIt), { message: /failed its self-test: it accepted a corrupted signature/ })
})

t.test(
  'NODE_BACKEND=js turns bcrypto’s entry point into JS but leaves the native backend in C',
  { skip: needsNative },
  async t => {
    const before = process.env.NODE_BACKEND
    process.env.NODE_BACKEND = 'js'
    t.teardown(() => {
      if (before === undefined) delete process.env.NODE_BACKEND
      else process.env.NODE_BACKEND = before
    })
    t.equal((require('bcrypto/lib/schnorr') as { native: number }).native, 0, 'the entry point is pure JS now')
    const lib = loadNative(nativeModule)
    t.notOk(lib instanceof Error)
    t.equal((lib as { native: number }).native, 2)
    t.equal((await makeVerifier('auto')).name, 'native')
  },
)

t.test('the relay identity signs events that nostr-tools verifies', async t => {
  const dir = tempDir(t)
  const id = await loadIdentity('', dir)
  const e = id.sign({ kind: 31118, created_at: 1_700_000_000, tags: [['d', 'x']], content: '' })
  t.equal(e.pubkey, id.pubkey)
  t.ok(verifyEvent({ ...e }), 'valid id and signature')
  t.not(id.sign({ kind: 31118, created_at: 1_700_000_000, tags: [['d', 'x']], content: '' }).sig, e.sig, 'fresh aux')
  t.equal((await loadIdentity('', dir)).pubkey, id.pubkey, 'the key file is reused')
})
