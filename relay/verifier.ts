// Signature verification behind one interface, so faster backends (a worker pool, native libsecp256k1)
// can slot in without touching the pipeline. The caller has already recomputed and compared the id.
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/curves/utils.js'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { initNostrWasm } from 'nostr-wasm'
import type { NostrEvent } from '../nips/nip01.js'
import { packageRoot } from './package-root.js'

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

/** The N-API addon in native/ (native/secp256k1.c); arguments are raw bytes. */
export type NativeAddon = {
  /** BIP-340 check of a 64-byte signature of a 32-byte message by a 32-byte x-only pubkey. */
  verify(sig: Uint8Array, msg: Uint8Array, pubkey: Uint8Array): boolean
  /** `items` is N*128 bytes of sig(64) | id(32) | pubkey(32); the result holds 1 (valid) or 0 per item. */
  verifyBatch(items: Uint8Array): Uint8Array
  /** BIP-340 signature of a 32-byte message with a 32-byte secret key and 32 bytes of aux randomness. */
  sign(msg: Uint8Array, seckey: Uint8Array, aux: Uint8Array): Uint8Array
}

/** Where native/build.mjs leaves the addon when it is built at install. */
export const nativeAddonPath = () => join(packageRoot(), 'native', 'build', 'Release', 'agora_secp256k1.node')

/** The native addon at `path`, or an Error saying why it is not there or did not load. */
export function loadNativeAddon(path = nativeAddonPath()): NativeAddon | Error {
  if (!existsSync(path))
    return new Error(`${path} does not exist (it is built at install when libsecp256k1 is present)`)
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<NativeAddon>
    if (
      typeof addon.verify !== 'function' ||
      typeof addon.verifyBatch !== 'function' ||
      typeof addon.sign !== 'function'
    )
      return new Error(`${path} is not agora's secp256k1 addon (rebuild it: node native/build.mjs)`)
    return addon as NativeAddon
  } catch (err) {
    return new Error(`${path} did not load: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** The system libsecp256k1 through the addon in native/: the fastest; undefined when it was not built. */
export function nativeVerifier(path?: string): Verifier | undefined {
  const addon = loadNativeAddon(path)
  return addon instanceof Error ? undefined : addonVerifier(addon)
}

function addonVerifier(addon: NativeAddon): Verifier {
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
        return addon.verify(sig, id, pubkey)
      } catch {
        return false
      }
    },
  }
}

/**
 * The configured backend; `auto` takes the fastest that loads: native, then wasm, then noble.
 * `nativePath` overrides where the native addon is looked for.
 */
export async function makeVerifier(backend: VerifierBackend, opts: { nativePath?: string } = {}): Promise<Verifier> {
  if (backend === 'noble') return nobleVerifier()
  if (backend === 'native' || backend === 'auto') {
    const addon = loadNativeAddon(opts.nativePath)
    if (!(addon instanceof Error)) return addonVerifier(addon)
    if (backend === 'native')
      throw new Error(
        `verifier.backend is "native" but the native verifier is not available: ${addon.message}. ` +
          'Install libsecp256k1-dev and run npm install (or node native/build.mjs), or set verifier.backend to auto',
      )
  }
  try {
    return await wasmVerifier()
  } catch (err) {
    if (backend === 'wasm') throw err
    return nobleVerifier()
  }
}
