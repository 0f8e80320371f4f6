// Pay-to-decrypt (docs/market-protocol.md, kind 21117), the client's two sides: the provider seals a result under a
// random key K that it sells as an invoice's preimage; the customer, having paid, opens it and checks it is the
// plaintext the provider committed to.
import { createHash, randomBytes } from 'node:crypto'
import { v2 as nip44 } from 'nostr-tools/nip44'
import type { NostrEvent } from '../nips/nip01.js'
import { ClientError } from './errors.js'
import { SEALED_RESULT, tagOf, type JobRequest, type Template } from './market.js'

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

/** A fresh key K (hex) and the hash an invoice selling it must carry. */
export function sealingKey(): { key: string; keyHash: string } {
  const key = randomBytes(32)
  return { key: key.toString('hex'), keyHash: sha256(key) }
}

/** NIP-44 v2 seals 1 to 65535 bytes. */
const MAX_SEALED_BYTES = 65_535

/**
 * A teaser of the plaintext: at most a quarter of its characters (and 64), so a short result is not given away
 * before it is paid; whole code points, so the cut never splits a character.
 */
function previewOf(plaintext: string): string[][] {
  const chars = Array.from(plaintext)
  const n = Math.min(64, Math.floor(chars.length / 4))
  return n > 0 ? [['preview', `${chars.slice(0, n).join('')}…`]] : []
}

/** The 21117 of a result sealed under `key`, sold for `msats` by `bolt11` (payment hash = sha256(K)). */
export function sealResult(j: JobRequest, plaintext: string, key: string, msats: number, bolt11: string): Template {
  const bytes = Buffer.byteLength(plaintext)
  if (bytes < 1 || bytes > MAX_SEALED_BYTES)
    throw new ClientError(`a sealed result holds 1 to ${MAX_SEALED_BYTES} bytes (NIP-44 v2); this one has ${bytes}`)
  return {
    kind: SEALED_RESULT,
    tags: [
      ['e', j.id],
      ['p', j.customer],
      ['hash', sha256(plaintext)],
      ['key_hash', sha256(Buffer.from(key, 'hex'))],
      ...previewOf(plaintext),
      ['amount', String(msats), bolt11],
    ],
    content: nip44.encrypt(plaintext, Buffer.from(key, 'hex')),
  }
}

/** The plaintext of a sealed result under `key`, checked against its committed hash. */
export function openResult(sealed: NostrEvent, key: string): string {
  if (sha256(Buffer.from(key, 'hex')) !== tagOf(sealed, 'key_hash'))
    throw new ClientError('the key does not match the sealed result’s key_hash')
  let plaintext: string
  try {
    plaintext = nip44.decrypt(sealed.content, Buffer.from(key, 'hex'))
  } catch {
    throw new ClientError(`sealed result ${sealed.id} does not decrypt under the key it sold: report the provider`)
  }
  if (sha256(plaintext) !== tagOf(sealed, 'hash'))
    throw new ClientError(`sealed result ${sealed.id} opens to another plaintext than it committed to`)
  return plaintext
}
