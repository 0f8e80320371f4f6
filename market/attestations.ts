// Reputation attestations (kind 30085, DESIGN §7.3, §7.7), pure. Addressable with d = `<subject>:<context>`,
// so a newer attestation replaces the older one; NIP-40 `expiration` retires it (the sweep removes it).
import { reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'

export const ATTESTATION = 30085
const HALF_LIFE = 90 * 86400

export type Attestation = {
  readonly subject: string
  readonly rating: number
  readonly confidence: number
}

const bad = (reason: string) => reject('invalid', `attestation: ${reason}`)

/** The attestation's claim, or why it is refused; undefined for other kinds. */
export function readAttestation(e: NostrEvent): Attestation | Rejection | undefined {
  if (e.kind !== ATTESTATION) return undefined
  const subject = tagValue(e, 'p')
  if (subject === undefined || !/^[0-9a-f]{64}$/.test(subject)) return bad('needs a p tag naming its subject')
  if (subject === e.pubkey) return reject('restricted', 'a key cannot attest to itself')
  if (tagValue(e, 'expiration') === undefined) return bad('needs an expiration tag (NIP-40)')
  let c: Record<string, unknown>
  try {
    c = JSON.parse(e.content) as Record<string, unknown>
  } catch {
    return bad('content must be a JSON object')
  }
  if (typeof c !== 'object' || c === null) return bad('content must be a JSON object')
  if (c.subject !== undefined && c.subject !== subject) return bad('content subject differs from the p tag')
  const { rating, confidence } = c
  if (typeof rating !== 'number' || !(rating >= 1 && rating <= 5)) return bad('rating must be a number from 1 to 5')
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1))
    return bad('confidence must be a number from 0 to 1')
  return { subject, rating, confidence }
}

/**
 * The weight of one attestation at `now`: its confidence, halved every 90 days of age, doubled for a
 * rating of 2 or less (bad experiences are rarer and matter more). `at` is never later than its receipt,
 * so a future-dated attestation cannot outweigh the others.
 */
export const attestationWeight = (a: { rating: number; confidence: number; at: number }, now: number): number =>
  a.confidence * 2 ** (-Math.max(0, now - a.at) / HALF_LIFE) * (a.rating <= 2 ? 2 : 1)
