// Signature verification behind one interface, so faster backends (a worker pool, native libsecp256k1)
// can slot in without touching the pipeline. The caller has already recomputed and compared the id.
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/curves/utils.js'
import { initNostrWasm } from 'nostr-wasm'
import type { NostrEvent } from '../nips/nip01.js'

/** A BIP-340 verifier for events whose id has been checked. */
export type Verifier = {
  readonly name: string
  /** True when `sig` is a valid signature of `id` by `pubkey`. */
  verify(e: Readonly<NostrEvent>): boolean
}

/** Pure JS (@noble/curves): always available, slowest. */
export function nobleVerifier(): Verifier {
  return {
    name: 'noble',
    verify: e => {
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
      try {
        nw.verifyEvent(e as NostrEvent)
        return true
      } catch {
        return false
      }
    },
  }
}

/** The configured backend; `auto` takes the fastest that loads. */
export async function makeVerifier(backend: 'auto' | 'wasm' | 'noble'): Promise<Verifier> {
  if (backend === 'noble') return nobleVerifier()
  try {
    return await wasmVerifier()
  } catch (err) {
    if (backend === 'wasm') throw err
    return nobleVerifier()
  }
}
