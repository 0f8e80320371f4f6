// NIP-01: event shape, kind classes, id serialisation and the OK/CLOSED prefix vocabulary.
// Pure functions only: no I/O, no config, no clock.
import { createHash } from 'node:crypto'
import type { NostrEvent } from 'nostr-tools'

export type { NostrEvent }
// Kind classes, addresses and NIP-01 order need no hashing, so the browser page imports them from there alone.
export * from './nip01-order.js'

/** Machine-readable prefixes of OK/CLOSED/NEG-ERR reasons (NIP-01, NIP-42; `closed` is NIP-77's). */
export type Prefix =
  'duplicate' | 'pow' | 'blocked' | 'rate-limited' | 'invalid' | 'restricted' | 'auth-required' | 'error' | 'closed'

/** A refusal: always carries a prefix, so a reason can never go out without one. */
export type Rejection = { readonly prefix: Prefix; readonly reason: string }

/** Builds a rejection; the only way to make one. */
export function reject(prefix: Prefix, reason: string): Rejection {
  return { prefix, reason }
}

/** True when a validator returned a rejection rather than its parsed value. */
export function isRejection<T extends object>(v: T | Rejection): v is Rejection {
  return 'prefix' in v && 'reason' in v
}

/** The wire form of a rejection: `prefix: reason`. */
export function formatRejection(r: Rejection): string {
  return `${r.prefix}: ${r.reason}`
}

/** An event whose id and signature were checked; only these may reach the writer. */
export type VerifiedEvent = Readonly<NostrEvent> & { readonly __verified: true }

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

/** True for exactly 64 lowercase hex characters. */
export function isHex64(v: unknown): v is string {
  return typeof v === 'string' && HEX64.test(v)
}

/**
 * Checks the shape of a would-be event: field types, lowercase hex of exact length, integer kind in range,
 * integer created_at, tags as arrays of strings. Returns the reason it is malformed, or undefined.
 */
export function checkEventShape(e: unknown): Rejection | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return reject('invalid', 'event must be a JSON object')
  const ev = e as Record<string, unknown>
  if (!isHex64(ev.id)) return reject('invalid', 'id must be 64 lowercase hex characters')
  if (!isHex64(ev.pubkey)) return reject('invalid', 'pubkey must be 64 lowercase hex characters')
  if (typeof ev.sig !== 'string' || !HEX128.test(ev.sig))
    return reject('invalid', 'sig must be 128 lowercase hex characters')
  if (!Number.isInteger(ev.kind) || (ev.kind as number) < 0 || (ev.kind as number) > 65535)
    return reject('invalid', 'kind must be an integer between 0 and 65535')
  if (!Number.isSafeInteger(ev.created_at) || (ev.created_at as number) < 0)
    return reject('invalid', 'created_at must be a non-negative integer')
  if (typeof ev.content !== 'string') return reject('invalid', 'content must be a string')
  if (!Array.isArray(ev.tags)) return reject('invalid', 'tags must be an array')
  for (const tag of ev.tags) {
    if (!Array.isArray(tag)) return reject('invalid', 'each tag must be an array of strings')
    for (const v of tag) if (typeof v !== 'string') return reject('invalid', 'each tag must be an array of strings')
  }
  return undefined
}

/** The canonical serialisation whose sha256 is the event id (NIP-01). */
export function serializeForId(e: Omit<NostrEvent, 'id' | 'sig'>): string {
  return JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content])
}

/** sha256 of the NIP-01 serialisation, as lowercase hex. */
export function computeId(e: Omit<NostrEvent, 'id' | 'sig'>): string {
  return createHash('sha256').update(serializeForId(e)).digest('hex')
}

/** The id of an event's canonical JSON, read without parsing: `id` is its first field. */
export const idOfCanonical = (raw: string): string => raw.slice(7, 71)

/** The stored and sent JSON of an event: the seven NIP-01 fields in a fixed order, unknown fields dropped. */
export function canonicalJson(e: NostrEvent): string {
  return JSON.stringify({
    id: e.id,
    pubkey: e.pubkey,
    created_at: e.created_at,
    kind: e.kind,
    tags: e.tags,
    content: e.content,
    sig: e.sig,
  })
}

/** Checks that the claimed id is the sha256 of the event's serialisation. */
export function checkId(e: NostrEvent): Rejection | undefined {
  return computeId(e) === e.id ? undefined : reject('invalid', 'id is not the sha256 of the event serialisation')
}
