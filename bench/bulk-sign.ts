// Signs large numbers of valid test events quickly, for bulk fixtures (100,000-event import/export) and the
// benchmark corpora (bench/corpus.ts). It lives in bench/ because bench/ is compiled and test/ is not.
//
// nostr-wasm's finalizeEvent does two scalar multiplications per event (keypair, then nonce point), about
// 0.5-0.9 ms each on a loaded 2-core machine: 100,000 events would take over a minute. This signer uses
// consecutive BIP-340 nonces k, k+1, k+2... so each nonce point R is the previous one plus G (one point
// addition), and converts the points to affine coordinates in batches (one field inversion per batch).
// The signatures are ordinary valid BIP-340 signatures, but consecutive nonces reveal the secret key to
// anyone holding two of them: only for throwaway test keys, never for anything real.
import { createHash, randomBytes } from 'node:crypto'
import { normalizeZ } from '@noble/curves/abstract/curve.js'
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import type { NostrEvent } from '../nips/nip01.js'

export type Template = { kind: number; created_at: number; tags: string[][]; content: string }

const Point = secp256k1.Point
const G = Point.BASE
const n = Point.CURVE().n
const challengeTag = createHash('sha256').update('BIP0340/challenge').digest()
const toBig = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).toString('hex'))
const to32 = (x: bigint) => Buffer.from(x.toString(16).padStart(64, '0'), 'hex')

export type BulkSigner = {
  readonly pubkey: string
  /** Signs the templates in order (ids, pubkeys and signatures filled in). */
  signAll(templates: readonly Template[]): NostrEvent[]
}

/** A new throwaway key with a fast signer (see the file comment for why it must stay in tests and benchmarks). */
export function bulkSigner(): BulkSigner {
  let d = toBig(schnorr.utils.randomSecretKey())
  const P = G.multiply(d).toAffine()
  if (P.y % 2n === 1n) d = n - d // BIP-340: sign with the key whose point has an even y
  const px = to32(P.x)
  const pubkey = px.toString('hex')
  let k = (toBig(randomBytes(32)) % (n - 1n)) + 1n
  let R = G.multiply(k)

  function signAll(templates: readonly Template[]): NostrEvent[] {
    const out: NostrEvent[] = []
    for (let start = 0; start < templates.length; start += 1000) {
      const chunk = templates.slice(start, start + 1000)
      const ks: bigint[] = []
      const points = chunk.map(() => {
        k = k + 1n === n ? 1n : k + 1n
        R = k === 1n ? G : R.add(G)
        ks.push(k)
        return R
      })
      const affine = normalizeZ(Point, points)
      chunk.forEach((tpl, i) => {
        const { x, y } = affine[i]!.toAffine()
        const nonce = y % 2n === 1n ? n - ks[i]! : ks[i]! // -R has the same x and an even y
        const serial = JSON.stringify([0, pubkey, tpl.created_at, tpl.kind, tpl.tags, tpl.content])
        const id = createHash('sha256').update(serial).digest()
        const rx = to32(x)
        const e =
          toBig(
            createHash('sha256').update(challengeTag).update(challengeTag).update(rx).update(px).update(id).digest(),
          ) % n
        const s = (nonce + e * d) % n
        out.push({
          id: id.toString('hex'),
          pubkey,
          created_at: tpl.created_at,
          kind: tpl.kind,
          tags: tpl.tags,
          content: tpl.content,
          sig: rx.toString('hex') + to32(s).toString('hex'),
        })
      })
    }
    return out
  }

  return { pubkey, signAll }
}
