// Pay-to-decrypt results (kind 21117, DESIGN §7.6), pure: the provider commits to a plaintext (`hash`) and to
// the key K that encrypts it (`key_hash`), and sells K as the preimage of its invoice. Once K is published,
// anyone can check that the committed ciphertext opens to the committed plaintext.
import { createHash } from 'node:crypto'
import { v2 as nip44 } from 'nostr-tools/nip44'
import { isHex64, reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { readInvoice } from '../nips/nip57.js'
import { JOB_FEEDBACK } from '../nips/nip90.js'
import { REVIEW } from './reviews.js'

export const SEALED_RESULT = 21117

/** A 21117 as the relay keeps it: what the provider committed to and how the key is bought. */
export type SealedResult = {
  /** The job request id (`e`). */
  readonly job: string
  /** The customer (`p`). */
  readonly customer: string
  /** sha256 of the plaintext, hex. */
  readonly hash: string
  /** sha256 of the key K, hex; also the invoice's payment hash. */
  readonly keyHash: string
  readonly msats: number
  readonly bolt11: string
  readonly preview: string | undefined
  /** The NIP-44 v2 payload, encrypted with K as the conversation key. */
  readonly ciphertext: string
}

/** A published key for a job's sealed result. */
export type KeyReveal = { readonly job: string; readonly key: string }

export type Opened =
  | { readonly ok: true; readonly plaintext: string }
  | { readonly ok: false; readonly why: 'key' | 'undecryptable' | 'mismatch' }

const bad = (rule: string) => reject('invalid', `pay-to-decrypt: ${rule}`)
const values = (e: NostrEvent, name: string) => e.tags.filter(t => t[0] === name).map(t => t[1])
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

/** The `key_hash` a key (hex) answers: sha256 of its 32 bytes. */
export const keyHash = (keyHex: string) => sha256(Buffer.from(keyHex, 'hex'))

/** The single value of a tag that must appear exactly once as 64 lowercase hex. */
function onlyHex64(e: NostrEvent, name: string): string | undefined {
  const v = values(e, name)
  return v.length === 1 && isHex64(v[0]) ? v[0] : undefined
}

/** The sealed result's commitments, or the first rule it breaks. */
export function readSealedResult(e: NostrEvent): SealedResult | Rejection {
  if (e.kind !== SEALED_RESULT) return bad(`must be kind ${SEALED_RESULT}`)
  const job = onlyHex64(e, 'e')
  if (job === undefined) return bad('needs exactly one e tag with the job request id (64 lowercase hex)')
  const customer = onlyHex64(e, 'p')
  if (customer === undefined) return bad('needs exactly one p tag with the customer pubkey (64 lowercase hex)')
  const hash = tagValue(e, 'hash')
  if (!isHex64(hash)) return bad('hash must be the sha256 of the plaintext (64 lowercase hex)')
  const keyHash = tagValue(e, 'key_hash')
  if (!isHex64(keyHash)) return bad('key_hash must be the sha256 of the key (64 lowercase hex)')
  const [, amount, bolt11] = e.tags.find(t => t[0] === 'amount') ?? []
  // 15 digits keep msats a safe integer, like every other amount the market reads.
  if (amount === undefined || !/^[1-9]\d{0,14}$/.test(amount)) return bad('amount must be a positive integer of msats')
  if (!bolt11) return bad('the amount tag needs a bolt11 invoice')
  const invoice = readInvoice(bolt11)
  if (invoice === undefined) return bad('the bolt11 is not an invoice with an amount and a payment hash')
  if (invoice.msats !== BigInt(amount)) return bad('the invoice amount differs from the amount tag')
  // Otherwise paying would not reveal K, and the customer would pay for nothing it can open.
  if (invoice.paymentHash !== keyHash) return bad("the invoice's payment hash is not key_hash")
  if (e.content === '') return bad('content must be the NIP-44 v2 ciphertext')
  return {
    job,
    customer,
    hash,
    keyHash,
    msats: Number(amount),
    bolt11,
    preview: tagValue(e, 'preview'),
    ciphertext: e.content,
  }
}

/**
 * The key a 7000 `success` feedback (job = `e`) or a 31117 review (job = `d`) publishes in its `preimage`
 * tag; undefined for any other event or a missing or malformed preimage.
 */
export function readKeyReveal(e: NostrEvent): KeyReveal | undefined {
  const key = tagValue(e, 'preimage')
  if (!isHex64(key)) return undefined
  const job =
    e.kind === JOB_FEEDBACK && tagValue(e, 'status') === 'success'
      ? tagValue(e, 'e')
      : e.kind === REVIEW
        ? tagValue(e, 'd')
        : undefined
  return isHex64(job) ? { job, key } : undefined
}

/**
 * Opens a sealed result with a published key K (hex). 'key': K is not the committed key, which proves
 * nothing about the provider (anyone can publish a wrong key). 'undecryptable' (the ciphertext does not
 * decrypt under K) and 'mismatch' (it decrypts to another plaintext than `hash`) are proof of fraud: the
 * provider sold K for a result that K does not open.
 */
export function openSealedResult(sealed: SealedResult, keyHex: string): Opened {
  if (!isHex64(keyHex)) return { ok: false, why: 'key' }
  if (keyHash(keyHex) !== sealed.keyHash) return { ok: false, why: 'key' }
  const key = Buffer.from(keyHex, 'hex')
  let plaintext: string
  try {
    plaintext = nip44.decrypt(sealed.ciphertext, key)
  } catch {
    return { ok: false, why: 'undecryptable' }
  }
  return sha256(plaintext) === sealed.hash ? { ok: true, plaintext } : { ok: false, why: 'mismatch' }
}
