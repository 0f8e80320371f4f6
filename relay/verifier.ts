// Signature verification behind one interface: native (libsecp256k1 in C, through bcrypto), nostr-wasm, or pure JS.
// The caller has already recomputed and compared the id.
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/curves/utils.js'
import { createRequire } from 'node:module'
import { initNostrWasm } from 'nostr-wasm'
import type { NostrEvent } from '../nips/nip01.js'

/** A BIP-340 verifier for events whose id has been checked. */
export type Verifier = {
  readonly name: string
  /** True when `sig` is a valid signature of `id` by `pubkey`; false (never a throw) for anything else. */
  verify(e: Readonly<NostrEvent>): boolean
}

/** The values of `verifier.backend`. */
export type VerifierBackend = 'auto' | 'native' | 'wasm' | 'noble'

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

/**
 * Only the NIP-01 form (lowercase hex of the right length) can verify. The backends' own hex decoders
 * disagree on the rest (nostr-wasm reads "0z" as 0x00 and a short sig over stale scratch memory).
 */
const wellFormed = (e: Readonly<NostrEvent>) =>
  typeof e.sig === 'string' &&
  typeof e.id === 'string' &&
  typeof e.pubkey === 'string' &&
  HEX128.test(e.sig) &&
  HEX64.test(e.id) &&
  HEX64.test(e.pubkey)

/** Pure JS (@noble/curves): always available, slowest. */
export function nobleVerifier(): Verifier {
  return {
    name: 'noble',
    verify: e => {
      if (!wellFormed(e)) return false
      try {
        return schnorr.verify(hexToBytes(e.sig), hexToBytes(e.id), hexToBytes(e.pubkey))
      } catch {
        return false
      }
    },
  }
}

/** libsecp256k1 compiled to WebAssembly (nostr-wasm): several times faster than pure JS. */
export async function wasmVerifier(): Promise<Verifier> {
  const nw = await initNostrWasm()
  return {
    name: 'wasm',
    verify: e => {
      if (!wellFormed(e)) return false
      try {
        nw.verifyEvent(e as NostrEvent)
        return true
      } catch {
        return false
      }
    },
  }
}

/**
 * BIP-340 in C: libsecp256k1 as bcrypto bundles it, compiled by node-gyp when npm installs bcrypto (an optional
 * dependency: without a C compiler its build fails and npm leaves it out). Arguments are Buffers of the exact sizes.
 */
export type NativeSchnorr = {
  /** bcrypto's mark of how a module is implemented: 2 is C throughout, 0 is JS. */
  readonly native: number
  verify(msg: Buffer, sig: Buffer, pubkey: Buffer): boolean
  /** The signature of a 32-byte message with a 32-byte secret key and 32 bytes of aux randomness. */
  sign(msg: Buffer, seckey: Buffer, aux: Buffer): Buffer
}

/**
 * bcrypto's native build itself. Never the package's entry point: with NODE_BACKEND=js that one is pure JS,
 * slower than nostr-wasm, and `native` must mean C.
 */
export const nativeModule = 'bcrypto/lib/native/schnorr'

// BIP-340 test vector 0, to check a build before trusting it.
const VECTOR0 = {
  pubkey: 'f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
  sig:
    'e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca8215' +
    '25f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0',
}

function selfTest(lib: NativeSchnorr): string | undefined {
  const msg = Buffer.alloc(32)
  const pubkey = Buffer.from(VECTOR0.pubkey, 'hex')
  const sig = Buffer.from(VECTOR0.sig, 'hex')
  if (lib.verify(msg, sig, pubkey) !== true) return 'it rejected BIP-340 test vector 0'
  sig[63]! ^= 1
  if (lib.verify(msg, sig, pubkey) !== false) return 'it accepted a corrupted signature'
  return undefined
}

/** The native BIP-340 library (`from` overrides the module, for tests), or an Error saying why it is not there. */
export function loadNative(from = nativeModule): NativeSchnorr | Error {
  let lib: Partial<NativeSchnorr>
  try {
    lib = createRequire(import.meta.url)(from) as Partial<NativeSchnorr>
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND' && why.includes(from))
      return new Error(
        `${from} is not installed (npm leaves bcrypto out when its C build fails: it needs a C compiler, make ` +
          'and python3, then npm install)',
      )
    return new Error(`${from} did not load (${why}); rebuild it with npm rebuild bcrypto`)
  }
  if (typeof lib.verify !== 'function' || typeof lib.sign !== 'function')
    return new Error(`${from} has no BIP-340 verify and sign`)
  if (lib.native !== 2) return new Error(`${from} is not bcrypto's C build (native = ${String(lib.native)})`)
  const failed = selfTest(lib as NativeSchnorr)
  return failed ? new Error(`${from} failed its self-test: ${failed}`) : (lib as NativeSchnorr)
}

function nativeVerifier(lib: NativeSchnorr): Verifier {
  // One scratch buffer, decoded into in place: no allocation per event.
  const scratch = Buffer.alloc(128)
  const sig = scratch.subarray(0, 64)
  const id = scratch.subarray(64, 96)
  const pubkey = scratch.subarray(96, 128)
  return {
    name: 'native',
    verify: e => {
      if (!wellFormed(e)) return false
      scratch.write(e.sig, 0, 'hex')
      scratch.write(e.id, 64, 'hex')
      scratch.write(e.pubkey, 96, 'hex')
      try {
        return lib.verify(id, sig, pubkey)
      } catch {
        return false
      }
    },
  }
}

/**
 * The configured backend; `auto` takes the fastest that loads: native, then wasm, then noble. When `auto` could
 * not use native, `fallback` says why. `nativeFrom` overrides the native module (tests).
 */
export async function makeVerifier(
  backend: VerifierBackend,
  opts: { nativeFrom?: string } = {},
): Promise<Verifier & { readonly fallback?: string }> {
  if (backend === 'noble') return nobleVerifier()
  let fallback: string | undefined
  if (backend === 'native' || backend === 'auto') {
    const lib = loadNative(opts.nativeFrom)
    if (!(lib instanceof Error)) return nativeVerifier(lib)
    if (backend === 'native')
      throw new Error(
        `verifier.backend is "native" but the native verifier is not available: ${lib.message}. ` +
          'Or set verifier.backend to auto',
      )
    fallback = `native verifier not available: ${lib.message}`
  }
  try {
    return { ...(await wasmVerifier()), ...(fallback ? { fallback } : {}) }
  } catch (err) {
    if (backend === 'wasm') throw err
    const why = `nostr-wasm did not start: ${err instanceof Error ? err.message : String(err)}`
    return { ...nobleVerifier(), fallback: fallback ? `${fallback}; ${why}` : why }
  }
}
